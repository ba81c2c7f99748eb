"""The PostgreSQL engine's feed part: feeds, their leases and the coordination N replicas
on one database need (host slots, periodic-job locks, wake-ups).

It answers the same calls as the SQLite store's feed part (`claim_due`, `release_feeds`,
`apply([FeedUpdate])`, …) and turns rows into `FeedState` with the very same function,
so nothing is decided twice. What differs is only how rows are locked: claims take due
feeds `FOR UPDATE SKIP LOCKED`, so replicas claiming at once neither wait on nor take each
other's rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import DictRow

from ...models import FeedConfig, FeedState, FeedUpdate
from ...timeutil import to_iso
from .._feeds import CLAIM_LEASE, _feed_state
from ._base import Migration, PgBase, connect

MIGRATIONS: list[Migration] = [
    (
        "feeds-1",
        """
        CREATE TABLE feeds (
            id text PRIMARY KEY,
            url text NOT NULL,
            declared_url text,
            source text,
            interval double precision,
            fetch_article integer,
            origin text NOT NULL,
            state text NOT NULL DEFAULT 'ok',
            etag text,
            last_modified text,
            body_hash text,
            next_poll_at timestamptz,
            last_poll_at timestamptz,
            last_success_at timestamptz,
            last_error text,
            error_count integer NOT NULL DEFAULT 0,
            created_at timestamptz,
            updated_at timestamptz,
            redirect_target text,
            redirect_count integer NOT NULL DEFAULT 0,
            quiet_after double precision,
            quiet_since timestamptz,
            lease_owner text,
            lease_until timestamptz,
            recent_published text
        );
        -- the claim's scan: pollable feeds in due order
        CREATE INDEX feeds_due ON feeds (next_poll_at, id) WHERE state IN ('ok', 'erroring');
        """,
    ),
    (
        "host-slots-1",
        """
        -- per-host politeness across replicas: a host has `limit` slots; a fetch holds one
        -- (owner, until), and a released slot stays shut until `until` (the host's delay)
        CREATE TABLE host_slots (
            host text NOT NULL,
            slot integer NOT NULL,
            owner text,
            until timestamptz,
            PRIMARY KEY (host, slot)
        );
        """,
    ),
]


class FeedsPart(PgBase):
    # ── feeds and leases ──────────────────────────────────────────────────────

    def add_feed(self, feed: FeedConfig, origin: str, now: datetime) -> bool:
        """A feed added at run time; False if the id is taken."""
        with self.transaction():
            cursor = self._execute(
                "INSERT INTO feeds (id, url, declared_url, source, interval, fetch_article, origin, state, "
                "error_count, next_poll_at, created_at, updated_at, quiet_after) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, 'ok', 0, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                [
                    feed.id,
                    feed.url,
                    feed.url,
                    feed.source,
                    feed.interval,
                    int(feed.fetch_article),
                    origin,
                    now,
                    now,
                    now,
                    feed.quiet_after,
                ],
            )
        return cursor.rowcount > 0

    def get_feed(self, feed_id: str) -> FeedState | None:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT * FROM feeds WHERE id = %s", [feed_id]).fetchone()
        return _state(row) if row else None

    def lease_of(self, feed_id: str) -> tuple[str | None, datetime | None]:
        with self.pool.connection() as conn:
            row = conn.execute(
                "SELECT lease_owner, lease_until FROM feeds WHERE id = %s", [feed_id]
            ).fetchone()
        return (row["lease_owner"], row["lease_until"]) if row else (None, None)

    def claim_due(
        self,
        now: datetime,
        limit: int,
        *,
        all_feeds: bool = False,
        owner: str = "local",
        lease: timedelta = CLAIM_LEASE,
    ) -> list[FeedState]:
        """Due feeds whose lease is empty or ended, leased to `owner` until now + `lease`.
        SKIP LOCKED: rows another replica is claiming right now are passed over, not waited on."""
        due = "" if all_feeds else "AND next_poll_at <= %(now)s"
        with self.transaction():
            rows = self._execute(
                f"""
                WITH due AS (
                    SELECT id FROM feeds
                    WHERE state IN ('ok', 'erroring') AND (lease_until IS NULL OR lease_until <= %(now)s) {due}
                    ORDER BY next_poll_at, id LIMIT %(limit)s
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE feeds SET lease_owner = %(owner)s, lease_until = %(until)s
                FROM due WHERE feeds.id = due.id RETURNING feeds.*
                """,
                {"now": now, "limit": limit, "owner": owner, "until": now + lease},
            ).fetchall()
        rows.sort(key=lambda r: (r["next_poll_at"], r["id"]))  # RETURNING keeps no order
        return [_state(r) for r in rows]

    def release_feeds(self, feed_ids: list[str], now: datetime) -> None:
        """Claimed feeds whose polls never ran or never finished: their leases end."""
        with self.transaction():
            self._execute(
                "UPDATE feeds SET lease_owner = NULL, lease_until = NULL WHERE id = ANY(%s)", [list(feed_ids)]
            )

    def _write_feed(self, w: FeedUpdate) -> bool:
        """The feed's new state, its lease ended; False (nothing written) when the lease is
        no longer the writer's (fencing: a replica whose lease was taken over writes nothing)."""
        fields = dict(w.fields) | {"lease_owner": None, "lease_until": None}
        fenced = " AND lease_owner = %s" if w.lease_owner is not None else ""
        cursor = self._execute(
            f"UPDATE feeds SET {', '.join(f'{k} = %s' for k in fields)} WHERE id = %s{fenced}",
            [*fields.values(), w.feed_id, *([w.lease_owner] if fenced else [])],
        )
        return cursor.rowcount > 0

    # ── coordination between replicas ─────────────────────────────────────────

    def take_host_slot(self, host: str, owner: str, limit: int, now: datetime, hold: timedelta) -> int | None:
        """One of `host`'s `limit` slots, held by `owner` until now + `hold` (a replica that
        dies loses it then); None when every slot is held or still shut by its delay."""
        with self.transaction():
            self._execute(
                "INSERT INTO host_slots (host, slot) SELECT %s, g FROM generate_series(0, %s - 1) AS g "
                "ON CONFLICT DO NOTHING",
                [host, limit],
            )
            row = self._execute(
                """
                WITH free AS (
                    SELECT host, slot FROM host_slots
                    WHERE host = %(host)s AND slot < %(limit)s AND (until IS NULL OR until <= %(now)s)
                    ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED
                )
                UPDATE host_slots SET owner = %(owner)s, until = %(until)s
                FROM free WHERE host_slots.host = free.host AND host_slots.slot = free.slot
                RETURNING host_slots.slot
                """,
                {"host": host, "limit": limit, "now": now, "owner": owner, "until": now + hold},
            ).fetchone()
        return None if row is None else int(row["slot"])

    def give_host_slot(self, host: str, slot: int, owner: str, now: datetime, delay: timedelta) -> None:
        """The fetch is done: the slot opens again after the host's `delay`."""
        with self.transaction():
            self._execute(
                "UPDATE host_slots SET owner = NULL, until = %s WHERE host = %s AND slot = %s AND owner = %s",
                [now + delay, host, slot, owner],
            )

    @contextlib.contextmanager
    def periodic(self, job: str) -> Iterator[bool]:
        """True inside for the one replica that holds `job`'s advisory lock (retention and
        the other periodic jobs); False for the others, which skip this round."""
        with self.pool.connection() as conn:
            held = conn.execute("SELECT pg_try_advisory_lock(hashtext(%s)) AS held", [job]).fetchone()
            try:
                yield bool(held and held["held"])
            finally:
                if held and held["held"]:
                    conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", [job])

    def notify(self, channel: str, payload: str = "") -> None:
        """Wake listeners (dispatchers) once the caller's writes are committed."""
        with self.pool.connection() as conn:
            conn.execute("SELECT pg_notify(%s, %s)", [channel, payload])

    @contextlib.contextmanager
    def listening(self, channel: str) -> Iterator[psycopg.Connection[DictRow]]:
        """A connection of its own LISTENing on `channel`: `conn.notifies(timeout=…)` waits."""
        with connect(self.url) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            yield conn


def _state(row: dict[str, Any]) -> FeedState:
    """The SQLite engine's row reader, given the times in its text form."""
    return _feed_state({k: to_iso(v) if isinstance(v, datetime) else v for k, v in row.items()})
