"""The PostgreSQL engine's WebSub part: one subscription to a hub per feed.

The table mirrors the SQLite store's (`ingestd/store/_websub.py`), and rows become
`WebSubSubscription` through its row reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ...models import WebSubForget, WebSubSubscription
from ...timeutil import to_iso
from .._websub import _COLUMNS, _subscription
from ._base import Migration, PgBase

MIGRATIONS: list[Migration] = [
    (
        "websub-1",
        """
        CREATE TABLE websub (
            feed_id text PRIMARY KEY,
            hub text NOT NULL,
            topic text NOT NULL,
            secret text NOT NULL,
            state text NOT NULL,
            requested_at timestamptz NOT NULL,
            lease_seconds integer,
            lease_until timestamptz
        );
        """,
    ),
]


class WebSubPart(PgBase):
    def websub_subscriptions(self) -> list[WebSubSubscription]:
        rows = self._rows(f'SELECT {_COLUMNS} FROM websub ORDER BY feed_id COLLATE "C"')
        return [_read(row) for row in rows]

    def websub_subscription(self, feed_id: str) -> WebSubSubscription | None:
        row = self._row(f"SELECT {_COLUMNS} FROM websub WHERE feed_id = %s", [feed_id])
        return _read(row) if row else None

    def write_websub(self, intents: Sequence[WebSubSubscription | WebSubForget]) -> None:
        """Each intent in order, in one transaction of its own: a row replaced or deleted."""
        with self.transaction():
            for intent in intents:
                if isinstance(intent, WebSubForget):
                    self._execute("DELETE FROM websub WHERE feed_id = %s", [intent.feed_id])
                    continue
                self._execute(
                    f"INSERT INTO websub ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (feed_id) DO UPDATE SET hub = excluded.hub, topic = excluded.topic, "
                    "secret = excluded.secret, state = excluded.state, requested_at = excluded.requested_at, "
                    "lease_seconds = excluded.lease_seconds, lease_until = excluded.lease_until",
                    [
                        intent.feed_id,
                        intent.hub,
                        intent.topic,
                        intent.secret,
                        intent.state,
                        intent.requested_at,
                        intent.lease_seconds,
                        intent.lease_until,
                    ],
                )


def _read(row: dict[str, Any]) -> WebSubSubscription:
    """The SQLite engine's row reader, given the times in its text form."""
    return _subscription([to_iso(v) if isinstance(v, datetime) else v for v in row.values()])
