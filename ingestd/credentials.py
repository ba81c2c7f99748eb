"""A feed's credentials on the wire: which hops of a fetch get them, and how.

Pure functions over FeedCredentials, called by fetch.py hop by hop:

    covers(creds, url)        is `url` at the credentials' origin? (http -> https of the
                              same host on default ports counts: an upgrade, not a move)
    request_headers(creds)    the headers to add: the configured ones and Authorization
    with_query(url, creds)    the URL as sent, its token parameters added
    without_query(url, creds) the URL as recorded, logged and shown: those taken out

Once a redirect leaves the origin, no later hop gets them, even one coming back.
"""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .models import FeedCredentials

__all__ = ["origin_of", "covers", "request_headers", "with_query", "without_query"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> str:
    """scheme://host:port, lower-cased, the port always written."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{parts.port or _DEFAULT_PORTS.get(scheme, 0)}"


def covers(credentials: FeedCredentials, url: str) -> bool:
    target = origin_of(url)
    if target == credentials.origin:
        return True
    # requests' rule too: http://host:80 -> https://host:443 is the same server, upgraded
    return (
        credentials.origin.startswith("http://")
        and credentials.origin.endswith(":80")
        and (target == "https://" + credentials.origin[len("http://") : -len(":80")] + ":443")
    )


def basic_authorization(username: str, password: str) -> str:
    """The Authorization header's value for HTTP basic auth (RFC 7617, UTF-8)."""
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def request_headers(credentials: FeedCredentials) -> dict[str, str]:
    headers = dict(credentials.headers)
    if credentials.basic is not None:
        headers["Authorization"] = basic_authorization(*credentials.basic)
    elif credentials.bearer is not None:
        headers["Authorization"] = "Bearer " + credentials.bearer
    return headers


def with_query(url: str, credentials: FeedCredentials) -> str:
    if not credentials.query:
        return url
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *credentials.query]
    return urlunsplit(parts._replace(query=urlencode(query)))


def without_query(url: str, credentials: FeedCredentials | None) -> str:
    """`url` without the token parameters a server may have echoed into a redirect."""
    if credentials is None or not credentials.query:
        return url
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    kept = [pair for pair in pairs if pair not in credentials.query]
    if len(kept) == len(pairs):
        return url
    return urlunsplit(parts._replace(query=urlencode(kept)))
