"""Which outbound proxy a URL goes through, if any.

`[fetch] proxy` (one http(s) URL for both schemes) wins over the environment; else
`HTTPS_PROXY` / `HTTP_PROXY` by the target's scheme, then `ALL_PROXY` (lower-case
names first, as curl and httpx read them). `NO_PROXY` holds either way: host names
(matching the name and every name under it: `example.org`, `.example.org`),
addresses, CIDRs, each with an optional `:port`, or `*` for everything.

The address the proxy is asked to reach is still checked by the network guard
(netguard.py); the proxy itself, being the operator's, may be on any address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["Proxies", "from_settings", "check_proxy_url"]

_VARIABLES = {
    "http": ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"),
    "https": ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"),
}


@dataclass(frozen=True)
class Proxies:
    http: str | None = None
    https: str | None = None
    no_proxy: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.http or self.https)

    def for_url(self, scheme: str, host: str, port: int) -> str | None:
        """The proxy URL for a request, or None: straight to the host."""
        proxy = self.https if scheme == "https" else self.http if scheme == "http" else None
        if proxy is None or any(_bypasses(entry, host.lower().strip("[]"), port) for entry in self.no_proxy):
            return None
        return proxy


def from_settings(setting: str | None, environ: Mapping[str, str]) -> Proxies:
    """Raises ValueError naming the variable and what is wrong with its URL."""
    no_proxy = next((environ[n] for n in ("no_proxy", "NO_PROXY") if environ.get(n, "").strip()), "")
    entries = tuple(e.strip().lower() for e in no_proxy.split(",") if e.strip())
    if setting:
        return Proxies(http=setting, https=setting, no_proxy=entries)
    chosen: dict[str, str | None] = {}
    for scheme, names in _VARIABLES.items():
        name = next((n for n in names if environ.get(n, "").strip()), None)
        if name is None:
            chosen[scheme] = None
            continue
        try:
            chosen[scheme] = check_proxy_url(environ[name].strip())
        except ValueError as exc:
            raise ValueError(f"${name}: {exc} (set [fetch] proxy, or unset ${name})") from None
    return Proxies(http=chosen["http"], https=chosen["https"], no_proxy=entries)


def check_proxy_url(url: str) -> str:
    """An http:// or https:// proxy URL (a scheme-less host:port is taken as http://)."""
    text = url if "://" in url else "http://" + url
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"{_redacted(text)!r}: only http:// and https:// proxies are supported")
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ValueError(f"{_redacted(text)!r}: bad port") from None
    if not parts.hostname:
        raise ValueError(f"{_redacted(text)!r}: no host")
    if parts.path.strip("/") or parts.query:
        raise ValueError(f"{_redacted(text)!r}: a proxy URL has no path or query")
    return text


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


def _bypasses(entry: str, host: str, port: int) -> bool:
    if entry == "*":
        return True
    name, _, entry_port = entry.rpartition(":") if _has_port(entry) else (entry, "", "")
    if entry_port and entry_port != str(port):
        return False
    name = name.strip("[]")
    try:
        network = ipaddress.ip_network(name, strict=False)
    except ValueError:
        domain = name.removeprefix("*").lstrip(".")
        return host == domain or host.endswith("." + domain)
    try:
        return ipaddress.ip_address(host) in network
    except ValueError:
        return False  # a name is not matched by an address entry


def _has_port(entry: str) -> bool:
    if entry.startswith("["):
        return "]:" in entry
    return entry.count(":") == 1
