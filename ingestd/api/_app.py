"""The ASGI app: routes, and handlers that read state or the store off the loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ..errors import ConfigError
from ..fetch import DEFAULT_MAX_BODY
from ..metrics import CONTENT_TYPE, Metrics
from ..models import FeedConfig
from ..runtime_feeds import FeedConflict, FeedRules, UnknownFeed
from ..store import Writer
from ..store.engine import to_url
from ..webhooks import SubscriptionConflict, UnknownSubscription
from ._feeds import FeedRoutes
from ._middleware import AccessLog, BearerAuth
from ._openapi import SPEC
from ._query import BadQuery, encode_cursor, story_query
from ._readers import Readers
from ._state import ServiceState
from ._status import DAYS, StatusView, render
from ._subscriptions import SubscriptionRoutes
from ._websub import Subscriber, WebSubRoutes

# an app without the daemon's config (tests): refusals name "the config"; a feed's
# interval defaults as FeedConfig's does
_NO_CONFIG = FeedRules(None, FeedConfig.interval)


def build_app(
    database: str | Path,
    *,
    state: ServiceState,
    metrics: Metrics,
    token: str | None,
    writer: Writer | None = None,
    status_token: str | None = None,
    websub: Subscriber | None = None,
    max_body: int = DEFAULT_MAX_BODY,
    feed_rules: FeedRules | Callable[[], FeedRules] = _NO_CONFIG,
) -> Starlette:
    """The app over `database`, a storage URL or a SQLite file (migrated already, by the
    daemon's writer).
    Reads go to a few read-only connections on their own threads; they close with the
    app's lifespan. Writes (feed and subscription changes) go through `writer`, the
    daemon's; without one, the app opens its own for its lifespan, as a CLI command would.
    `feed_rules`: the config's file and default interval, for the feeds added or changed
    (a callable: read at each request, so a reloaded config's apply at once)."""
    readers = Readers(database)
    handlers = _Handlers(readers, state, metrics)
    subscriptions = SubscriptionRoutes(readers, writer)
    feeds = FeedRoutes(readers, writer, feed_rules if callable(feed_rules) else lambda: feed_rules)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        own = None if writer else await asyncio.to_thread(Writer.for_url, to_url(database))
        subscriptions.writer = feeds.writer = writer or own
        try:
            yield
        finally:
            await asyncio.to_thread(readers.close)
            if own:
                await asyncio.to_thread(own.close)

    return Starlette(
        routes=[
            Route("/", handlers.status),
            Route("/healthz", handlers.healthz),
            Route("/readyz", handlers.readyz),
            Route("/metrics", handlers.metrics),
            *feeds.routes(),
            Route("/stories", handlers.stories),
            Route("/stories/{story_id}", handlers.story),
            *subscriptions.routes(),
            *WebSubRoutes(websub, max_body).routes(),
            Route("/openapi.json", handlers.openapi),
        ],
        middleware=[Middleware(AccessLog), Middleware(BearerAuth, token=token, status_token=status_token)],
        exception_handlers={
            HTTPException: _http_error,
            BadQuery: _bad_query,
            ConfigError: _bad_field,
            UnknownSubscription: _not_found,
            UnknownFeed: _not_found,
            SubscriptionConflict: _conflict,
            FeedConflict: _conflict,
        },
        lifespan=lifespan,
    )


class _Handlers:
    def __init__(self, readers: Readers, state: ServiceState, metrics: Metrics):
        self.readers, self.state, self.counted = readers, state, metrics

    async def healthz(self, request: Request) -> Response:
        """Alive while the scheduler ticks; reads no database, so it answers at once."""
        age = self.state.tick_age()
        fresh = age <= self.state.stale_after
        return JSONResponse(
            {
                "status": "ok" if fresh else "stale",
                "last_tick_age_s": round(age, 3),
                "stale_after_s": self.state.stale_after,
            },
            status_code=200 if fresh else 503,
        )

    async def readyz(self, request: Request) -> Response:
        database = self.state.database_error  # a failed write probe, else the port's own check
        if not database:
            database = await self.readers.run(lambda s: s.database_check())
        checks = {
            "database": database,
            "scheduler": self._scheduler_check(),
            "shutdown": "shutting down" if self.state.shutting_down else "ok",
        }
        ready = all(v == "ok" for v in checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    def _scheduler_check(self) -> str:
        if not self.state.scheduler_running:
            return "not running"
        # every tick writes through the writer: a fresh tick also means writes succeed
        if self.state.tick_age() > self.state.stale_after:
            return f"no tick for {self.state.tick_age():.0f}s"
        return "ok"

    async def metrics(self, request: Request) -> Response:
        now = datetime.now(UTC)
        body = await self.readers.run(lambda s: self.counted.render(s.service_gauges(), now))
        return Response(body, media_type=CONTENT_TYPE)

    async def status(self, request: Request) -> Response:
        now = datetime.now(UTC)

        def read(store: Any) -> StatusView:
            gauges = store.service_gauges()
            return StatusView(
                now=now,
                feeds=store.feeds_overview(),
                per_day=store.stories_per_day(now - timedelta(days=DAYS)),
                subscriptions=store.list_subscriptions(),
                oldest_undelivered=store.oldest_undelivered(),
                outbox_backlog=gauges.outbox_backlog,
                outbox_oldest_at=gauges.outbox_oldest_at,
                link_token=request.state.link_token if hasattr(request.state, "link_token") else None,
            )

        view = await self.readers.run(read)
        # the links may carry the token: no Referer takes it elsewhere
        return HTMLResponse(
            render(view), headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
        )

    async def stories(self, request: Request) -> Response:
        query = story_query(request.query_params)
        page = await self.readers.run(lambda s: s.stories_page(query))
        return JSONResponse(
            {
                "stories": page.stories,
                "next_cursor": encode_cursor(page.next_after) if page.next_after else None,
            }
        )

    async def story(self, request: Request) -> Response:
        story_id = request.path_params["story_id"]
        document = await self.readers.run(lambda s: s.story_document(story_id))
        if document is None:
            raise HTTPException(404, f"no story {story_id!r}")
        return JSONResponse(document)

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(SPEC)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)


async def _bad_query(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=400)


async def _bad_field(request: Request, exc: Exception) -> Response:
    """Every problem, each naming its field: `url: 'ftp://…' is not an http(s) URL`."""
    assert isinstance(exc, ConfigError)
    return JSONResponse({"error": "; ".join(f"{p.key}: {p.reason}" for p in exc.problems)}, status_code=400)


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=404)


async def _conflict(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": str(exc)}, status_code=409)
