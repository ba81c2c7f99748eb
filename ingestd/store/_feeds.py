"""Feeds, their run-time state, claims for polling, and the history of polls.

A claim is a lease: `lease_owner` (one id per daemon start) and `lease_until`.
Claiming never moves `next_poll_at`; a feed whose lease has run out is due
again, whoever held it, and the poll's `FeedUpdate` ends the lease.

Credentials: a config feed's stay in the config (like a subscription's secrets); a
run-time feed's are stored in `secrets` (FeedCredentials JSON) and read with its
row by every claim. `credentials` holds what may be shown of either (set/unset).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils

from ..models import FeedConfig, FeedCredentials, FeedState, FeedUpdate, PollWrite
from ..timeutil import from_iso, to_iso
from ._base import Migration, StoreBase, stamp

# A claimed feed is not handed out again for this long unless released ([fetch] lease sets it).
CLAIM_LEASE = timedelta(minutes=5)
# a feed that may be removed: one added at run time, or one the config no longer declares
REMOVABLE = "(origin != 'config' OR state = 'removed')"


def _feeds_1(db: sqlite_utils.Database) -> None:
    db.table("feeds").create(
        {
            "id": str,
            "url": str,
            "declared_url": str,
            "source": str,
            "interval": float,
            "fetch_article": int,
            "origin": str,
            "state": str,
            "etag": str,
            "last_modified": str,
            "body_hash": str,
            "next_poll_at": str,
            "last_poll_at": str,
            "last_success_at": str,
            "last_error": str,
            "error_count": int,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"url", "state", "origin"},
        defaults={"error_count": 0, "state": "ok"},
    )
    db.table("feeds").create_index(["state", "next_poll_at"])
    db.table("polls").create(
        {
            "id": int,
            "feed_id": str,
            "started_at": str,
            "duration_ms": int,
            "status": int,
            "bytes": int,
            "new": int,
            "updated": int,
            "unchanged": int,
            "error": str,
        },
        pk="id",
    )
    db.table("polls").create_index(["feed_id", "started_at"])


def _feeds_2(db: sqlite_utils.Database) -> None:
    db.table("feeds").add_column("redirect_target", str)
    db.table("feeds").add_column("redirect_count", int, not_null_default=0)


def _feeds_3(db: sqlite_utils.Database) -> None:
    db.table("feeds").add_column("quiet_after", float)
    db.table("feeds").add_column("quiet_since", str)


def _feeds_4(db: sqlite_utils.Database) -> None:
    """Leases with an owner and an end, instead of a next_poll_at moved ahead."""
    db.table("feeds").add_column("lease_owner", str)
    db.table("feeds").add_column("lease_until", str)


def _feeds_5(db: sqlite_utils.Database) -> None:
    """The feed's recent publish times (JSON), so a 304 reads no story rows."""
    db.table("feeds").add_column("recent_published", str)


def _feeds_6(db: sqlite_utils.Database) -> None:
    """Disabled by an operator: never polled, whatever the state, until enabled."""
    db.table("feeds").add_column("disabled", int, not_null_default=0)


def _feeds_7(db: sqlite_utils.Database) -> None:
    """A run-time feed's credentials (secrets), and what any feed's show (set/unset)."""
    db.table("feeds").add_column("secrets", str)
    db.table("feeds").add_column("credentials", str)


def _feeds_8(db: sqlite_utils.Database) -> None:
    """A pinned identity policy, kept for feeds added at run time as for the config's."""
    db.table("feeds").add_column("identity", str)


MIGRATIONS: list[Migration] = [
    ("feeds-1", _feeds_1),
    ("feeds-2", _feeds_2),
    ("feeds-3", _feeds_3),
    ("feeds-4", _feeds_4),
    ("feeds-5", _feeds_5),
    ("feeds-disabled", _feeds_6),
    ("feeds-credentials", _feeds_7),
    ("feeds-identity", _feeds_8),
]


