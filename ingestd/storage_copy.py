"""`ingestd storage copy SRC DST`: a single-node install's every row, from its SQLite file
into an empty PostgreSQL database, so that replicas can take over (docs/scaling.md).

The two engines' tables and columns have the same names (ingestd/store/pg mirrors the
SQLite store), so a row moves as it is: PostgreSQL parses SQLite's time text into
timestamptz, and BLOBs become bytea. What only SQLite has stays behind (its full-text index
and the map beside it, its own sqlite_* tables, schema_migrations): PostgreSQL keeps its
own. The source is read in one read transaction, a consistent snapshot even while a daemon
writes to it; the target is migrated first, then written in one transaction, all or nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql
from psycopg_pool import PoolTimeout

from .config import _parse_storage_url, _redact_url
from .store import Store
from .store.pg import PgStore

Connection = psycopg.Connection[tuple[Any, ...]]

# Rows read from SQLite and written to PostgreSQL at a time: memory stays bounded.
BATCH = 5_000

# SQLite's own bookkeeping and the full-text map (PostgreSQL searches a tsvector column instead).
SQLITE_ONLY = frozenset({"schema_migrations", "stories_fts_ids"})


class CopyError(Exception):
    """Why the copy could not be made; nothing was written to the target."""


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Copied:
    tables: list[tuple[str, int]]  # (table, rows), in the order copied
    target: str  # the URL as messages show it: no password


def source_path(url: str) -> Path:
    """SRC: a sqlite:/// URL (env: or file: as in the config) of an existing database."""
    scheme, rest, resolved = _resolve(url, "SRC")
    if scheme != "sqlite":
        raise CopyError(f"SRC {_redact_url(resolved)!r}: not a sqlite:/// URL (copy moves a SQLite install)")
    path = Path(rest[1:]).resolve()
    if not path.is_file():
        raise CopyError(f"SRC {path}: no such database file")
    return path


def target_url(url: str) -> str:
    """DST: a postgresql:// URL (env: or file: as in the config)."""
    scheme, _, resolved = _resolve(url, "DST")
    if scheme not in ("postgresql", "postgres"):
        raise CopyError(f"DST {_redact_url(resolved)!r}: not a postgresql:// URL")
    return resolved


def _resolve(url: str, which: str) -> tuple[str, str, str]:
    """(scheme, what follows ://, the URL) of a storage URL as the config reads one."""
    try:
        resolved = _parse_storage_url(url)
    except ValueError as exc:
        raise CopyError(f"{which}: {exc}") from None
    scheme, _, rest = resolved.partition("://")
    return scheme.lower(), rest, resolved


def sqlite_only(schema: Mapping[str, str]) -> set[str]:
    """Of SQLite's tables ({name: CREATE statement}), those with no place in PostgreSQL:
    its own, the full-text map, and each virtual table with its shadow tables."""
    virtual = {name for name, create in schema.items() if create.upper().startswith("CREATE VIRTUAL TABLE")}
    return {
        name
        for name in schema
        if name in SQLITE_ONLY
        or name.startswith("sqlite_")
        or any(name == v or name.startswith(f"{v}_") for v in virtual)
    }


def plan(
    source: Mapping[str, tuple[str, ...]], counts: Mapping[str, int], target: Mapping[str, tuple[str, ...]]
) -> list[Table]:
    """The tables to copy, each with the columns both engines have. `source` (SQLite's tables
    but `sqlite_only`'s) and `target` map table names to columns (the target's writable ones);
    `counts` are the source's rows. A table or column with rows and nowhere to go refuses
    the copy: nothing is dropped."""
    tables = []
    for name, columns in sorted(source.items()):
        if name not in target:
            if counts.get(name):
                raise CopyError(f"table {name} ({counts[name]} rows) has no counterpart in PostgreSQL")
            continue
        missing = [c for c in columns if c not in target[name]]
        if missing and counts.get(name):
            raise CopyError(f"{name}.{missing[0]} has no counterpart in PostgreSQL's {name}")
        tables.append(Table(name, tuple(c for c in columns if c in target[name])))
    return tables


