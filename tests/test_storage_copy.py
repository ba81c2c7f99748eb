"""`ingestd storage copy`: a SQLite install, built through the real pipeline, moved into an
empty PostgreSQL database with every row, key and pending delivery kept; refusals that
name what is wrong and write nothing."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ingestd import compose
from ingestd.cli import main
from ingestd.library import read
from ingestd.models import FeedConfig, FeedUpdate, PollWrite, SubscriptionConfig, WebSubSubscription
from ingestd.storage_copy import CopyError, plan, sqlite_only
from ingestd.store import Store
from ingestd.timeutil import from_iso
from tests.support import DATA, wait_for
from tests.support.postgres import postgres_schema
from tests.support.webhooks import SECRET

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
FEEDS = sorted((DATA / "corpus" / "real-feeds").glob("*.xml"))[:6]


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


def _install(path: Path) -> None:
    """What a single node holds after a few polls: config feeds (one disabled, one with a
    WebSub subscription), stories with versions, keys and bands, outbox events, a
    subscription with pending deliveries, poll history with a failure, a tombstone."""
    store = Store(path)
    try:
        store.sync_config_feeds(
            [FeedConfig(f"feed-{i}", f"https://h{i}.example/rss") for i in range(len(FEEDS))], NOW
        )
        store.add_subscription(
            SubscriptionConfig("desk", "https://hooks.example/desk", (SECRET,)), "api", NOW
        )
        for i, file in enumerate(FEEDS):
            feed_id = f"feed-{i}"
            stories = read(file.read_bytes(), feed_id=feed_id, now=NOW).stories
            poll = PollWrite(feed_id, "2026-01-01T12:00:00Z", 40 + i, 200, file.stat().st_size)
            update = FeedUpdate.of(feed_id, {"etag": f'"e{i}"', "last_poll_at": NOW, "last_success_at": NOW})
            compose.save_poll(store, poll, stories, update, NOW)
        failed = PollWrite("feed-0", "2026-01-01T12:05:00Z", 3, 500, 0, error="HTTP 500")
        compose.apply_alone(store, [failed])
        store.set_feed_disabled("feed-1", True, NOW)
        store.write_websub(
            [
                WebSubSubscription(
                    "feed-2", "https://hub.example/", "https://h2.example/rss", "s", "active", NOW, 60
                )
            ]
        )
        store.remove_feed("feed-5", NOW, purge=True)
        oldest = store.db.execute("SELECT id FROM stories ORDER BY created_at, id LIMIT 1").fetchone()[0]
        with store.transaction():  # a purged story's tombstone, as retention leaves it
            store.db.execute(
                "INSERT INTO story_tombstones VALUES (?, 'feed-0', 1, '2026-01-01T12:10:00Z')", [oldest + "x"]
            )
    finally:
        store.close()


def _tables(path: Path) -> dict[str, list[str]]:
    conn = sqlite3.connect(path)
    schema = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
    tables = {
        name: [row[1] for row in conn.execute(f'PRAGMA table_info("{name}")')]
        for name in schema
        if name not in sqlite_only(schema)
    }
    conn.close()
    return tables


TIMESTAMPTZ = 1184  # PostgreSQL's type oid


def _rows(
    source: sqlite3.Connection, target: psycopg.Connection[Any], table: str, columns: list[str]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Both engines' rows of a table, times as aware datetimes, in one order."""
    names = ", ".join(f'"{c}"' for c in columns)
    cursor = target.execute(f'SELECT {names} FROM "{table}"')
    times = [d.type_code == TIMESTAMPTZ for d in cursor.description or []]
    theirs = [
        tuple(v.astimezone(UTC) if v is not None and t else v for v, t in zip(r, times)) for r in cursor
    ]
    mine = [
        tuple(from_iso(v) if t else v for v, t in zip(r, times))
        for r in source.execute(f'SELECT {names} FROM "{table}"')
    ]
    return sorted(mine, key=repr), sorted(theirs, key=repr)


def _copy(capsys: pytest.CaptureFixture[str], source: Path | str, target: str) -> tuple[int, str, str]:
    code = main(["storage", "copy", source if isinstance(source, str) else f"sqlite:///{source}", target])
    out, err = capsys.readouterr()
    return code, out, err


