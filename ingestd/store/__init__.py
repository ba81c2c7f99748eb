"""The store: schema, migrations and every query. Only this package speaks SQL.

SQLite in WAL mode through sqlite-utils. `Store` is one class made of one
part per domain (feeds, stories, …), each with its own queries and named
migrations. It decides nothing and imports nothing but ingestd.models: the
composer (ingestd.compose) reads through its small queries and hands it
intents, which `apply` writes inside the caller's transaction (docs/storage.md
describes this port for another engine). Writes run in `BEGIN IMMEDIATE`
transactions with a busy timeout, so CLI commands can write beside the daemon;
in the daemon one writer thread owns the write connection (`Writer`). A
story, its version and its outbox event are applied together: a story that
was stored always has its event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from ..models import Intent
from . import _base, _feeds, _reads, _stories, _webhooks, _websub, engine
from ._apply import apply_intents
from ._feeds import FeedsMixin
from ._lock import DatabaseInUse, InstanceLock
from ._reads import ReadsMixin
from ._stories import StoriesMixin
from ._webhooks import WebhooksMixin
from ._websub import WebSubMixin

__all__ = ["DatabaseInUse", "InstanceLock", "Store", "Writer"]

T = TypeVar("T")


# WebhooksMixin before ReadsMixin: it answers outbox_backlog() for the metrics
class Store(FeedsMixin, StoriesMixin, WebhooksMixin, WebSubMixin, ReadsMixin):
    migrations = [
        *_base.MIGRATIONS,
        *_feeds.MIGRATIONS,
        *_stories.MIGRATIONS,
        *_reads.MIGRATIONS,
        *_webhooks.MIGRATIONS,
        *_websub.MIGRATIONS,
    ]

    def apply(self, intents: Sequence[Intent]) -> list[str]:
        """Write intents, in order, inside the caller's transaction. A FeedUpdate whose
        lease is another owner's is dropped (fencing): returns those feeds' ids."""
        return apply_intents(self, intents)


class Writer:
    """The daemon's single writer: one thread owns the write connection, and
    every write is a call queued to it, so writes never contend in-process and
    the event loop never blocks on SQLite."""

    def __init__(self, path: str | Path, *, opener: Callable[[str], Store] | None = None):
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingestd-writer")
        self.store: Store = self._executor.submit(opener or Store, str(path)).result()

    @classmethod
    def for_url(cls, url: str) -> Writer:
        """The writer of either engine: on PostgreSQL the same one thread (replicas are the
        way to more writers), its transactions on the engine's pool."""
        return cls(url, opener=engine.open_store)

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args, **kwargs))

    def close(self) -> None:
        """Drop queued writes that have not started (shutdown has a deadline: what they
        would have written is redone from the feeds next start), let the one running
        finish (a batch, bounded), then close the connection."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.store.close()
