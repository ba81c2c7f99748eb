"""The store: schema, migrations and every query. Only this module speaks SQL.

SQLite in WAL mode through sqlite-utils. Writes run in `BEGIN IMMEDIATE`
transactions with a busy timeout, so CLI commands can write beside the
daemon; in the daemon one writer thread owns the write connection
(see Writer). A poll's stories, their versions and their outbox events are
written in one transaction: a story that was stored always has its event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

import sqlite_utils

from . import dedupe
from .events import build_event
from .models import FeedConfig, FeedState, Story, StoredChange
from .timeutil import from_iso, to_iso

T = TypeVar("T")

BUSY_TIMEOUT_S = 30.0
# A claimed feed is not handed out again for this long, even if its poll dies.
CLAIM_LEASE = timedelta(minutes=5)


def _migration_1(db: sqlite_utils.Database) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key")
    db["feeds"].create({
        "id": str, "url": str, "declared_url": str, "source": str, "interval": float,
        "fetch_article": int, "origin": str, "state": str, "etag": str, "last_modified": str,
        "body_hash": str, "next_poll_at": str, "last_poll_at": str, "last_success_at": str,
        "last_error": str, "error_count": int, "created_at": str, "updated_at": str,
    }, pk="id", not_null={"url", "state", "origin"}, defaults={"error_count": 0, "state": "ok"})
    db["feeds"].create_index(["state", "next_poll_at"])
    db["stories"].create({
        "id": str, "feed_id": str, "source": str, "url": str, "guid": str, "version": int,
        "content_hash": str, "headline": str, "byline": str, "located": str, "section": str,
        "language": str, "first_created": str, "version_created": str, "body_text": str,
        "ninjs": str, "ingest": str, "created_at": str,
    }, pk="id")
    db["stories"].create_index(["feed_id"])
    db["stories"].create_index(["first_created"])
    db["story_keys"].create({"key": str, "story_id": str}, pk="key")
    db["story_keys"].create_index(["story_id"])
    db["story_versions"].create({
        "story_id": str, "version": int, "content_hash": str, "ninjs": str, "ingest": str,
        "created_at": str}, pk=("story_id", "version"))
    # the transactional outbox: one row per event, written with its story
    db["events"].create({"seq": int, "id": str, "type": str, "story_id": str, "version": int,
                         "payload": str, "created_at": str}, pk="seq")
    db["events"].create_index(["id"], unique=True)
    db["polls"].create({
        "id": int, "feed_id": str, "started_at": str, "duration_ms": int, "status": int,
        "bytes": int, "new": int, "updated": int, "unchanged": int, "error": str}, pk="id")
    db["polls"].create_index(["feed_id", "started_at"])


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_migration_1]


@dataclass
class PollRecord:
    feed_id: str
    started_at: datetime
    duration_ms: int
    status: int | None
    bytes: int
    error: str | None = None


class Store:
    """One connection to the database. Not thread-safe: one thread uses it."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None,
                               check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed story and its outbox event survive power loss, not only a crash
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        self.db = sqlite_utils.Database(conn)
        self._migrate()

    def close(self) -> None:
        self.db.close()

    def _migrate(self) -> None:
        with self.transaction():
            current = self.db.execute("PRAGMA user_version").fetchone()[0]
            for number, migration in enumerate(MIGRATIONS[current:], start=current + 1):
                migration(self.db)
                self.db.execute(f"PRAGMA user_version = {number}")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE: take the write lock up front, so a busy database waits
        (busy timeout) instead of failing half-way through."""
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    # ── meta ────────────────────────────────────────────────────────────────

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction():
            self.db["meta"].upsert({"key": key, "value": value}, pk="key")

    def get_meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        return row[0] if row else None

    # ── feeds ───────────────────────────────────────────────────────────────

    def sync_config_feeds(self, feeds: list[FeedConfig], now: datetime) -> None:
        """Create config feeds or update their declared fields; nothing learnt is undone.
        A config feed no longer in the config is set aside (state 'removed')."""
        stamp = to_iso(now)
        with self.transaction():
            table = self.db["feeds"]
            for feed in feeds:
                row = self._feed_row(feed.id)
                declared = {"source": feed.source, "interval": feed.interval,
                            "fetch_article": int(feed.fetch_article), "origin": "config",
                            "updated_at": stamp}
                if row is None:
                    table.insert({"id": feed.id, "url": feed.url, "declared_url": feed.url,
                                  "state": "ok", "error_count": 0, "next_poll_at": stamp,
                                  "created_at": stamp, **declared})
                    continue
                if row["declared_url"] != feed.url:  # the operator changed it: it wins
                    declared |= {"url": feed.url, "declared_url": feed.url, "etag": None,
                                 "last_modified": None, "body_hash": None}
                if row["state"] == "removed":
                    declared |= {"state": "ok", "next_poll_at": stamp}
                table.update(feed.id, declared)
            ids = [f.id for f in feeds]
            self.db.execute(
                f"UPDATE feeds SET state = 'removed', updated_at = ? WHERE origin = 'config' "
                f"AND state != 'removed' AND id NOT IN ({','.join('?' * len(ids))})",
                [stamp, *ids])

    def _feed_row(self, feed_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM feeds WHERE id = ?", [feed_id]))
        return rows[0] if rows else None

    def get_feed(self, feed_id: str) -> FeedState | None:
        row = self._feed_row(feed_id)
        return _feed_state(row) if row else None

    def list_feeds(self) -> list[FeedState]:
        return [_feed_state(r) for r in self.db.query("SELECT * FROM feeds ORDER BY id")]

    def claim_due(self, now: datetime, limit: int, *, all_feeds: bool = False) -> list[FeedState]:
        """Feeds whose next poll is due; each is leased so no other tick takes it meanwhile."""
        with self.transaction():
            where = "state IN ('ok', 'erroring')"
            params: list[Any] = []
            if not all_feeds:
                where += " AND next_poll_at <= ?"
                params.append(to_iso(now))
            rows = list(self.db.query(
                f"SELECT * FROM feeds WHERE {where} ORDER BY next_poll_at, id LIMIT ?",
                [*params, limit]))
            lease = to_iso(now + CLAIM_LEASE)
            for row in rows:
                self.db.execute("UPDATE feeds SET next_poll_at = ? WHERE id = ?", [lease, row["id"]])
        return [_feed_state(r) for r in rows]

    def next_due_at(self) -> datetime | None:
        row = self.db.execute("SELECT min(next_poll_at) FROM feeds "
                              "WHERE state IN ('ok', 'erroring')").fetchone()
        return from_iso(row[0]) if row and row[0] else None

    def release_feeds(self, feed_ids: list[str], now: datetime) -> None:
        """Claimed feeds whose polls never finished: due again now."""
        with self.transaction():
            self.db.execute(
                f"UPDATE feeds SET next_poll_at = ? WHERE id IN ({','.join('?' * len(feed_ids))})",
                [to_iso(now), *feed_ids])

    def resume_feed(self, feed_id: str, now: datetime) -> bool:
        """Take a parked or erroring feed back to polling now."""
        with self.transaction():
            cursor = self.db.execute(
                "UPDATE feeds SET state = 'ok', error_count = 0, next_poll_at = ?, "
                "updated_at = ? WHERE id = ? AND state != 'removed'",
                [to_iso(now), to_iso(now), feed_id])
        return cursor.rowcount > 0

    # ── a poll ──────────────────────────────────────────────────────────────

    def save_poll(self, poll: PollRecord, stories: list[Story], feed_update: dict[str, Any],
                  now: datetime) -> list[StoredChange]:
        """Everything one poll learnt, in one transaction: stories, versions, events,
        the feed's new state and the poll's history row."""
        with self.transaction():
            changes = [self._save_story(story, keys, now) for story, keys in dedupe.keyed(stories)]
            counts = {k: sum(1 for c in changes if c.kind == k)
                      for k in ("created", "updated", "unchanged")}
            self.db["polls"].insert({
                "feed_id": poll.feed_id, "started_at": to_iso(poll.started_at),
                "duration_ms": poll.duration_ms, "status": poll.status, "bytes": poll.bytes,
                "new": counts["created"], "updated": counts["updated"],
                "unchanged": counts["unchanged"], "error": poll.error})
            if feed_update and self._feed_row(poll.feed_id) is not None:
                self.db["feeds"].update(poll.feed_id, _feed_columns(feed_update))
        return changes

    def save_stories(self, stories: list[Story], now: datetime) -> list[StoredChange]:
        """Stories that came from no polled feed (replay): same rules, one transaction."""
        with self.transaction():
            return [self._save_story(story, keys, now) for story, keys in dedupe.keyed(stories)]

    def _save_story(self, story: Story, keys: list[str], now: datetime) -> StoredChange:
        content_hash = dedupe.content_hash(story)
        existing = self._find_story(keys)
        intent = dedupe.decide(keys, content_hash, existing)
        if intent.kind == "unchanged":
            self._add_keys(intent.story_id, keys)
            return StoredChange("unchanged", intent.story_id, intent.version)
        event = build_event(intent.kind, intent.story_id, intent.version, story, now,
                            first_created=existing.first_created if existing else None)
        ninjs = event["data"]["story"]
        ingest = event["data"]["ingest"]
        stamp = to_iso(now)
        row = {
            "id": intent.story_id, "feed_id": story.feed_id, "source": story.source,
            "url": story.url, "guid": story.guid, "version": intent.version,
            "content_hash": content_hash, "headline": story.headline, "byline": story.byline,
            "located": story.located, "section": story.section, "language": story.language,
            "first_created": ninjs.get("firstCreated"), "version_created": stamp,
            "body_text": story.body_text, "ninjs": _json(ninjs), "ingest": _json(ingest),
        }
        if intent.kind == "created":
            self.db["stories"].insert({**row, "created_at": stamp})
        else:
            self.db["stories"].update(intent.story_id, row)
        self._add_keys(intent.story_id, keys)
        self.db["story_versions"].insert({
            "story_id": intent.story_id, "version": intent.version,
            "content_hash": content_hash, "ninjs": row["ninjs"], "ingest": row["ingest"],
            "created_at": stamp})
        self.db["events"].insert({
            "id": event["id"], "type": event["type"], "story_id": intent.story_id,
            "version": intent.version, "payload": _json(event), "created_at": stamp})
        return StoredChange(intent.kind, intent.story_id, intent.version, event)

    def _find_story(self, keys: list[str]) -> dedupe.Existing | None:
        for key in keys:  # in policy order: the first key that is known decides
            row = self.db.execute(
                "SELECT s.id, s.version, s.content_hash, s.first_created FROM story_keys k "
                "JOIN stories s ON s.id = k.story_id WHERE k.key = ?", [key]).fetchone()
            if row:
                return dedupe.Existing(*row)
        return None

    def _add_keys(self, story_id: str, keys: list[str]) -> None:
        self.db.conn.executemany("INSERT OR IGNORE INTO story_keys (key, story_id) VALUES (?, ?)",
                                 [(k, story_id) for k in keys])

    # ── reads ───────────────────────────────────────────────────────────────

    def list_stories(self, limit: int = 20, feed_id: str | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE feed_id = ?", [feed_id]) if feed_id else ("", [])
        return list(self.db.query(
            f"SELECT id, feed_id, source, version, headline, byline, located, section, language, "
            f"first_created, version_created, url FROM stories {where} "
            f"ORDER BY version_created DESC, id LIMIT ?", [*params, limit]))

    def get_story(self, story_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM stories WHERE id = ?", [story_id]))
        return rows[0] if rows else None

    def count(self, table: str) -> int:
        return self.db[table].count

    def recent_polls(self, feed_id: str, limit: int = 10) -> list[dict[str, Any]]:
        return list(self.db.query("SELECT * FROM polls WHERE feed_id = ? ORDER BY id DESC LIMIT ?",
                                  [feed_id, limit]))


def _feed_state(row: dict[str, Any]) -> FeedState:
    return FeedState(
        id=row["id"], url=row["url"], source=row["source"], interval=row["interval"] or 300.0,
        fetch_article=bool(row["fetch_article"]), origin=row["origin"], state=row["state"],
        etag=row["etag"], last_modified=row["last_modified"], body_hash=row["body_hash"],
        next_poll_at=from_iso(row["next_poll_at"]), last_poll_at=from_iso(row["last_poll_at"]),
        last_success_at=from_iso(row["last_success_at"]), last_error=row["last_error"],
        error_count=row["error_count"] or 0)


def _feed_columns(update: dict[str, Any]) -> dict[str, Any]:
    return {k: to_iso(v) if isinstance(v, datetime) else v for k, v in update.items()}


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class Writer:
    """The daemon's single writer: one thread owns the write connection, and
    every write is a call queued to it, so writes never contend in-process and
    the event loop never blocks on SQLite."""

    def __init__(self, path: str | Path):
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingestd-writer")
        self.store: Store = self._executor.submit(Store, path).result()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(*args))

    def close(self) -> None:
        """Finish queued writes, then close the connection."""
        self._executor.submit(self.store.close).result()
        self._executor.shutdown(wait=True)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)
