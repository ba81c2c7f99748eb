"""The daemon: an APScheduler tick claims due feeds and hands them to workers.

The event loop only waits. Fetching is async (one shared, guarded
httpx client); parsing, normalizing and fingerprinting run in a small thread
pool; every write goes through the one Writer, in bounded transactions (a
batch of stories), so the tick's claims never queue behind a big poll.

On SQLite, `run` holds the database's instance lock (a second `run` on it exits
1) and, holding it, ends every lease left by an earlier process. On PostgreSQL
any number of replicas run on one database: no lock, and only expiry frees a
dead replica's leases (ingestd.replicas: host slots, periodic jobs, wake-ups).
A claim is a lease (this start's owner id, an end); the poll's FeedUpdate ends
it, unless the lease is another replica's by then (fencing: dropped, logged),
and a poll task that dies ends it with an error state. The daemon owns the
signals: SIGTERM or SIGINT stops the tick, gives in-flight polls a moment,
cancels the rest (their leases end), drops writes not yet started and closes
the database, all within SHUTDOWN_S. SIGHUP reloads the config (`reload`), SIGUSR1 logs a status line.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import os
import signal
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial, wraps
from pathlib import Path
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from . import api, compose, dedupe, logs, normalize, schedule, watch, websub
from .config import Config, _redact_url, load_config
from .errors import ConfigError, FetchError, IngestError, ParseError
from .fetch import Fetcher, read_file, read_local
from .logs import get_logger
from .metrics import Metrics
from .models import FeedState, FeedUpdate, PollWrite, StoredChange
from .pipeline import Processed, normalize_parsed, parse_input, process_article
from .reload import needs_restart
from .replicas import Replica, SingleNode, Slot
from .runtime_feeds import FeedRules
from .store import InstanceLock, Writer
from .store.engine import STORAGE_ERRORS, is_shared
from .timeutil import to_iso, utcnow
from .unchanged import UnchangedPolls
from .webhooks import DISPATCH_EVERY_S, Dispatcher

# In-flight polls get this long to finish after SIGTERM before they are cancelled;
# the writer then finishes the one batch it is writing, and the whole shutdown
# stays inside the 5 s a container runtime is promised.
DRAIN_GRACE_S = 2.0
HAND_BACK_WITHIN_S = 1.0  # after the grace: shutdown's 5 s hold the writer's close too
RETENTION_EVERY_S = 3600.0
CPU_WORKERS = 2
# /readyz: a small write every PROBE_EVERY_S must commit within PROBE_WITHIN_S
PROBE_EVERY_S = 10.0
PROBE_WITHIN_S = 2.0
PROBE_ERRORS: tuple[type[Exception], ...] = (*STORAGE_ERRORS, TimeoutError)
# renewals, lapses and unsubscriptions looked at this often (a tiny table read)
WEBSUB_EVERY_S = 1.0
# publish times kept on the feed's row: what a 304's schedule and quiet check read
RECENT_PUBLISHED = 20


def _ends_quietly_if_cancelled(job: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[None]]:
    """A scheduler job that shutdown's cancel ends without a word: APScheduler 3 logs a
    cancelled job as one that "raised an exception", an error with a traceback, on every
    SIGTERM that finds a job running."""

    @wraps(job)
    async def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            await job()

    return run


class Daemon:
    def __init__(self, config: Config, *, once: bool = False):
        self.once = once
        self.log = get_logger()
        self._use(config)
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # this start's leases
        self._stopping = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()
        self.metrics = Metrics()
        self.service = api.ServiceState(tick_interval=config.scheduler.tick)
        self.started = time.monotonic()
        self.last_write_at: datetime | None = None
        self._reloading = asyncio.Lock()
        self._scheduler: AsyncIOScheduler | None = None
        self._folder_looks: dict[str, dict[str, watch.Seen]] = {}  # feed id -> the last look
        self._renamed: dict[str, set[str]] = {}  # feed id -> names renamed into place since
        self._woken: dict[str, float] = {}  # feed id -> when its folder last changed (monotonic)
        self.websub: websub.WebSub | None = None  # [websub] callback_base set, in `run`
        self.shared = is_shared(config.storage.url)  # PostgreSQL: replicas share the database
        self._slots: dict[str, Slot] = {}  # feed id -> its host's slot, from the claim to the fetch's end

    def _use(self, config: Config) -> None:
        """The config and what is derived from it: at start, and again on each reload."""
        self.config = config
        self.schedule_settings = schedule.ScheduleSettings(
            min_interval=config.scheduler.min_interval,
            max_interval=config.scheduler.max_interval,
            backoff_cap=config.scheduler.backoff_cap,
        )
        self.lease = schedule.lease_length(config.fetch.timeout)
        self.dedupe = dedupe.Settings.from_config(config.dedupe)
        # until every engine keeps a feed's pinned identity in its row (SQLite does)
        self.pinned_identity = {f.id: f.identity for f in config.feeds}
        # a config feed's credentials stay in the config; a run-time feed's come with its row
        self.credentials = {f.id: f.credentials for f in config.feeds if f.credentials}

    @contextlib.asynccontextmanager
    async def open(self) -> AsyncIterator[Daemon]:
        """Profiles, the writer, the worker pool and the HTTP client; config feeds synced."""
        self.profiles = normalize.load_profiles(self.config.normalize.sources_dir)
        lock = self._lock()
        try:
            self.writer = Writer.for_url(self.config.storage.url)
        except STORAGE_ERRORS as exc:  # `run` says it in one line: an OSError
            lock.release()
            raise OSError(self._unopenable(exc)) from None
        except BaseException:
            lock.release()
            raise
        self.cpu = ThreadPoolExecutor(max_workers=CPU_WORKERS, thread_name_prefix="ingestd-cpu")
        self.cpu.submit(normalize.warm)  # before the first busy round, not during it
        try:
            if not self.shared:  # on PostgreSQL a lease may be a live replica's: only expiry ends it
                released = await self.writer.run(self.writer.store.release_all_leases)
                if released:
                    self.log.info("leases released", feeds=released, reason="left by an earlier run")
            await self.writer.run(compose.rebuild_signatures, self.writer.store)
            await self._sync_config(self.config)
            # the dispatcher exits (draining its sends) before the writer closes
            async with (
                Fetcher.from_config(self.config) as self.fetcher,
                Dispatcher(
                    self.writer, self.config, on_attempt=self.metrics.observe_delivery
                ) as self.dispatcher,
            ):
                self.node = (
                    Replica(self.fetcher, self.writer, self.owner, self.lease)
                    if self.shared
                    else SingleNode(self.fetcher)
                )
                self.unchanged = UnchangedPolls(self.writer)
                try:
                    yield self
                finally:
                    await self.unchanged.close()
                    self.node.close()
        finally:
            self.cpu.shutdown(wait=False, cancel_futures=True)
            self.writer.close()
            lock.release()

    def _lock(self) -> InstanceLock:
        """SQLite: one `run` per database file, held until the daemon closes. PostgreSQL:
        not taken (releasing it does nothing)."""
        lock = InstanceLock(self.config.storage.path)
        if self.shared:
            return lock
        try:
            lock.acquire()  # DatabaseInUse (an OSError): `run` says which database, which pid
        except PermissionError as exc:  # its lock file goes beside it
            raise OSError(unopenable(Path(self.config.storage.path), exc)) from None
        return lock

    def _unopenable(self, error: Exception) -> str:
        if self.shared:
            reason = str(error).strip() or type(error).__name__
            return f"database {_redact_url(self.config.storage.url)} cannot be opened: {reason}"
        return unopenable(Path(self.config.storage.path), error)

    async def _sync_config(self, config: Config) -> None:
        """The config's feeds and subscriptions into the database, at start and on reload:
        created or their declared fields updated by id, the ones gone set aside."""
        await self.writer.run(self.writer.store.sync_config_feeds, config.feeds, utcnow())
        await self.writer.run(self.writer.store.sync_config_subscriptions, config.subscriptions, utcnow())

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal, sig)
        # until the database is open, a reload or a snapshot has nothing to act on
        for sig in (signal.SIGHUP, signal.SIGUSR1):
            loop.add_signal_handler(sig, self._not_yet, sig)
        try:
            async with self.open():
                loop.add_signal_handler(signal.SIGHUP, self._in_background, self.reload)
                loop.add_signal_handler(signal.SIGUSR1, self._in_background, self.log_status)
                self.log.info(
                    "daemon started",
                    feeds=len(self.config.feeds),
                    database=_redact_url(self.config.storage.url),
                    once=self.once,
                )
                if self.once:
                    await self._poll_all_once()
                else:
                    await self._run_scheduler()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):
                loop.remove_signal_handler(sig)
            self.log.info("daemon stopped")
        return 0

    async def retention(self) -> None:
        """Purge stories older than [storage] retention (their identity keys stay as
        tombstones, so feeds still listing them do not bring them back), then outbox
        events nothing is owed for any more."""
        now = utcnow()
        cutoff = now - timedelta(seconds=self.config.storage.retention)
        async with self.node.exclusive("retention") as mine:
            if not mine:  # another replica is at it
                return
            try:
                stories = await self.writer.run(self.writer.store.purge_stories, cutoff, now)
                events = await self.writer.run(self.writer.store.prune_outbox, cutoff)
            except STORAGE_ERRORS as exc:  # the next round purges what this one could not
                self._storage_failed("retention", exc)
                return
        if stories or events:
            self.log.info("retention", stories_purged=stories, events_pruned=events, cutoff=to_iso(cutoff))

    async def _maintain_websub(self) -> None:
        """Renewals, lapses and unsubscriptions: asked of the hubs by one replica at a time."""
        assert self.websub is not None
        async with self.node.exclusive("websub") as mine:
            if mine:
                try:
                    await self.websub.maintain()
                except STORAGE_ERRORS as exc:  # the next round (a second on) renews what this one could not
                    self._storage_failed("websub", exc)

    def _on_signal(self, sig: signal.Signals) -> None:
        self.log.info("shutting down", signal=sig.name)
        self._stopping.set()

    def _not_yet(self, sig: signal.Signals) -> None:
        self.log.warning("signal ignored while starting", signal=sig.name)

    def _in_background(self, work: Any) -> None:
        if self._stopping.is_set():
            return
        task = asyncio.get_running_loop().create_task(work())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def reload(self) -> None:
        """SIGHUP: the config file read and checked as at start; a bad one is logged and
        the running config kept. Feeds and subscriptions are synced as at start; the
        settings only a restart takes up are named."""
        async with self._reloading:
            try:
                config = load_config(self.config.file)
                profiles = normalize.load_profiles(config.normalize.sources_dir)
            except ConfigError as exc:
                self.log.error(
                    "config not reloaded, the running one kept", problems=[str(p) for p in exc.problems]
                )
                return
            restart = needs_restart(self.config, config)
            logs.configure(config.log.format, config.log.level)
            self.log = get_logger()
            try:
                await self._sync_config(config)
            except STORAGE_ERRORS as exc:
                self.log.error("config not reloaded, the running one kept", error=f"storage error: {exc}")
                return
            tick_changed = config.scheduler.tick != self.config.scheduler.tick
            self._use(config)
            self.profiles = profiles
            self.dispatcher.use_config(config)
            self.service.tick_interval = config.scheduler.tick
            if tick_changed and self._scheduler is not None:
                self._scheduler.reschedule_job("tick", trigger="interval", seconds=config.scheduler.tick)
            self.log.info(
                "config reloaded",
                file=str(config.file),
                feeds=len(config.feeds),
                subscriptions=len(config.subscriptions),
            )
            if restart:
                self.log.warning("config change needs a restart to take effect", keys=list(restart))

    async def log_status(self) -> None:
        """SIGUSR1: one line saying how the daemon is doing."""
        gauges = await self.writer.run(self.writer.store.service_gauges)
        self.log.info(
            "status",
            feeds_by_state=gauges.feeds_by_state,
            polls_in_flight=len(self._in_flight),
            outbox_backlog=gauges.outbox_backlog,
            outbox_oldest_at=to_iso(gauges.outbox_oldest_at),
            last_write_at=to_iso(self.last_write_at),
            database_error=self.service.database_error,
            uptime_s=round(time.monotonic() - self.started),
        )

    async def _run_scheduler(self) -> None:
        sock = api.bind(self.config.http.listen)  # a taken port fails the start, clearly
        if self.config.websub.callback_base:
            self.websub = websub.WebSub(self.config, self.writer, self._take_push)
        app = api.build_app(
            self.config.storage.url,
            state=self.service,
            metrics=self.metrics,
            token=self.config.http.token,
            status_token=self.config.http.status_token,
            writer=self.writer,
            websub=self.websub,
            max_body=self.config.fetch.max_body,
            # the config as it is now: a reload's default interval applies to the next feed added
            feed_rules=lambda: FeedRules(self.config.file, self.config.scheduler.default_interval),
        )
        http = asyncio.create_task(api.serve(app, sock, self._stopping), name="http")
        watchers = self._watch_folders()
        wait = self.node.wait_for_outbox  # deliveries another replica made due, sent at once
        outbox = asyncio.create_task(self.dispatcher.follow(wait), name="outbox") if wait else None
        scheduler = self._scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            _ends_quietly_if_cancelled(self._tick),
            "interval",
            seconds=self.config.scheduler.tick,
            id="tick",
            max_instances=1,
            coalesce=True,
            next_run_time=utcnow(),
        )
        scheduler.add_job(
            _ends_quietly_if_cancelled(self.dispatcher.dispatch_due),
            "interval",
            seconds=DISPATCH_EVERY_S,
            id="webhooks",
            max_instances=1,
            coalesce=True,
            next_run_time=utcnow(),
        )
        scheduler.add_job(
            _ends_quietly_if_cancelled(self.probe),
            "interval",
            seconds=PROBE_EVERY_S,
            id="probe",
            max_instances=1,
            coalesce=True,
        )
        scheduler.add_job(
            _ends_quietly_if_cancelled(self.retention),
            "interval",
            seconds=RETENTION_EVERY_S,
            id="retention",
            max_instances=1,
            coalesce=True,
            next_run_time=utcnow(),
        )
        if self.websub:
            scheduler.add_job(
                _ends_quietly_if_cancelled(self._maintain_websub),
                "interval",
                seconds=WEBSUB_EVERY_S,
                id="websub",
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
            if outbox:
                outbox.cancel()
            await self._drain()
            self._stopping.set()  # on an error too: the server stops before the writer closes
            await asyncio.gather(*watchers, return_exceptions=True)
            await http
            if self.websub:
                await self.websub.close()

    async def _poll_all_once(self) -> None:
        feeds = await self.writer.run(
            self.writer.store.claim_due,
            utcnow(),
            1_000_000,
            all_feeds=True,
            owner=self.owner,
            lease=self.lease,
        )
        semaphore = asyncio.Semaphore(self.config.scheduler.workers)

        async def bounded(feed: FeedState) -> None:
            async with semaphore:
                if not self._stopping.is_set():
                    await self.poll_feed(feed)

        for feed in feeds:
            self._start(feed, bounded(feed))
        every_poll: asyncio.Future[Any] = asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        stop: asyncio.Future[Any] = asyncio.ensure_future(self._stopping.wait())
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
        try:
            claimed = await self.writer.run(
                self.writer.store.claim_due, now, free, owner=self.owner, lease=self.lease
            )
        except STORAGE_ERRORS as exc:
            # the scheduler is alive (/healthz); the database is /readyz's to report
            self.service.ticked()
            self._storage_failed("claim", exc)
            return
        self.service.ticked()  # after the tick's write: a stuck writer turns /healthz 503
        # a feed whose poll is still finishing (its state written, its lease ended) is
        # left to it; a feed whose host's budget is spent (on any replica) stays due.
        # Both are released.
        fresh = [f for f in claimed if f.id not in self._in_flight]
        ready = []
        try:
            for feed in fresh:
                if _local(feed.url):
                    ready.append(feed)
                elif slot := await self.node.take(feed.url):
                    self._slots[feed.id] = slot
                    ready.append(feed)
            released = [f.id for f in claimed if f not in ready]
            if released:
                await self.writer.run(self.writer.store.release_feeds, released, now, owner=self.owner)
        except STORAGE_ERRORS as exc:
            # none of them starts: the slots taken go back, the claims end (or run out)
            for feed in ready:
                await self._give_slot(feed.id)
            with contextlib.suppress(*STORAGE_ERRORS):
                await self.writer.run(
                    self.writer.store.release_feeds, [f.id for f in fresh], now, owner=self.owner
                )
            self._storage_failed("claim", exc)
            return
        for feed in ready:
            self._start(feed, self.poll_feed(feed))

    def _start(self, feed: FeedState, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work, name=f"poll:{feed.id}")
        self._in_flight[feed.id] = task
        task.add_done_callback(partial(self._poll_done, feed))

    def _poll_done(self, feed: FeedState, task: asyncio.Task[None]) -> None:
        self._in_flight.pop(feed.id, None)
        if task.cancelled() or task.exception() is None:
            return
        exc = task.exception()
        self.log.error("poll task failed", feed_id=feed.id, error=f"{type(exc).__name__}: {exc}")
        if not self._stopping.is_set():
            failure = asyncio.get_running_loop().create_task(self._release_failed(feed, exc))
            self._background.add(failure)
            failure.add_done_callback(self._background.discard)

    def _storage_failed(self, step: str, exc: Exception) -> None:
        """One line per new reason (not one a tick) and /readyz 503 until a write succeeds."""
        reason = f"storage error: {exc}".strip()
        if self.service.database_error != reason:
            self.log.error("storage error", step=step, error=reason)
        self.service.database_error = reason

    async def _release_failed(self, feed: FeedState, exc: BaseException | None) -> None:
        """A poll task that died: its feed is erroring, its lease ended, its next poll
        backed off; if even that cannot be written, the lease runs out by itself."""
        fetched = Fetched(error=f"internal error: {type(exc).__name__}: {exc}")
        update = plan(feed, fetched, [], utcnow(), self.config, self.schedule_settings, self.owner)
        try:
            await self.writer.run(compose.apply_alone, self.writer.store, [update])
        except STORAGE_ERRORS as error:
            self.service.database_error = f"storage error: {error}"

    async def probe(self) -> None:
        """/readyz's database check: one small write must commit within PROBE_WITHIN_S."""
        try:
            await asyncio.wait_for(
                self.writer.run(self.writer.store.set_meta, "probe.at", to_iso(utcnow())), PROBE_WITHIN_S
            )
        except PROBE_ERRORS as exc:
            reason = f"write probe failed: {exc}" if str(exc) else "write probe took over 2 s"
            if self.service.database_error != reason:
                self.log.error("storage error", error=reason)
            self.service.database_error = reason
            return
        self.service.database_error = None  # a write succeeded: the database takes writes again
        self.last_write_at = utcnow()

    async def _drain(self) -> None:
        tasks = list(self._in_flight.values())
        if tasks:
            await asyncio.wait(tasks, timeout=DRAIN_GRACE_S)
        cut_short = [fid for fid, t in self._in_flight.items() if not t.done()]
        for task in self._in_flight.values():
            task.cancel()
        try:
            # bounded: with the database away, each write waits behind the writer's queue
            await asyncio.wait_for(self._hand_back(tasks, cut_short), HAND_BACK_WITHIN_S)
        except TimeoutError:
            self.log.warning("shutdown left leases and host slots to run out", feeds=cut_short)

    async def _hand_back(self, tasks: list[asyncio.Task[None]], cut_short: list[str]) -> None:
        """The cancelled polls' host slots and leases, so the next start (or another
        replica) need not wait for them to run out."""
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for feed_id in list(self._slots):  # polls cancelled before they began fetching
            await self._give_slot(feed_id)
        if cut_short:
            with contextlib.suppress(*STORAGE_ERRORS):
                await self.writer.run(self.writer.store.release_feeds, cut_short, utcnow(), owner=self.owner)
            self.log.info("polls cancelled by shutdown", feeds=cut_short)

    # ── one poll, top to bottom ──────────────────────────────────────────────

    async def poll_feed(self, feed: FeedState) -> None:
        """Fetch, process, plan (pure: the FeedUpdate), record; on failure record the
        error on the feed. Never raises (but for cancellation): a poll's failure is the
        feed's state."""
        log = self.log.bind(feed_id=feed.id, url=feed.url)
        started = utcnow()
        clock = time.monotonic()
        fetched = Fetched()
        # a claimed feed's write is fenced by this start's lease (a test's poll has none)
        owner = self.owner if feed.id in self._in_flight else None
        try:
            await self._fetch(feed, started, fetched, log)
        except IngestError as exc:
            fetched.error = str(exc) or type(exc).__name__
            fetched.status = getattr(exc, "status", fetched.status)
            if getattr(exc, "retry_after", None):  # 429/503: the server said when
                fetched.headers = {"retry-after": exc.retry_after}  # type: ignore[attr-defined]
        except STORAGE_ERRORS as exc:  # the database's fault (a look-up of known keys), not the feed's
            fetched.error = f"storage error: {exc}".strip()
            self._storage_failed("poll", exc)
        except Exception as exc:  # a bug must cost one poll, not the daemon
            fetched.error = f"internal error: {type(exc).__name__}: {exc}"
            log.exception("poll failed unexpectedly")
        finally:
            await self._give_slot(feed.id)
        for p in fetched.processed:
            for reason in p.dropped:
                log.warning("entry dropped", error=reason)
            if p.cut:
                log.info("entries cut", kept=self.config.fetch.max_entries, left_out=p.cut)
        published: list[datetime] = []
        stories = [s for p in fetched.processed for s in p.stories]
        if not _local(feed.url):  # a folder's dates say when files were written
            published = [s.first_created for s in stories if s.first_created]
            published += [t for p in fetched.processed for t in p.known_published]
            if not fetched.processed and fetched.error is None:  # 304: what it published before
                published = (
                    list(feed.recent_published)
                    if feed.recent_published is not None
                    else await self.writer.run(self.writer.store.recent_publish_times, feed.id)
                )
        update = plan(feed, fetched, published, started, self.config, self.schedule_settings, owner)
        if self.websub:
            update = await self._paced_by_hub(feed, update)
        _log_transitions(feed, update, published, log)
        changes, update = await self._record(feed, fetched, update, started, clock)
        if feed.url.startswith(watch.SCHEME):
            await self._folder_polled(feed, fetched, clock, log)
        if self.websub and fetched.processed and fetched.error is None:
            await self._discover_hub(feed, fetched)
        if any(change.event for change in changes):  # deliver now, not at the next pass
            await self.dispatcher.dispatch_due()
        self.metrics.observe_poll(
            status=fetched.status,
            error=fetched.error,
            fetch_seconds=fetched.fetch_seconds,
            fetched_bytes=fetched.size,
        )
        self.metrics.observe_stored(changes)
        for change in changes:
            if change.matched:
                self.metrics.observe_dedupe_hit(change.matched)
        for _ in range(sum(p.known for p in fetched.processed)):  # known by guid and raw content
            self.metrics.observe_dedupe_hit("guid")
        counts = {k: sum(1 for c in changes if c.kind == k) for k in ("created", "updated", "unchanged")}
        written = dict(update.fields)
        (log.warning if fetched.error else log.info)(
            "poll",
            status=fetched.status,
            duration_ms=int((time.monotonic() - clock) * 1000),
            bytes=fetched.size,
            new=counts["created"],
            updated=counts["updated"],
            unchanged=counts["unchanged"] + sum(p.known for p in fetched.processed),
            error=fetched.error,
            next_poll_at=to_iso(written.get("next_poll_at")),
            state=written.get("state"),
        )

    async def _fetch(self, feed: FeedState, started: datetime, fetched: Fetched, log: Any) -> None:
        """Fetch and process into `fetched`; raises the errors.py tree."""
        if feed.url.startswith("file:"):
            await self._read_local_feed(feed, started, fetched)
            return
        if feed.url.startswith(watch.SCHEME):
            await self._read_folder_feed(feed, started, fetched)
            return
        try:
            result = await self.fetcher.fetch(
                feed.url,
                etag=feed.etag,
                last_modified=feed.last_modified,
                credentials=self.credentials.get(feed.id) or feed.secrets,
            )
        finally:
            await self._give_slot(feed.id)
        fetched.status, fetched.size, fetched.headers = result.status, len(result.body), result.headers
        fetched.fetch_seconds = result.duration_ms / 1000
        fetched.fields |= {
            "etag": result.etag or feed.etag,
            "last_modified": result.last_modified or feed.last_modified,
        }
        fetched.fields |= redirect_update(
            feed, result.permanent_redirect, self.config.fetch.adopt_redirect_after
        )
        if "url" in fetched.fields:
            log.info(
                "permanent redirect adopted",
                new_url=fetched.fields["url"],
                polls=self.config.fetch.adopt_redirect_after,
            )
        if result.not_modified:
            return
        body_hash = hashlib.sha256(result.body).hexdigest()
        if body_hash != feed.body_hash:  # a server that ignores conditional GET
            processed = await self._process(
                result.body,
                feed,
                started,
                url=result.final_url,
                content_type=result.headers.get("content-type"),
                allow_pages=False,
            )
            if processed.error:
                raise ParseError(processed.error)
            fetched.processed = [processed]
            if feed.fetch_article:
                await self._fetch_articles(feed, processed, started, log)
        fetched.fields["body_hash"] = body_hash

    async def _give_slot(self, feed_id: str) -> None:
        """The host's slot, once its fetch is done; one not given back ends with its hold."""
        if slot := self._slots.pop(feed_id, None):
            with contextlib.suppress(*STORAGE_ERRORS):
                await self.node.give(slot)

    async def _record(
        self,
        feed: FeedState,
        fetched: Fetched,
        update: FeedUpdate,
        started: datetime,
        clock: float,
    ) -> tuple[list[StoredChange], FeedUpdate]:
        """The poll's stories in batches of [storage] write_batch, each its own transaction;
        the history row and the feed's state with the last, so that an etag or body hash
        never commits ahead of the stories it stands for; an unchanged poll's two rows
        share a transaction with other unchanged polls' (`unchanged.py`). A storage error
        is the poll's error: the feed is marked erroring (if the database still takes
        that). Returns what was stored and the feed's state as written."""
        store = self.writer.store
        batch = self.config.storage.write_batch
        identity = feed.identity or self.pinned_identity.get(feed.id)
        changes: list[StoredChange] = []
        unchanged = not fetched.processed and fetched.error is None  # 304 or the same body
        pending = [
            (p.stories[i : i + batch], p.entry_keys[i : i + batch], p.known if i == 0 else 0)
            for p in fetched.processed
            for i in range(0, max(len(p.stories), 1), batch)
        ] or ([] if unchanged else [([], [], 0)])
        loop = asyncio.get_running_loop()
        try:
            if unchanged:
                await self.unchanged.record([self._poll_write(feed, fetched, started, clock), update])
            for number, (stories, keys, known) in enumerate(pending, 1):
                last = number == len(pending)
                prepared = await loop.run_in_executor(
                    self.cpu, partial(compose.prepare, stories, self.dedupe, started, keys)
                )
                changes += await self.writer.run(
                    compose.write_batch,
                    store,
                    prepared,
                    utcnow(),
                    identity=identity,
                    settings=self.dedupe,
                    poll=self._poll_write(feed, fetched, started, clock) if last else None,
                    feed=update if last else None,
                    known=known,
                )
        except STORAGE_ERRORS as exc:
            reason = f"storage error: {exc}"
            self.service.database_error = reason
            fetched.error = reason  # the poll's one line says it, with the feed id
            failed = plan(feed, fetched, [], started, self.config, self.schedule_settings, update.lease_owner)
            with contextlib.suppress(*STORAGE_ERRORS):  # a full disk may refuse this too
                await self.writer.run(
                    compose.apply_alone, store, [failed, self._poll_write(feed, fetched, started, clock)]
                )
            return changes, failed
        self.service.database_error = None
        self.last_write_at = utcnow()
        return changes, update

    def _poll_write(self, feed: FeedState, fetched: Fetched, started: datetime, clock: float) -> PollWrite:
        return PollWrite(
            feed_id=feed.id,
            started_at=compose.iso(started),
            duration_ms=int((time.monotonic() - clock) * 1000),
            status=fetched.status,
            bytes=fetched.size,
            unchanged=sum(p.known for p in fetched.processed),
            error=fetched.error,
        )

    async def _fetch_articles(self, feed: FeedState, processed: Processed, now: datetime, log: Any) -> None:
        """Replace each new entry's story by its page's, fetched through the same guarded
        client. A page that fails keeps the feed's version of the story: nothing is lost.
        Entries already stored are left out: their summary must not overwrite the page."""
        links = [s.url for s in processed.stories if s.url]
        known = await self.writer.run(self.writer.store.known_urls, links)
        kept = [i for i, s in enumerate(processed.stories) if s.url not in known]
        processed.stories = [processed.stories[i] for i in kept]
        processed.entries = [processed.entries[i] for i in kept]
        processed.entry_keys = [processed.entry_keys[i] for i in kept]
        loop = asyncio.get_running_loop()

        async def article(index: int) -> None:
            story, entry = processed.stories[index], processed.entries[index]
            try:
                result = await self.fetcher.fetch(
                    story.url,  # type: ignore[arg-type]
                    credentials=self.credentials.get(feed.id) or feed.secrets,  # their origin's pages only
                )
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
        """Parse, skip the entries stored already with the same raw content, normalize the rest."""
        loop = asyncio.get_running_loop()
        parsed = await loop.run_in_executor(
            self.cpu,
            partial(parse_input, body, feed_id=feed.id, max_entries=self.config.fetch.max_entries, **kwargs),
        )
        keys = [k for k in parsed.entry_keys if k]
        known = await self.writer.run(self.writer.store.known_keys, keys) if keys else frozenset()
        return await loop.run_in_executor(
            self.cpu,
            partial(
                normalize_parsed,
                parsed,
                feed_id=feed.id,
                source=feed.source,
                now=now,
                profiles=self.profiles,
                known=known,
            ),
        )

    async def _read_local_feed(self, feed: FeedState, now: datetime, fetched: Fetched) -> None:
        """A config-declared file or folder: each file is one input; pages allowed."""
        loop = asyncio.get_running_loop()
        read = partial(read_local, feed.url, max_body=self.config.fetch.max_body)
        files = await loop.run_in_executor(self.cpu, read)
        digest = hashlib.sha256()
        for path, body in files:
            digest.update(path.encode() + b"\0" + body)
        body_hash = digest.hexdigest()
        fetched.size = sum(len(body) for _, body in files)
        fetched.fields["body_hash"] = body_hash
        if body_hash == feed.body_hash:
            fetched.status = 304
            return
        fetched.status = 200
        failures = []
        for path, body in files:
            result = await self._process(body, feed, now, url=Path(path).as_uri(), allow_pages=True)
            if result.error:
                failures.append(f"{path}: {result.error}")
            fetched.processed.append(result)
        if failures and len(failures) == len(files):
            raise ParseError("; ".join(failures))
        for failure in failures:
            self.log.warning("input not readable", feed_id=feed.id, error=failure)

    # ── watch folders (folder: feeds) ────────────────────────────────────────

    def _watch_folders(self) -> list[asyncio.Task[None]]:
        return [
            asyncio.create_task(
                self._watch_folder(feed.id, watch.folder_path(feed.url)), name=f"watch:{feed.id}"
            )
            for feed in self.config.feeds
            if feed.url.startswith(watch.SCHEME)
        ]

    async def _watch_folder(self, feed_id: str, folder: Path) -> None:
        async def changed(renamed: frozenset[str]) -> None:
            self._renamed.setdefault(feed_id, set()).update(renamed)
            self._woken[feed_id] = time.monotonic()
            if await self.writer.run(self.writer.store.poll_now, feed_id, utcnow()):
                await self._tick()

        try:
            await watch.watch(folder, changed, self._stopping)
        except Exception as exc:  # the feed's scheduled polls still take its files
            self.log.error("watch folder not watched", feed_id=feed_id, error=f"{type(exc).__name__}: {exc}")

    async def _read_folder_feed(self, feed: FeedState, now: datetime, fetched: Fetched) -> None:
        """A watch folder: the files complete by now, each one input; pages allowed. A file
        not yet complete is left for a later poll (its writes wake the watcher again)."""
        folder = watch.folder_path(feed.url)
        loop = asyncio.get_running_loop()
        try:
            seen = await loop.run_in_executor(self.cpu, watch.look, folder)
            renamed = self._renamed.pop(feed.id, set())
            ready = watch.complete(self._folder_looks.get(feed.id, {}), seen, renamed)
            if len(ready) < len(seen):  # new or growing files: a second look says which are done
                await asyncio.sleep(watch.SETTLE_S)
                before, seen = seen, await loop.run_in_executor(self.cpu, watch.look, folder)
                ready = watch.complete(before, seen, renamed)
        except OSError as exc:
            raise FetchError(f"{folder}: {exc.strerror or exc}") from None
        self._folder_looks[feed.id] = seen
        fetched.status = 200
        for name in ready:
            try:
                body = await loop.run_in_executor(
                    self.cpu, read_file, folder / name, self.config.fetch.max_body
                )
            except FetchError as exc:
                fetched.taken[name] = str(exc)
                continue
            fetched.size += len(body)
            result = await self._process(body, feed, now, url=(folder / name).as_uri(), allow_pages=True)
            fetched.taken[name] = result.error
            if result.error:
                self.log.warning("input not readable", feed_id=feed.id, error=f"{name}: {result.error}")
            else:
                fetched.processed.append(result)

    async def _folder_polled(self, feed: FeedState, fetched: Fetched, started: float, log: Any) -> None:
        """After the poll's commit, never before: a file is moved only once what it
        holds is stored. A poll that could not write leaves its files for the next. A
        change the poll may have missed (it came while the poll ran) makes the feed due."""
        if self._woken.get(feed.id, 0.0) > started:
            await self.writer.run(self.writer.store.poll_now, feed.id, utcnow())
        if fetched.error is not None or not fetched.taken:
            return
        moves = watch.destinations(watch.folder_path(feed.url), fetched.taken)
        try:
            await asyncio.get_running_loop().run_in_executor(self.cpu, watch.file_away, moves)
        except OSError as exc:
            log.error("watch folder file not moved", error=f"{type(exc).__name__}: {exc}")
            return
        for move in moves:
            self._folder_looks.get(feed.id, {}).pop(move.source.name, None)
            log.info("input filed", path=str(move.target), error=move.reason)

    # ── WebSub push ──────────────────────────────────────────────────────────

    async def _discover_hub(self, feed: FeedState, fetched: Fetched) -> None:
        assert self.websub is not None
        document = fetched.processed[0].document
        hints = document.hints if document else {}
        await self.websub.polled(feed, websub.links_of(hints, fetched.headers, feed.url))

    async def _paced_by_hub(self, feed: FeedState, update: FeedUpdate) -> FeedUpdate:
        """While a hub pushes the feed, polls are a cross-check: [websub] crosscheck_interval."""
        assert self.websub is not None
        computed = update.get("next_poll_at")
        if computed is None:
            return update
        paced = await self.websub.next_poll(feed.id, computed)
        if paced == computed:
            return update
        return FeedUpdate.of(feed.id, dict(update.fields) | {"next_poll_at": paced}, update.lease_owner)

    async def _take_push(self, feed: FeedState, body: bytes, content_type: str | None) -> None:
        """Content a hub pushed: the same parse, normalize and composer path as a poll's
        body, without the poll's own bookkeeping (history row, schedule, lease)."""
        log = self.log.bind(feed_id=feed.id, url=feed.url)
        started = utcnow()
        processed = await self._process(body, feed, started, url=feed.url, content_type=content_type)
        if processed.error:
            log.warning("websub push not readable", error=processed.error)
            return
        batch = self.config.storage.write_batch
        changes: list[StoredChange] = []
        loop = asyncio.get_running_loop()
        for i in range(0, len(processed.stories), batch):
            prepared = await loop.run_in_executor(
                self.cpu,
                partial(
                    compose.prepare,
                    processed.stories[i : i + batch],
                    self.dedupe,
                    started,
                    processed.entry_keys[i : i + batch],
                ),
            )
            changes += await self.writer.run(
                compose.write_batch,
                self.writer.store,
                prepared,
                utcnow(),
                identity=feed.identity or self.pinned_identity.get(feed.id),
                settings=self.dedupe,
                known=processed.known if i == 0 else 0,
            )
        if any(change.event for change in changes):
            await self.dispatcher.dispatch_due()
        self.metrics.observe_stored(changes)
        counts = {k: sum(1 for c in changes if c.kind == k) for k in ("created", "updated", "unchanged")}
        log.info(
            "websub push stored",
            new=counts["created"],
            updated=counts["updated"],
            unchanged=counts["unchanged"] + processed.known,
        )


