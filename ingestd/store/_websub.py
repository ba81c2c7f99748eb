"""WebSub subscriptions: one row per feed subscribed at its hub (docs/websub.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlite_utils

from ..models import WebSubForget, WebSubSubscription
from ..timeutil import from_iso, to_iso
from ._base import Migration, StoreBase


def _websub_1(db: sqlite_utils.Database) -> None:
    db.execute(
        "CREATE TABLE websub (feed_id TEXT PRIMARY KEY, hub TEXT NOT NULL, topic TEXT NOT NULL, "
        "secret TEXT NOT NULL, state TEXT NOT NULL, requested_at TEXT NOT NULL, "
        "lease_seconds INTEGER, lease_until TEXT)"
    )


MIGRATIONS: list[Migration] = [("websub-1", _websub_1)]

_COLUMNS = "feed_id, hub, topic, secret, state, requested_at, lease_seconds, lease_until"


class WebSubMixin(StoreBase):
    def websub_subscriptions(self) -> list[WebSubSubscription]:
        rows = self.db.execute(f"SELECT {_COLUMNS} FROM websub ORDER BY feed_id").fetchall()
        return [_subscription(row) for row in rows]

    def websub_subscription(self, feed_id: str) -> WebSubSubscription | None:
        row = self.db.execute(f"SELECT {_COLUMNS} FROM websub WHERE feed_id = ?", [feed_id]).fetchone()
        return _subscription(row) if row else None

    def write_websub(self, intents: Sequence[WebSubSubscription | WebSubForget]) -> None:
        """Each intent in order, in one transaction of its own: a row replaced or deleted."""
        with self.transaction():
            for intent in intents:
                if isinstance(intent, WebSubForget):
                    self.db.execute("DELETE FROM websub WHERE feed_id = ?", [intent.feed_id])
                    continue
                self.db.execute(
                    f"INSERT OR REPLACE INTO websub ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        intent.feed_id,
                        intent.hub,
                        intent.topic,
                        intent.secret,
                        intent.state,
                        to_iso(intent.requested_at),
                        intent.lease_seconds,
                        to_iso(intent.lease_until),
                    ],
                )


def _subscription(row: Sequence[Any]) -> WebSubSubscription:
    feed_id, hub, topic, secret, state, requested_at, lease_seconds, lease_until = row
    requested = from_iso(requested_at)
    assert requested is not None  # NOT NULL
    return WebSubSubscription(
        feed_id, hub, topic, secret, state, requested, lease_seconds, from_iso(lease_until)
    )