class FeedsMixin(StoreBase):
    def sync_config_feeds(self, feeds: list[FeedConfig], now: datetime) -> None:
        """Create config feeds or update their declared fields; nothing learnt is undone.
        A config feed no longer in the config is set aside (state 'removed')."""
        at = to_iso(now)
        with self.transaction():
            table = self.db.table("feeds")
            for feed in feeds:
                row = self._feed_row(feed.id)
                if row is None:
                    table.insert(synced_config_row(feed, None, at))
                else:
                    table.update(feed.id, synced_config_row(feed, row, at))
            ids = [f.id for f in feeds]
            self.db.execute(
                f"UPDATE feeds SET state = 'removed', updated_at = ? WHERE origin = 'config' "
                f"AND state != 'removed' AND id NOT IN ({','.join('?' * len(ids))})",
                [at, *ids],
            )

    def add_feed(self, feed: FeedConfig, origin: str, now: datetime) -> bool:
        """A feed added at run time (CLI, API, OPML); False if the id is taken.
        Such feeds are never file: URLs (DESIGN.md "Network guard"): callers check."""
        at = to_iso(now)
        with self.transaction():
            if self._feed_row(feed.id) is not None:
                return False
            self.db.table("feeds").insert(new_feed_row(feed, feed.id, origin, at))
        return True

    def change_feed(
        self, feed_id: str, change: Callable[[FeedConfig, str], FeedConfig], now: datetime
    ) -> FeedConfig | None:
        """Replace a feed's declared fields with `change(declared, origin)`, read and
        written in one transaction (whatever `change` raises leaves the feed as it was).
        A new URL forgets what the old one's conditional GETs and redirects taught, and
        is polled at the next tick. None: no such feed (or a removed one)."""
        at = to_iso(now)
        with self.transaction():
            row = self._feed_row(feed_id)
            if row is None or row["state"] == "removed":
                return None
            new = change(_declared(row), row["origin"])
            fields = changed_fields(new, row, at)
            self.db.table("feeds").update(feed_id, fields)
        return new

    def _feed_row(self, feed_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM feeds WHERE id = ?", [feed_id]))
        return rows[0] if rows else None

    def get_feed(self, feed_id: str) -> FeedState | None:
        row = self._feed_row(feed_id)
        return _feed_state(row) if row else None

    def list_feeds(self) -> list[FeedState]:
        return [_feed_state(r) for r in self.db.query("SELECT * FROM feeds ORDER BY id")]

    def claim_due(
        self,
        now: datetime,
        limit: int,
        *,
        all_feeds: bool = False,
        owner: str = "local",
        lease: timedelta = CLAIM_LEASE,
    ) -> list[FeedState]:
        """Feeds whose next poll is due and whose lease (if any) has ended, leased to
        `owner` until now + `lease`, so that no other tick takes them meanwhile."""
        at = to_iso(now)
        with self.transaction():
            where = (
                "state IN ('ok', 'erroring') AND disabled = 0 AND (lease_until IS NULL OR lease_until <= ?)"
            )
            params: list[Any] = [at]
            if not all_feeds:
                where += " AND next_poll_at <= ?"
                params.append(at)
            rows = list(
                self.db.query(
                    f"SELECT * FROM feeds WHERE {where} ORDER BY next_poll_at, id LIMIT ?", [*params, limit]
                )
            )
            self.db.conn.executemany(
                "UPDATE feeds SET lease_owner = ?, lease_until = ? WHERE id = ?",
                [(owner, to_iso(now + lease), row["id"]) for row in rows],
            )
        return [_feed_state(r) for r in rows]

    def release_feeds(self, feed_ids: list[str], now: datetime, *, owner: str | None = None) -> None:
        """Claimed feeds whose polls never ran or never finished: their leases end (they
        stay due: claiming did not move their next poll). With `owner`, only the leases it
        still holds (one another replica took since is not ended)."""
        fenced = " AND lease_owner = ?" if owner is not None else ""
        with self.transaction():
            self.db.execute(
                f"UPDATE feeds SET lease_owner = NULL, lease_until = NULL "
                f"WHERE id IN ({','.join('?' * len(feed_ids))}){fenced}",
                [*feed_ids, *([owner] if owner is not None else [])],
            )

    def release_all_leases(self) -> int:
        """At start, holding the instance lock: no other daemon can be polling."""
        with self.transaction():
            return self.db.execute(
                "UPDATE feeds SET lease_owner = NULL, lease_until = NULL WHERE lease_owner IS NOT NULL"
            ).rowcount

    def set_feed_disabled(self, feed_id: str, disabled: bool, now: datetime) -> bool:
        """Disable or enable a feed; nothing else about it changes. False: no such feed."""
        with self.transaction():
            cursor = self.db.execute(
                "UPDATE feeds SET disabled = ?, updated_at = ? WHERE id = ? AND state != 'removed'",
                [int(disabled), to_iso(now), feed_id],
            )
        return cursor.rowcount > 0

    def disabled_feeds(self) -> set[str]:
        return {row[0] for row in self.db.execute("SELECT id FROM feeds WHERE disabled = 1")}

    def remove_feed(self, feed_id: str, now: datetime, *, purge: bool = False) -> int | None:
        """Set a run-time feed aside (state 'removed'): its stories and tombstones stay.
        With `purge`, the feed, its stories (versions, keys, bands) and tombstones go;
        returns how many stories were deleted. None, and nothing done: no such feed, or one
        the config declares (judged in the same statement: a replica's config sync between a
        caller's read and this removal cannot have a declared feed removed)."""
        with self.transaction():
            cursor = self.db.execute(
                f"UPDATE feeds SET state = 'removed', updated_at = ? WHERE id = ? AND {REMOVABLE}",
                [to_iso(now), feed_id],
            )
            if not cursor.rowcount:
                return None
            if not purge:
                return 0
            ids = [(r[0],) for r in self.db.execute("SELECT id FROM stories WHERE feed_id = ?", [feed_id])]
            for (story_id,) in ids:
                self._drop_bands(story_id)  # type: ignore[attr-defined]
            self.db.conn.executemany("DELETE FROM story_keys WHERE story_id = ?", ids)
            # as in purge_stories: a version an outbox event still refers to stays until the event goes
            self.db.conn.executemany(
                "DELETE FROM story_versions WHERE story_id = ? AND NOT EXISTS (SELECT 1 FROM "
                "events e WHERE e.story_id = story_versions.story_id AND e.version = story_versions.version)",
                ids,
            )
            self.db.conn.executemany("DELETE FROM stories WHERE id = ?", ids)
            self.db.execute("DELETE FROM story_tombstones WHERE feed_id = ?", [feed_id])
            self.db.execute("DELETE FROM feeds WHERE id = ?", [feed_id])
        return len(ids)

    def resume_feed(self, feed_id: str, now: datetime) -> bool:
        """Take a parked or erroring feed back to polling now."""
        with self.transaction():
            cursor = self.db.execute(
                "UPDATE feeds SET state = 'ok', error_count = 0, next_poll_at = ?, "
                "updated_at = ? WHERE id = ? AND state != 'removed'",
                [to_iso(now), to_iso(now), feed_id],
            )
        return cursor.rowcount > 0

    def poll_now(self, feed_id: str, now: datetime) -> bool:
        """A watched folder changed: its feed is due now (unless removed or parked)."""
        with self.transaction():
            cursor = self.db.execute(
                "UPDATE feeds SET next_poll_at = ? WHERE id = ? AND state NOT IN ('removed', 'parked')",
                [to_iso(now), feed_id],
            )
        return cursor.rowcount > 0

    def _write_poll(self, w: PollWrite) -> None:
        self.db.execute(
            "INSERT INTO polls (feed_id, started_at, duration_ms, status, bytes, new, updated, "
            "unchanged, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                w.feed_id,
                w.started_at,
                w.duration_ms,
                w.status,
                w.bytes,
                w.new,
                w.updated,
                w.unchanged,
                w.error,
            ],
        )

    def _write_feed(self, w: FeedUpdate) -> bool:
        """The feed's new state, its lease ended; False (nothing written) when the lease
        is no longer the writer's."""
        fields = dict(w.fields) | {"lease_owner": None, "lease_until": None}
        fenced = w.lease_owner is not None
        cursor = self.db.execute(
            _feed_update_sql(tuple(fields), fenced),
            [*(stamp(v) for v in fields.values()), w.feed_id, *([w.lease_owner] if fenced else [])],
        )
        return cursor.rowcount > 0

    def known_urls(self, urls: list[str]) -> set[str]:
        """Which of these links are already stored stories' links."""
        known: set[str] = set()
        for start in range(0, len(urls), 500):  # SQLite's bound-parameter limit
            chunk = urls[start : start + 500]
            known.update(
                row[0]
                for row in self.db.execute(
                    f"SELECT url FROM stories WHERE url IN ({','.join('?' * len(chunk))})", chunk
                )
            )
        return known

    def recent_publish_times(self, feed_id: str, limit: int = 20) -> list[datetime]:
        """The feed's newest stories' publish times, for polls that brought no document
        from a feed whose row does not hold them yet (`recent_published`)."""
        rows = self.db.execute(
            "SELECT first_created FROM stories INDEXED BY idx_stories_feed_first WHERE feed_id = ? "
            "AND first_created IS NOT NULL ORDER BY first_created DESC LIMIT ?",
            [feed_id, limit],
        ).fetchall()
        return [moment for (text,) in rows if (moment := from_iso(text)) is not None]

    def recent_polls(self, feed_id: str, limit: int = 10) -> list[dict[str, Any]]:
        return list(
            self.db.query("SELECT * FROM polls WHERE feed_id = ? ORDER BY id DESC LIMIT ?", [feed_id, limit])
        )