def _local(url: str) -> bool:
    """A file: or folder: feed: its dates say when files were written, not how often it publishes."""
    return url.startswith(("file:", watch.SCHEME))


def unopenable(path: Path, error: Exception) -> str:
    """Why the database cannot be opened for writing, in the operator's terms."""
    if path.is_dir():
        reason = "it is a folder, not a file"
    elif path.exists() and not os.access(path, os.W_OK):
        reason = "the file is read-only"
    elif not os.access(path.parent, os.W_OK):  # WAL needs its -wal and -shm files beside it
        reason = "its folder is read-only"
    else:
        reason = str(error)
    return f"database {path} cannot be opened for writing: {reason}"


@dataclass
class Fetched:
    """What a poll's fetch and processing brought, filled in as it goes."""

    status: int | None = None
    size: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    fetch_seconds: float | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # feed columns the fetch changed
    processed: list[Processed] = field(default_factory=list)
    error: str | None = None
    taken: dict[str, str | None] = field(default_factory=dict)  # a watch folder's files: name -> error


def plan(
    feed: FeedState,
    fetched: Fetched,
    published: list[datetime],
    now: datetime,
    config: Config,
    settings: schedule.ScheduleSettings,
    owner: str | None = None,
) -> FeedUpdate:
    """The feed's state after this poll (pure): what the fetch changed, ok or erroring
    (parked on 410), the next poll, quiet or not. Its write ends the feed's lease, and is
    dropped if `owner` no longer holds it."""
    hints = {k: v for p in fetched.processed if p.document for k, v in p.document.hints.items()}
    outcome = schedule.PollOutcome(
        status=fetched.status,
        error=fetched.error,
        headers=fetched.headers,
        ttl_minutes=_int(hints.get("ttl")),
        update_period=hints.get("sy_updateperiod"),
        update_frequency=_int(hints.get("sy_updatefrequency")),
        published=published,
    )
    fields: dict[str, Any] = {"last_poll_at": now}
    if fetched.error is None:
        fields |= fetched.fields
        fields |= {"state": "ok", "error_count": 0, "last_error": None, "last_success_at": now}
        # the state next_poll reads; a feed that was not erroring is already it
        counted = feed if feed.error_count == 0 else dataclasses.replace(feed, error_count=0)
        if not _local(feed.url):
            fields |= quiet_update(feed, published, now)
            # a 304 or an identical body changes nothing here: no rewrite per unchanged poll
            if fetched.processed or feed.recent_published is None:
                newest = sorted(published, reverse=True)[:RECENT_PUBLISHED]
                fields["recent_published"] = json.dumps([to_iso(t) for t in newest])
    else:  # what a failed fetch saw is not kept (but for the redirect it followed)
        fields |= {k: v for k, v in fetched.fields.items() if k.startswith("redirect_") or k == "url"}
        fields |= {
            "state": "parked" if fetched.status == 410 else "erroring",
            "error_count": feed.error_count + 1,
            "last_error": fetched.error,
        }
        counted = dataclasses.replace(feed, error_count=feed.error_count + 1)
    fields["next_poll_at"] = schedule.next_poll(counted, outcome, now, settings)
    return FeedUpdate.of(feed.id, fields, owner)


