"""What a daemon shares with the other replicas on one PostgreSQL database, and what
stands in for it on SQLite (one process, one file), so the daemon asks the same three
questions on either engine:

- may this feed's host be fetched now? (`take`/`give`: per-host concurrency and delay;
  on PostgreSQL across replicas through the `host_slots` rows, on SQLite the fetcher's
  own in-process budget)
- is this replica the one to run a periodic job now? (`exclusive`: an advisory lock on
  PostgreSQL, held while the job runs; on SQLite always, there is no other)
- did another replica make deliveries due? (`wait_for_outbox`: LISTEN on PostgreSQL;
  nothing on SQLite, where this process made them and dispatches at once)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, cast
from urllib.parse import urlsplit

from .fetch import Fetcher
from .store import Writer
from .store.engine import STORAGE_ERRORS
from .timeutil import utcnow

if TYPE_CHECKING:
    from .store.pg import PgStore


@dataclass(frozen=True)
class Slot:
    """A host's fetch slot, held from the claim until the fetch is done."""

    host: str
    number: int


class SingleNode:
    """SQLite: a single node. The fetcher's per-host budget is the only one, and a feed
    whose host is busy stays due for a later tick."""

    shared = False

    def __init__(self, fetcher: Fetcher):
        self.fetcher = fetcher

    async def take(self, url: str) -> Slot | None:
        """A slot for fetching `url`, or None: its host is at its limit (the feed waits)."""
        return None if self.fetcher.host_busy(url) else Slot(_host(url), -1)

    async def give(self, slot: Slot) -> None:
        """The fetch is done: the slot opens again after the host's delay."""

    @contextlib.asynccontextmanager
    async def exclusive(self, job: str) -> AsyncIterator[bool]:
        """True inside for the one replica that runs `job` now (retention, WebSub renewals)."""
        yield True

    def close(self) -> None:
        """Nothing held."""

    @property
    def wait_for_outbox(self) -> Callable[[float], set[str]] | None:
        return None


class Replica(SingleNode):
    """PostgreSQL: host slots are rows every replica takes from (held by this start's
    owner id until the lease would end, so a dead replica's slots free themselves),
    periodic jobs advisory locks, and deliveries made due anywhere are NOTIFYed."""

    shared = True

    def __init__(self, fetcher: Fetcher, writer: Writer, owner: str, hold: timedelta):
        super().__init__(fetcher)
        self.writer, self.owner, self.hold = writer, owner, hold
        self.store = cast("PgStore", writer.store)  # the calls below are the PostgreSQL engine's own
        # a job's advisory lock is taken and let go on one thread, never the event loop's
        self._locks = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingestd-jobs")

    async def take(self, url: str) -> Slot | None:
        host = _host(url)
        number = await self.writer.run(
            self.store.take_host_slot, host, self.owner, self.fetcher.per_host_limit, utcnow(), self.hold
        )
        return None if number is None else Slot(host, number)

    async def give(self, slot: Slot) -> None:
        delay = timedelta(seconds=self.fetcher.per_host_delay)
        await self.writer.run(self.store.give_host_slot, slot.host, slot.number, self.owner, utcnow(), delay)

    @contextlib.asynccontextmanager
    async def exclusive(self, job: str) -> AsyncIterator[bool]:
        loop = asyncio.get_running_loop()
        held = self.store.periodic(job)
        try:
            mine = await loop.run_in_executor(self._locks, held.__enter__)
        except STORAGE_ERRORS:  # the database is down: not this replica's turn (readyz says why)
            yield False
            return
        try:
            yield mine
        finally:
            with contextlib.suppress(*STORAGE_ERRORS):  # a lost connection let the lock go with it
                await loop.run_in_executor(self._locks, held.__exit__, None, None, None)

    def close(self) -> None:
        self._locks.shutdown(wait=True)

    @property
    def wait_for_outbox(self) -> Callable[[float], set[str]] | None:
        return self.store.wait_for_outbox


def _host(url: str) -> str:
    """The host a per-host budget counts (as the fetcher's own)."""
    return (urlsplit(url).hostname or "").lower()
