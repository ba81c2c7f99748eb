"""The outbox guarantee end to end: a daemon process killed with SIGKILL in the middle
of a burst, then restarted, still delivers every stored event at least once, and a
duplicate carries the same webhook-id.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ROOT, local_feed, rss, wait_for, write_config
from tests.support.processes import clean_env
from tests.support.webhooks import SECRET, receiving

DAEMON = [sys.executable, "-m", "ingestd", "run", "--config"]
TOTAL = 80  # stories in the feed, stored by its first poll: the burst


@pytest.fixture
def feed() -> Iterator[str]:
    with local_feed(rss(*((f"s{n}", f"Story {n}") for n in range(TOTAL)))) as served:
        yield served.url


def _event_ids(db: Path) -> set[str]:
    try:
        with sqlite3.connect(db) as conn:
            return {r[0] for r in conn.execute("SELECT id FROM events")}
    except sqlite3.Error:  # not created yet
        return set()


def _undelivered(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM deliveries WHERE state != 'delivered'").fetchone()[0]


def test_sigkill_mid_burst_then_restart_delivers_every_event(tmp_path: Path, feed: str) -> None:
    db = tmp_path / "ingestd.db"
    with receiving(delay=0.03) as receiver:
        config = write_config(
            tmp_path,
            f"""
            [storage]
            path = "ingestd.db"
            [log]
            format = "json"
            [fetch]
            allow_private = ["127.0.0.1"]
            [scheduler]
            tick = "200ms"
            [http]
            listen = "127.0.0.1:0"
            [webhooks]
            timeout = "1s"
            [[feeds]]
            id = "wire"
            url = "{feed}"
            interval = "1m"
            [[subscriptions]]
            id = "newsroom"
            url = "{receiver.url}"
            secret = "{SECRET}"
        """,
        )
        env = clean_env()
        first = subprocess.Popen([*DAEMON, str(config)], cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: len(receiver.received) >= 30, "the burst to be under way", timeout=15)
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        finally:
            first.kill()
        received_at_kill = set(receiver.ids)
        assert len(_event_ids(db)) == TOTAL
        assert 30 <= len(received_at_kill) < TOTAL  # killed mid-burst

        second = subprocess.Popen(
            [*DAEMON, str(config)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
        )
        try:
            wait_for(lambda: _undelivered(db) == 0, "every delivery to be recorded", timeout=15)
            second.send_signal(signal.SIGTERM)
            assert second.wait(timeout=10) == 0
        finally:
            second.kill()
            _, stderr = second.communicate()
        assert '"event": "webhook attempt"' in stderr
        stored = _event_ids(db)
        assert set(receiver.ids) == stored  # every stored event; nothing that was not stored
        assert receiver.unverified == 0
        for request in receiver.received:  # a duplicate is the same event under the same id
            assert request.event["id"] == request.webhook_id
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