def redirect_update(feed: FeedState, target: str | None, adopt_after: int) -> dict[str, Any]:
    """A permanent redirect becomes the feed's URL only once the same target was seen
    on `adopt_after` consecutive polls (a flapping or mistaken 301 changes nothing)."""
    if target is None or target == feed.url:
        return {"redirect_target": None, "redirect_count": 0}
    count = feed.redirect_count + 1 if target == feed.redirect_target else 1
    if count >= adopt_after:
        return {"url": target, "redirect_target": None, "redirect_count": 0}
    return {"redirect_target": target, "redirect_count": count}


def quiet_update(feed: FeedState, published: list[datetime], now: datetime) -> dict[str, Any]:
    """Mark a feed quiet once its newest story is older than expected; unmark it when a
    story arrives."""
    threshold = schedule.quiet_threshold(published, feed.quiet_after)
    newest = max(published, default=None)
    quiet = threshold is not None and newest is not None and (now - newest).total_seconds() > threshold
    if quiet and feed.quiet_since is None:
        return {"quiet_since": now}
    if not quiet and feed.quiet_since is not None and newest is not None:
        return {"quiet_since": None}
    return {}


def _log_transitions(feed: FeedState, update: FeedUpdate, published: list[datetime], log: Any) -> None:
    """Each change of the quiet state is logged once."""
    fields = dict(update.fields)
    if "quiet_since" not in fields:
        return
    newest = max(published, default=None)
    if fields["quiet_since"] is not None:
        threshold = schedule.quiet_threshold(published, feed.quiet_after)
        log.warning("source quiet", last_story_at=to_iso(newest), expected_within_s=threshold)
    else:
        log.info("source active again", last_story_at=to_iso(newest))


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
