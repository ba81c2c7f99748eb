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

from ...models import Intent
from .._apply import apply_intents
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
        """Write intents, in order, inside the caller's transaction. A FeedUpdate whose
        lease is another owner's is dropped (fencing): returns those feeds' ids."""
        return apply_intents(self, intents)
