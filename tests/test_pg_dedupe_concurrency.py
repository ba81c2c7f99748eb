"""Dedupe stays exact across replicas (issue 13): replicas writing the same story through
their own feeds at the same moment, through the real composer, store it once, and its
near-copies make one cluster with exactly one first_of_cluster."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ingestd import compose, dedupe
from ingestd.models import LiveSubscription, Story
from ingestd.store.pg import PgStore
from tests.support.postgres import postgres_schema
from tests.support.store import story

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
REPLICAS = 3
DESKS = ("north", "south", "east")  # words, not numbers: numbers that differ make another story
ROUNDS = 20
WORDS = (
    "minister harbour council budget storm rescue election market shares port rail grain "
    "talks border court ruling strike union wage energy price summit coast flood vote"
).split()


class _Replica(PgStore):
    """A replica with no subscriptions: this test is about stories, not deliveries."""

    def live_subscriptions(self) -> list[LiveSubscription]:
        return []


@pytest.fixture
def replicas() -> Iterator[list[_Replica]]:
    with postgres_schema() as url:
        stores = [_Replica(url) for _ in range(REPLICAS)]
        try:
            yield stores
        finally:
            for store in stores:
                store.close()


def _text(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(80)) + "."


def _poll(replica: int, round_: int, exact: str, near: str) -> list[Story]:
    """What replica `replica`'s feed serves this round: the same wire story as every other
    feed, and its own edit of another one (a near-copy: another story, the same cluster)."""
    published = NOW + timedelta(minutes=round_)
    feed = f"wire{replica}"
    return [
        story(
            feed_id=feed,
            guid=f"a{round_}",
            url=f"https://{feed}.example/a{round_}",
            headline=f"Exact {round_}",
            body=exact,
            published=published,
        ),
        story(
            feed_id=feed,
            guid=f"b{round_}",
            url=f"https://{feed}.example/b{round_}",
            headline=f"Near {round_}",
            body=f"{near} Filed by the {DESKS[replica]} desk.",
            published=published,
        ),
    ]


def test_replicas_ingesting_the_same_story_at_once_store_it_once_in_one_cluster(
    replicas: list[_Replica],
) -> None:
    rng = random.Random(13)
    errors: list[BaseException] = []
    start = threading.Barrier(REPLICAS, timeout=60)

    def ingest(store: _Replica, polls: list[Story], now: datetime) -> None:
        try:
            prepared = compose.prepare(polls, dedupe.DEFAULT_SETTINGS, now)
            start.wait()
            compose.write_batch(store, prepared, now)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    for round_ in range(ROUNDS):
        exact, near = _text(rng), _text(rng)
        now = NOW + timedelta(minutes=round_)
        threads = [
            threading.Thread(target=ingest, args=(store, _poll(i, round_, exact, near), now))
            for i, store in enumerate(replicas)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not errors, errors
        assert not any(thread.is_alive() for thread in threads)

    rows = replicas[0]._rows(
        "SELECT headline, count(*) AS stories, count(DISTINCT cluster_id) AS clusters, "
        "sum(first_of_cluster) AS firsts FROM stories GROUP BY headline"
    )
    found = {row["headline"]: (row["stories"], row["clusters"], row["firsts"]) for row in rows}
    expected = {f"Exact {r}": (1, 1, 1) for r in range(ROUNDS)} | {
        f"Near {r}": (REPLICAS, 1, 1) for r in range(ROUNDS)
    }
    assert found == expected
    # one created event per story; every feed's keys name a story, each key once
    assert replicas[1].count("events") == replicas[1].count("stories") == ROUNDS * (1 + REPLICAS)
    keys = [f"guid:wire{i}:{kind}{r}" for i in range(REPLICAS) for kind in "ab" for r in range(ROUNDS)]
    assert replicas[2].known_keys(keys) == frozenset(keys)
    duplicated = replicas[2]._rows("SELECT key FROM story_keys GROUP BY key HAVING count(*) > 1")
    assert duplicated == []
