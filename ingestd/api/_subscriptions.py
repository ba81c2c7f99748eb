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

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

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
            _route("/subscriptions", GET=self.index, POST=self.add),
            _route("/subscriptions/{subscription_id}", GET=self.show, PATCH=self.change, DELETE=self.remove),
        ]

    async def index(self, request: Request) -> Response:
        statuses = await self.readers.run(lambda s: s.list_subscriptions())
        return JSONResponse({"subscriptions": [describe(s) for s in statuses]})

    async def show(self, request: Request) -> Response:
        return JSONResponse(await self._described(request.path_params["subscription_id"]))

    async def add(self, request: Request) -> Response:
        body = await _body(request)
        sub = runtime_subscription(_literal_secrets(_splittable_url(body)), _LABEL)
        # the config's rules speak first, in their words; the published schema has the last word
        _conform(_NEW, body)
        writer = self._writer()
        await writer.run(writer.store.add_subscription, sub, "api", utcnow())
        return JSONResponse(
            await self._described(sub.id), status_code=201, headers={"Location": f"/subscriptions/{sub.id}"}
        )

    async def change(self, request: Request) -> Response:
        sub_id = request.path_params["subscription_id"]
        patch = _literal_secrets(_splittable_url(await _body(request)))
        state = patch.pop("state", None) if "state" in patch else _UNSET
        if state is not _UNSET and state not in _STATES:
            raise HTTPException(400, f"state: {state!r} is not one of {', '.join(_STATES)}")
        writer = self._writer()

        def apply(current: SubscriptionConfig) -> SubscriptionConfig:
            new = changed(current, [patch], _LABEL)
            _conform(_PATCH, patch)  # as in add; raised here, it leaves the subscription as it was
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


Handler = Callable[[Request], Awaitable[Response]]


def _route(path: str, **by_method: Handler) -> Route:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await by_method[method](request)

    return Route(path, endpoint, methods=list(by_method))


def _conform(validator: Draft202012Validator, body: dict[str, Any]) -> None:
    """400 naming each field the published schema refuses (`field: reason`)."""
    problems: dict[str, None] = {}  # ordered, without repeats
    for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
        path = [str(p) for p in error.absolute_path]
        if error.validator == "additionalProperties":
            unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            problems.update({f"{'.'.join([*path, k])}: unknown key": None for k in unknown})
        elif error.validator == "required":
            missing = [k for k in error.validator_value if k not in error.instance]
            problems.update({f"{'.'.join([*path, k])}: missing (required)": None for k in missing})
        elif path[:1] == ["secret"]:  # jsonschema's message would echo the secret
            problems["secret: must be whsec_ and the key in base64, or a non-empty list of such"] = None
        else:
            problems[f"{'.'.join(path) or 'body'}: {error.message}"] = None
    if problems:
        raise HTTPException(400, "; ".join(problems))


def _splittable_url(body: dict[str, Any]) -> dict[str, Any]:
    """urlsplit raises on some malformed URLs (`http://0[x`), which the config's rules
    do not catch: here that is a 400 naming the field, not a 500."""
    url = body.get("url")
    if isinstance(url, str):
        try:
            urlsplit(url)
        except ValueError as exc:
            raise HTTPException(400, f"url: {url!r} is not a URL ({exc})") from None
    return body


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise HTTPException(400, "body: not JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "body: must be a JSON object")
    return body


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
