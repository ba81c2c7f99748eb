"""Unchanged polls' records, written together.

A poll answered 304, or with the body it brought last time, stores no story: all it
writes is its history row and the feed's new state (schedule, validators, lease ended).
Written one transaction each, that was the store's whole share of such a poll. Here the
records of the polls that finish within WINDOW_S (at most MOST of them) share one
transaction:

    await unchanged.record([poll_write, feed_update])   # returns once committed

Each poll still waits for its own record's commit, so nothing is reported done (or its
lease ended) before it is written; a crash loses at most records not yet committed, and
those polls, their leases running out, are simply polled again. A stored story is never
in such a batch: polls that bring a document write it with their stories, as before. If
the shared transaction fails, each record is tried alone, so that one bad record fails
only its own poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from . import compose
from .models import Intent
from .store import Writer
from .store.engine import DATABASE_DOWN, STORAGE_ERRORS

# long enough for a tick's polls, which finish together, to share a commit; short
# beside any feed's interval
WINDOW_S = 0.05
MOST = 500


class UnchangedPolls:
    """The daemon's one batcher of unchanged polls' records (made in `Daemon.open`)."""

    def __init__(self, writer: Writer):
        self.writer = writer
        self._pending: list[tuple[Sequence[Intent], asyncio.Future[None]]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._writing: set[asyncio.Task[None]] = set()

    async def record(self, intents: Sequence[Intent]) -> None:
        """Write these intents with other unchanged polls'; raises the write's error."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._pending.append((intents, done))
        if len(self._pending) >= MOST:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(WINDOW_S, self._flush)
        await done

    async def close(self) -> None:
        """Write what is waiting now (before the writer closes)."""
        self._flush()
        if self._writing:
            await asyncio.gather(*self._writing, return_exceptions=True)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            task = asyncio.get_running_loop().create_task(self._write(batch))
            self._writing.add(task)
            task.add_done_callback(self._writing.discard)

    async def _write(self, batch: list[tuple[Sequence[Intent], asyncio.Future[None]]]) -> None:
        try:
            outcomes = await self._apply([intents for intents, _ in batch])
        except Exception as exc:  # the writer closed under us (shutdown): each poll hears it
            outcomes = [exc] * len(batch)
        except BaseException:  # cancelled: so are the polls waiting for it
            for _, done in batch:
                done.cancel()
            raise
        for (_, done), outcome in zip(batch, outcomes):
            if done.done():  # its poll was cancelled
                continue
            if outcome is None:
                done.set_result(None)
            else:
                done.set_exception(outcome)

    async def _apply(self, groups: list[Sequence[Intent]]) -> list[Exception | None]:
        store = self.writer.store
        try:
            await self.writer.run(compose.apply_alone, store, [i for intents in groups for i in intents])
            return [None] * len(groups)
        except STORAGE_ERRORS as exc:
            # a database that is down fails every poll now, not after one more wait each;
            # anything else may be one record's fault: each alone finds whose
            if len(groups) == 1 or isinstance(exc, DATABASE_DOWN):
                return [exc] * len(groups)
        return await self.writer.run(_each_alone, store, groups)


def _each_alone(store: compose.ApplyPort, groups: list[Sequence[Intent]]) -> list[Exception | None]:
    outcomes: list[Exception | None] = []
    for intents in groups:
        try:
            compose.apply_alone(store, intents)
            outcomes.append(None)
        except STORAGE_ERRORS as exc:
            outcomes.append(exc)
    return outcomes