@functools.lru_cache(maxsize=64)
def _feed_update_sql(columns: tuple[str, ...], fenced: bool) -> str:
    """A feed update's statement, by the columns it sets: a few shapes, one per kind of poll."""
    # a removal (a config reload) made while the poll ran stands
    sets = [
        "state = CASE state WHEN 'removed' THEN 'removed' ELSE ? END" if k == "state" else f"{k} = ?"
        for k in columns
    ]
    return f"UPDATE feeds SET {', '.join(sets)} WHERE id = ?{' AND lease_owner IS ?' if fenced else ''}"


def changed_fields(new: FeedConfig, row: dict[str, Any], at: Any) -> dict[str, Any]:
    """The columns a run-time feed's change writes (`at`: the engine's form of now). A new
    URL forgets what the old one's conditional GETs and redirects taught, is due at once, and
    ends the lease, so a poll of the old URL still running writes nothing over it (fencing)."""
    secrets = new.credentials.to_json() if new.credentials else None
    fields = _declared_fields(new) | {"secrets": secrets, "updated_at": at}
    if new.url != (row["declared_url"] or row["url"]):
        fields |= {
            "url": new.url,
            "declared_url": new.url,
            "etag": None,
            "last_modified": None,
            "body_hash": None,
            "redirect_target": None,
            "redirect_count": 0,
            "next_poll_at": at,
            "lease_owner": None,
            "lease_until": None,
        }
    return fields


