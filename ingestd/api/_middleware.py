"""ASGI middleware: bearer-token auth, and one log line per request."""

from __future__ import annotations

import hmac
import time
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..logs import get_logger

# Probes and scrapes: open to all (an orchestrator or Prometheus has no token), and
# logged at debug so that they don't drown the poll lines.
PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# The status page opens in a browser, which cannot send a bearer header: `GET /?token=…`
# works there (either token), and so do the reads its links lead to (the API token only);
# the access log never shows a token given so.
STATUS_PATH = "/"
_READS = ("GET", "HEAD")

# WebSub hubs verify and push here (ingestd/api/_websub.py): they have no token
HUB_PATHS = "/websub/"

_UNAUTHORIZED = JSONResponse(
    {"error": "unauthorized"}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
)


class BearerAuth:
    """Everything but PUBLIC_PATHS needs `Authorization: Bearer <token>`, unknown paths
    included (a 404 would tell a stranger what exists). With no token configured nobody
    gets through. A missing and a wrong token get the very same 401. `status_token`
    opens the status page (GET /) and nothing else."""

    def __init__(self, app: ASGIApp, token: str | None, status_token: str | None = None):
        self.app = app
        self._token = token.encode() if token else None
        self._status_token = status_token.encode() if status_token else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["path"] in PUBLIC_PATHS
            or scope["path"].startswith(HUB_PATHS)  # hubs: answered only for our own intents
            or self._allowed(scope)
        ):
            await self.app(scope, receive, send)
        else:
            await _UNAUTHORIZED(scope, receive, send)

    def _allowed(self, scope: Scope) -> bool:
        reading = scope["method"] in _READS
        accepted = [self._token]
        if scope["path"] == STATUS_PATH and reading:
            accepted.append(self._status_token)
        given = _bearer(scope)
        if given is None and reading:
            given = _query_token(scope)
            # the page's links carry the token it was opened with, if that one opens them
            if given is not None and _same(given, self._token):
                scope.setdefault("state", {})["link_token"] = given.decode("latin-1")
        return given is not None and any(_same(given, t) for t in accepted)


def _same(given: bytes, token: bytes | None) -> bool:
    # constant time: the comparison must not tell how much of a guess was right
    return token is not None and hmac.compare_digest(given, token)


def _bearer(scope: Scope) -> bytes | None:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, credentials = value.partition(b" ")
            return credentials.strip() if scheme.lower() == b"bearer" else None
    return None


def _query_token(scope: Scope) -> bytes | None:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token")
    return values[0].encode("latin-1") if values else None


def _logged_query(scope: Scope) -> str:
    """The query string, any token in it blanked."""
    query = scope.get("query_string", b"").decode("latin-1")
    return "&".join(
        "token=-" if unquote_plus(part.partition("=")[0]) == "token" else part
        for part in query.split("&")
        if part
    )


class AccessLog:
    def __init__(self, app: ASGIApp):
        self.app = app
        self.log = get_logger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        status = 500  # unless the app gets as far as starting a response

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            query = _logged_query(scope)
            fields: dict[str, Any] = {
                "method": scope["method"],
                "status": status,
                "url": scope["path"] + (f"?{query}" if query else ""),
                "duration_ms": round((time.monotonic() - started) * 1000, 1),
            }
            quiet = scope["path"] in PUBLIC_PATHS and status < 500
            (self.log.debug if quiet else self.log.info)("http request", **fields)
