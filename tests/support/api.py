"""The HTTP API served in process, with a writer, to an httpx client (ASGI, no socket)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ingestd.api import ServiceState, build_app
from ingestd.metrics import Metrics
from ingestd.store import Writer


@contextlib.asynccontextmanager
async def api_client(
    db_path: str, token: str, headers: dict[str, str] | None, **app_options: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the API on `db_path` (bearer `token`), each request sent with `headers`;
    `app_options` go to `build_app` (e.g. feed_rules)."""
    writer = Writer(db_path)
    app = build_app(
        db_path,
        state=ServiceState(tick_interval=1.0),
        metrics=Metrics(),
        token=token,
        writer=writer,
        **app_options,
    )
    try:
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://ingestd", headers=headers
            ) as client:
                yield client
    finally:
        writer.close()