def synced_config_row(feed: FeedConfig, row: dict[str, Any] | None, at: Any) -> dict[str, Any]:
    """What syncing config feed `feed` writes over its stored `row` (its declared_url and
    state; None: not stored yet, and then the whole new row). Nothing learnt is undone; a
    URL the operator changed wins and forgets the old one's validators; a feed back in the
    config is due at once. Its secrets stay in the config."""
    fields = _declared_fields(feed) | {"origin": "config", "secrets": None, "updated_at": at}
    if row is None:
        return {
            "id": feed.id,
            "url": feed.url,
            "declared_url": feed.url,
            "state": "ok",
            "error_count": 0,
            "next_poll_at": at,
            "created_at": at,
            **fields,
        }
    if row["declared_url"] != feed.url:
        fields |= {
            "url": feed.url,
            "declared_url": feed.url,
            "etag": None,
            "last_modified": None,
            "body_hash": None,
        }
    if row["state"] == "removed":
        fields |= {"state": "ok", "next_poll_at": at}
    return fields


def new_feed_row(feed: FeedConfig, feed_id: str, origin: str, at: str | None) -> dict[str, Any]:
    """A run-time feed's first row: due at once, nothing learnt yet."""
    return {
        "id": feed_id,
        "url": feed.url,
        "declared_url": feed.url,
        **_declared_fields(feed),
        "origin": origin,
        "secrets": feed.credentials.to_json() if feed.credentials else None,
        "state": "ok",
        "error_count": 0,
        "next_poll_at": at,
        "created_at": at,
        "updated_at": at,
    }


