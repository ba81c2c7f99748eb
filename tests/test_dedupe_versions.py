"""What a looked-up story becomes: created, a new version, or nothing."""

from __future__ import annotations

from ingestd.dedupe import Existing, Intent, decide, story_id_for

STORED = Existing("st_1", 2, "2020-01-09T00:25:00Z", frozenset({"h1", "h2"}))


def test_an_unknown_story_is_created_under_its_most_trusted_key() -> None:
    assert decide(["guid:f:1", "url:https://e.org/1"], "h", None) == Intent(
        "created", story_id_for("guid:f:1"), 1
    )


def test_a_changed_text_is_the_next_version() -> None:
    assert decide(["guid:f:1"], "h3", STORED) == Intent("updated", "st_1", 3)


def test_the_text_of_any_earlier_version_is_no_change() -> None:
    assert decide(["guid:f:1"], "h1", STORED) == Intent("unchanged", "st_1", 2)


def test_a_purged_story_stays_gone() -> None:
    tombstone = Existing("st_1", 2, None, frozenset(), purged=True)
    assert decide(["guid:f:1"], "h9", tombstone) == Intent("unchanged", "st_1", 2)
