"""Typed config from TOML plus INGESTD_* environment overrides.

Every setting is declared once in SETTINGS / FEED_SETTINGS (name, type,
default, help); loading, `check-config`, env overrides and the generated
reference (`ingestd config-reference`, docs/config.md) all read that table.
A loaded Config holds one typed frozen dataclass per section (`config.fetch.timeout`).
Loading is the whole validation `run` does before it opens the database, so
`check-config` and `run` cannot disagree: each value parsed and ranged by its row's
parser (secrets read and decoded, listen addresses parsed), then RELATIONS between
keys. Errors are collected, not raised one by one, so an operator sees every bad
line at once: `file: key: reason`.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import ipaddress
import os
import re
import ssl
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .credentials import origin_of
from .errors import ConfigError, Problem
from .models import FeedConfig, FeedCredentials, SubscriptionConfig, SubscriptionFilter
from .proxies import check_proxy_url, from_settings
from .timeutil import parse_now

DEFAULT_CONFIG_PATH = Path("config/ingestd.toml")

# ── value types ──────────────────────────────────────────────────────────────

_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.I)
_SIZE_UNITS = {
    None: 1,
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
}


def parse_duration(value: Any) -> float:
    """'5m', '1h30m', '20s', '2d', or a number of seconds -> seconds."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 5m, 1h)")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"{value!r} is negative")
        return float(value)
    text = str(value).strip().lower().replace(" ", "")
    if text and _DURATION_PART.sub("", text) == "":
        return sum(float(n) * _DURATION_UNITS[u] for n, u in _DURATION_PART.findall(text))
    raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 5m, 1h)")


def parse_since(text: str, now: datetime) -> datetime:
    """--since values: a duration before `now` ('6h'), or an ISO 8601 time (UTC if no zone)."""
    try:
        return now - timedelta(seconds=parse_duration(text))
    except ValueError:
        try:
            return parse_now(text)
        except ValueError:
            raise ValueError(f"{text!r} is neither an ISO 8601 time nor a duration") from None


