"""Three real `ingestd run` replicas on one PostgreSQL, polling a newsroom of a few hundred
feeds on five loopback hosts that publish every round, delivering to a verifying webhook
receiver; one replica is killed -9 mid-round and started again. Afterwards: no feed was
polled by two replicas at once, per-host concurrency held across replicas, every story
is stored once, every event was delivered under its one webhook-id, and every cluster
has exactly one first_of_cluster (issue 13's multi-replica test, at the daemon level)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.support import free_port, wait_for, write_config
from tests.support.newsroom import Newsroom, Request
from tests.support.postgres import postgres_schema
from tests.support.processes import INGESTD, clean_env
from tests.support.webhooks import Receiver, receiving, subscription

pytestmark = pytest.mark.slow

FEEDS = 200
PER_HOST = 2  # [fetch] per_host_limit: what the hosts may see at once, all replicas together
TIMEOUT_S = 2  # [fetch] timeout: a lease is 2 x this + 30 s


@pytest.fixture
def newsroom() -> Iterator[Newsroom]:
    room = Newsroom(FEEDS, hosts=5, round_s=2.0).start()
    yield room
    room.stop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


def _config(tmp_path: Path, room: Newsroom, receiver: Receiver) -> Path:
    text = (
        '[log]\nformat = "json"\n'
        f'[fetch]\nallow_private = ["127.0.0.0/8"]\nper_host_limit = {PER_HOST}\ntimeout = "{TIMEOUT_S}s"\n'
        '[scheduler]\ntick = "200ms"\nmin_interval = "1s"\nmax_interval = "3s"\nworkers = 8\n'
        f"[[subscriptions]]\n{subscription('desk', receiver.url)}\n"
    )
    for n in range(FEEDS):
        text += f'[[feeds]]\nid = "f{n:03d}"\nurl = "{room.url(n)}"\ninterval = "1s"\n'
    return write_config(tmp_path, text)


class Replica:
    def __init__(self, name: str, tmp_path: Path, config: Path, url: str):
        self.name = name
        self.log = tmp_path / f"{name}.log"
        env = clean_env(
            INGESTD_STORAGE_URL=url,
            INGESTD_HTTP_LISTEN=f"127.0.0.1:{free_port()}",
            INGESTD_FETCH_USER_AGENT=name,
        )
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [*INGESTD, "run", "--config", str(config)], cwd=tmp_path, env=env, stdout=out, stderr=out
            )

    def lines(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:  # the line a kill -9 cut
                    pass
        return found


def _polled_since(url: str, since: float) -> int:
    """Feeds with a poll (history row) started after `since`."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(DISTINCT feed_id) FROM polls WHERE started_at > to_timestamp(%s)", [since]
        ).fetchone()
    return int(row[0]) if row else 0


def _overlaps(windows: dict[str, list[tuple[float, float, str]]]) -> list[str]:
    """Feeds that two pollers had in hand at the same moment."""
    found = []
    for feed, spans in windows.items():
        spans.sort()
        for (_, end_a, who_a), (start_b, _, who_b) in zip(spans, spans[1:], strict=False):
            if who_a != who_b and start_b < end_a:
                found.append(f"{feed}: {who_a} until {end_a:.3f}, {who_b} from {start_b:.3f}")
    return found


def test_three_replicas_share_a_newsroom_one_killed_and_restarted(
    tmp_path: Path, newsroom: Newsroom, pg_url: str
) -> None:
    with receiving() as receiver:
        config = _config(tmp_path, newsroom, receiver)
        replicas = [Replica(f"replica-{i}", tmp_path, config, pg_url) for i in range(3)]
        try:
            # mid-round: the first replica dies holding leases and host slots
            wait_for(
                lambda: sum(r.agent == "replica-0" for r in newsroom.requests) >= 30, "replica-0 polls", 90
            )
            replicas[0].proc.send_signal(signal.SIGKILL)
            replicas[0].proc.wait(10)
            killed_at = time.time()
            replicas.append(Replica("replica-0-again", tmp_path, config, pg_url))
            wait_for(lambda: newsroom.round() >= 4, "four rounds published", 60)
            last = newsroom.freeze()
            frozen_at = time.time()
            # every feed polled since, the dead replica's too once its leases ended (~34 s)
            wait_for(lambda: _polled_since(pg_url, frozen_at + 0.5) == FEEDS, "every feed polled again", 90)
            with psycopg.connect(pg_url, autocommit=True) as conn:
                events = {row[0] for row in conn.execute("SELECT id FROM events")}
            wait_for(
                lambda: events <= {r.event["id"] for r in receiver.received}, "every event delivered", 60
            )
        finally:
            for replica in replicas[1:]:
                replica.proc.send_signal(signal.SIGTERM)
            codes = {r.name: r.proc.wait(30) for r in replicas[1:]}
        with psycopg.connect(pg_url, autocommit=True) as conn:
            stories = conn.execute(
                "SELECT url, headline, cluster_id, first_of_cluster FROM stories"
            ).fetchall()
        received = list(receiver.received)
        unverified = receiver.unverified

    assert codes == dict.fromkeys(codes, 0)
    requests: list[Request] = list(newsroom.requests)
    agents = {r.agent for r in requests}
    assert agents == {"replica-0", "replica-1", "replica-2", "replica-0-again"}  # all shared the work

    # no feed was polled by two replicas at once: neither its fetches (the newsroom's log)…
    fetches: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for r in requests:
        fetches[r.feed].append((r.started, r.ended, r.agent))
    assert _overlaps(fetches) == []
    # …nor its whole polls, fetch to write (each replica's poll lines)
    polls: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for replica in replicas:
        for line in replica.lines():
            if line.get("event") == "poll":
                end = datetime.fromisoformat(line["timestamp"]).timestamp()
                polls[line["feed_id"]].append((end - line["duration_ms"] / 1000, end, replica.name))
    assert _overlaps(polls) == []
    # the killed replica's feeds went to the others (after its leases ended)
    assert any(r.started > killed_at and r.agent != "replica-0" for r in requests)

    # per-host concurrency held across the replicas
    assert max(newsroom.max_in_flight.values()) <= PER_HOST, newsroom.max_in_flight

    # every story stored once, and every one published is there
    urls = [s[0] for s in stories]
    assert len(urls) == len(set(urls)), "a story stored twice"
    own = {Newsroom.own_link(n, k) for n in range(FEEDS) for k in range(last + 1)}
    assert own <= set(urls), f"{len(own - set(urls))} published stories missing"

    # one cluster per shared story, and exactly one first_of_cluster in every cluster
    for k in range(last + 1):
        clusters = {s[2] for s in stories if s[1] == Newsroom.shared_headline(k)}
        assert len(clusters) == 1, f"shared story {k} in clusters {clusters}"
    firsts: dict[str, int] = defaultdict(int)
    for _, _, cluster, first in stories:
        firsts[cluster] += int(first)
    assert set(firsts.values()) == {1}, {c: n for c, n in firsts.items() if n != 1}

    # every event delivered, each under its one webhook-id, every signature verified
    assert unverified == 0
    ids: dict[str, set[str]] = defaultdict(set)
    for r in received:
        ids[r.event["id"]].add(r.webhook_id)
    assert events <= ids.keys()
    assert all(len(webhook_ids) == 1 for webhook_ids in ids.values())
