"""Unchanged polls (304, the same body again) share one write transaction for their history
rows and feed states; each poll still returns only once its own record is committed, and a
record that cannot be written fails only its own poll."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ingestd import unchanged
from ingestd.daemon import Daemon
from ingestd.models import FeedUpdate, PollWrite
from ingestd.store import Writer
from tests.support import daemon_config, local_feed, rss
from tests.support.daemon import poll

STARTED = "2026-03-01T12:00:00Z"


class Counted:
    """Counts the store's transactions."""

    def __init__(self, writer: Writer):
        self.count = 0
        store = writer.store
        opened = store.transaction

        @contextmanager
        def transaction() -> Iterator[None]:
            self.count += 1
            with opened():
                yield

        store.transaction = transaction  # type: ignore[method-assign]


def _feed(writer: Writer, feed_id: str) -> None:
    writer.store.db.execute(
        "INSERT INTO feeds (id, url, state, origin) VALUES (?, ?, 'ok', 'config')",
        [feed_id, f"https://example.com/{feed_id}"],
    )


def _record(feed_id: str, **fields: object) -> list[PollWrite | FeedUpdate]:
    return [
        PollWrite(feed_id, STARTED, 3, 304, 0),
        FeedUpdate.of(feed_id, {"etag": '"v2"', **fields}),
    ]


def test_records_that_arrive_together_share_one_transaction(tmp_path: Path) -> None:
    async def scenario() -> int:
        writer = Writer(tmp_path / "db.sqlite")
        try:
            for n in range(20):
                _feed(writer, f"f{n}")
            counted = Counted(writer)
            polls = unchanged.UnchangedPolls(writer)
            await asyncio.gather(*(polls.record(_record(f"f{n}")) for n in range(20)))
            db = writer.store.db
            assert db.execute("SELECT count(*) FROM polls WHERE status = 304").fetchone()[0] == 20
            assert db.execute("SELECT count(*) FROM feeds WHERE etag = '\"v2\"'").fetchone()[0] == 20
            await polls.close()
            return counted.count
        finally:
            writer.close()

    assert asyncio.run(asyncio.wait_for(scenario(), 10)) == 1


def test_a_record_that_cannot_be_written_fails_only_its_own_poll(tmp_path: Path) -> None:
    async def scenario() -> list[BaseException | None]:
        writer = Writer(tmp_path / "db.sqlite")
        try:
            for n in range(3):
                _feed(writer, f"f{n}")
            polls = unchanged.UnchangedPolls(writer)
            records = [_record("f0"), _record("f1", no_such_column=1), _record("f2")]
            outcomes = await asyncio.gather(*(polls.record(r) for r in records), return_exceptions=True)
            count = writer.store.db.execute("SELECT count(*) FROM polls").fetchone()[0]
            assert count == 2  # the good two, each alone after the shared transaction failed
            return outcomes
        finally:
            writer.close()

    first, bad, last = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert first is None and last is None
    assert isinstance(bad, sqlite3.OperationalError) and "no_such_column" in str(bad)


def test_daemon_polls_of_an_unchanged_body_write_their_records_together(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five feeds polled at once, then again (the same body, no validators): each poll has
    its history row and its state (lease ended, next poll set) when it returns, and the
    second round's five records took one transaction (the batch written when full, so
    however slowly the machine runs)."""
    monkeypatch.setattr(unchanged, "MOST", 5)
    monkeypatch.setattr(unchanged, "WINDOW_S", 30.0)
    body = rss(("a-1", "First story"), ("a-2", "Second story"))

    async def scenario(url: str) -> tuple[int, int]:
        feeds = [(f"f{n}", f"{url}?n={n}") for n in range(5)]
        async with Daemon(daemon_config(tmp_path, feeds=feeds)).open() as daemon:
            store = daemon.writer.store
            await asyncio.gather(*(poll(daemon, f) for f, _ in feeds))
            before = store.db.execute("SELECT max(id) FROM polls").fetchone()[0]
            counted = Counted(daemon.writer)
            await asyncio.gather(*(poll(daemon, f) for f, _ in feeds))
            rows = store.db.execute(
                "SELECT count(*) FROM polls WHERE id > ? AND status = 200 AND new = 0 AND error IS NULL",
                [before],
            ).fetchone()[0]
            for feed_id, _ in feeds:
                state = store.get_feed(feed_id)
                assert state.state == "ok" and state.next_poll_at is not None
            leased = store.db.execute("SELECT count(*) FROM feeds WHERE lease_owner IS NOT NULL")
            assert leased.fetchone()[0] == 0
            return rows, counted.count

    with local_feed(body) as feed:
        rows, transactions = asyncio.run(asyncio.wait_for(scenario(feed.url), 60))
    assert rows == 5
    assert transactions == 1
