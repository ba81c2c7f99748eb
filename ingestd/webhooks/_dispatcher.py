"""The outbox dispatcher: delivers due deliveries, in order, a few at a time per subscription.

    async with Dispatcher(writer, config) as dispatcher:   # guarded clients, one per subscription
        await dispatcher.dispatch_due()                    # a periodic job, and after a commit

`dispatch_due` is short, like the daemon's tick: it asks the store which
subscriptions have deliveries that may go now and starts up to
`[webhooks] concurrency` lanes for each (one for a paused subscription: its
probe). A lane claims the oldest claimable delivery, sends it, records the
attempt, and goes on while the endpoint succeeds; a failure ends the lane,
so a failing endpoint is tried again on the next pass, not in a tight loop.
Every attempt is one log line. Every database call goes through the writer.

Subscriptions added, changed or removed at run time (by the CLI, in another
process, or by the API) are taken up at the start of the next pass: the store
keeps a version of the set, and a pass that finds it changed reloads the keys
and opens a sender for each new subscription. A removed subscription's sender
is closed once its lanes have ended.

With replicas on PostgreSQL, `follow(wait)` starts a pass as soon as any replica
commits deliveries that are due (LISTEN/NOTIFY), not only at the periodic pass.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from ..logs import get_logger
from ..timeutil import to_iso, utcnow
from ._models import Attempt, Claimed, Recorded, WebhookSettings
from ._outcome import record_attempt
from ._sender import Sender
from ._signing import signing_key

if TYPE_CHECKING:
    from ..config import Config

__all__ = ["DISPATCH_EVERY_S", "Dispatcher", "WriterPort"]

T = TypeVar("T")


class WriterPort(Protocol):
    """The daemon's single writer (ingestd.store.Writer): its store, and calls queued to it."""

    @property
    def store(self) -> Any: ...

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T: ...


# How often the daemon's job should call dispatch_due; a retry or a new event
# waits at most this long unless the daemon also calls it after a commit.
DISPATCH_EVERY_S = 0.5
# In-flight attempts get this long to finish at shutdown; the rest are released and
# sent again after the restart. Short: the daemon's polls take their 2 s first, and
# the whole shutdown must stay inside the 5 s a container runtime allows.
DRAIN_GRACE_S = 1.0
# `follow`'s waits: short, so a shutdown never waits long for the listening thread
WAKE_WAIT_S = 1.0


