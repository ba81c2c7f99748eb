"""/subscriptions: the CLI's list, add, change, remove, enable and disable over HTTP.

    GET    /subscriptions        every subscription, config and run-time
    GET    /subscriptions/{id}
    POST   /subscriptions        201: a run-time subscription added
    PATCH  /subscriptions/{id}   a JSON merge patch of its fields, and/or "state"
    DELETE /subscriptions/{id}   204: a run-time subscription removed

A body is the JSON form of a [[subscriptions]] table, checked by the config's
own rules (ingestd.webhooks.runtime_subscription). `state` ("active" or
"disabled") enables or disables, the one change a config subscription takes.
Secrets are write-only, and literal: `env:` and `file:` would name the
server's environment and files. Reads go to the read connections, writes to
the writer; the store's exceptions become 400, 404 and 409 in the app.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..models import SubscriptionConfig
from ..store import Writer
from ..timeutil import utcnow
from ..webhooks import (
    SubscriptionConflict,
    UnknownSubscription,
    changed,
    describe,
    runtime_subscription,
)
from ._openapi import SPEC
from ._readers import Readers
from ._requests import conform, json_body, route, splittable_url

__all__ = ["SubscriptionRoutes"]

_LABEL = "request body"
_STATES = ("active", "disabled")
_UNSET = object()  # no "state" in the patch (null is a value, and refused)
_NEW = Draft202012Validator(SPEC["components"]["schemas"]["NewSubscription"])
_PATCH = Draft202012Validator(SPEC["components"]["schemas"]["SubscriptionPatch"])


class SubscriptionRoutes:
    """`writer`: the daemon's, or else the one the app opens when it starts."""

    def __init__(self, readers: Readers, writer: Writer | None):
        self.readers, self.writer = readers, writer

    def routes(self) -> list[Route]:
        # one Route per path, so that a 405 names every method the path has in `Allow`
        return [
            route("/subscriptions", GET=self.index, POST=self.add),
            route("/subscriptions/{subscription_id}", GET=self.show, PATCH=self.change, DELETE=self.remove),
        ]

    async def index(self, request: Request) -> Response:
        statuses = await self.readers.run(lambda s: s.list_subscriptions())
        return JSONResponse({"subscriptions": [describe(s) for s in statuses]})

    async def show(self, request: Request) -> Response:
        return JSONResponse(await self._described(request.path_params["subscription_id"]))

    async def add(self, request: Request) -> Response:
        body = await json_body(request)
        sub = runtime_subscription(_literal_secrets(splittable_url(body)), _LABEL)
        # the config's rules speak first, in their words; the published schema has the last word
        conform(_NEW, body)
        writer = self._writer()
        await writer.run(writer.store.add_subscription, sub, "api", utcnow())
        return JSONResponse(
            await self._described(sub.id), status_code=201, headers={"Location": f"/subscriptions/{sub.id}"}
        )

    async def change(self, request: Request) -> Response:
        sub_id = request.path_params["subscription_id"]
        patch = _literal_secrets(splittable_url(await json_body(request)))
        state = patch.pop("state", None) if "state" in patch else _UNSET
        if state is not _UNSET and state not in _STATES:
            raise HTTPException(400, f"state: {state!r} is not one of {', '.join(_STATES)}")
        writer = self._writer()

        def apply(current: SubscriptionConfig) -> SubscriptionConfig:
            new = changed(current, [patch], _LABEL)
            conform(_PATCH, patch)  # as in add; raised here, it leaves the subscription as it was
            return new

        if patch:
            await writer.run(writer.store.change_subscription, sub_id, apply, utcnow())
        if state is not _UNSET:
            toggle = (
                writer.store.enable_subscription if state == "active" else writer.store.disable_subscription
            )
            if not await writer.run(toggle, sub_id, utcnow()):
                await self._described(sub_id)  # 404 when there is none
                raise SubscriptionConflict(
                    f"subscription {sub_id!r} has left the config (state removed): declare it there again"
                )
        return JSONResponse(await self._described(sub_id))

    async def remove(self, request: Request) -> Response:
        writer = self._writer()
        await writer.run(writer.store.remove_subscription, request.path_params["subscription_id"])
        return Response(status_code=204)

    def _writer(self) -> Writer:
        assert self.writer is not None, "the app's lifespan opens one"
        return self.writer

    async def _described(self, sub_id: str) -> dict[str, Any]:
        status = await self.readers.run(lambda s: s.subscription_status(sub_id))
        if status is None:
            raise UnknownSubscription(f"no subscription {sub_id!r}")
        return describe(status)


def _literal_secrets(body: dict[str, Any]) -> dict[str, Any]:
    secret = body.get("secret")
    for value in secret if isinstance(secret, list) else [secret]:
        if isinstance(value, str) and value.startswith(("env:", "file:")):
            raise HTTPException(
                400,
                "secret: env: and file: are for the config file and the "
                "CLI; over HTTP a secret is the whsec_… value itself",
            )
    return body
