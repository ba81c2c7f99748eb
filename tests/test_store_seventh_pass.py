"""The seventh pass' cheaper forms of prepare and the cluster path give what the plain ones gave."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pytest
import xxhash

from ingestd import compose, ninjs
from ingestd.dedupe import _clusters, _fingerprint
from ingestd.dedupe._clusters import Candidate, Placement, containment, place
from ingestd.dedupe._fingerprint import Fingerprint
from ingestd.events import draft
from ingestd.models import Story

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def sorted_fingerprint(values: set[int], numbers: dict[Any, frozenset[str]] | None = None) -> Fingerprint:
    hashes = np.array(sorted(values), dtype=np.uint64).astype("<u8").tobytes()
    return Fingerprint(hashes, numbers or {}, ())


def set_containment(a: Fingerprint, b: Fingerprint) -> float:
    return len(a.shingles & b.shingles) / min(len(a.shingles), len(b.shingles))


def max_of_matches(story_id: str, found: Fingerprint, candidates: list[Candidate]) -> Placement:
    """`place` as it was: every same-story candidate, then the closest by max()."""
    matches = [c for c in candidates if _clusters.same_story(found, c.fingerprint)]
    if matches:
        best = max(matches, key=lambda c: set_containment(found, c.fingerprint))
        return Placement(best.cluster, False)
    return Placement(story_id, True)


@pytest.mark.parametrize("seed", range(40))
def test_containment_by_bisection_is_the_share_of_shared_hashes(seed: int) -> None:
    rng = random.Random(seed)
    pool = [rng.getrandbits(64) for _ in range(400)] + [0, 2**64 - 1]
    a = set(rng.sample(pool, rng.randint(1, 200)))
    b = set(rng.sample(pool, rng.randint(1, 200))) | set(rng.sample(sorted(a), rng.randint(0, len(a))))
    x, y = sorted_fingerprint(a), sorted_fingerprint(b)
    assert containment(x, y) == set_containment(x, y)
    assert containment(y, x) == set_containment(y, x)
    assert containment(x, x) == 1.0


@pytest.mark.parametrize("seed", range(40))
def test_place_picks_the_candidate_max_picked(seed: int) -> None:
    rng = random.Random(seed)
    base = {rng.getrandbits(64) for _ in range(60)}
    found = sorted_fingerprint(base, {("b", "rose", "points"): frozenset({"#12"})})
    candidates = []
    for n in range(rng.randint(0, 8)):
        kept = set(rng.sample(sorted(base), rng.choice([20, 39, 45, 52, 60])))
        numbers = {("b", "rose", "points"): frozenset({rng.choice(["#12", "#13"])})}
        candidates.append(Candidate(f"st_{n}", f"cl_{n % 3}", sorted_fingerprint(kept, numbers)))
    assert place("st_new", found, candidates) == max_of_matches("st_new", found, candidates)


def test_words_are_hashed_each_a_number_by_its_form() -> None:
    words = ["shares", "rose", "2,186.45", "points", "rose", "12:30"]
    places = _fingerprint._number_places(words)
    numbers = _fingerprint._forms(words[i] for i in places)
    assert (places, numbers) == ([2, 5], {"2,186.45": "#218645", "12:30": "#1230"})
    expected = [
        xxhash.xxh3_64_intdigest(w.encode()) for w in ["shares", "rose", "#218645", "points", "rose", "#1230"]
    ]
    assert _fingerprint._word_hashes(words, places, numbers).tolist() == expected


DOCUMENTS: list[tuple[dict[Any, Any], tuple[str, ...]]] = [
    ({"uri": "", "version": "", "a": 1, "b": [1, 2.5, None], "c": 'é\u2028"x"', 3: True}, ("uri", "version")),
    ({"a": {"nested": ["ü", {"k": False}]}, "uri": "", "z": 1e100, "version": ""}, ("uri", "version")),
    ({"uri": ""}, ("uri",)),
    ({"a": "only", "b": -0.0}, ()),
    (
        {"feed": "f", "source": None, "url": "https://x/é", "version": 0, "cluster": "", "x": []},
        ("version", "cluster"),
    ),
]


@pytest.mark.parametrize(("document", "filled"), DOCUMENTS)
def test_a_form_dumps_what_json_dumps_gives(document: dict[Any, Any], filled: tuple[str, ...]) -> None:
    finished = {**document, **{key: f"filled {key} ✓" for key in filled}}
    expected = json.dumps(finished, ensure_ascii=False, separators=(",", ":"))
    assert compose._form(document, filled).dumps(finished) == expected


def test_ordered_gives_the_schema_order_for_every_shape(monkeypatch: pytest.MonkeyPatch) -> None:
    rank = ninjs._key_order()

    def by_sort(doc: dict[str, Any]) -> list[str]:
        return sorted(doc, key=lambda k: (rank.get(k, len(rank)), k))

    monkeypatch.setattr(ninjs, "_ORDERS", 4)  # the memory starts afresh past its bound
    rng = random.Random(7)
    keys = [*list(rank)[:30], "zz-unknown", "aa-unknown"]
    for _ in range(60):
        doc = {key: n for n, key in enumerate(rng.sample(keys, rng.randint(0, 12)))}
        result = ninjs.ordered(doc)
        assert list(result) == by_sort(doc)
        assert result == doc
        assert len(ninjs._orders) <= 4


def test_the_checked_document_is_the_events_story() -> None:
    story = Story(
        feed_id="wire",
        source="Wire",
        guid="g1",
        url="https://wire.example/1",
        headline="Headline",
        body_text="Body text",
        ninjs={"headline": "Headline", "type": "text", "language": "en"},
    )
    drafted = draft(story)
    event = drafted.event("created", "st_1", 2, NOW)
    assert drafted.story("st_1", 2, NOW) == event["data"]["story"]
    assert list(drafted.story("st_1", 2, NOW)) == list(event["data"]["story"])
    assert event["data"]["story"]["firstCreated"] == event["timestamp"]
