"""The storage port's feed leases, the same tests on both engines (docs/storage.md), and
what only PostgreSQL has to do: replicas claiming at once, migrating once, sharing hosts."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ingestd.models import FeedConfig, FeedUpdate
from tests.support.engines import ENGINES, open_engine
from tests.support.postgres import postgres_schema

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with open_engine(request.param, tmp_path) as engine:
        yield engine


def _feeds(store: Any, count: int, at: datetime = NOW) -> list[str]:
    ids = [f"f{i:03d}" for i in range(count)]
    for i, feed_id in enumerate(ids):
        store.add_feed(
            FeedConfig(feed_id, f"https://h{i % 3}.example/{feed_id}"), "api", at + timedelta(seconds=i)
        )
    return ids


def _write(store: Any, update: FeedUpdate) -> None:
    with store.transaction():
        store.apply([update])


def test_claims_take_due_feeds_in_due_order_and_only_due_ones(store: Any) -> None:
    ids = _feeds(store, 5)
    claimed = store.claim_due(NOW + timedelta(seconds=2), 10, owner="a", lease=LEASE)
    assert [f.id for f in claimed] == ids[:3]
    assert [f.id for f in store.claim_due(NOW, 10, all_feeds=True, owner="b", lease=LEASE)] == ids[3:]


def test_a_leased_feed_is_nobody_elses_until_the_lease_ends(store: Any) -> None:
    _feeds(store, 2)
    assert len(store.claim_due(NOW + timedelta(seconds=5), 10, owner="a", lease=LEASE)) == 2
    assert store.claim_due(NOW + LEASE, 10, owner="b", lease=LEASE) == []
    after = store.claim_due(NOW + timedelta(seconds=5) + LEASE, 10, owner="b", lease=LEASE)
    assert [f.id for f in after] == ["f000", "f001"]


def test_released_feeds_are_due_again_at_once(store: Any) -> None:
    _feeds(store, 2)
    store.claim_due(NOW + timedelta(seconds=5), 10, owner="a", lease=LEASE)
    store.release_feeds(["f001"], NOW)
    assert [f.id for f in store.claim_due(NOW + timedelta(seconds=6), 10, owner="b", lease=LEASE)] == ["f001"]


def test_a_write_by_a_replica_whose_lease_was_taken_over_is_dropped(store: Any) -> None:
    _feeds(store, 1)
    store.claim_due(NOW, 1, owner="a", lease=LEASE)
    store.claim_due(NOW + LEASE, 1, owner="b", lease=LEASE)  # a's lease ran out: b polls
    _write(store, FeedUpdate.of("f000", {"etag": '"from-a"'}, lease_owner="a"))
    assert store.get_feed("f000").etag is None
    _write(store, FeedUpdate.of("f000", {"etag": '"from-b"', "last_poll_at": "2026-01-01T12:05:00Z"}, "b"))
    feed = store.get_feed("f000")
    assert feed.etag == '"from-b"' and feed.last_poll_at == NOW + LEASE
    # b's write ended its lease: the feed is claimable at once
    assert [f.id for f in store.claim_due(NOW + LEASE, 1, owner="c", lease=LEASE)] == ["f000"]


def test_an_unfenced_write_always_lands(store: Any) -> None:
    _feeds(store, 1)
    _write(store, FeedUpdate.of("f000", {"state": "parked", "error_count": 7}))
    feed = store.get_feed("f000")
    assert (feed.state, feed.error_count) == ("parked", 7)
    assert store.claim_due(NOW + timedelta(hours=1), 10, owner="a", lease=LEASE) == []


# ── PostgreSQL only: several replicas on one database ────────────────────────


def test_replicas_claiming_at_once_never_share_a_feed(pg_url: str) -> None:
    from ingestd.store.pg import PgStore

    seed = PgStore(pg_url)
    ids = _feeds(seed, 200)
    claims: dict[str, list[str]] = {}

    def replica(owner: str) -> None:
        engine = PgStore(pg_url)
        mine = claims.setdefault(owner, [])
        while batch := engine.claim_due(NOW + timedelta(hours=1), 7, owner=owner, lease=LEASE):
            mine.extend(f.id for f in batch)
        engine.close()

    threads = [threading.Thread(target=replica, args=(f"r{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    every = [feed_id for mine in claims.values() for feed_id in mine]
    assert sorted(every) == ids  # each feed once, none lost
    assert sum(1 for mine in claims.values() if mine) >= 2  # they did claim side by side
    seed.close()


def test_replicas_starting_together_migrate_once(pg_url: str) -> None:
    from ingestd.store.pg import PgStore

    engines: list[Any] = []
    barrier = threading.Barrier(3)

    def start() -> None:
        barrier.wait(10)
        engines.append(PgStore(pg_url))

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(name for e in engines for name in e.applied) == sorted(
        name for name, _ in PgStore.migrations
    )
    for engine in engines:
        engine.close()


def test_host_slots_bound_a_hosts_fetches_across_replicas_and_keep_its_delay(pg_url: str) -> None:
    from ingestd.store.pg import PgStore

    a, b = PgStore(pg_url), PgStore(pg_url)
    hold, delay = timedelta(seconds=30), timedelta(seconds=2)
    first = a.take_host_slot("h.example", "a", 2, NOW, hold)
    second = b.take_host_slot("h.example", "b", 2, NOW, hold)
    assert {first, second} == {0, 1}
    assert b.take_host_slot("h.example", "b", 2, NOW, hold) is None  # 2 at once, whoever asks
    assert a.take_host_slot("other.example", "a", 2, NOW, hold) == 0
    a.give_host_slot("h.example", first, "a", NOW, delay)
    assert b.take_host_slot("h.example", "b", 2, NOW + timedelta(seconds=1), hold) is None  # its delay
    assert b.take_host_slot("h.example", "b", 2, NOW + delay, hold) == first
    assert a.take_host_slot("h.example", "a", 2, NOW + hold, hold) == second  # b died holding it: expired
    a.close()
    b.close()


def test_a_periodic_job_runs_on_one_replica_at_a_time(pg_url: str) -> None:
    from ingestd.store.pg import PgStore

    a, b = PgStore(pg_url), PgStore(pg_url)
    with a.periodic("retention") as mine:
        assert mine
        with b.periodic("retention") as theirs, b.periodic("fingerprint") as other:
            assert not theirs and other
    with b.periodic("retention") as theirs:
        assert theirs
    a.close()
    b.close()


def test_a_notify_wakes_a_listener(pg_url: str) -> None:
    from ingestd.store.pg import PgStore

    engine = PgStore(pg_url)
    with engine.listening("ingestd_events") as conn:
        engine.notify("ingestd_events", "42")
        woken = [n.payload for n in conn.notifies(timeout=5, stop_after=1)]
    assert woken == ["42"]
    engine.close()


def test_the_database_check_is_ok_on_a_writable_database(store: Any) -> None:
    assert store.database_check() == "ok"


def test_the_postgresql_check_names_an_unreachable_server() -> None:
    from psycopg_pool import ConnectionPool

    from ingestd.store.pg import PgStore

    engine = PgStore.__new__(PgStore)  # built by hand: its constructor would migrate, and fail
    engine.pool = ConnectionPool("postgresql://postgres@127.0.0.1:1/none", min_size=0, max_size=1, open=True)
    try:
        assert engine.database_check().startswith("PostgreSQL: ")
    finally:
        engine.pool.close()
