"""The storage port's story part on both engines (docs/storage.md): the composer run on
each gives the same stories, events and answers; the same intents give byte-identical
event bodies; purge keeps tombstones; /stories pages and searches alike."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from ingestd import compose, dedupe
from ingestd.api._query import fts_query
from ingestd.models import FeedUpdate, Intent, Story
from ingestd.store._reads import StoryQuery
from tests.support.engines import ENGINES, open_engine
from tests.support.store import WIRE, story
from tests.support.stories import story as numbered

NOW = datetime(2020, 1, 9, 0, 31, 2, tzinfo=UTC)


def _stories_only(engine: Any) -> Any:
    """These tests are the story part's: no subscription gets deliveries (the webhooks
    part's contract tests cover those)."""
    engine.live_subscriptions = list
    return engine


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with open_engine(request.param, tmp_path) as engine:
        yield _stories_only(engine)


@pytest.fixture
def both(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    with open_engine("sqlite", tmp_path) as sqlite, open_engine("postgresql", tmp_path) as pg:
        yield _stories_only(sqlite), _stories_only(pg)


def _kinds(changes: list[Any]) -> list[str]:
    return [c.kind for c in changes]


def _history(store: Any) -> list[list[tuple[Any, ...]]]:
    """A feed's life as the composer sees it: versions, policy switches, copies through
    other feeds, near-duplicates, a repeated guid, an item version, an embargo."""
    polls: list[tuple[list[Story], datetime]] = [
        ([story(guid=f"g{i}", url=f"https://example.org/{i}", body=f"Text {i}.") for i in range(3)], NOW),
        ([story(guid="g0", url="https://example.org/0", headline="Retitled", body="Text 0.")], NOW),
        ([story(feed_id="b", guid="1", url="https://b.example/x", body="Text 1.")], NOW),
        ([story(feed_id="a", guid="w", url="https://a.example/w", body=WIRE, published=NOW)], NOW),
        (
            [story(feed_id="c", guid="w", url="https://c.example/w", body=WIRE + "\n\n(END)", published=NOW)],
            NOW + timedelta(minutes=1),
        ),
        (
            [
                story(
                    feed_id="c",
                    guid="w",
                    url="https://c.example/w",
                    headline="(LEAD) Retitled",
                    body=WIRE + "\n\n(END)",
                    published=NOW,
                )
            ],
            NOW + timedelta(minutes=2),
        ),
        (
            [story(feed_id="d", guid="same", url=f"https://d.example/{i}", body=f"D {i}") for i in range(2)],
            NOW,
        ),
        (
            [
                dataclasses.replace(
                    story(feed_id="e", guid="v", body="Wire item, version 3."),
                    ingest={"item_version": 3, "embargo": "2020-01-10T00:00:00Z"},
                )
            ],
            NOW,
        ),
        *(
            (
                [
                    story(
                        feed_id="f",
                        guid=f"urn:poll{n}:item{i}",
                        url=f"https://f.example/{i}?utm_source={n}",
                        body=f"The text of story number {i}.",
                    )
                    for i in range(3)
                ],
                NOW + timedelta(minutes=5 * n),
            )
            for n in range(3)
        ),
    ]
    with capture_logs():
        return [
            [(c.kind, c.story_id, c.version, c.matched, c.event) for c in compose.save_stories(store, s, at)]
            for s, at in polls
        ]


def _answers(
    store: Any, keys: list[str], holders: list[tuple[str, str, str]], event_ids: list[str]
) -> dict[str, Any]:
    """Every story query's answer over what is stored."""
    stories = [row["id"] for row in store.list_stories(limit=100)]
    pages, after = [], None
    while True:
        page = store.stories_page(StoryQuery(limit=2, after=after))
        pages.append(page.stories)
        if page.next_after is None:
            break
        after = page.next_after
    fingerprint = dedupe.fingerprint("Surplus", WIRE)
    assert fingerprint is not None
    return {
        "policies": store.identity_policies(),
        "policy": store.identity_policy("f"),
        "found": [store.find_story([key]) for key in [*keys, "guid:none:none"]],
        "known": store.known_keys([*keys, "url:https://unknown.example/"]),
        "holders": [store.holder_of_text([key], feed, text) for key, feed, text in holders],
        "clusters": [store.story_cluster(s) for s in stories],
        "candidates": store.cluster_candidates(fingerprint.bands, int(NOW.timestamp()), 86_400, 20),
        "list": store.list_stories(limit=100),
        "list_f": store.list_stories(limit=2, feed_id="f"),
        "stories": [store.get_story(s) for s in stories],
        "documents": [store.story_document(s) for s in stories],
        "pages": pages,
        "per_day": store.stories_per_day(NOW - timedelta(days=1)),
        "bodies": store.event_bodies(event_ids),
        "after": store.stories_after("", 100),
        "counts": [
            store.count(t) for t in ("stories", "story_keys", "story_versions", "story_bands", "events")
        ],
    }


def test_the_composer_decides_the_same_on_both_engines_and_every_query_answers_the_same(
    both: tuple[Any, Any],
) -> None:
    sqlite, pg = both
    history = _history(sqlite)
    assert _history(pg) == history
    keys = [k for (k,) in sqlite.db.execute("SELECT key FROM story_keys ORDER BY key")]
    holders = sqlite.db.execute(
        "SELECT k.key, s.feed_id, v.content_hash FROM story_keys k JOIN stories s ON s.id = k.story_id "
        "JOIN story_versions v ON v.story_id = s.id ORDER BY 1, 3"
    ).fetchall()
    event_ids = [e for (e,) in sqlite.db.execute("SELECT id FROM events ORDER BY seq")]
    answers = _answers(sqlite, keys, holders, event_ids)
    assert answers["counts"][0] > 8 and any(f and f.item_version == 3 for f in answers["found"])
    for name, value in _answers(pg, keys, holders, event_ids).items():
        assert value == answers[name], name
    # the held event's time, in the outbox's form, on both
    held = sqlite.db.execute("SELECT not_before FROM events WHERE not_before IS NOT NULL").fetchall()
    assert [
        r["not_before"] for r in pg._rows("SELECT not_before FROM events WHERE not_before IS NOT NULL")
    ] == [r[0] for r in held]


class _Recording:
    """A store that remembers the intents it applied, to apply them elsewhere."""

    def __init__(self, store: Any):
        self.store, self.intents = store, []

    def apply(self, intents: Sequence[Intent]) -> None:
        self.intents.append(list(intents))
        self.store.apply(intents)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_the_same_intents_make_byte_identical_event_bodies(both: tuple[Any, Any]) -> None:
    sqlite, pg = both
    recording = _Recording(sqlite)
    text = 'Zürich – “quoted” \\ back\\slash, a "quote", a tab\tand\nlines; 東京 🚀'
    changes = compose.save_stories(
        recording,
        [
            story(guid="u1", headline=text, body=text),
            dataclasses.replace(story(guid="u2", body="Held."), ingest={"embargo": "2020-01-10T00:00:00Z"}),
        ],
        NOW,
    )
    changes += compose.save_stories(recording, [story(guid="u1", headline="Again " + text, body=text)], NOW)
    for intents in recording.intents:
        with pg.transaction():
            pg.apply(intents)
    ids = [c.event["id"] for c in changes]
    bodies = sqlite.event_bodies(ids)
    assert pg.event_bodies(ids) == bodies and len(bodies) == 3
    assert [c.event for c in changes] == [json.loads(bodies[i]) for i in ids]


def test_a_purged_story_leaves_a_tombstone_and_does_not_come_back(store: Any) -> None:
    [first] = compose.save_stories(store, [story(body=WIRE, published=NOW)], NOW)
    compose.save_stories(store, [story(body=WIRE + " More.", published=NOW)], NOW)  # version 2
    later = NOW + timedelta(days=91)
    assert store.purge_stories(NOW - timedelta(days=1), later) == 0
    assert store.purge_stories(NOW + timedelta(days=1), later) == 1
    # both versions' documents stay while their outbox events do
    assert [store.count(t) for t in ("stories", "story_versions", "story_bands", "story_tombstones")] == [
        0,
        2,
        0,
        1,
    ]
    found = store.find_story(["guid:f:g1"])
    assert (found.story_id, found.version, found.purged, found.matched) == (first.story_id, 2, True, "guid")
    assert _kinds(compose.save_stories(store, [story(body=WIRE, published=NOW)], later)) == ["unchanged"]
    assert store.count("stories") == 0 and store.get_story(first.story_id) is None
    assert store.story_document(first.story_id) is None


def test_purge_works_in_batches_and_keeps_others(store: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ingestd.store._stories.PURGE_BATCH", 2)
    monkeypatch.setattr("ingestd.store.pg._stories.PURGE_BATCH", 2)
    old = [story(guid=f"o{i}", url=None, body=f"{WIRE} Old {i}.", published=NOW) for i in range(5)]
    compose.save_stories(store, old, NOW)
    compose.save_stories(store, [story(guid="new", url=None, body="New.")], NOW + timedelta(days=10))
    assert store.purge_stories(NOW + timedelta(days=1), NOW + timedelta(days=91)) == 5
    assert (
        store.count("stories") == 1
        and store.count("story_tombstones") == 5
        and store.count("story_bands") == 0
    )


def _walk(store: Any, **query: Any) -> list[str]:
    ids: list[str] = []
    after = None
    while True:
        page = store.stories_page(StoryQuery(limit=2, after=after, **query))
        ids += [s["id"] for s in page.stories]
        if page.next_after is None:
            return ids
        after = page.next_after


def _stored(store: Any, stories: list[Story], at: datetime = NOW) -> list[str]:
    return [c.story_id for c in compose.save_stories(store, stories, at)]


def test_pages_are_newest_first_and_a_cursor_never_repeats_or_skips(store: Any) -> None:
    ties = _stored(store, [numbered(n, published=NOW) for n in (10, 11)])  # the id orders them
    ids = _stored(store, [numbered(n, published=NOW - timedelta(hours=n + 1)) for n in range(5)])
    newest = sorted(ties, reverse=True) + ids
    first = store.stories_page(StoryQuery(limit=3))
    assert [s["id"] for s in first.stories] == newest[:3]
    assert first.stories[0].keys() == {
        "id", "version", "feed", "source", "headline", "byline", "located", "section", "language",
        "first_created", "version_created", "url",
    }  # fmt: skip
    assert first.next_after == ("2020-01-08T23:31:02Z", newest[2])
    # a story stored meanwhile, newer than every page: the walk goes on where it was
    _stored(store, [numbered(20, published=NOW + timedelta(hours=1))])
    rest = store.stories_page(StoryQuery(limit=10, after=first.next_after))
    assert [s["id"] for s in rest.stories] == newest[3:] and rest.next_after is None
    assert _walk(store, since="2020-01-08T21:31:02Z") == _walk(store)[:6]
    assert _walk(store, feed="nope") == [] and len(_walk(store, feed="news")) == 8


def test_filters_select_on_feed_source_section_and_language(store: Any) -> None:
    _stored(
        store,
        [
            numbered(1, feed="a", section="sport", language="en"),
            numbered(2, feed="b", section="sport", language="de"),
            numbered(3, feed="a", source="ap", language="en"),
        ],
    )
    count = lambda **q: len(_walk(store, **q))  # noqa: E731
    assert [count(feed="a"), count(section="sport"), count(language="en"), count(source="ap")] == [2, 2, 2, 1]
    assert count(feed="a", section="sport", language="en") == 1


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("surplus", [1]),
        ("SURPLUS current", [1]),
        ('"current account surplus"', [1]),
        ('"surplus current"', []),
        ("semicond*", [1]),
        ("U.S.-China", [2]),
        ("U.S.-Chi*", [2]),
        ("talks", [2, 3]),
        ("talks china", [2]),
        ("reuters", [3]),  # the byline is searched too
        ("nothing-here", []),
    ],
)
def test_search_finds_the_same_stories(store: Any, q: str, expected: list[int]) -> None:
    ids = _stored(
        store,
        [
            numbered(1, headline="Surplus narrows", body=WIRE),
            numbered(2, headline="U.S.-China trade talks resume", body="Talks resume."),
            numbered(3, headline="Peace talks", body="Talks in Geneva.", byline="Reuters staff"),
        ],
    )
    found = [s["id"] for s in store.stories_page(StoryQuery(match=fts_query(q))).stories]
    assert found == [ids[n - 1] for n in expected]


