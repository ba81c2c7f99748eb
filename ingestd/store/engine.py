"""Which engine a storage URL names, and opening it: the one place the daemon, the CLI
and the API choose between SQLite (one process, one file) and PostgreSQL (replicas).

`[storage] url` is resolved by the config: `sqlite:///ABSOLUTE/PATH` or `postgresql://…`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, cast

import psycopg

if TYPE_CHECKING:
    from . import Store

# what a failed query raises, on either engine (a pool timeout is a psycopg.OperationalError)
STORAGE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, psycopg.Error)
# the database is not there (connection lost or refused, no connection within the pool's
# wait): every write fails alike, and retrying one by one would wait once more each
DATABASE_DOWN: tuple[type[Exception], ...] = (psycopg.OperationalError,)

SQLITE_PREFIX = "sqlite:///"


def is_shared(url: str) -> bool:
    """True for PostgreSQL: a database several replicas share (no instance lock; leases
    end only by their owner or by expiry)."""
    return url.partition("://")[0].lower() in ("postgresql", "postgres")


def to_url(database: str | Path) -> str:
    """A storage URL as it is, or a SQLite file's path as its sqlite:/// URL."""
    text = str(database)
    return text if "://" in text else SQLITE_PREFIX + str(Path(text).resolve())


def sqlite_path(url: str) -> str:
    """The file a resolved sqlite:/// URL names."""
    if not url.startswith(SQLITE_PREFIX):
        raise ValueError(f"{url!r} is not a sqlite:/// URL")
    return url[len(SQLITE_PREFIX) :]


# Both are typed as the SQLite `Store`, the port's reference engine: PgStore answers the
# same calls (the contract tests run on both).


def open_store(url: str) -> Store:
    """The store the URL names, migrated (the CLI's commands and the daemon's writer)."""
    if is_shared(url):
        from .pg import PgStore

        return cast("Store", PgStore(url))
    from . import Store

    return Store(sqlite_path(url))


def open_reader(url: str) -> Store:
    """A store for the API's read threads: SQLite read-only; PostgreSQL a small pool of its own."""
    if is_shared(url):
        from .pg import PgStore

        return cast("Store", PgStore.open_reader(url))
    from . import Store

    return Store.open_reader(sqlite_path(url))
