"""The API's read connections: a few threads, each with its own read-only connection.

Handlers never touch the database on the event loop, and never use the daemon's
writer: in WAL mode (SQLite) and under MVCC (PostgreSQL) these readers see committed
data without waiting for it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from ..store import Store
from ..store.engine import open_reader, to_url

T = TypeVar("T")

READ_THREADS = 2


class Readers:
    def __init__(self, database: str | Path, threads: int = READ_THREADS):
        self._url = to_url(database)
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ingestd-api-read")
        self._local = threading.local()
        self._opened: list[Store] = []
        self._lock = threading.Lock()

    async def run(self, fn: Callable[[Store], T]) -> T:
        """`fn(store)` on a read thread, with that thread's connection."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn)

    def _call(self, fn: Callable[[Store], T]) -> T:
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = open_reader(self._url)
            with self._lock:
                self._opened.append(store)
        return fn(store)

    def close(self) -> None:
        """Let running reads finish, then close every connection."""
        self._executor.shutdown(wait=True)
        for store in self._opened:
            store.close()
