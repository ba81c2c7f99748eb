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
