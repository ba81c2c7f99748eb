"""Replica processes sharing feed leases on one PostgreSQL, one of them killed -9 mid-round
and restarted: no feed is ever polled by two replicas at once, and the dead one's feeds
are polled again once its leases end. The store level of issue 13's multi-replica test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest

from ingestd.models import FeedConfig
from ingestd.store.pg import PgStore
from tests.support import wait_for
from tests.support.postgres import postgres_schema

pytestmark = pytest.mark.slow

# A replica's round: claim, "poll" each feed (a pause), write its fenced FeedUpdate, and log
# the poll with whether the write landed. Runs until killed or for `seconds`.
REPLICA = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime, timedelta
    import psycopg
    from ingestd.models import FeedUpdate
    from ingestd.store.pg import PgStore

    url, owner, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    store = PgStore(url)
    log = psycopg.connect(url, autocommit=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for feed in store.claim_due(datetime.now(UTC), 4, owner=owner, lease=timedelta(seconds=1.5)):
            began = datetime.now(UTC)
            time.sleep(0.02)
            later = (datetime.now(UTC) + timedelta(seconds=0.3)).isoformat()
            with store.transaction():
                landed = store._write_feed(FeedUpdate.of(feed.id, {"next_poll_at": later}, owner))
            log.execute(
                "INSERT INTO polls_log VALUES (%s, %s, %s, %s, %s)",
                [feed.id, owner, began, datetime.now(UTC), landed],
            )
        time.sleep(0.01)
    """
)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


def _replica(url: str, owner: str, seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", REPLICA, url, owner, str(seconds)], env=dict(os.environ))


def test_three_replica_processes_one_killed_and_restarted(pg_url: str) -> None:
    store = PgStore(pg_url)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(60):
        store.add_feed(FeedConfig(f"f{i:02d}", f"https://h{i % 5}.example/{i}"), "api", start)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE polls_log (feed text, owner text, began timestamptz, ended timestamptz, landed bool)"
        )
        replicas = [_replica(pg_url, f"r{i}", 8) for i in range(3)]
        wait_for(
            lambda: conn.execute("SELECT count(*) FROM polls_log WHERE owner = 'r0'").fetchone()[0] > 5, 30
        )
        replicas[0].send_signal(signal.SIGKILL)  # mid-round: it dies holding leases
        replicas[0].wait(10)
        killed_at = datetime.now(UTC)
        restarted = _replica(pg_url, "r0-again", 4)
        for proc in [*replicas[1:], restarted]:
            assert proc.wait(60) == 0
        rows = conn.execute(
            "SELECT feed, owner, began, ended, landed FROM polls_log ORDER BY began"
        ).fetchall()
    store.close()

    landed = [r for r in rows if r[4]]
    by_feed: dict[str, list[tuple[str, datetime, datetime]]] = {}
    for feed, owner, began, ended, _ in landed:
        by_feed.setdefault(feed, []).append((owner, began, ended))
    for feed, polls in by_feed.items():
        for (owner_a, _, end_a), (owner_b, began_b, _) in zip(polls, polls[1:], strict=False):
            assert began_b >= end_a or owner_a == owner_b, f"{feed} polled by {owner_a} and {owner_b} at once"
    assert len({r[1] for r in landed}) == 4  # r1, r2, the killed r0 before it died, and its restart
    after_kill = {r[0] for r in landed if r[2] > killed_at}
    assert after_kill == {f"f{i:02d}" for i in range(60)}  # the dead replica's feeds included
