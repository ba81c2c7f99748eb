"""The writer takes the members of a story's document as prepare dumped them: the event
body it stores is still, byte for byte, the event as `json.dumps` writes it."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path

from ingestd import compose
from ingestd.store import Store
from tests.support.store import story

NOW = datetime(2026, 1, 9, 12, 30, 15, 250_000, tzinfo=UTC)
TEXT = 'Zürich – “quoted” \\ back\\slash, a "quote", a tab\tand\nlines; 東京 🚀 \u2028'


def test_stored_event_bodies_are_the_events_as_dumped(tmp_path: Path) -> None:
    # the URL is one of the members the writer dumps itself (in the ingest block)
    plain = story(guid="a", url='https://example.org/ü/"1"/\u2028', headline=TEXT, body=TEXT)
    # members the store replaces (uri, version, versionCreated) or the story gives (firstCreated),
    # and an ingest block overriding a key the event sets
    overridden = dataclasses.replace(
        story(guid="b", body="Another body."),
        ninjs={
            **plain.ninjs,
            "uri": "urn:x",
            "version": "1",
            "versionCreated": "x",
            "firstCreated": "2026-01-01T00:00:00Z",
        },
        ingest={"version": 7, "item_version": 2, "nested": {"é": [1.5, None, True]}},
    )
    store = Store(tmp_path / "s.db")
    try:
        changes = compose.save_stories(store, [plain, overridden], NOW)
        changes += compose.save_stories(store, [dataclasses.replace(plain, body_text=TEXT + " More.")], NOW)
        assert [c.kind for c in changes] == ["created", "created", "updated"]
        bodies = store.event_bodies([c.event["id"] for c in changes if c.event])
        for change in changes:
            assert change.event is not None
            dumped = json.dumps(change.event, ensure_ascii=False, separators=(",", ":"))
            assert bodies[change.event["id"]] == dumped
    finally:
        store.close()


def test_the_writer_fills_in_only_what_it_decides(tmp_path: Path) -> None:
    # the event is drafted in prepare: the writer sets the id, version, cluster and times,
    # and what the story's own ingest block says wins, in the place the event gives it
    given = dataclasses.replace(
        story(guid="c", body="A third body."),
        ingest={"cluster": "theirs", "first_of_cluster": False, "extra": 1},
    )
    undated = story(guid="d", body="A fourth body.")
    store = Store(tmp_path / "s.db")
    try:
        changes = compose.save_stories(store, [given, undated], NOW)
        later = compose.save_stories(store, [dataclasses.replace(undated, body_text="Changed.")], NOW)
    finally:
        store.close()
    first, second = (c.event for c in changes)
    assert first is not None and second is not None
    assert list(first["data"]["ingest"]) == [
        "feed", "source", "url", "version", "cluster", "first_of_cluster", "extra"
    ]  # fmt: skip
    assert first["data"]["ingest"]["cluster"] == "theirs"
    assert first["data"]["ingest"]["first_of_cluster"] is False
    assert first["data"]["ingest"]["version"] == 1
    assert second["data"]["story"]["uri"] == f"urn:ingestd:story:{changes[1].story_id}"
    assert second["data"]["story"]["firstCreated"] == "2026-01-09T12:30:15Z"  # the write's time
    assert second["data"]["ingest"]["cluster"] == changes[1].story_id
    [update] = later
    assert update.event is not None
    assert update.event["data"]["story"]["version"] == "2"
    # the first version's date, not the write's: the document gives none
    assert update.event["data"]["story"]["firstCreated"] == second["data"]["story"]["firstCreated"]
