"""The PostgreSQL engine's WebSub part: one subscription to a hub per feed.

The table mirrors the SQLite store's (`ingestd/store/_websub.py`).
"""

from __future__ import annotations

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
    pass
