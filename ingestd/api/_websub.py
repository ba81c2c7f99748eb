"""`/websub/{feed_id}`: where hubs verify the daemon's subscriptions (GET) and push
content (POST). Open without the bearer token (a hub has none): a verification is
answered only for an intent of ours, and content only when signed with the feed's
own secret (docs/websub.md). Without `[websub] callback_base` both answer 404."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

PATH = "/websub/{feed_id}"
PREFIX = "/websub/"


class Subscriber(Protocol):
    """The daemon's WebSub subscriber (ingestd.websub.WebSub), as these routes use it."""

    async def verify(self, feed_id: str, params: Mapping[str, str]) -> str | None: ...

    async def push(self, feed_id: str, body: bytes, headers: Mapping[str, str]) -> bool: ...


class WebSubRoutes:
    def __init__(self, subscriber: Subscriber | None, max_body: int):
        self.subscriber = subscriber
        self.max_body = max_body

    def routes(self) -> list[Route]:
        return [Route(PATH, self.endpoint, methods=["GET", "POST"])]

    async def endpoint(self, request: Request) -> Response:
        return await (self.push if request.method == "POST" else self.verify)(request)

    async def verify(self, request: Request) -> Response:
        if self.subscriber is None:
            return _off()
        challenge = await self.subscriber.verify(request.path_params["feed_id"], request.query_params)
        if challenge is None:
            return JSONResponse({"error": "no such subscription request"}, status_code=404)
        return PlainTextResponse(challenge)

    async def push(self, request: Request) -> Response:
        if self.subscriber is None:
            return _off()
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self.max_body:
                return JSONResponse(
                    {"error": f"larger than the {self.max_body}-byte limit ([fetch] max_body)"},
                    status_code=413,
                )
        if not await self.subscriber.push(request.path_params["feed_id"], bytes(body), request.headers):
            return JSONResponse(
                {"error": "not subscribed, or X-Hub-Signature missing or wrong"}, status_code=403
            )
        return Response(status_code=202)


def _off() -> Response:
    return JSONResponse({"error": "WebSub is off ([websub] callback_base)"}, status_code=404)
