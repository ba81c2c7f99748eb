"""/feeds: the CLI's list, add, change, remove, disable and enable over HTTP.

    GET    /feeds              every feed and its state
    GET    /feeds/{id}
    POST   /feeds              201: an http(s) feed added at run time, polled at the next tick
    PATCH  /feeds/{id}         a JSON merge patch of its fields, and/or "disabled"
    DELETE /feeds/{id}         204: set aside, its stories kept; ?purge=true deletes them

A body is the JSON form of a [[feeds]] table. Every write is one of `runtime_feeds`'
operations, the very ones `ingestd feeds …` runs, on the daemon's writer thread: the
same checks (`config.parse_feed` first, in its words, then the published schema) and
the same refusals, which the app turns into 400, 404 and 409. `disabled` is the one
change a feed the config declares takes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from jsonschema import Draft202012Validator
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .. import runtime_feeds
from ..runtime_feeds import FeedRules, UnknownFeed
from ..store import Store, Writer
from ..timeutil import utcnow
from ._openapi import SPEC
from ._readers import Readers
from ._requests import conform, json_body, route, splittable_url

__all__ = ["FeedRoutes"]

_LABEL = "request body"
_NEW = Draft202012Validator(SPEC["components"]["schemas"]["NewFeed"])
_PATCH = Draft202012Validator(SPEC["components"]["schemas"]["FeedPatch"])
_PURGE = {"true": True, "false": False}
_UNSET = object()  # no "disabled" in the patch (null is a value, and refused)


class FeedRoutes:
    """`writer`: the daemon's, or else the one the app opens when it starts."""

    def __init__(self, readers: Readers, writer: Writer | None, rules: Callable[[], FeedRules]):
        self.readers, self.writer, self._rules = readers, writer, rules

    @property
    def rules(self) -> FeedRules:
        return self._rules()

    def routes(self) -> list[Route]:
        return [
            route("/feeds", GET=self.index, POST=self.add),
            route("/feeds/{feed_id}", GET=self.show, PATCH=self.change, DELETE=self.remove),
        ]

    async def index(self, request: Request) -> Response:
        return JSONResponse({"feeds": await self.readers.run(lambda s: s.feeds_overview())})

    async def show(self, request: Request) -> Response:
        return JSONResponse(await self._described(request.path_params["feed_id"]))

    async def add(self, request: Request) -> Response:
        body = splittable_url(await json_body(request))

        def add(store: Store) -> str:
            also = lambda: conform(_NEW, body)  # noqa: E731
            return runtime_feeds.add(
                store, body, self.rules, "api", utcnow(), _LABEL, also=also, literal_secrets=True
            ).id

        writer = self._writer()
        feed_id = await writer.run(add, writer.store)
        return JSONResponse(
            await self._described(feed_id), status_code=201, headers={"Location": f"/feeds/{feed_id}"}
        )

    async def change(self, request: Request) -> Response:
        feed_id = request.path_params["feed_id"]
        patch = splittable_url(await json_body(request))
        disabled = patch.pop("disabled") if "disabled" in patch else _UNSET
        if disabled is not _UNSET and not isinstance(disabled, bool):
            raise HTTPException(400, f"disabled: {json.dumps(disabled)} is not true or false")

        def change(store: Store) -> None:
            if patch or disabled is _UNSET:
                runtime_feeds.change(
                    store,
                    feed_id,
                    patch,
                    self.rules,
                    utcnow(),
                    _LABEL,
                    also=lambda: conform(_PATCH, patch),
                    literal_secrets=True,
                )
            if isinstance(disabled, bool):
                runtime_feeds.set_disabled(store, feed_id, disabled, utcnow())

        writer = self._writer()
        await writer.run(change, writer.store)
        return JSONResponse(await self._described(feed_id))

    async def remove(self, request: Request) -> Response:
        purge = _PURGE.get(request.query_params.get("purge", "false"))
        if purge is None:
            raise HTTPException(400, "purge: must be true or false")
        writer = self._writer()
        await writer.run(
            runtime_feeds.remove,
            writer.store,
            request.path_params["feed_id"],
            self.rules,
            utcnow(),
            purge=purge,
        )
        return Response(status_code=204)

    def _writer(self) -> Writer:
        assert self.writer is not None, "the app's lifespan opens one"
        return self.writer

    async def _described(self, feed_id: str) -> dict[str, Any]:
        feed = await self.readers.run(lambda s: s.feed_overview(feed_id))
        if feed is None:
            raise UnknownFeed(f"no feed {feed_id!r}")
        return feed
