"""What the write routes share: one Route per path, JSON bodies, and their checks
against the published schema, each problem a 400 naming its field."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

Handler = Callable[[Request], Awaitable[Response]]


def route(path: str, **by_method: Handler) -> Route:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await by_method[method](request)

    return Route(path, endpoint, methods=list(by_method))


def conform(validator: Draft202012Validator, body: dict[str, Any]) -> None:
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


def splittable_url(body: dict[str, Any]) -> dict[str, Any]:
    """urlsplit raises on some malformed URLs (`http://0[x`), which the config's rules
    do not catch: here that is a 400 naming the field, not a 500."""
    url = body.get("url")
    if isinstance(url, str):
        try:
            urlsplit(url)
        except ValueError as exc:
            raise HTTPException(400, f"url: {url!r} is not a URL ({exc})") from None
    return body


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise HTTPException(400, "body: not JSON") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "body: must be a JSON object")
    return body