def copy(source: str, target: str, *, batch: int = BATCH) -> Copied:
    """Copy every row of SRC into DST.
    Raises CopyError (one line, the password never shown) on any failure."""
    path = source_path(source)
    url = target_url(target)
    shown = _redact_url(url)
    try:
        with psycopg.connect(url, connect_timeout=10) as probe:  # fails fast, unlike the pool
            probe.execute("SELECT 1")
    except psycopg.Error as exc:
        raise CopyError(f"DST {shown}: {_first_line(exc)}") from None
    reader = _open_source(path)
    try:
        reader.execute("BEGIN")  # one snapshot of every table, whatever a daemon writes meanwhile
        schema = {
            name: create or ""
            for name, create in reader.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
        }
        _check_migrated(reader, path)
        skipped = sqlite_only(schema)
        columns = {
            name: tuple(row[1] for row in reader.execute(f'PRAGMA table_info("{name}")'))
            for name in schema
            if name not in skipped
        }
        counts = {name: reader.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in columns}
        _migrate(url, shown)
        with psycopg.connect(url) as conn, conn.transaction():
            conn.execute("SET LOCAL TimeZone = 'UTC'")  # a time text without a zone is UTC, as in ingestd
            tables = plan(columns, counts, _target_columns(conn))
            _refuse_rows(conn, shown)
            for table in tables:
                _copy_table(conn, table, _source_rows(reader, table, batch), counts[table.name])
            _reset_identities(conn, {t.name for t in tables})
        return Copied([(t.name, counts[t.name]) for t in tables], shown)
    except sqlite3.Error as exc:
        raise CopyError(f"SRC {path}: {exc}") from None
    except psycopg.Error as exc:
        raise CopyError(f"DST {shown}: {_first_line(exc)}") from None
    finally:
        reader.close()


def _open_source(path: Path) -> sqlite3.Connection:
    """Read-only: the copy never changes the install it moves."""
    try:
        return sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, isolation_level=None, timeout=30)
    except sqlite3.Error as exc:
        raise CopyError(f"SRC {path}: {exc}") from None


def _check_migrated(reader: sqlite3.Connection, path: Path) -> None:
    """The source's schema must be this version's: the target's is, and columns map by name."""
    try:
        done = {row[0] for row in reader.execute("SELECT name FROM schema_migrations")}
    except sqlite3.OperationalError:
        raise CopyError(f"SRC {path}: not an ingestd database (no schema_migrations table)") from None
    missing = [name for name, _ in Store.migrations if name not in done]
    if missing:
        raise CopyError(
            f"SRC {path}: its schema is older than this ingestd's ({', '.join(missing)} not applied): "
            "run `ingestd migrate` on it first"
        )


def _migrate(url: str, shown: str) -> None:
    """The target's schema, created or brought up to date under the replicas' advisory lock."""
    try:
        PgStore(url).close()
    except PoolTimeout:
        raise CopyError(f"DST {shown}: no connection for its migrations") from None


def _target_columns(conn: Connection) -> dict[str, tuple[str, ...]]:
    """{table: columns a row may be given}: generated columns are PostgreSQL's to fill."""
    rows = conn.execute(
        "SELECT c.table_name, c.column_name FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        "WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
        "AND c.is_generated = 'NEVER' ORDER BY c.table_name, c.ordinal_position"
    ).fetchall()
    columns: dict[str, tuple[str, ...]] = {}
    for table, column in rows:
        columns[table] = (*columns.get(table, ()), column)
    return columns


def _refuse_rows(conn: Connection, shown: str) -> None:
    """Only into an empty database: merging two installs' rows is no copy."""
    tables = conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
        "AND table_type = 'BASE TABLE' AND table_name != 'schema_migrations' ORDER BY table_name"
    ).fetchall()
    for (table,) in tables:
        row = conn.execute(
            sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table))
        ).fetchone()
        if row and row[0]:
            raise CopyError(f"DST {shown}: table {table} has rows; copy only into an empty database")


def _source_rows(reader: sqlite3.Connection, table: Table, batch: int) -> Iterator[list[Any]]:
    names = ", ".join(f'"{c}"' for c in table.columns)
    cursor = reader.execute(f'SELECT {names} FROM "{table.name}"')
    while rows := cursor.fetchmany(batch):
        yield rows


def _copy_table(conn: Connection, table: Table, batches: Iterator[list[Any]], expected: int) -> None:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, table.columns))
    )
    written = 0
    try:
        with conn.cursor() as cursor, cursor.copy(statement) as stream:
            for rows in batches:
                for row in rows:
                    stream.write_row(row)
                written += len(rows)
    except psycopg.DataError as exc:  # a value the column's type refuses: say which row and column
        where = (exc.diag.context or "").strip().splitlines()
        raise CopyError(
            f"{table.name}: PostgreSQL refuses a value: {exc.diag.message_primary}"
            + (f" ({where[0]})" if where else "")
        ) from None
    if written != expected:  # one snapshot: a difference is a bug, never a race
        raise CopyError(f"{table.name}: read {written} rows of {expected}")


def _reset_identities(conn: Connection, tables: set[str]) -> None:
    """Identity columns (polls.id, events.seq, deliveries.id) continue after the copied rows."""
    identities = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES'"
    ).fetchall()
    for table, column in identities:
        if table in tables:
            query = sql.SQL(
                "SELECT setval(pg_get_serial_sequence(%s, %s), max({})) FROM {} HAVING count(*) > 0"
            )
            conn.execute(query.format(sql.Identifier(column), sql.Identifier(table)), [table, column])


def _first_line(exc: Exception) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__
