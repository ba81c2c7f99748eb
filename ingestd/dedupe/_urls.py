"""Canonical URLs: one spelling per page, so a link identifies its story however it is written.

w3lib's `canonicalize_url` (Scrapy's request fingerprinting, built for exactly this)
lower-cases scheme and host, encodes IDNs as punycode, normalizes percent-encoding,
sorts the query and drops the fragment. Around it: default ports are dropped and
tracking parameters removed (the config's list, `*` a suffix wildcard). Anything
but an http(s) URL with a host identifies nothing. Most links are plain (a
lower-case host, a plain path, perhaps a query of plain `name=value` pairs and a
fragment): one regular expression tells, and for them the canonical form is made
without the parsing (the fragment dropped, tracking pairs dropped, the rest sorted).
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import unquote_plus, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
_PLAIN_CHARS = "[A-Za-z0-9_~.-]"  # unreserved: what w3lib neither escapes nor unescapes
# what canonicalizing leaves as it is: lower-case ASCII host labels (none with "--", so
# no punycode), no port or user; a path of unreserved characters, no escapes, no "." or
# ".." segments; no query or fragment (tests/test_dedupe_urls.py checks it against w3lib)
_PAGE = rf"https?://(?![^/]*--)(?:{_LABEL}\.)*{_LABEL}(?:/(?!\.\.?(?:[/?#]|$)){_PLAIN_CHARS}*)+"
_CANONICAL = re.compile(_PAGE)
# such a page with a query of plain pairs, which w3lib only sorts, or a fragment, which it
# drops (tests/test_prepare_eighth_pass.py checks it against w3lib)
_PAIR = rf"{_PLAIN_CHARS}+={_PLAIN_CHARS}*"
_PLAIN = re.compile(rf"({_PAGE})(?:\?({_PAIR}(?:&{_PAIR})*))?(?:#.*)?")


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
    if _CANONICAL.fullmatch(url):
        return url
    plain = _PLAIN.fullmatch(url)
    if plain is None:
        return _canonicalized(url, tracking_params)
    page, query = plain.groups()
    if query is None:
        return page
    # sorted as w3lib sorts them: by name, then value (not by the joined "name=value")
    pairs = sorted(
        (name, value)
        for name, _, value in (pair.partition("=") for pair in query.split("&"))
        if not is_tracking(name, tracking_params)
    )
    return f"{page}?{'&'.join(f'{name}={value}' for name, value in pairs)}" if pairs else page


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
