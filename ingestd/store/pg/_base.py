"""The PostgreSQL engine's shared part: the pool, transactions, migrations and meta rows."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

# Every replica takes this one before migrating: the first migrates, the others then find nothing to do.
MIGRATION_LOCK = "ingestd.migrate"

# (name, SQL): each part of the engine adds its own, as the SQLite store's parts do
Migration = tuple[str, str]

MIGRATIONS: list[Migration] = [("core-1", "CREATE TABLE meta (key text PRIMARY KEY, value text)")]

Params = Sequence[Any] | dict[str, Any]

# A database that is down costs a call 1 s, not the pool's default 30 s: the one writer
# thread waits behind each call, and a shutdown (5 s in all) behind the one running. TCP
# keepalives notice an idle peer gone without a reset (a lost node, a network split) in
# about a minute, not the kernel's 2 h, and tcp_user_timeout a query whose bytes go
# unanswered in 10 s.
POOL_WAIT_S = 1.0
CONNECTION_OPTIONS: dict[str, Any] = {
    "connect_timeout": 2,  # libpq's least
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 10_000,  # ms
}


class PgBase:
    """A pool of connections to one PostgreSQL database (or schema, by `options` in the URL).
    Threads may share an instance: each thread's open transaction is its own; replicas are
    processes."""

    migrations: list[Migration] = []  # every part's, in order (set in pg/__init__.py)

    def __init__(self, url: str, *, pool_size: int = 4):
        self.url = url
        self.pool: ConnectionPool[psycopg.Connection[DictRow]] = ConnectionPool(
            url,
            connection_class=psycopg.Connection[DictRow],
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True, "row_factory": dict_row, **CONNECTION_OPTIONS},
            timeout=POOL_WAIT_S,
            open=True,
        )
        self._local = threading.local()
        self.applied = self.migrate()  # the migrations this start applied (none if another replica did)

    def close(self) -> None:
        # not the pool's default 5 s for its workers: ones trying to reconnect to a database
        # that is gone would hold a shutdown past its 5 s
        self.pool.close(timeout=POOL_WAIT_S / 2)

    @property
    def _conn(self) -> psycopg.Connection[DictRow] | None:
        return getattr(self._local, "conn", None)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction on one connection; `apply` writes inside it. Not re-entrant."""
        if self._conn is not None:
            raise RuntimeError("PgStore.transaction() is not re-entrant")
        with self.pool.connection() as conn, conn.transaction():
            self._local.conn = conn
            try:
                yield
            finally:
                self._local.conn = None

    @contextlib.contextmanager
    def bookkeeping(self) -> Iterator[None]:
        """A transaction for delivery claims and attempts, which may commit without waiting
        for the disk (a lost one is redone: at-least-once)."""
        with self.transaction():
            self._execute("SET LOCAL synchronous_commit = off")
            yield

    def _execute(self, sql: str, params: Params = ()) -> psycopg.Cursor[DictRow]:
        """A statement inside this thread's transaction."""
        if self._conn is None:
            raise RuntimeError("PgStore: a write outside transaction()")
        return self._conn.execute(sql, params)

    def _rows(self, sql: str, params: Params = ()) -> list[DictRow]:
        """A read: inside this thread's transaction when one is open (the composer reads what
        it will write over), else on a pooled connection of its own."""
        if self._conn is not None:
            return self._conn.execute(sql, params).fetchall()
        with self.pool.connection() as conn:
            return conn.execute(sql, params).fetchall()

    def _row(self, sql: str, params: Params = ()) -> DictRow | None:
        rows = self._rows(sql, params)
        return rows[0] if rows else None

    def migrate(self) -> list[str]:
        """Named migrations, each applied once; returns those applied now."""
        applied = []
        with self.transaction():
            self._execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [MIGRATION_LOCK])
            self._execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, applied_at timestamptz)"
            )
            done = {row["name"] for row in self._execute("SELECT name FROM schema_migrations")}
            for name, sql in self.migrations:
                if name not in done:
                    self._execute(sql)
                    self._execute("INSERT INTO schema_migrations VALUES (%s, now())", [name])
                    applied.append(name)
        return applied

    def database_check(self) -> str:
        """/readyz: "ok", or why a write would fail (unreachable, or a read-only standby)."""
        try:
            with self.pool.connection(timeout=5) as conn:
                row = conn.execute("SELECT pg_is_in_recovery() AS standby").fetchone()
        except psycopg.Error as exc:
            return f"PostgreSQL: {str(exc).strip()}"
        except PoolTimeout:
            return "PostgreSQL: no connection within 5s"
        return "read-only (a standby in recovery)" if row and row["standby"] else "ok"

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.set_meta_in_transaction(key, value)

    def set_meta_in_transaction(self, key: str, value: str) -> None:
        self._execute(
            "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )

    def get_meta(self, key: str) -> str | None:
        row = self._row("SELECT value FROM meta WHERE key = %s", [key])
        return row["value"] if row else None

    def count(self, table: str) -> int:
        query = sql.SQL("SELECT count(*) AS n FROM {}").format(sql.Identifier(table))
        row = self._row(query.as_string(None), ())
        return int(row["n"]) if row else 0


def connect(url: str) -> psycopg.Connection[DictRow]:
    """A connection of its own (LISTEN), outside the pool."""
    return psycopg.connect(url, autocommit=True, row_factory=dict_row, **CONNECTION_OPTIONS)
