"""The connection, transactions, migrations and meta rows: what every part of the store shares."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from ..timeutil import to_iso

BUSY_TIMEOUT_S = 30.0

Migration = tuple[str, Callable[[sqlite_utils.Database], None]]


def _core_1(db: sqlite_utils.Database) -> None:
    db.table("meta").create({"key": str, "value": str}, pk="key")


MIGRATIONS: list[Migration] = [("core-1", _core_1)]


class StoreBase:
    """One connection to the database. Not thread-safe: one thread uses it."""

    migrations: list[Migration] = []  # every part's, in order (set in store/__init__.py)

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed story and its outbox event survive power loss, not only a crash
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        # 64 MiB of page cache: a million stories' key and band indexes stay in memory
        conn.execute("PRAGMA cache_size=-65536")
        # No memory-mapped reads: through a 4 GiB mapping every page a write touched stayed
        # in RSS (434 MiB peak in a 1%-changed round on 1M stories), and at 300k stories
        # the mapping saved no CPU per story (docs/performance.md)
        conn.execute("PRAGMA mmap_size=0")
        self.db = sqlite_utils.Database(conn)
        self.applied = self._migrate()  # the migrations this open applied

    def close(self) -> None:
        self.db.close()

    def _migrate(self) -> list[str]:
        """Named migrations, each applied once: parts of the store add theirs independently.
        BEGIN IMMEDIATE is the lock: two processes opening a new database migrate it once."""
        applied = []
        with self.transaction():
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at TEXT)"
            )
            done = {row[0] for row in self.db.execute("SELECT name FROM schema_migrations")}
            for name, migration in self.migrations:
                if name not in done:
                    migration(self.db)
                    self.db.execute("INSERT INTO schema_migrations VALUES (?, datetime('now'))", [name])
                    applied.append(name)
        return applied

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE: take the write lock up front, so a busy database waits
        (busy timeout) instead of failing half-way through."""
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.set_meta_in_transaction(key, value)

    def set_meta_in_transaction(self, key: str, value: str) -> None:
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    def database_check(self) -> str:
        """/readyz: "ok", or why a write would fail. SQLite writes the database file and,
        beside it, its -wal and -shm files."""
        path = Path(self.path)
        if not os.access(path, os.W_OK):
            return f"{path} is not writable"
        if not os.access(path.parent, os.W_OK):
            return f"{path.parent} is not writable"
        return "ok"

    def count(self, table: str) -> int:
        return self.db[table].count


def stamp(value: Any) -> Any:
    return to_iso(value) if isinstance(value, datetime) else value


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
