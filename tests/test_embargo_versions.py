"""From the wire formats round: a wire item whose own `version` is lower than one
stored is a late, superseded copy: unchanged, never a new version."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

from ingestd import dedupe
from ingestd.models import Existing, Story
from tests.support.webhooks import closed, config_with, opened, save, story

EXISTING = Existing("st_1", 2, None, frozenset({"old"}), item_version=2)


def test_a_lower_item_version_is_unchanged() -> None:
    assert dedupe.decide(["guid:x"], "new", EXISTING, 1).kind == "unchanged"


def test_a_higher_or_the_same_item_version_with_new_text_is_a_new_version() -> None:
    assert dedupe.decide(["guid:x"], "new", EXISTING, 3) == dedupe.Intent("updated", "st_1", 3)
    assert dedupe.decide(["guid:x"], "new", EXISTING, 2).kind == "updated"


def test_without_item_versions_the_text_decides() -> None:
    assert dedupe.decide(["guid:x"], "new", EXISTING, None).kind == "updated"
    assert (
        dedupe.decide(["guid:x"], "new", dataclasses.replace(EXISTING, item_version=None), 1).kind
        == "updated"
    )


def item(version: int, body: str) -> Story:
    base = story(1, body=body)
    return dataclasses.replace(base, ingest={**base.ingest, "item_version": version})


def test_version_1_arriving_after_version_2_is_stored_as_unchanged(tmp_path: Path) -> None:
    async def scenario() -> None:
        writer, dispatcher = await opened(config_with(tmp_path))
        try:
            first = await save(writer, item(2, "The second version of the story, corrected."))
            late = await save(writer, item(1, "The first version of the story, superseded."))
            newer = await save(writer, item(3, "The third version of the story, updated again."))
        finally:
            await closed(writer, dispatcher)
        assert [c.kind for c in first + late + newer] == ["created", "unchanged", "updated"]
        assert newer[0].version == 2

    asyncio.run(scenario())
