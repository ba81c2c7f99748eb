"""Canonical URLs: one spelling per page, so a link identifies its story however it is written.

w3lib's `canonicalize_url` (Scrapy's request fingerprinting, built for exactly this)
lower-cases scheme and host, encodes IDNs as punycode, normalizes percent-encoding,
sorts the query and drops the fragment. Around it: default ports are dropped and
tracking parameters removed (the config's list, `*` a suffix wildcard). Anything
but an http(s) URL with a host identifies nothing. Most links are canonical as
written (a lower-case host, a plain path): one regular expression tells, and they
skip the parsing.
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
# what canonicalizing leaves as it is: lower-case ASCII host labels (none with "--", so
# no punycode), no port, user, query or fragment; a path of unreserved characters, no
# escapes, no "." or ".." segments (tests/test_dedupe_urls.py checks it against w3lib)
_CANONICAL = re.compile(rf"https?://(?![^/]*--)(?:{_LABEL}\.)*{_LABEL}(?:/(?!\.\.?(?:/|$))[A-Za-z0-9_~.-]*)+")


@lru_cache(maxsize=16)
def _tracking(patterns: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    exact = frozenset(p.lower() for p in patterns if not p.endswith("*"))
    prefixes = tuple(p[:-1].lower() for p in patterns if p.endswith("*"))
    return exact, prefixes


def is_tracking(name: str, patterns: tuple[str, ...]) -> bool:
    exact, prefixes = _tracking(patterns)
    name = name.lower()
    return name in exact or name.startswith(prefixes)


def canonical_url(url: str, tracking_params: tuple[str, ...]) -> str | None:
    """The canonical form of an http(s) URL; None for anything else."""
    return url if _CANONICAL.fullmatch(url) else _canonicalized(url, tracking_params)


def _canonicalized(url: str, tracking_params: tuple[str, ...]) -> str | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a bad port or IPv6 literal
        return None
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not is_tracking(unquote_plus(pair.split("=", 1)[0]), tracking_params)
    )
    return canonicalize_url(urlunsplit((scheme, netloc, parts.path or "/", query, "")))