def test_search_pages_with_the_cursor(store: Any) -> None:
    _stored(
        store, [numbered(n, body=f"Storm warning {n}.") for n in range(1, 6)] + [numbered(9, body="Calm.")]
    )
    assert len(_walk(store, match=fts_query("storm"))) == 5


def test_a_reset_policy_is_chosen_again_and_policies_are_listed(store: Any) -> None:
    with capture_logs():
        compose.save_stories(store, [story()], NOW, identity="content")
        assert store.identity_policies() == {"f": dedupe.Policy("content", "pinned in config", pinned=True)}
        assert store.reset_identity_policy("f") and not store.reset_identity_policy("f")
        assert store.identity_policy("f") is None


def test_signatures_are_rebuilt_in_batches(store: Any) -> None:
    _stored(store, [story(guid=f"r{i}", url=None, body=f"{WIRE} Number {i}.") for i in range(3)])
    bands = store.count("story_bands")
    store.set_meta("fingerprint.version", "old")
    assert compose.rebuild_signatures(store) == 3
    assert (
        store.count("story_bands") == bands
        and store.get_meta("fingerprint.version") == dedupe.FINGERPRINT_VERSION
    )
    assert [row[0] for row in store.stories_after("", 2)] == sorted(
        row["id"] for row in store.list_stories()
    )[:2]


