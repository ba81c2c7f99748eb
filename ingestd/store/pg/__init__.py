"""The PostgreSQL engine: the same port as the SQLite store (docs/storage.md), for several
stateless replicas sharing one database.

`PgStore` is one class made of one part per domain, like the SQLite `Store`, each with its
own named migrations (SQL), run under an advisory lock so replicas starting together migrate
once. Tables and columns mirror the SQLite store's, so `ingestd storage copy` moves rows
as they are. It decides nothing and imports nothing but ingestd.models (and timeutil);
rows become the port's values through the SQLite engine's own row readers.
"""

from __future__ import annotations

from collections.abc import Sequence

from ...models import (
    DeliveryWrite,
    EventWrite,
    FeedUpdate,
    Intent,
    KeysWrite,
    PolicyWrite,
    PollWrite,
    StoryWrite,
)
from . import _base, _feeds, _stories, _webhooks, _websub
from ._base import MIGRATION_LOCK
from ._feeds import FeedsPart
from ._stories import StoriesPart
from ._webhooks import WebhooksPart
from ._websub import WebSubPart

__all__ = ["MIGRATION_LOCK", "PgStore"]


class PgStore(FeedsPart, StoriesPart, WebhooksPart, WebSubPart):
    migrations = [
        *_base.MIGRATIONS,
        *_feeds.MIGRATIONS,
        *_stories.MIGRATIONS,
        *_webhooks.MIGRATIONS,
        *_websub.MIGRATIONS,
    ]

    def apply(self, intents: Sequence[Intent]) -> list[str]:
        """Write intents, in order, inside the caller's transaction (as the SQLite store's
        `apply`). A FeedUpdate whose lease is another owner's is dropped (fencing): returns
        those feeds' ids, for the caller to log."""
        deliveries = [i for i in intents if isinstance(i, DeliveryWrite)]
        dropped: list[str] = []
        for intent in intents:
            if isinstance(intent, StoryWrite):
                self._write_story(intent)
            elif isinstance(intent, KeysWrite):
                self._write_keys(intent.story_id, intent.keys)
            elif isinstance(intent, EventWrite):
                self._write_event(intent)
            elif isinstance(intent, PolicyWrite):
                self._write_policy(intent)
            elif isinstance(intent, PollWrite):
                self._write_poll(intent)
            elif isinstance(intent, FeedUpdate) and not self._write_feed(intent):
                dropped.append(intent.feed_id)
        if deliveries:  # after their events: a delivery row points at its event's seq
            self._write_deliveries(deliveries)
        return dropped
