"""The one dispatch of intents both engines' `apply` use: each engine writes each intent in
its own SQL, in the order given, inside the caller's transaction; the outbox's rows (events,
then deliveries) last, each kind in one statement for all of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..models import (
    DeliveryWrite,
    EventWrite,
    FeedUpdate,
    Intent,
    KeysWrite,
    PolicyWrite,
    PollWrite,
    StoryWrite,
)


def apply_intents(engine: Any, intents: Sequence[Intent]) -> list[str]:
    """Returns the ids of feeds whose FeedUpdate was dropped: their lease is another
    owner's (fencing), for the caller to log."""
    events: list[EventWrite] = []
    deliveries: list[DeliveryWrite] = []
    dropped: list[str] = []
    for intent in intents:  # one pass: a batch applies its stories' intents one story at a time
        if isinstance(intent, StoryWrite):
            engine._write_story(intent)
        elif isinstance(intent, KeysWrite):
            engine._write_keys(intent.story_id, intent.keys)
        elif isinstance(intent, EventWrite):
            events.append(intent)
        elif isinstance(intent, DeliveryWrite):
            deliveries.append(intent)
        elif isinstance(intent, PolicyWrite):
            engine._write_policy(intent)
        elif isinstance(intent, PollWrite):
            engine._write_poll(intent)
        elif isinstance(intent, FeedUpdate) and not engine._write_feed(intent):
            dropped.append(intent.feed_id)
    if events:  # in the order given: an event's seq is its place in the outbox
        engine._write_events(events)
    if deliveries:  # after their events: a delivery row points at its event's seq
        engine._write_deliveries(deliveries)
    return dropped