def test_a_feed_only_transaction_takes_no_story_lock_and_a_story_one_does(tmp_path: Path) -> None:
    with open_engine("postgresql", tmp_path) as pg:
        _stories_only(pg)
        held = "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
        with pg.transaction():
            pg.apply([FeedUpdate.of("f", {"etag": '"e"'})])
            assert pg._row(held)["n"] == 0
        with pg.transaction():
            pg.identity_policy("f")
            pg.find_story(["guid:f:g1"])
            assert pg._row(held)["n"] == 1
        assert pg._row(held)["n"] == 0  # released with the transaction


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("cafe", {1, 2}),
        ("café", {1, 2}),
        ("ZÜRICH", {1}),
        ("zurich", {1}),
        ('"creme brulee"', {1}),
        ("brûl*", {1}),
        ("Lódz", {3}),
        ("smørrebrød", {3}),  # ø is a letter of its own, not o with a mark: kept, as FTS5 keeps it
        ("smorrebrod", set()),
    ],
)
def test_search_folds_accents_on_both_engines(store: Any, q: str, expected: set[int]) -> None:
    ids = _stored(
        store,
        [
            numbered(1, headline="Café opens in Zürich", body="Crème brûlée on the menu."),
            numbered(2, headline="Cafe culture", body="Plain words."),
            numbered(3, headline="Smørrebrød in Lodz", body="Open sandwiches."),
        ],
    )
    found = {s["id"] for s in store.stories_page(StoryQuery(match=fts_query(q))).stories}
    assert found == {ids[n - 1] for n in expected}
