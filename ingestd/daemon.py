"""The daemon: an APScheduler tick claims due feeds and hands them to workers.

The event loop only waits. Fetching is async (one shared, guarded
httpx client); parsing and normalizing run in a small thread pool; every
write goes through the one Writer. The daemon owns the signals: SIGTERM or
SIGINT stops the tick, lets in-flight polls finish for a moment, cancels the
rest (their feeds are released for the next start), drains the writer and
closes the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import signal
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from . import api, dedupe, normalize, schedule
from .config import Config
from .errors import IngestError, ParseError
from .fetch import Fetcher, read_local
from .logs import get_logger
from .metrics import Metrics
from .models import FeedState, Story
from .pipeline import Processed, process, process_article
from .store import PollRecord, Writer
from .timeutil import to_iso, utcnow
from .webhooks import DISPATCH_EVERY_S, Dispatcher

# In-flight polls get this long to finish after SIGTERM before they are cancelled,
# so that the whole shutdown stays well inside the 5 s a container runtime allows.
DRAIN_GRACE_S = 2.0
RETENTION_EVERY_S = 3600.0
CPU_WORKERS = 2


class Daemon:
    def __init__(self, config: Config, *, once: bool = False):
        self.config = config
        self.once = once
        self.log = get_logger()
        self.schedule_settings = schedule.ScheduleSettings(
            min_interval=config.scheduler.min_interval,
            max_interval=config.scheduler.max_interval,
            backoff_cap=config.scheduler.backoff_cap,
        )
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._stopping = asyncio.Event()
        self.metrics = Metrics()
        self.dedupe = dedupe.Settings.from_config(config.dedupe)
        self.pinned_identity = {f.id: f.identity for f in config.feeds}
        self.service = api.ServiceState(tick_interval=config.scheduler.tick)

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[Daemon]:
        """Profiles, the writer, the worker pool and the HTTP client; config feeds synced."""
        self.profiles = normalize.load_profiles(self.config.normalize.sources_dir)
        self.writer = Writer(self.config.storage.path)
        self.cpu = ThreadPoolExecutor(max_workers=CPU_WORKERS, thread_name_prefix="ingestd-cpu")
        try:
            await self.writer.run(self.writer.store.sync_config_feeds, self.config.feeds, utcnow())
            await self.writer.run(
                self.writer.store.sync_config_subscriptions, self.config.subscriptions, utcnow()
            )
            # the dispatcher exits (draining its sends) before the writer closes
            async with (
                Fetcher.from_config(self.config) as self.fetcher,
                Dispatcher(
                    self.writer, self.config, on_attempt=self.metrics.observe_delivery
                ) as self.dispatcher,
            ):
                yield self
        finally:
            self.cpu.shutdown(wait=False, cancel_futures=True)
            self.writer.close()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        try:
            async with self.open():
                self.log.info(
                    "daemon started",
                    feeds=len(self.config.feeds),
                    database=self.config.storage.path,
                    once=self.once,
                )
                if self.once:
                    await self._poll_all_once()
                else:
                    await self._run_scheduler()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
            self.log.info("daemon stopped")
        return 0

    async def retention(self) -> None:
        """Purge stories older than [storage] retention (their identity keys stay as
        tombstones, so feeds still listing them do not bring them back), then outbox
        events nothing is owed for any more."""
        now = utcnow()
        cutoff = now - timedelta(seconds=self.config.storage.retention)
        stories = await self.writer.run(self.writer.store.purge_stories, cutoff, now)
        events = await self.writer.run(self.writer.store.prune_outbox, cutoff)
        if stories or events:
            self.log.info("retention", stories_purged=stories, events_pruned=events, cutoff=to_iso(cutoff))

    def _on_signal(self, sig: signal.Signals) -> None:
        self.log.info("shutting down", signal=sig.name)
        self._stopping.set()

    async def _run_scheduler(self) -> None:
        sock = api.bind(self.config.http.listen)  # a taken port fails the start, clearly
        app = api.build_app(
            self.config.storage.path,
            state=self.service,
            metrics=self.metrics,
            token=self.config.http.token,
            writer=self.writer,
        )
        http = asyncio.create_task(api.serve(app, sock, self._stopping), name="http")
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self._tick,
            "interval",
            seconds=self.config.scheduler.tick,
            id="tick",
            max_instances=1,
            coalesce=True,
            next_run_time=utcnow(),
        )
        scheduler.add_job(
            self.dispatcher.dispatch_due,
            "interval",
            seconds=DISPATCH_EVERY_S,
            id="webhooks",
            max_instances=1,
            coalesce=True,
            next_run_time=utcnow(),
        )
        scheduler.add_job(
            self.retention,
            "interval",
            seconds=RETENTION_EVERY_S,
            id="retention",
            max_instances=1,
            coalesce=True,
            next_run_time=utcnow(),
        )
        scheduler.start()
        self.service.scheduler_running = True
        try:
            await self._stopping.wait()
        finally:
            self.service.shutting_down = True
            self.service.scheduler_running = False
            scheduler.shutdown(wait=False)
            await self._drain()
            self._stopping.set()  # on an error too: the server stops before the writer closes
            await http

    async def _poll_all_once(self) -> None:
        feeds = await self.writer.run(self.writer.store.claim_due, utcnow(), 1_000_000, all_feeds=True)
        semaphore = asyncio.Semaphore(self.config.scheduler.workers)

        async def bounded(feed: FeedState) -> None:
            async with semaphore:
                if not self._stopping.is_set():
                    await self.poll_feed(feed)

        for feed in feeds:
            self._start(feed, bounded(feed))
        every_poll = asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        stop = asyncio.ensure_future(self._stopping.wait())
        await asyncio.wait([every_poll, stop], return_when=asyncio.FIRST_COMPLETED)
        stop.cancel()
        await self._drain()

    async def _tick(self) -> None:
        """Claim the feeds that are due, as many as there are free workers."""
        if self._stopping.is_set():
            return
        now = utcnow()
        free = self.config.scheduler.workers - len(self._in_flight)
        if free <= 0:
            self.service.ticked()
            return
        claimed = await self.writer.run(self.writer.store.claim_due, now, free)
        self.service.ticked()  # after the tick's write: a stuck writer turns /healthz 503
        deferred = [f.id for f in claimed if self.fetcher.host_busy(f.url)]
        if deferred:  # the host's budget is spent: still due, not an error
            await self.writer.run(self.writer.store.release_feeds, deferred, now)
        for feed in claimed:
            if feed.id not in deferred:
                self._start(feed, self.poll_feed(feed))

    def _start(self, feed: FeedState, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work, name=f"poll:{feed.id}")
        self._in_flight[feed.id] = task
        task.add_done_callback(lambda _t, fid=feed.id: self._in_flight.pop(fid, None))

    async def _drain(self) -> None:
        tasks = list(self._in_flight.values())
        if tasks:
            await asyncio.wait(tasks, timeout=DRAIN_GRACE_S)
        cut_short = [fid for fid, t in self._in_flight.items() if not t.done()]
        for task in self._in_flight.values():
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        if cut_short:
            # their claim lease would delay them after a restart; make them due now
            await self.writer.run(self.writer.store.release_feeds, cut_short, utcnow())
            self.log.info("polls cancelled by shutdown", feeds=cut_short)

    # ── one poll, top to bottom ──────────────────────────────────────────────

    async def poll_feed(self, feed: FeedState) -> None:
        """Fetch, parse, normalize, store; on failure record the error on the feed.
        Never raises (but for cancellation): a poll's failure is the feed's state."""
        log = self.log.bind(feed_id=feed.id, url=feed.url)
        started = utcnow()
        clock = time.monotonic()
        status: int | None = None
        size = 0
        error: str | None = None
        headers: dict[str, str] = {}
        fetch_seconds: float | None = None
        processed: list[Processed] = []
        update: dict[str, Any] = {"last_poll_at": started}
        try:
            if feed.url.startswith("file:"):
                status, size, processed, update_local = await self._read_local_feed(feed, started)
                update |= update_local
            else:
                result = await self.fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
                status, size, headers = result.status, len(result.body), result.headers
                fetch_seconds = result.duration_ms / 1000
                update |= {
                    "etag": result.etag or feed.etag,
                    "last_modified": result.last_modified or feed.last_modified,
                }
                update |= redirect_update(
                    feed, result.permanent_redirect, self.config.fetch.adopt_redirect_after
                )
                if "url" in update:
                    log.info(
                        "permanent redirect adopted",
                        new_url=update["url"],
                        polls=self.config.fetch.adopt_redirect_after,
                    )
                if not result.not_modified:
                    body_hash = hashlib.sha256(result.body).hexdigest()
                    if body_hash != feed.body_hash:  # a server that ignores conditional GET
                        processed = [
                            await self._process(
                                result.body,
                                feed,
                                started,
                                url=result.final_url,
                                content_type=headers.get("content-type"),
                                allow_pages=False,
                            )
                        ]
                        if processed[0].error:
                            raise ParseError(processed[0].error)
                        if feed.fetch_article:
                            await self._fetch_articles(feed, processed[0], started, log)
                    update["body_hash"] = body_hash
        except IngestError as exc:
            error = str(exc) or type(exc).__name__
            status = getattr(exc, "status", status)
            if getattr(exc, "retry_after", None):  # 429/503: the server said when
                headers = {"retry-after": exc.retry_after}  # type: ignore[attr-defined]
        except Exception as exc:  # a bug must cost one poll, not the daemon
            error = f"internal error: {type(exc).__name__}: {exc}"
            log.exception("poll failed unexpectedly")

        stories: list[Story] = [s for p in processed for s in p.stories]
        for p in processed:
            for reason in p.dropped:
                log.warning("entry dropped", error=reason)
        hints = {k: v for p in processed if p.document for k, v in p.document.hints.items()}
        published = [s.first_created for s in stories if s.first_created]
        if feed.url.startswith("file:"):
            published = []  # a folder's dates say when files were written, not how often it changes
        elif not processed and error is None:  # 304 or identical body: what it published before
            published = await self.writer.run(self.writer.store.recent_publish_times, feed.id)
        outcome = schedule.PollOutcome(
            status=status,
            error=error,
            headers=headers,
            ttl_minutes=_int(hints.get("ttl")),
            update_period=hints.get("sy_updateperiod"),
            update_frequency=_int(hints.get("sy_updatefrequency")),
            published=published,
        )
        update |= self._state_after(feed, outcome, error, started)
        if error is None and not feed.url.startswith("file:"):
            update |= quiet_update(feed, published, started, log)
        record = PollRecord(
            feed_id=feed.id,
            started_at=started,
            duration_ms=int((time.monotonic() - clock) * 1000),
            status=status,
            bytes=size,
            error=error,
        )
        changes = await self.writer.run(
            self.writer.store.save_poll,
            record,
            stories,
            update,
            utcnow(),
            identity=self.pinned_identity.get(feed.id),
            dedupe_settings=self.dedupe,
        )
        if any(change.event for change in changes):  # deliver now, not at the next pass
            await self.dispatcher.dispatch_due()
        self.metrics.observe_poll(status=status, error=error, fetch_seconds=fetch_seconds, fetched_bytes=size)
        self.metrics.observe_stored(changes)
        for change in changes:
            if change.matched:
                self.metrics.observe_dedupe_hit(change.matched)
        counts = {k: sum(1 for c in changes if c.kind == k) for k in ("created", "updated", "unchanged")}
        (log.warning if error else log.info)(
            "poll",
            status=status,
            duration_ms=record.duration_ms,
            bytes=size,
            new=counts["created"],
            updated=counts["updated"],
            unchanged=counts["unchanged"],
            error=error,
            next_poll_at=to_iso(update["next_poll_at"]),
            state=update["state"],
        )

    def _state_after(
        self, feed: FeedState, outcome: schedule.PollOutcome, error: str | None, now: datetime
    ) -> dict[str, Any]:
        if error is None:
            state = {"state": "ok", "error_count": 0, "last_error": None, "last_success_at": now}
            counted = dataclasses.replace(feed, error_count=0)
        else:
            gone = outcome.status == 410
            state = {
                "state": "parked" if gone else "erroring",
                "error_count": feed.error_count + 1,
                "last_error": error,
            }
            counted = dataclasses.replace(feed, error_count=feed.error_count + 1)
        state["next_poll_at"] = schedule.next_poll(counted, outcome, now, self.schedule_settings)
        return state

    async def _fetch_articles(self, feed: FeedState, processed: Processed, now: datetime, log: Any) -> None:
        """Replace each new entry's story by its page's, fetched through the same guarded
        client. A page that fails keeps the feed's version of the story: nothing is lost.
        Entries already stored are left out: their summary must not overwrite the page."""
        links = [s.url for s in processed.stories if s.url]
        known = await self.writer.run(self.writer.store.known_urls, links)
        kept = [i for i, s in enumerate(processed.stories) if s.url not in known]
        processed.stories = [processed.stories[i] for i in kept]
        processed.entries = [processed.entries[i] for i in kept]
        loop = asyncio.get_running_loop()

        async def article(index: int) -> None:
            story, entry = processed.stories[index], processed.entries[index]
            try:
                result = await self.fetcher.fetch(story.url)  # type: ignore[arg-type]
                processed.stories[index] = await loop.run_in_executor(
                    self.cpu,
                    partial(
                        process_article,
                        entry,
                        result.body,
                        content_type=result.headers.get("content-type"),
                        feed_id=feed.id,
                        source=feed.source,
                        now=now,
                        profiles=self.profiles,
                    ),
                )
            except Exception as exc:  # one page must not cost the poll its stories
                log.warning("article not used", article_url=story.url, error=str(exc) or type(exc).__name__)

        await asyncio.gather(*(article(i) for i, s in enumerate(processed.stories) if s.url))

    async def _process(self, body: bytes, feed: FeedState, now: datetime, **kwargs: Any) -> Processed:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.cpu,
            partial(
                process, body, feed_id=feed.id, source=feed.source, now=now, profiles=self.profiles, **kwargs
            ),
        )

    async def _read_local_feed(
        self, feed: FeedState, now: datetime
    ) -> tuple[int, int, list[Processed], dict[str, Any]]:
        """A config-declared file or folder: each file is one input; pages allowed."""
        loop = asyncio.get_running_loop()
        files = await loop.run_in_executor(self.cpu, read_local, feed.url)
        digest = hashlib.sha256()
        for path, body in files:
            digest.update(path.encode() + b"\0" + body)
        body_hash = digest.hexdigest()
        size = sum(len(body) for _, body in files)
        if body_hash == feed.body_hash:
            return 304, size, [], {"body_hash": body_hash}
        processed = []
        failures = []
        for path, body in files:
            result = await self._process(body, feed, now, url=Path(path).as_uri(), allow_pages=True)
            if result.error:
                failures.append(f"{path}: {result.error}")
            processed.append(result)
        if failures and len(failures) == len(files):
            raise ParseError("; ".join(failures))
        for failure in failures:
            self.log.warning("input not readable", feed_id=feed.id, error=failure)
        return 200, size, processed, {"body_hash": body_hash}


def redirect_update(feed: FeedState, target: str | None, adopt_after: int) -> dict[str, Any]:
    """A permanent redirect becomes the feed's URL only once the same target was seen
    on `adopt_after` consecutive polls (a flapping or mistaken 301 changes nothing)."""
    if target is None or target == feed.url:
        return {"redirect_target": None, "redirect_count": 0}
    count = feed.redirect_count + 1 if target == feed.redirect_target else 1
    if count >= adopt_after:
        return {"url": target, "redirect_target": None, "redirect_count": 0}
    return {"redirect_target": target, "redirect_count": count}


def quiet_update(feed: FeedState, published: list[datetime], now: datetime, log: Any) -> dict[str, Any]:
    """Mark a feed quiet once its newest story is older than expected; unmark it when a
    story arrives. Each change of state is logged once."""
    threshold = schedule.quiet_threshold(published, feed.quiet_after)
    newest = max(published, default=None)
    quiet = threshold is not None and newest is not None and (now - newest).total_seconds() > threshold
    if quiet and feed.quiet_since is None:
        log.warning("source quiet", last_story_at=to_iso(newest), expected_within_s=threshold)
        return {"quiet_since": now}
    if not quiet and feed.quiet_since is not None and newest is not None:
        log.info("source active again", last_story_at=to_iso(newest))
        return {"quiet_since": None}
    return {}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