class Dispatcher:
    """`settings` replaces the config's [webhooks] values (tests: a sub-second schedule);
    `on_attempt` hears each attempt's outcome (delivered, retry, failed) for the metrics."""

    def __init__(
        self,
        writer: WriterPort,
        config: Config,
        *,
        settings: WebhookSettings | None = None,
        on_attempt: Callable[[str], None] | None = None,
    ):
        self.writer = writer
        self.on_attempt = on_attempt
        self.settings = settings or WebhookSettings.from_config(config)
        self._config_keys = config_keys(config)
        self._fetch = config.fetch
        self._keys: dict[str, list[bytes]] = {}  # each subscription's, run-time ones included
        self._version: int | None = None  # of the store's subscriptions, when last loaded
        self._senders: dict[str, Sender] = {}
        self._lanes: dict[str, set[asyncio.Task[None]]] = defaultdict(set)
        self._claimed: dict[asyncio.Task[None], int] = {}  # lane -> delivery it is sending
        self._closing = False
        self.log = get_logger()

    def use_config(self, config: Config) -> None:
        """A reloaded config's subscriptions: their keys are taken up at the next pass."""
        self._config_keys = config_keys(config)
        self._version = None

    async def __aenter__(self) -> Dispatcher:
        await self._reload()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await self.drain()
        finally:
            for sender in self._senders.values():
                await sender.close()
            self._senders.clear()

    async def dispatch_due(self) -> int:
        """Start lanes for subscriptions with deliveries due; returns how many started."""
        if self._closing:
            return 0
        await self._reload()
        if self._closing or not self._keys:
            return 0
        due = await self.writer.run(
            self.writer.store.subscriptions_due, utcnow(), list(self._keys), self.settings.concurrency
        )
        if self._closing:  # drained while we waited: start nothing it would not see
            return 0
        loop = asyncio.get_running_loop()
        started = 0
        # no await from here on: lanes are counted and started in one step
        for sub in due:
            lanes = self._lanes[sub.id]
            limit = 1 if sub.state == "paused" else self.settings.concurrency
            for _ in range(min(limit - len(lanes), sub.due)):
                task = loop.create_task(self._lane(sub.id), name=f"webhook:{sub.id}")
                lanes.add(task)
                task.add_done_callback(lanes.discard)
                started += 1
        return started

    async def follow(self, wait: Callable[[float], set[str]]) -> None:
        """Pass as soon as `wait` (blocking, so on a thread of its own) says deliveries were
        made due, by this replica or another; until cancelled. A lost connection costs a
        second (the periodic pass still runs); the next wait reconnects."""
        loop = asyncio.get_running_loop()
        thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingestd-listen")
        lost: str | None = None
        try:
            while not self._closing:
                try:
                    if await loop.run_in_executor(thread, wait, WAKE_WAIT_S):
                        await self.dispatch_due()
                    lost = None
                except Exception as exc:  # a lost connection, a database down: the next wait retries
                    if f"{exc}" != lost:  # once per reason, not once a second
                        self.log.warning("outbox wake-ups lost", error=f"{type(exc).__name__}: {exc}")
                    lost = f"{exc}"
                    await asyncio.sleep(WAKE_WAIT_S)
        finally:
            thread.shutdown(wait=False)  # its wait ends within WAKE_WAIT_S

    async def join(self) -> None:
        """Wait until no lane is running."""
        while tasks := [t for lanes in self._lanes.values() for t in lanes]:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def drain(self, grace: float = DRAIN_GRACE_S) -> None:
        """Stop starting lanes; give in-flight attempts `grace` seconds, cancel the
        rest and make their deliveries due again (else they wait out their lease)."""
        self._closing = True
        tasks = [t for lanes in self._lanes.values() for t in lanes]
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        cut_short = list(self._claimed.values())
        self._claimed.clear()
        if cut_short:
            await self.writer.run(self.writer.store.release_deliveries, cut_short, utcnow())
            self.log.info("webhook attempts cut short by shutdown", deliveries=len(cut_short))

    async def _reload(self) -> None:
        """Take up the subscriptions added, changed or removed since the last pass:
        one read of the store's version when nothing changed."""
        version, stored = await self.writer.run(self.writer.store.runtime_secrets, self._version)
        if stored is not None and not self._closing:
            keys = {
                sub_id: decoded
                for sub_id, secrets in stored.items()
                if (decoded := self._decode(sub_id, secrets)) is not None
            }
            self._keys = keys | self._config_keys  # the config's own, should both have one
            self._version = version
            for sub_id in self._keys.keys() - self._senders.keys():
                self._senders[sub_id] = Sender(
                    timeout=self.settings.timeout,
                    user_agent=self._fetch.user_agent,
                    allow_private=self._fetch.allow_private,
                    connections=self.settings.concurrency,
                    proxy=self._fetch.proxy,
                    ca_bundle=self._fetch.ca_bundle,
                )
        for sub_id in [s for s in self._senders if s not in self._keys and not self._lanes[s]]:
            await self._senders.pop(sub_id).close()
            del self._lanes[sub_id]

    def _decode(self, subscription_id: str, secrets: list[str]) -> list[bytes] | None:
        """Checked when they were stored; a row edited by hand costs its subscription
        (logged at each reload), not the others."""
        try:
            return [signing_key(secret) for secret in secrets]
        except ValueError as exc:
            self.log.error(
                "subscription not loaded: bad stored secret", subscription_id=subscription_id, error=str(exc)
            )
            return None

    async def _lane(self, subscription_id: str) -> None:
        store = self.writer.store
        lane = asyncio.current_task()
        assert lane is not None
        try:
            # a subscription removed meanwhile has no keys: its lanes end
            while not self._closing and (keys := self._keys.get(subscription_id)):
                claimed = await self.writer.run(
                    store.claim_delivery, subscription_id, utcnow(), self.settings
                )
                if claimed is None:
                    return
                self._claimed[lane] = claimed.delivery_id
                attempt = await self._senders[subscription_id].send(
                    claimed.url, keys, claimed.event_id, claimed.body
                )
                recorded = await self.writer.run(
                    record_attempt, store, claimed, attempt, utcnow(), self.settings
                )
                del self._claimed[lane]
                self._log(claimed, attempt, recorded)
                if self.on_attempt:
                    self.on_attempt("retry" if recorded.state == "pending" else recorded.state)
                if not attempt.ok or claimed.probe or recorded.subscription_state != "active":
                    return
        except Exception:  # a bug costs this lane, not the dispatcher; the lease frees its claim
            self.log.exception("webhook lane failed", subscription_id=subscription_id)
            self._claimed.pop(lane, None)

    def _log(self, claimed: Claimed, attempt: Attempt, recorded: Recorded) -> None:
        log = self.log.bind(subscription_id=claimed.subscription_id, url=claimed.url)
        (log.info if attempt.ok else log.warning)(
            "webhook attempt",
            event_id=claimed.event_id,
            status=attempt.status,
            duration_ms=attempt.duration_ms,
            attempt=claimed.attempt,
            outcome=recorded.state,
            next_attempt_at=to_iso(recorded.next_attempt_at),
            error=attempt.error,
            probe=claimed.probe,
        )
        if recorded.change == "resumed":
            log.info("subscription resumed", state=recorded.subscription_state)
        elif recorded.change:
            log.warning(
                f"subscription {recorded.change}", state=recorded.subscription_state, reason=recorded.reason
            )
        if recorded.expired:
            log.warning("deliveries failed while paused", failed=recorded.expired)


def config_keys(config: Config) -> dict[str, list[bytes]]:
    """Each config subscription's signing keys (load_config has decoded them once already)."""
    return {sub.id: [signing_key(secret) for secret in sub.secrets] for sub in config.subscriptions}