def test_every_row_moves_and_postgresql_answers_as_sqlite_did(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from ingestd.store.pg import PgStore

    path = tmp_path / "ingestd.db"
    _install(path)
    code, out, err = _copy(capsys, path, pg_url)
    assert (code, err) == (0, "")
    lines = dict(line.split() for line in out.splitlines()[:-1])
    assert out.splitlines()[-1].startswith("copied ")

    source = sqlite3.connect(path)
    target = psycopg.connect(pg_url)
    try:
        for table, columns in _tables(path).items():
            mine, theirs = _rows(source, target, table, columns)
            assert int(lines[table]) == len(mine), table
            assert mine == theirs, table
        # what the test set out to keep: stories, their keys, the outbox and its pending deliveries
        for table in ("stories", "story_keys", "story_versions", "story_bands", "events", "story_tombstones"):
            assert int(lines[table]) > 0, table
        pending = source.execute("SELECT count(*) FROM deliveries WHERE state = 'pending'").fetchone()[0]
        assert pending > 0
        assert (
            target.execute("SELECT count(*) FROM deliveries WHERE state = 'pending'").fetchone()[0] == pending
        )
        # new rows continue after the copied ones: no identity collides
        top = source.execute("SELECT max(seq) FROM events").fetchone()[0]
        with target.transaction():
            seq = target.execute("INSERT INTO events (id) VALUES ('ev_new') RETURNING seq").fetchone()[0]
            assert seq == top + 1
            raise psycopg.Rollback()
    finally:
        source.close()
        target.close()

    sqlite_store, pg_store = Store(path), PgStore(pg_url)
    try:
        assert pg_store.list_feeds() == sqlite_store.list_feeds()
        assert pg_store.get_feed("feed-0") == sqlite_store.get_feed("feed-0")
        assert pg_store.feeds_overview() == sqlite_store.feeds_overview()
        assert pg_store.disabled_feeds() == {"feed-1"}
        assert pg_store.websub_subscriptions() == sqlite_store.websub_subscriptions()
        assert pg_store.recent_polls("feed-0") == sqlite_store.recent_polls("feed-0")
        assert pg_store.recent_publish_times("feed-3") == sqlite_store.recent_publish_times("feed-3")
        assert pg_store.list_subscriptions() == sqlite_store.list_subscriptions()
        new_poll = PollWrite("feed-0", "2026-01-01T13:00:00Z", 1, 304, 0)
        with pg_store.transaction():
            pg_store.apply([new_poll])
        assert pg_store.recent_polls("feed-0", 1)[0]["started_at"] == "2026-01-01T13:00:00Z"
    finally:
        sqlite_store.close()
        pg_store.close()


def test_a_target_with_rows_is_refused_and_left_as_it_was(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from ingestd.store.pg import PgStore

    path = tmp_path / "ingestd.db"
    Store(path).close()
    engine = PgStore(pg_url)
    engine.add_feed(FeedConfig("there", "https://there.example"), "api", NOW)
    engine.close()
    code, out, err = _copy(capsys, path, pg_url)
    assert (code, out) == (1, "")
    assert err.startswith("storage copy: DST ") and "table feeds has rows" in err


def test_a_table_with_rows_and_no_counterpart_is_named_and_nothing_is_written(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ingestd.db"
    store = Store(path)
    store.add_feed(FeedConfig("f", "https://f.example"), "api", NOW)
    with store.transaction():
        store.db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        store.db.execute("INSERT INTO notes (text) VALUES ('kept by hand')")
    store.close()
    code, _, err = _copy(capsys, path, pg_url)
    assert code == 1 and "table notes (1 rows) has no counterpart in PostgreSQL" in err
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM feeds").fetchone()[0] == 0


def test_a_value_postgresql_refuses_is_named_by_table_and_column_and_nothing_is_written(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ingestd.db"
    store = Store(path)
    store.add_feed(FeedConfig("a", "https://a.example"), "api", NOW)
    with store.transaction():
        store.db.execute("INSERT INTO feed_identity VALUES ('a', 'guid', 'test', 0, '2026-01-01T12:00:00Z')")
        store.db.execute("UPDATE feeds SET last_poll_at = 'yesterday-ish'")
    store.close()
    code, _, err = _copy(capsys, path, pg_url)
    assert code == 1
    assert (
        err.startswith("storage copy: feeds: PostgreSQL refuses a value: ") and "column last_poll_at" in err
    )
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM feeds").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM feed_identity").fetchone()[0] == 0  # copied before feeds


def test_a_source_with_an_older_schema_must_be_migrated_first(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ingestd.db"
    Store(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DELETE FROM schema_migrations WHERE name = 'feeds-disabled'")
    conn.close()
    code, _, err = _copy(capsys, path, pg_url)
    assert code == 1 and "feeds-disabled not applied" in err and "ingestd migrate" in err


def test_bad_urls_and_an_unreachable_server_exit_1_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ingestd.db"
    Store(path).close()
    cases = [
        (f"sqlite:///{tmp_path}/none.db", "postgresql://u@127.0.0.1/x", "no such database file"),
        ("postgresql://u@127.0.0.1/x", "postgresql://u@127.0.0.1/x", "not a sqlite:/// URL"),
        (f"sqlite:///{path}", f"sqlite:///{path}", "not a postgresql:// URL"),
        (f"sqlite:///{path}", "mysql://u@h/x", "a storage URL is sqlite:///PATH or postgresql://"),
        (
            f"sqlite:///{path}",
            "env:INGESTD_TEST_NOT_SET",
            "environment variable INGESTD_TEST_NOT_SET is not set",
        ),
        (
            f"sqlite:///{path}",
            "postgresql://u:hunter2@127.0.0.1:1/x",
            "DST postgresql://u:***@127.0.0.1:1/x: ",
        ),
    ]
    for source, target, reason in cases:
        code, out, err = _copy(capsys, source, target)
        assert (code, out) == (1, ""), target
        assert err.startswith("storage copy: ") and reason in err and len(err.splitlines()) == 1, err
        assert "hunter2" not in err


def test_a_copy_beside_a_writing_daemon_is_one_consistent_snapshot(tmp_path: Path, pg_url: str) -> None:
    """Every event's story version is there, and nothing half-written: the source is read
    in one transaction while another connection keeps writing polls."""
    from ingestd.storage_copy import copy

    path = tmp_path / "ingestd.db"
    _install(path)
    stop = threading.Event()

    def writer() -> None:  # each poll's row and the feed's etag saying how many, in one transaction
        store = Store(path)
        n = 0
        while not stop.is_set():
            n += 1
            poll = PollWrite("feed-0", "2026-01-01T13:00:00Z", n, 304, 0)
            compose.apply_alone(store, [poll, FeedUpdate.of("feed-0", {"etag": f'"w{n}"'})])
        store.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        wait_for(lambda: _writer_polls(path) >= 3, "the writer to write")
        copied = copy(f"sqlite:///{path}", pg_url, batch=7)
    finally:
        stop.set()
        thread.join(30)
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM polls").fetchone()[0] == dict(copied.tables)["polls"]
        written = conn.execute("SELECT count(*) FROM polls WHERE status = 304").fetchone()[0]
        etag = conn.execute("SELECT etag FROM feeds WHERE id = 'feed-0'").fetchone()[0]
    assert written >= 3 and etag == f'"w{written}"'


def _writer_polls(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("SELECT count(*) FROM polls WHERE status = 304").fetchone()[0])
    finally:
        conn.close()


def test_sqlite_internals_stay_behind_and_a_column_with_nowhere_to_go_is_refused() -> None:
    schema = {
        "stories": "CREATE TABLE stories (id TEXT)",
        "stories_fts": "CREATE VIRTUAL TABLE stories_fts USING fts5(headline)",
        "stories_fts_data": "CREATE TABLE 'stories_fts_data'(id INTEGER PRIMARY KEY, block BLOB)",
        "stories_fts_ids": "CREATE TABLE stories_fts_ids (rowid INTEGER PRIMARY KEY, story_id TEXT)",
        "schema_migrations": "CREATE TABLE schema_migrations (name TEXT)",
        "sqlite_sequence": "CREATE TABLE sqlite_sequence(name,seq)",
    }
    assert sqlite_only(schema) == set(schema) - {"stories"}
    target = {"stories": ("id", "headline"), "host_slots": ("host",)}
    assert [t.columns for t in plan({"stories": ("id",)}, {"stories": 3}, target)] == [("id",)]
    assert plan({"stories": ("id", "secret")}, {"stories": 0}, target)[0].columns == ("id",)
    with pytest.raises(CopyError, match=r"stories\.secret has no counterpart"):
        plan({"stories": ("id", "secret")}, {"stories": 1}, target)
    assert plan({"scratch": ("x",)}, {"scratch": 0}, target) == []