def _shown(feed: FeedConfig) -> str | None:
    return json.dumps(feed.credentials.shown()) if feed.credentials else None


def _declared_fields(feed: FeedConfig) -> dict[str, Any]:
    """The columns a feed's table sets, but its id and URL."""
    return {
        "source": feed.source,
        "interval": feed.interval,
        "fetch_article": int(feed.fetch_article),
        "identity": feed.identity,
        "quiet_after": feed.quiet_after,
        "credentials": _shown(feed),
    }


def _declared(row: dict[str, Any]) -> FeedConfig:
    """The feed as its table declared it (a redirect may have moved `url` since)."""
    return FeedConfig(
        id=row["id"],
        url=row["declared_url"] or row["url"],
        source=row["source"],
        interval=row["interval"] or 300.0,
        fetch_article=bool(row["fetch_article"]),
        identity=row["identity"],
        quiet_after=row["quiet_after"],
        credentials=FeedCredentials.from_json(row["secrets"]) if row.get("secrets") else None,
    )


def _feed_state(row: dict[str, Any]) -> FeedState:
    return FeedState(
        id=row["id"],
        url=row["url"],
        source=row["source"],
        interval=row["interval"] or 300.0,
        fetch_article=bool(row["fetch_article"]),
        identity=row.get("identity"),  # the PostgreSQL engine has no such column yet
        origin=row["origin"],
        state=row["state"],
        etag=row["etag"],
        last_modified=row["last_modified"],
        body_hash=row["body_hash"],
        next_poll_at=from_iso(row["next_poll_at"]),
        last_poll_at=from_iso(row["last_poll_at"]),
        last_success_at=from_iso(row["last_success_at"]),
        last_error=row["last_error"],
        error_count=row["error_count"] or 0,
        redirect_target=row["redirect_target"],
        redirect_count=row["redirect_count"] or 0,
        quiet_after=row["quiet_after"],
        quiet_since=from_iso(row["quiet_since"]),
        recent_published=_recent(row["recent_published"]),
        # .get: the PostgreSQL engine reads its rows here too, and its schema has yet to mirror these
        secrets=FeedCredentials.from_json(row["secrets"]) if row.get("secrets") else None,
        credentials=json.loads(row["credentials"]) if row.get("credentials") else None,
    )


def _recent(text: str | None) -> tuple[datetime, ...] | None:
    """The JSON list of ISO times every claimed row carries (20 a feed): read as
    `from_iso` reads them, without its `Z` rewrite, which Python 3.11 parses itself."""
    if text is None:
        return None
    return tuple(
        [
            t if (t := datetime.fromisoformat(iso)).tzinfo else t.replace(tzinfo=UTC)
            for iso in json.loads(text)
            if iso
        ]
    )