def parse_size(value: Any) -> int:
    """'15MB', '512 KiB', or a number of bytes -> bytes."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _SIZE.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a size (use e.g. 15MB, 512KiB)")
    number, unit = match.groups()
    return int(float(number) * _SIZE_UNITS[unit.lower() if unit else None])


def _parse_positive_size(value: Any) -> int:
    size = parse_size(value)
    if size <= 0:
        raise ValueError(f"{value!r} must be more than 0 bytes")
    return size


def _parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{value!r} is not true or false")


def _parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise ValueError(f"{value!r} must be at least 1")
    return number


def _parse_count(value: Any) -> int:
    """whole number, 0 or more"""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{value!r} is not a whole number")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise ValueError(f"{value!r} must be 0 or more")
    return number


def _parse_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is not a string")
    return value


def _parse_str_list(value: Any) -> list[str]:
    if isinstance(value, str):  # from the environment: comma-separated
        return [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{value!r} is not a list of strings")
    return value


def _choice(*options: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in options:
            raise ValueError(f"{value!r} is not one of {', '.join(options)}")
        return str(value)

    parse.__doc__ = " | ".join(f'"{o}"' for o in options)
    return parse


def _parse_allow_private(value: Any) -> list[str]:
    items = _parse_str_list(value)
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", item):
                raise ValueError(f"{item!r} is neither a CIDR nor a host name") from None
    return items


def _parse_url(value: Any) -> str:
    text = _parse_str(value).strip()
    if not text:
        raise ValueError("is empty")
    scheme = urlsplit(text).scheme.lower()
    if scheme in ("http", "https"):
        parts = urlsplit(text)
        if not parts.hostname:
            raise ValueError(f"{text!r} has no host")
        try:
            parts.port  # noqa: B018 (the check: a port out of range raises)
        except ValueError as exc:
            raise ValueError(f"{text!r}: {exc}") from None
        return text
    if scheme == "file" or scheme == "" or len(scheme) == 1:  # a path (C: on Windows)
        return text
    if scheme == "folder":
        if not text[len("folder:") :].strip():
            raise ValueError(f"{text!r}: a watch folder needs a path (folder:/path/to/folder)")
        return text
    raise ValueError(f"{text!r}: only http, https, file: URLs or paths are feeds (and folder: watch folders)")


def _parse_callback_base(value: Any) -> str:
    """http(s) URL"""
    text = _parse_str(value).strip().rstrip("/")
    parts = urlsplit(text)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{text!r}: a callback base must be an http(s) URL hubs can reach")
    return text


def _parse_feed_id(value: Any) -> str:
    text = _parse_str(value)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", text):
        raise ValueError(f"{text!r} is not an id (letters, digits, . _ -; at most 64)")
    return text


def _parse_positive_duration(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds <= 0:
        raise ValueError(f"{value!r} must be longer than 0s")
    return seconds


def _parse_min_interval(value: Any) -> float:
    seconds = parse_duration(value)
    if seconds < 1:
        raise ValueError(f"{value!r} is under 1s")
    return seconds


_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def _parse_listen(value: Any) -> str:
    """host:port or [v6]:port; an IP must be a real address, a name a valid host name."""
    text = _parse_str(value).strip()
    usage = f"{text!r} is not host:port (e.g. 127.0.0.1:8080, [::1]:8080)"
    match = re.fullmatch(r"(?:\[([^\]]*)\]|([^:\[\]]+)):(\d{1,5})", text)
    if not match:
        raise ValueError(usage)
    v6, host, port = match.groups()
    if int(port) > 65535:
        raise ValueError(f"{text!r}: port {port} is above 65535")
    try:
        if v6 is not None:
            ipaddress.IPv6Address(v6)
        elif host.replace(".", "").isdigit():  # dotted digits are an IPv4 address or nothing
            ipaddress.IPv4Address(host)
    except ValueError:
        raise ValueError(f"{text!r}: {v6 if v6 is not None else host!r} is not an IP address") from None
    if host and not host.replace(".", "").isdigit():
        labels = host.removesuffix(".").split(".")
        if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
            raise ValueError(f"{text!r}: {host!r} is not a host name")
    return text


def _parse_secret(value: Any) -> str:
    """A literal, `env:NAME` (the variable must be set) or `file:PATH` (first line)."""
    text = _parse_str(value)
    if text.startswith("env:"):
        name = text[4:]
        if name not in os.environ:
            raise ValueError(f"environment variable {name} is not set")
        secret = os.environ[name]
        where = f"environment variable {name}"
    elif text.startswith("file:"):
        try:
            secret = Path(text[5:]).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read secret file {text[5:]!r}: {exc.strerror}") from None
        where = f"secret file {text[5:]!r}"
    else:
        secret, where = text, "the secret"
    if not secret:
        raise ValueError(f"{where} is empty")
    return secret


def _parse_storage_url(value: Any) -> str:
    """storage URL"""  # env:NAME or file:PATH too: a postgresql:// URL holds a password
    url = _parse_secret(value)
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in STORAGE_SCHEMES:
        raise ValueError(
            f"{_redact_url(url)!r}: a storage URL is sqlite:///PATH or postgresql://HOST/DATABASE"
        )
    if scheme.lower() == "sqlite" and not rest.lstrip("/"):
        raise ValueError(f"{url!r}: sqlite:/// needs the database file's path (sqlite:///data/ingestd.db)")
    return url


STORAGE_SCHEMES = ("sqlite", "postgresql", "postgres")


def _redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


WEBHOOK_SECRET_PREFIX = "whsec_"


def webhook_key(secret: str) -> bytes:
    """`whsec_<base64>` -> the signing key (Standard Webhooks). Raises ValueError for
    anything else; unpadded base64 is common in the wild and the reference library
    pads it too."""
    if not secret.startswith(WEBHOOK_SECRET_PREFIX):
        raise ValueError(f"a webhook secret must start with {WEBHOOK_SECRET_PREFIX} (Standard Webhooks)")
    encoded = secret[len(WEBHOOK_SECRET_PREFIX) :]
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError(f"what follows {WEBHOOK_SECRET_PREFIX} is not base64") from None
    if not key:
        raise ValueError("the secret's key is empty")
    return key


def _parse_secret_list(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    secrets = [_parse_secret(v) for v in values]
    for secret in secrets:
        webhook_key(secret)  # decoded now: `run` must not be the first to find it bad
    if not secrets:
        raise ValueError("at least one secret is needed")
    return secrets


def _parse_proxy(value: Any) -> str:
    """proxy URL"""  # env:NAME or file:PATH too: a proxy URL may hold a password
    return check_proxy_url(_parse_secret(value))


# a feed's credentials: values are secrets (env:NAME, file:PATH), never shown or logged
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_VALUE = re.compile(r"[\x20-\x7e\t]*")
_MANAGED_HEADERS = ("host", "content-length", "transfer-encoding", "connection", "proxy-authorization")


def _feed_secret(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what}: must be a string (a literal, env:NAME or file:PATH)")
    try:
        return _parse_secret(value)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def _secret_table(value: Any, example: str) -> dict[str, str]:
    if not isinstance(value, dict) or not value:
        raise ValueError(f"must be a table of name = secret ({example})")
    return {str(name): _feed_secret(v, str(name)) for name, v in value.items()}


def _parse_headers(value: Any) -> dict[str, str]:
    """table of name = secret"""
    headers = _secret_table(value, 'headers = { "X-Api-Key" = "env:WIRE_KEY" }')
    for name, secret in headers.items():
        if not _HEADER_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a header name")
        if name.lower() in _MANAGED_HEADERS:
            raise ValueError(f"{name}: set by the HTTP client itself, not per feed")
        if not _HEADER_VALUE.fullmatch(secret):
            raise ValueError(f"{name}: the value has characters a header cannot carry (control or non-ASCII)")
    return headers


def _parse_query(value: Any) -> dict[str, str]:
    """table of name = secret"""
    query = _secret_table(value, 'query = { api_key = "env:WIRE_TOKEN" }')
    if "" in query:
        raise ValueError("a query parameter needs a name")
    return query


def _parse_auth(value: Any) -> dict[str, Any]:
    """{ basic = { username, password } } or { bearer = secret }"""
    shape = 'auth = { basic = { username = "…", password = "env:…" } } or auth = { bearer = "env:…" }'
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in ("basic", "bearer"):
        raise ValueError(f"must be one of {shape}")
    if "bearer" in value:
        token = _feed_secret(value["bearer"], "bearer")
        if not _HEADER_VALUE.fullmatch(token):
            raise ValueError("bearer: the token has characters a header cannot carry")
        return {"bearer": token}
    basic = value["basic"]
    if isinstance(basic, str):  # "user:password", the password a secret too (CLI --basic)
        username, sep, password = basic.partition(":")
        if not sep:
            raise ValueError('basic: "USER:PASSWORD" (the password may be env:NAME or file:PATH)')
        basic = {"username": username, "password": password}
    if not isinstance(basic, dict) or set(basic) != {"username", "password"}:
        raise ValueError(f"basic: must be a table of username and password ({shape})")
    username = basic["username"]
    if not isinstance(username, str) or not username or ":" in username:
        raise ValueError("basic: username must be a non-empty string without ':'")
    return {"basic": (username, _feed_secret(basic["password"], "basic password"))}


def _parse_path(value: Any) -> str:
    """path"""
    text = _parse_str(value).strip()
    if not text:
        raise ValueError("is empty")
    return text


_SECRET_TABLES = (_parse_headers, _parse_query, _parse_auth)

_FILTER_LISTS = ("sources", "sections", "languages", "keywords")


def _parse_filter(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{value!r} is not a table")
    for key, item in value.items():
        if key in _FILTER_LISTS:
            _parse_str_list(item)
        elif key == "first_of_cluster":
            _parse_bool(item)
        else:
            raise ValueError(f"unknown filter key {key!r} (use {', '.join(_FILTER_LISTS)}, first_of_cluster)")
    return value


_TYPE_NAMES: dict[Callable[[Any], Any], str] = {
    parse_duration: "duration",
    _parse_positive_duration: "duration > 0",
    _parse_min_interval: "duration ≥ 1s",
    parse_size: "size",
    _parse_positive_size: "size > 0",
    _parse_bool: "bool",
    _parse_int: "int",
    _parse_str: "string",
    _parse_str_list: "list of strings",
    _parse_allow_private: "list of CIDRs or host names",
    _parse_url: "URL or path",
    _parse_feed_id: "id",
    _parse_listen: "host:port",
    _parse_secret: "secret",
    _parse_secret_list: "secret or list of secrets",
    _parse_filter: "table",
    _parse_proxy: "proxy URL",
}


@dataclass(frozen=True)
class Setting:
    section: str
    key: str
    parse: Callable[[Any], Any]
    default: Any
    help: str
    path: bool = False  # resolved against the config file's folder

    @property
    def type_name(self) -> str:
        return _TYPE_NAMES.get(self.parse) or self.parse.__doc__ or "value"


_S = Setting
SETTINGS: list[Setting] = [
    _S(
        "storage",
        "path",
        _parse_str,
        "data/ingestd.db",
        "SQLite database file (WAL mode); created with its folder if missing. "
        "Shorthand for url = sqlite:///PATH: set one or the other.",
        path=True,
    ),
    _S(
        "storage",
        "url",
        _parse_storage_url,
        "sqlite:///data/ingestd.db",
        "sqlite:///PATH (relative to the config's folder; sqlite:////abs for an absolute path) "
        "or postgresql://USER@HOST/DATABASE (or env:NAME / file:PATH); unset, it is path's.",
    ),
    _S(
        "storage",
        "retention",
        _parse_positive_duration,
        "90d",
        "Stories older than this are purged; their identity keys stay (tombstones).",
    ),
    _S(
        "storage",
        "write_batch",
        _parse_int,
        200,
        "Stories written per transaction: a big poll is several, so ticks and claims never wait behind it.",
    ),
    _S(
        "log",
        "format",
        _choice("json", "console"),
        None,
        "json (one object per line) or console; unset: console on a terminal, else json.",
    ),
    _S(
        "log",
        "level",
        _choice("debug", "info", "warning", "error"),
        "info",
        "Lowest level written to stderr.",
    ),
    _S(
        "fetch",
        "timeout",
        _parse_positive_duration,
        "20s",
        "Total time allowed for one fetch, connect to last byte.",
    ),
    _S("fetch", "connect_timeout", _parse_positive_duration, "10s", "Time allowed to connect."),
    _S(
        "fetch",
        "user_agent",
        _parse_str,
        "ingestd/0.1 (+https://github.com/ingestd/ingestd)",
        "User-Agent sent with every request; keep a contact URL in it.",
    ),
    _S(
        "fetch",
        "allow_private",
        _parse_allow_private,
        [],
        "CIDRs or host names the daemon may connect to although they are private, loopback "
        "or otherwise non-public; the only switch for that (feeds, pages, webhooks).",
    ),
    _S(
        "fetch",
        "max_body",
        _parse_positive_size,
        "15MB",
        "Largest response body read, compressed or decoded; larger is an error.",
    ),
    _S("fetch", "max_redirects", _parse_int, 5, "Longest redirect chain followed."),
    _S(
        "fetch",
        "adopt_redirect_after",
        _parse_int,
        3,
        "A permanent redirect (301/308) becomes the feed's URL after this many consecutive "
        "polls saw the same target; 302/307 never change it.",
    ),
    _S(
        "fetch",
        "max_entries",
        _parse_count,
        500,
        "Entries taken from one poll: the newest by published time when every entry has one, "
        "else the first in document order; 0: all of them.",
    ),
    _S("fetch", "global_limit", _parse_int, 50, "Fetches in flight at once, all hosts together."),
    _S("fetch", "per_host_limit", _parse_int, 2, "Fetches in flight at once to one host."),
    _S("fetch", "per_host_delay", parse_duration, "0s", "Least time between two request starts to one host."),
    _S(
        "fetch",
        "proxy",
        _parse_proxy,
        None,
        "http(s)://[USER:PASSWORD@]HOST:PORT every outbound request (fetches, webhook deliveries, "
        "WebSub hub requests) goes through (or env:NAME / file:PATH); "
        "wins over HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, which apply when it is unset. NO_PROXY "
        "holds either way. Each target's address is still checked against allow_private; the "
        "proxy's own address is not (docs/operations.md).",
    ),
    _S(
        "fetch",
        "ca_bundle",
        _parse_path,
        None,
        "PEM file of CA certificates servers (feeds, webhook receivers, WebSub hubs, an https "
        "proxy) are verified against, "
        "instead of the built-in set (certifi); unset: the built-in set.",
        path=True,
    ),
    _S(
        "scheduler",
        "tick",
        _parse_positive_duration,
        "1s",
        "How often the scheduler looks for feeds that are due.",
    ),
    _S("scheduler", "workers", _parse_int, 10, "Polls running at the same time."),
    _S(
        "scheduler",
        "default_interval",
        _parse_positive_duration,
        "5m",
        "Poll interval of a feed that declares none.",
    ),
    _S(
        "scheduler",
        "min_interval",
        _parse_min_interval,
        "1m",
        "No feed is polled more often than this, whatever its interval or hints say.",
    ),
    _S(
        "scheduler",
        "max_interval",
        _parse_positive_duration,
        "24h",
        "No healthy feed waits longer than this (Retry-After aside).",
    ),
    _S(
        "scheduler",
        "backoff_cap",
        _parse_positive_duration,
        "6h",
        "Longest wait after repeated errors (exponential backoff with jitter).",
    ),
    _S(
        "dedupe",
        "cluster_window",
        parse_duration,
        "3d",
        "How far apart two stories may be published and still join one cluster.",
    ),
    _S(
        "dedupe",
        "tracking_params",
        _parse_str_list,
        [
            "utm_*",
            "fbclid",
            "gclid",
            "dclid",
            "msclkid",
            "mc_cid",
            "mc_eid",
            "igshid",
            "_ga",
            "yclid",
            "ref_src",
            "cmpid",
            "ocid",
        ],
        "Query parameters dropped from canonical URLs (* matches any suffix).",
    ),
    _S("webhooks", "timeout", _parse_positive_duration, "15s", "Time allowed for one delivery attempt."),
    _S("webhooks", "concurrency", _parse_int, 4, "Deliveries in flight at once to one subscription."),
    _S(
        "webhooks",
        "retry_for",
        _parse_positive_duration,
        "3d",
        "How long a failing delivery is retried before it is marked failed.",
    ),
    _S(
        "webhooks",
        "breaker_after",
        _parse_positive_duration,
        "1h",
        "An endpoint failing continuously this long is paused (circuit open) and probed.",
    ),
    _S(
        "webhooks", "probe_interval", _parse_positive_duration, "5m", "How often a paused endpoint is probed."
    ),
    _S(
        "http",
        "listen",
        _parse_listen,
        "127.0.0.1:8080",
        "Address of the HTTP server (health, metrics, read API).",
    ),
    _S(
        "http",
        "token",
        _parse_secret,
        None,
        "Bearer token for everything but health and metrics (or env:NAME / file:PATH); "
        "unset: those routes answer 401.",
    ),
    _S(
        "http",
        "status_token",
        _parse_secret,
        None,
        "Read-only token for the status page `GET /` only (or env:NAME / file:PATH); "
        "`[http] token` opens it too.",
    ),
    _S(
        "normalize",
        "sources_dir",
        _parse_str,
        "sources",
        "Folder of source profiles (*.toml) that add to or override the built-in ones.",
        path=True,
    ),
    _S(
        "websub",
        "callback_base",
        _parse_callback_base,
        None,
        "WebSub push: the daemon's HTTP server as hubs reach it (https://ingest.example.org); "
        "feeds that name a hub are subscribed at <base>/websub/<feed id>. Unset: off.",
    ),
    _S(
        "websub",
        "crosscheck_interval",
        _parse_positive_duration,
        "1h",
        "While a hub pushes a feed, the feed is still polled this often (a cross-check); "
        "when the lease lapses, its own schedule takes over.",
    ),
    _S(
        "websub",
        "lease",
        _parse_positive_duration,
        "10d",
        "Lease asked of hubs (they may grant another); renewed at 90% of what was granted.",
    ),
]

FEED_SETTINGS: list[Setting] = [
    _S("feeds", "id", _parse_feed_id, None, "Unique id of the feed (required)."),
    _S(
        "feeds",
        "url",
        _parse_url,
        None,
        "http(s) URL, or a file:// URL or path (a file, or a folder read in name order; "
        "relative to the config file), or folder:PATH, a watch folder whose files are consumed "
        "(moved to processed/ or error/ once stored; see docs/wire-formats.md) (required).",
    ),
    _S("feeds", "source", _parse_str, None, "Source profile (yonhap, ap, reuters, afp, …); unset: detected."),
    _S(
        "feeds",
        "interval",
        _parse_positive_duration,
        None,
        "Nominal poll interval; unset: [scheduler] default_interval.",
    ),
    _S(
        "feeds",
        "fetch_article",
        _parse_bool,
        False,
        "Fetch each new entry's page and normalize that instead of the feed's summary.",
    ),
    _S(
        "feeds",
        "quiet_after",
        _parse_positive_duration,
        None,
        "A feed with no new story for this long is logged and shown as quiet; unset: "
        "8 times its usual gap between stories (at least 1 h), once that is known.",
    ),
    _S(
        "feeds",
        "identity",
        _choice("guid", "url", "content"),
        None,
        "Pin the identity policy; unset: chosen automatically from how the feed behaves.",
    ),
    _S(
        "feeds",
        "headers",
        _parse_headers,
        None,
        'Request headers sent to the feed\'s own origin only: { "X-Api-Key" = "env:WIRE_KEY" } '
        "(each value a literal, env:NAME or file:PATH). Shown as set, never the value.",
    ),
    _S(
        "feeds",
        "auth",
        _parse_auth,
        None,
        'HTTP auth for the feed\'s origin: { basic = { username = "u", password = "env:PASS" } } '
        '(or basic = "u:env:PASS") or { bearer = "env:TOKEN" }.',
    ),
    _S(
        "feeds",
        "query",
        _parse_query,
        None,
        'Token query parameters added to requests to the feed\'s origin: { api_key = "env:KEY" }; '
        "never stored in, logged with or shown in its URL.",
    ),
    _S(
        "feeds",
        "client_cert",
        _parse_path,
        None,
        "PEM client certificate (with its key, unless client_key) presented to the feed's origin.",
    ),
    _S("feeds", "client_key", _parse_path, None, "PEM private key of client_cert, if in a file of its own."),
]
CREDENTIAL_KEYS = ("headers", "auth", "query", "client_cert", "client_key")

SUBSCRIPTION_SETTINGS: list[Setting] = [
    _S("subscriptions", "id", _parse_feed_id, None, "Unique id of the subscription (required)."),
    _S("subscriptions", "url", _parse_str, None, "http(s) endpoint receiving the POSTs (required)."),
    _S(
        "subscriptions",
        "secret",
        _parse_secret_list,
        None,
        "whsec_… signing secret, env:NAME or file:PATH; a list while rotating (required).",
    ),
    _S("subscriptions", "events", _parse_str_list, ["story.created", "story.updated"], "Event types sent."),
    _S(
        "subscriptions",
        "filter",
        _parse_filter,
        {},
        "Table of sources, sections, languages, keywords (lists) and first_of_cluster (bool): "
        "every key given must match; within a key, any value.",
    ),
]
_REQUIRED_KEYS = ("id", "url", "secret")
EVENT_TYPES = ("story.created", "story.updated")


@dataclass(frozen=True)
class Relation:
    """Between two settings ("section.key"): `low` ≤ `high`, else the config contradicts
    itself and `why` says what would go wrong. A `hard` relation is one the daemon
    cannot run without, checked always; the others only when both values were given (a
    default the operator never chose does not make their one value wrong)."""

    low: str
    high: str
    why: str
    hard: bool = False


RELATIONS: list[Relation] = [
    Relation("scheduler.min_interval", "scheduler.max_interval", "no interval can satisfy both", hard=True),
    Relation("scheduler.min_interval", "scheduler.default_interval", "the default could never apply"),
    Relation("scheduler.default_interval", "scheduler.max_interval", "the default could never apply"),
    Relation("scheduler.tick", "scheduler.min_interval", "due feeds are only looked for once a tick"),
    Relation("scheduler.min_interval", "scheduler.backoff_cap", "errors could never slow polling down"),
    Relation("fetch.connect_timeout", "fetch.timeout", "timeout bounds the whole fetch, connecting included"),
    Relation("fetch.per_host_limit", "fetch.global_limit", "global_limit bounds all hosts together"),
]


# ── typed sections ───────────────────────────────────────────────────────────
# One frozen dataclass per [section]; its fields are exactly that section's rows in
# SETTINGS (tests/test_config.py holds the two together). A new setting is a row in
# SETTINGS plus a field here; a new section is also an entry in SECTIONS and a field
# of Config.


@dataclass(frozen=True)
class StorageSettings:
    path: str  # the SQLite file ("" on PostgreSQL)
    url: str  # sqlite:///ABSOLUTE/PATH or the postgresql:// URL
    retention: float
    write_batch: int


@dataclass(frozen=True)
class LogSettings:
    format: str | None
    level: str


@dataclass(frozen=True)
class FetchSettings:
    timeout: float
    connect_timeout: float
    user_agent: str
    allow_private: list[str]
    max_body: int
    max_redirects: int
    adopt_redirect_after: int
    max_entries: int
    global_limit: int
    per_host_limit: int
    per_host_delay: float
    proxy: str | None = None
    ca_bundle: str | None = None


@dataclass(frozen=True)
class SchedulerSettings:
    tick: float
    workers: int
    default_interval: float
    min_interval: float
    max_interval: float
    backoff_cap: float


@dataclass(frozen=True)
class DedupeSettings:
    cluster_window: float
    tracking_params: list[str]


@dataclass(frozen=True)
class WebhooksSettings:
    timeout: float
    concurrency: int
    retry_for: float
    breaker_after: float
    probe_interval: float


@dataclass(frozen=True)
class HttpSettings:
    listen: str
    token: str | None
    status_token: str | None = None


@dataclass(frozen=True)
class NormalizeSettings:
    sources_dir: str


@dataclass(frozen=True)
class WebSubSettings:
    callback_base: str | None
    crosscheck_interval: float
    lease: float


SECTIONS: dict[str, type] = {
    "storage": StorageSettings,
    "log": LogSettings,
    "fetch": FetchSettings,
    "scheduler": SchedulerSettings,
    "dedupe": DedupeSettings,
    "webhooks": WebhooksSettings,
    "http": HttpSettings,
    "normalize": NormalizeSettings,
    "websub": WebSubSettings,
}


@dataclass(frozen=True)
class Config:
    file: Path | None
    storage: StorageSettings
    log: LogSettings
    fetch: FetchSettings
    scheduler: SchedulerSettings
    dedupe: DedupeSettings
    webhooks: WebhooksSettings
    http: HttpSettings
    normalize: NormalizeSettings
    websub: WebSubSettings
    feeds: list[FeedConfig] = field(default_factory=list)
    subscriptions: list[SubscriptionConfig] = field(default_factory=list)
    # INGESTD_* variables that name no setting; the command reports them, once
    warnings: tuple[EnvWarning, ...] = ()

    @property
    def folder(self) -> Path:
        return self.file.parent if self.file else Path.cwd()


@dataclass(frozen=True)
class EnvWarning:
    """An INGESTD_* variable that names no setting: ignored, and said so once."""

    name: str
    closest: str | None

    def __str__(self) -> str:
        hint = f"; did you mean {self.closest}?" if self.closest else ""
        return f"${self.name}: unknown variable, ignored{hint}"


def env_names() -> list[str]:
    """Every INGESTD_* variable ingestd reads."""
    return ["INGESTD_CONFIG"] + [f"INGESTD_{s.section}_{s.key}".upper() for s in SETTINGS]


def config_path(explicit: str | os.PathLike[str] | None, env: Mapping[str, str] | None = None) -> Path | None:
    """--config, else INGESTD_CONFIG, else ./config/ingestd.toml if present."""
    environ = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if environ.get("INGESTD_CONFIG"):
        return Path(environ["INGESTD_CONFIG"])
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None


def load_config(
    path: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    require_file: bool = True,
) -> Config:
    """Read, check and resolve the config: every setting parsed and ranged, secrets
    decoded, relations between keys held. What passes here is all `run` checks before
    it opens the database. Raises ConfigError with every problem.

    A file named by `path` or $INGESTD_CONFIG must exist; with neither, the default
    file is read, and only where `require_file` is false (replay) may it be missing:
    then the built-in defaults apply."""
    environ: Mapping[str, str] = os.environ if env is None else env
    file = config_path(path, environ)
    if file is None and require_file:
        raise ConfigError(
            [
                Problem(
                    str(Path.cwd() / DEFAULT_CONFIG_PATH),
                    "-",
                    "file not found; name the config with --config PATH or $INGESTD_CONFIG",
                )
            ]
        )
    label = str(file) if file else "<defaults>"
    problems: list[Problem] = []
    raw: dict[str, Any] = {}
    if file is not None:
        try:
            raw = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            named = "" if path else " (named by $INGESTD_CONFIG)"
            raise ConfigError([Problem(label, "-", f"file not found{named}")]) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError([Problem(label, "-", f"cannot read: {exc}")]) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError([Problem(label, "-", f"not valid TOML: {exc}")]) from None
        file = file.resolve()
    folder = file.parent if file else Path.cwd()

    known = {(s.section, s.key): s for s in SETTINGS}
    sections: dict[str, dict[str, Any]] = {s.section: {} for s in SETTINGS}
    given: dict[str, str] = {}  # "section.key" set by the operator -> where (for relations)
    bad: set[str] = set()  # "section.key" whose value was refused (reported already)
    for setting in SETTINGS:
        default = None if setting.default is None else setting.parse(setting.default)
        sections[setting.section][setting.key] = _resolve(setting, default, folder)

    for name, table in raw.items():
        if name in ("feeds", "subscriptions"):
            continue
        if name not in sections:
            problems.append(Problem(label, name, "unknown section"))
            continue
        if not isinstance(table, dict):
            problems.append(Problem(label, name, "must be a table ([" + name + "])"))
            continue
        for key, value in table.items():
            declared = known.get((name, key))
            if declared is None:
                problems.append(Problem(label, f"{name}.{key}", "unknown key"))
                continue
            try:
                if declared.parse in (
                    _parse_secret,
                    _parse_storage_url,
                    _parse_proxy,
                ):  # file: relative to the config's folder
                    value = _relative_secret_file(value, folder)
                sections[name][key] = _resolve(declared, declared.parse(value), folder)
                given[f"{name}.{key}"] = label
            except ValueError as exc:
                problems.append(Problem(label, f"{name}.{key}", str(exc)))
                bad.add(f"{name}.{key}")

    for setting in SETTINGS:
        var = f"INGESTD_{setting.section}_{setting.key}".upper()
        where = f"{setting.section}.{setting.key}"
        if var in environ:
            try:
                sections[setting.section][setting.key] = _resolve(
                    setting, setting.parse(environ[var]), Path.cwd()
                )
                given[where] = f"${var}"
            except ValueError as exc:
                problems.append(Problem(f"${var}", where, str(exc)))
                bad.add(where)

    problems += _relation_problems(sections, given, bad)
    problems += _storage_problems(sections["storage"], given, folder)
    problems += _fetch_problems(sections["fetch"], given, environ)
    default_interval = sections["scheduler"]["default_interval"]
    feeds = [
        feed
        for values in _load_array(raw.get("feeds", []), "feeds", FEED_SETTINGS, label, folder, problems)
        if (feed := _feed(values, folder, default_interval, f"feeds ({values['id']})", label, problems))
    ]
    subscriptions = [
        sub
        for values in _load_array(
            raw.get("subscriptions", []), "subscriptions", SUBSCRIPTION_SETTINGS, label, folder, problems
        )
        if (sub := _subscription(values, f"subscriptions ({values['id']})", label, problems)) is not None
    ]
    if problems:
        raise ConfigError(problems)
    typed: dict[str, Any] = {name: SECTIONS[name](**values) for name, values in sections.items()}
    overrides = [environ[name] for name in env_names() if name in environ]
    warnings = unknown_env(environ, referenced=_env_references([raw, overrides]))
    return Config(file=file, feeds=feeds, subscriptions=subscriptions, warnings=warnings, **typed)


def _storage_problems(storage: dict[str, Any], given: dict[str, str], folder: Path) -> list[Problem]:
    """`path` is shorthand for `url = sqlite:///PATH`: one of them, resolved to both."""
    if "storage.url" not in given:
        storage["url"] = "sqlite:///" + storage["path"]
        return []
    where = given["storage.url"]
    if "storage.path" in given:
        return [
            Problem(
                where, "storage.url", "set url or path, not both: path is shorthand for url = sqlite:///PATH"
            )
        ]
    scheme, _, rest = storage["url"].partition("://")
    if scheme.lower() != "sqlite":
        storage["path"] = ""  # no file: the database is the server's
        return []
    base = Path.cwd() if where.startswith("$") else folder
    storage["path"] = str((base / rest[1:]).resolve())
    storage["url"] = "sqlite:///" + storage["path"]
    return []


def _fetch_problems(
    fetch: dict[str, Any], given: dict[str, str], environ: Mapping[str, str]
) -> list[Problem]:
    """The CA bundle loads; the environment's proxies, when they apply, are proxy URLs."""
    problems = []
    if fetch["ca_bundle"] and "fetch.ca_bundle" in given:
        try:
            ssl.create_default_context(cafile=fetch["ca_bundle"])
        except (OSError, ssl.SSLError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            problems.append(
                Problem(given["fetch.ca_bundle"], "fetch.ca_bundle", f"{fetch['ca_bundle']}: {reason}")
            )
    try:
        from_settings(fetch["proxy"], environ)
    except ValueError as exc:
        problems.append(Problem("environment", "fetch.proxy", str(exc)))
    return problems


def _relation_problems(
    sections: dict[str, dict[str, Any]], given: dict[str, str], bad: set[str]
) -> list[Problem]:
    """RELATIONS checked between values that parsed (a refused one is reported
    already), each problem named where the value that was given came from."""
    problems = []
    for relation in RELATIONS:
        keys = (relation.low, relation.high)
        if bad & set(keys) or not (relation.hard or all(k in given for k in keys)):
            continue
        low, high = (sections[k.split(".")[0]][k.split(".")[1]] for k in keys)
        if low > high:
            shown = _show_duration if isinstance(low, float) else str
            key = relation.low if relation.low in given else relation.high
            problems.append(
                Problem(
                    given[key],
                    key,
                    f"{relation.low} ({shown(low)}) is above {relation.high} ({shown(high)}): {relation.why}",
                )
            )
    return problems


def _show_duration(seconds: float) -> str:
    for unit in ("w", "d", "h", "m", "s"):
        size = _DURATION_UNITS[unit]
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def unknown_env(
    environ: Mapping[str, str], referenced: frozenset[str] = frozenset()
) -> tuple[EnvWarning, ...]:
    """INGESTD_* variables that name no setting, each with the closest valid name. A
    variable the config reads as a secret (`env:INGESTD_API_TOKEN`) is not unknown."""
    names = env_names()
    return tuple(
        EnvWarning(var, _closest(var, names))
        for var in sorted(environ)
        if var.startswith("INGESTD_") and var not in names and var not in referenced
    )


def _closest(var: str, names: list[str]) -> str | None:
    # Compared without the shared INGESTD_ (it makes every pair look alike); 0.7 keeps
    # typos (FETCH_TIMEOT, LOGLEVEL) and drops look-alikes (WEBHOOK_SECRET: RETRY_FOR).
    prefix = len("INGESTD_")
    found = difflib.get_close_matches(var[prefix:], [n[prefix:] for n in names], n=1, cutoff=0.7)
    return f"INGESTD_{found[0]}" if found else None


def _env_references(values: Any) -> frozenset[str]:
    """The NAMEs of every `env:NAME` string anywhere in `values` (tables, lists)."""
    if isinstance(values, str):
        return frozenset([values[4:]]) if values.startswith("env:") else frozenset()
    if isinstance(values, dict):
        values = list(values.values())
    if isinstance(values, list):
        return frozenset().union(*(_env_references(v) for v in values))
    return frozenset()


def _resolve(setting: Setting, value: Any, folder: Path) -> Any:
    if setting.path and isinstance(value, str):
        return str((folder / value).resolve()) if not os.path.isabs(value) else value
    return value


def parse_subscription(table: Any, label: str) -> SubscriptionConfig:
    """One subscription table from elsewhere than the config file (the CLI, the API),
    checked by the very rules of [[subscriptions]]; `file:` paths are relative to the
    working directory. Raises ConfigError with every problem, keyed by field (`url`)."""
    problems: list[Problem] = []
    values = _check_table(table, "", SUBSCRIPTION_SETTINGS, label, Path.cwd(), problems)
    sub = _subscription(values, "", label, problems) if values is not None else None
    if sub is None:
        raise ConfigError(problems)
    return sub


def parse_feed(
    table: Any, label: str, default_interval: float, *, literal_secrets: bool = False
) -> FeedConfig:
    """One feed table from elsewhere than the config file (the CLI, the API), checked by
    the very rules of [[feeds]]. Only http(s) URLs: `file:` and folder feeds are declared
    in the config alone (DESIGN.md "Network guard"). Raises ConfigError keyed by field.

    With `literal_secrets` (the API), credentials are the values themselves: env: and
    file: would read the daemon's environment and files for whoever may call it, and
    client certificates (files on the daemon's host) are refused for the same reason."""
    problems: list[Problem] = []
    if literal_secrets and isinstance(table, dict):
        problems += literal_secret_problems(table, label)
        if problems:
            raise ConfigError(problems)
    values = _check_table(table, "", FEED_SETTINGS, label, Path.cwd(), problems)
    if values is not None:
        parts = urlsplit(values["url"])
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            problems.append(
                Problem(
                    label,
                    "url",
                    f"{values['url']!r} is not an http(s) URL (file: and folder feeds go in the config)",
                )
            )
    feed = (
        _feed(values, Path.cwd(), default_interval, "", label, problems) if values and not problems else None
    )
    if feed is None:
        raise ConfigError(problems)
    return feed


def literal_secret_problems(table: dict[str, Any], label: str) -> list[Problem]:
    """What a feed table sent over HTTP may not hold: env:/file: secrets, client certificates."""
    problems = [
        Problem(label, key, "client certificates are for the config file and the CLI")
        for key in ("client_cert", "client_key")
        if table.get(key) is not None  # null: a patch removing one
    ]
    for key in ("headers", "query", "auth"):
        if _env_or_file(_basic_split(table.get(key))):
            problems.append(
                Problem(
                    label,
                    key,
                    "env: and file: are for the config file and the CLI; over HTTP a secret is the value itself",
                )
            )
    return problems


def _basic_split(value: Any) -> Any:
    """auth's basic = "USER:PASSWORD" as the table it stands for: the password is the
    secret that may be env:/file:, behind the username."""
    if isinstance(value, dict) and isinstance(value.get("basic"), str) and ":" in value["basic"]:
        username, _, password = value["basic"].partition(":")
        return value | {"basic": {"username": username, "password": password}}
    return value


def _env_or_file(value: Any) -> bool:
    if isinstance(value, str):
        return value.startswith(("env:", "file:"))
    if isinstance(value, dict):
        return any(_env_or_file(v) for v in value.values())
    return False


def _load_array(
    raw: Any, name: str, settings: list[Setting], label: str, folder: Path, problems: list[Problem]
) -> list[dict[str, Any]]:
    """An array of tables ([[feeds]], [[subscriptions]]): each checked against its
    settings, required keys present, ids unique. Bad tables are reported and left out."""
    if not isinstance(raw, list):
        problems.append(Problem(label, name, f"must be an array of tables ([[{name}]])"))
        return []
    tables: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for index, table in enumerate(raw):
        where = f"{name}[{index}]"
        if isinstance(table, dict) and isinstance(table.get("id"), str):
            where = f"{name}[{index}] ({table['id']})"
        values = _check_table(table, where, settings, label, folder, problems)
        item_id = table.get("id") if isinstance(table, dict) else None
        if isinstance(item_id, str):
            if item_id in seen:
                problems.append(
                    Problem(label, f"{where}.id", f"duplicate id {item_id!r} (also {name}[{seen[item_id]}])")
                )
                values = None
            seen.setdefault(item_id, index)
        if values is not None:
            tables.append(values)
    return tables


def _check_table(
    table: Any, where: str, settings: list[Setting], label: str, folder: Path, problems: list[Problem]
) -> dict[str, Any] | None:
    """One table checked against its settings, required keys present: its values with
    defaults filled in, or None (every problem reported) if any key is bad."""
    if not isinstance(table, dict):
        problems.append(Problem(label, where or "-", "must be a table"))
        return None
    known = {s.key: s for s in settings}
    values: dict[str, Any] = {}
    ok = True
    for key, value in table.items():
        setting = known.get(key)
        if setting is None:
            problems.append(Problem(label, _key(where, key), "unknown key"))
            ok = False
            continue
        try:
            if setting.parse in _SECRET_TABLES:
                value = _relative_secret_files(value, folder)
            values[key] = setting.parse(_relative_secret_file(value, folder))
        except ValueError as exc:
            problems.append(Problem(label, _key(where, key), str(exc)))
            ok = False
    for setting in settings:
        if setting.key in _REQUIRED_KEYS and setting.key not in table:
            problems.append(Problem(label, _key(where, setting.key), "missing (required)"))
            ok = False
    return {s.key: s.default for s in settings} | values if ok else None


def _key(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _relative_secret_file(value: Any, folder: Path) -> Any:
    if isinstance(value, str) and value.startswith("file:") and not value.startswith("file://"):
        path = value[5:]
        return "file:" + (path if os.path.isabs(path) else str(folder / path))
    if isinstance(value, list):
        return [_relative_secret_file(v, folder) for v in value]
    return value


def _relative_secret_files(value: Any, folder: Path) -> Any:
    """In a credentials table (headers = { K = "file:key.txt" }), at any depth."""
    if isinstance(value, dict):
        return {k: _relative_secret_files(v, folder) for k, v in _basic_split(value).items()}
    return _relative_secret_file(value, folder)


def _feed(
    values: dict[str, Any],
    folder: Path,
    default_interval: float,
    where: str,
    label: str,
    problems: list[Problem],
) -> FeedConfig | None:
    url = _local_url(values["url"], folder)
    credentials = None
    given = [key for key in CREDENTIAL_KEYS if values.get(key) is not None]
    if given:
        if urlsplit(url).scheme not in ("http", "https"):
            problems.append(Problem(label, _key(where, given[0]), "credentials are for http(s) feeds"))
            return None
        try:
            credentials = _credentials(values, url, folder)
        except _CredentialProblem as exc:
            problems.append(Problem(label, _key(where, exc.key), exc.reason))
            return None
    return FeedConfig(
        id=values["id"],
        url=url,
        source=values["source"],
        interval=values["interval"] or default_interval,
        fetch_article=values["fetch_article"],
        identity=values["identity"],
        quiet_after=values["quiet_after"],
        credentials=credentials,
    )


class _CredentialProblem(Exception):
    def __init__(self, key: str, reason: str):
        super().__init__(reason)
        self.key, self.reason = key, reason


def _credentials(values: dict[str, Any], url: str, folder: Path) -> FeedCredentials:
    """The feed's credentials, bound to its URL's origin; a client certificate loaded
    now (`run` must not be the first to find it bad)."""
    headers, auth = values["headers"] or {}, values["auth"] or {}
    if auth and any(name.lower() == "authorization" for name in headers):
        raise _CredentialProblem("auth", "give auth or an Authorization header, not both")
    cert = key = None
    if values["client_key"] and not values["client_cert"]:
        raise _CredentialProblem("client_key", "a client key needs client_cert")
    if values["client_cert"]:
        cert = str((folder / values["client_cert"]).resolve())
        key = str((folder / values["client_key"]).resolve()) if values["client_key"] else None
        try:
            ssl.create_default_context().load_cert_chain(cert, key)
        except OSError as exc:
            missing = exc.filename or (key if exc.errno and key else cert)
            raise _CredentialProblem("client_cert", f"cannot read {missing}: {exc.strerror or exc}") from None
        except ssl.SSLError as exc:
            raise _CredentialProblem(
                "client_cert",
                f"{cert}{' with ' + key if key else ''}: not a PEM certificate and its key ({exc.reason})",
            ) from None
    return FeedCredentials(
        origin=origin_of(url),
        headers=tuple(headers.items()),
        basic=auth.get("basic"),
        bearer=auth.get("bearer"),
        query=tuple((values["query"] or {}).items()),
        client_cert=cert,
        client_key=key,
    )


def _subscription(
    values: dict[str, Any], where: str, label: str, problems: list[Problem]
) -> SubscriptionConfig | None:
    if (
        urlsplit(values["url"]).scheme.lower() not in ("http", "https")
        or not urlsplit(values["url"]).hostname
    ):
        problems.append(Problem(label, _key(where, "url"), f"{values['url']!r} is not an http(s) URL"))
        return None
    unknown = set(values["events"]) - set(EVENT_TYPES)
    if unknown:
        problems.append(
            Problem(
                label,
                _key(where, "events"),
                f"unknown event types {sorted(unknown)} (use {', '.join(EVENT_TYPES)})",
            )
        )
        return None
    raw = values["filter"]
    story_filter = SubscriptionFilter(
        **{k: tuple(_parse_str_list(raw[k])) for k in _FILTER_LISTS if k in raw},
        first_of_cluster=_parse_bool(raw["first_of_cluster"]) if "first_of_cluster" in raw else None,
    )
    return SubscriptionConfig(
        id=values["id"],
        url=values["url"],
        secrets=tuple(values["secret"]),
        events=tuple(values["events"]),
        filter=story_filter,
    )


def _local_url(url: str, folder: Path) -> str:
    """Paths and file: URLs become absolute file:// URLs against the config's folder."""
    parts = urlsplit(url)
    if parts.scheme.lower() in ("http", "https"):
        return url
    if parts.scheme.lower() == "folder":
        return "folder:" + str((folder / url[len("folder:") :]).resolve())
    path = parts.path if parts.scheme.lower() == "file" else url
    return (folder / path).resolve().as_uri()


def reference() -> str:
    """The config reference (Markdown), generated from the settings table."""
    lines = [
        "# Configuration reference",
        "",
        "Generated by `ingestd config-reference` from the settings table in "
        "`ingestd/config.py`. Any key can be overridden by `INGESTD_<SECTION>_<KEY>` "
        "(lists comma-separated); `INGESTD_CONFIG` names the file. Relative paths in the "
        "file are relative to the file's folder; in the environment, to the working "
        "directory.",
        "",
    ]
    for section in dict.fromkeys(s.section for s in SETTINGS):
        lines += [f"## [{section}]", "", "| key | type | default | meaning |", "|---|---|---|---|"]
        for s in (s for s in SETTINGS if s.section == section):
            lines.append(f"| `{s.key}` | {s.type_name} | `{_show(s.default)}` | {s.help} |")
        lines.append("")
    lines += ["## [[feeds]]", "", "| key | type | default | meaning |", "|---|---|---|---|"]
    for s in FEED_SETTINGS:
        lines.append(f"| `{s.key}` | {s.type_name} | `{_show(s.default)}` | {s.help} |")
    lines += ["", "## [[subscriptions]]", "", "| key | type | default | meaning |", "|---|---|---|---|"]
    for s in SUBSCRIPTION_SETTINGS:
        lines.append(f"| `{s.key}` | {s.type_name} | `{_show(s.default)}` | {s.help} |")
    lines += [
        "",
        "## Relations between keys",
        "",
        "Each must hold or the config is refused. *Always*: checked whatever was given; "
        "*when both are given*: a default you did not choose does not make your value wrong.",
        "",
        "| must hold | checked | because otherwise |",
        "|---|---|---|",
    ]
    for r in RELATIONS:
        checked = "always" if r.hard else "when both are given"
        lines.append(f"| `{r.low}` ≤ `{r.high}` | {checked} | {r.why} |")
    lines += [
        "",
        "## The file and the environment",
        "",
        "`--config PATH` (before or after the command), else `INGESTD_CONFIG`, names the "
        "file, which must then exist; with neither, `config/ingestd.toml` is read, and every "
        "command but `replay` (test mode: built-in defaults) refuses to start without it.",
        "",
        "`INGESTD_<SECTION>_<KEY>` overrides one key. Any "
        "other `INGESTD_*` variable is reported once by every command that reads the config, "
        "with the closest valid name (`run` and `replay` in their log, the others on stderr), "
        "unless the config reads it as a secret (`env:INGESTD_API_TOKEN`).",
    ]
    return "\n".join(lines) + "\n"


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
