"""An embargoed story is stored at once and its event held until the embargo time:
the composer decides the hold, the outbox keeps it, the dispatcher skips it till due."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

from ingestd.compose import hold_until
from ingestd.models import Story
from ingestd.timeutil import to_iso, utcnow
from tests.support.stories import NOW
from tests.support.webhooks import (
    closed,
    config_with,
    deliver_until,
    opened,
    receiving,
    save,
    story,
    subscription,
)


def embargoed(base: Story, until: timedelta) -> Story:
    """As normalize leaves a wire item's embargo: in `ingest` (and the event's data.ingest)."""
    return dataclasses.replace(base, ingest={**base.ingest, "embargo": to_iso(utcnow() + until)})


def test_a_future_embargo_holds_the_event_until_then() -> None:
    held = embargoed(story(1), timedelta(hours=1))
    assert hold_until(held, NOW) is not None
    assert to_iso(hold_until(held, NOW)) == held.ingest["embargo"]


def test_a_past_embargo_or_none_holds_nothing() -> None:
    assert hold_until(embargoed(story(1), timedelta(seconds=-1)), utcnow()) is None
    assert hold_until(story(1), utcnow()) is None


def test_the_held_event_is_stored_at_once_and_delivered_only_after_the_embargo(tmp_path: Path) -> None:
    async def scenario() -> None:
        with receiving() as receiver:
            config = config_with(tmp_path, subscription("desk", receiver.url))
            writer, dispatcher = await opened(config)
            try:
                held = embargoed(story(1), timedelta(seconds=2))
                await save(writer, held, story(2))
                await deliver_until(dispatcher, lambda: len(receiver.received) == 1)
                assert (
                    receiver.received[0].event["data"]["story"]["headlines"][0]["value"] == "Story number 2"
                )
                await deliver_until(dispatcher, lambda: len(receiver.received) == 2)
                assert utcnow() >= hold_until(held, NOW)  # not before the embargo time
                assert (
                    receiver.received[1].event["data"]["story"]["headlines"][0]["value"] == "Story number 1"
                )
            finally:
                await closed(writer, dispatcher)

    asyncio.run(scenario())
