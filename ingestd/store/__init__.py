"""The store: schema, migrations and every query. Only this package speaks SQL.

SQLite in WAL mode through sqlite-utils. `Store` is one class made of one
part per domain (feeds, stories, …), each with its own queries and named
migrations. Writes run in `BEGIN IMMEDIATE` transactions with a busy
timeout, so CLI commands can write beside the daemon; in the daemon one
writer thread owns the write connection (`Writer`). A poll's stories, their
versions and their outbox events are written in one transaction: a story
that was stored always has its event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from . import _base, _feeds, _reads, _stories, _webhooks
from ._feeds import FeedsMixin, PollRecord
from ._reads import ReadsMixin
from ._stories import StoriesMixin
from ._webhooks import WebhooksMixin

__all__ = ["Store", "Writer", "PollRecord"]

T = TypeVar("T")


# WebhooksMixin before ReadsMixin: it answers outbox_backlog() for the metrics
class Store(FeedsMixin, StoriesMixin, WebhooksMixin, ReadsMixin):
    migrations = [
        *_base.MIGRATIONS,
        *_feeds.MIGRATIONS,
        *_stories.MIGRATIONS,
        *_reads.MIGRATIONS,
        *_webhooks.MIGRATIONS,
    ]


class Writer:
    """The daemon's single writer: one thread owns the write connection, and
    every write is a call queued to it, so writes never contend in-process and
    the event loop never blocks on SQLite."""

    def __init__(self, path: str | Path):
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingestd-writer")
        self.store: Store = self._executor.submit(Store, path).result()

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    def close(self) -> None:
        """Finish queued writes, then close the connection."""
        self._executor.submit(self.store.close).result()
        self._executor.shutdown(wait=True)
