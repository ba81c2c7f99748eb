"""The WebSub subscriber at work in the daemon: it applies the decisions' intents
through the store's writer, sends subscription requests to hubs through the network
guard, answers the hubs' verifications, and hands signed content to the daemon's
pipeline. Everything it decides, `_decide` decides."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx

from ..config import Config
from ..logs import get_logger
from ..models import FeedState, WebSubForget
from ..netguard import outbound_transport
from ..store import Writer
from ..timeutil import utcnow
from . import _decide
from ._decide import HubRequest, Links, Plan

Ingest = Callable[[FeedState, bytes, "str | None"], Awaitable[None]]


class WebSub:
    """One per running daemon with `[websub] callback_base` set. `ingest(feed, body,
    content_type)` runs pushed content through the same path as a poll's."""

    def __init__(self, config: Config, writer: Writer, ingest: Ingest):
        assert config.websub.callback_base is not None
        self.base = config.websub.callback_base
        self.lease = int(config.websub.lease)
        self.crosscheck = timedelta(seconds=config.websub.crosscheck_interval)
        self.writer = writer
        self.ingest = ingest
        self.log = get_logger()
        self._client = httpx.AsyncClient(
            transport=outbound_transport(
                config.fetch.allow_private, proxy=config.fetch.proxy, ca_bundle=config.fetch.ca_bundle
            ),
            timeout=httpx.Timeout(config.fetch.timeout, connect=config.fetch.connect_timeout),
            headers={"User-Agent": config.fetch.user_agent},
            follow_redirects=False,
        )
        self._deadline = config.fetch.timeout
        self._tasks: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._client.aclose()

    def callback(self, feed_id: str) -> str:
        return f"{self.base}/websub/{quote(feed_id, safe='')}"

    # ── what the daemon calls ────────────────────────────────────────────────

    async def polled(self, feed: FeedState, links: Links) -> None:
        """A poll of `feed` saw these links: subscribe if the hub is new to it."""
        current = await self.writer.run(self.writer.store.websub_subscription, feed.id)
        await self._carry_out(_decide.after_poll(feed.id, links, current, utcnow(), secrets.token_hex(32)))

    async def maintain(self) -> None:
        """Renewals, lapses and unsubscriptions (a periodic job)."""
        store = self.writer.store
        subs = await self.writer.run(store.websub_subscriptions)
        if not subs:
            return
        live = [f.id for f in await self.writer.run(store.list_feeds) if f.state != "removed"]
        await self._carry_out(_decide.maintain(subs, live, utcnow()))

    async def next_poll(self, feed_id: str, computed: datetime) -> datetime:
        current = await self.writer.run(self.writer.store.websub_subscription, feed_id)
        return _decide.next_poll(computed, current, utcnow(), self.crosscheck)

    # ── what the hubs call (through the API's /websub/{feed}) ───────────────

    async def verify(self, feed_id: str, params: Mapping[str, str]) -> str | None:
        """The challenge to echo, or None: not an intent of ours (404)."""
        lease = params.get("hub.lease_seconds", "")
        current = await self.writer.run(self.writer.store.websub_subscription, feed_id)
        outcome = _decide.verification(
            current,
            params.get("hub.mode", ""),
            params.get("hub.topic", ""),
            int(lease) if lease.isdigit() else None,
            utcnow(),
        )
        log = self.log.bind(feed_id=feed_id, mode=params.get("hub.mode"))
        if outcome is None:
            log.warning("websub verification refused", topic=params.get("hub.topic"))
            return None
        await self.writer.run(self.writer.store.write_websub, [outcome])
        if isinstance(outcome, WebSubForget):
            log.info("websub subscription ended", reason=params.get("hub.reason"))
            return params.get("hub.challenge", "")
        log.info("websub subscription verified", lease_seconds=outcome.lease_seconds)
        return params.get("hub.challenge")

    async def push(self, feed_id: str, body: bytes, headers: Mapping[str, str]) -> bool:
        """A content distribution: False (refused) unless signed with the feed's secret;
        accepted, it is ingested in the background (the hub is answered at once)."""
        current = await self.writer.run(self.writer.store.websub_subscription, feed_id)
        log = self.log.bind(feed_id=feed_id)
        if not _decide.accepts_push(current) or not _decide.signature_valid(
            headers.get("x-hub-signature"), body, current.secret if current else ""
        ):
            log.warning("websub push refused", error="missing or wrong X-Hub-Signature, or not subscribed")
            return False
        feed = await self.writer.run(self.writer.store.get_feed, feed_id)
        if feed is None or feed.state == "removed":  # its unsubscription is under way
            return False
        log.info("websub push", bytes=len(body))
        self._background(self.ingest(feed, body, headers.get("content-type")))
        return True

    # ── doing what was decided ───────────────────────────────────────────────

    async def _carry_out(self, plan: Plan) -> None:
        if plan.writes:
            await self.writer.run(self.writer.store.write_websub, list(plan.writes))
        for request in plan.requests:
            self._background(self._ask(request))

    async def _ask(self, request: HubRequest) -> None:
        log = self.log.bind(feed_id=request.feed_id, url=request.hub, mode=request.mode)
        form: dict[str, Any] = {
            "hub.mode": request.mode,
            "hub.topic": request.topic,
            "hub.callback": self.callback(request.feed_id),
            "hub.secret": request.secret,
        }
        if request.mode == "subscribe":
            form["hub.lease_seconds"] = str(self.lease)
        try:
            # a total deadline, as a feed fetch has: httpx's timeouts are per read, and a hub
            # trickling a byte at a time would hold the request open for ever
            async with asyncio.timeout(self._deadline):
                response = await self._client.post(request.hub, data=form)
        except httpx.HTTPError as exc:
            log.warning("websub request failed", error=f"{type(exc).__name__}: {exc}")
            return
        except TimeoutError:
            log.warning(
                "websub request failed", error=f"timed out: total deadline of {self._deadline:g}s passed"
            )
            return
        if response.status_code not in (202, 204):
            log.warning("websub request refused", status=response.status_code, error=response.text[:200])
            return
        log.info("websub request accepted", status=response.status_code)

    def _background(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def links_of(hints: Mapping[str, str], headers: Mapping[str, str], url: str) -> Links:
    """The hub and self links of a fetched feed: `hints` from the document, the `Link`
    header parsed by httpx."""
    header = headers.get("link")
    header_links = (
        {rel: link["url"] for rel, link in httpx.Response(200, headers={"link": header}).links.items()}
        if header
        else {}
    )
    document = {rel: hints[f"websub_{rel}"] for rel in ("hub", "self") if f"websub_{rel}" in hints}
    return _decide.discover(document, {k: v for k, v in header_links.items() if isinstance(k, str)}, url)
