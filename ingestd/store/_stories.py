"""Stories, their identity keys and versions, and the outbox events written with them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlite_utils

from .. import dedupe
from ..events import build_event
from ..models import Story, StoredChange
from ..timeutil import to_iso
from ._base import Migration, StoreBase, dumps


def _stories_1(db: sqlite_utils.Database) -> None:
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


MIGRATIONS: list[Migration] = [("stories-1", _stories_1)]


class StoriesMixin(StoreBase):
    def save_stories(self, stories: list[Story], now: datetime) -> list[StoredChange]:
        """Stories that came from no polled feed (replay): same rules, one transaction."""
        with self.transaction():
            return self._save_stories(stories, now)

    def _save_stories(self, stories: list[Story], now: datetime) -> list[StoredChange]:
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
        at = to_iso(now)
        row = {
            "id": intent.story_id, "feed_id": story.feed_id, "source": story.source,
            "url": story.url, "guid": story.guid, "version": intent.version,
            "content_hash": content_hash, "headline": story.headline, "byline": story.byline,
            "located": story.located, "section": story.section, "language": story.language,
            "first_created": ninjs.get("firstCreated"), "version_created": at,
            "body_text": story.body_text, "ninjs": dumps(ninjs),
            "ingest": dumps(event["data"]["ingest"]),
        }
        if intent.kind == "created":
            self.db["stories"].insert({**row, "created_at": at})
        else:
            self.db["stories"].update(intent.story_id, row)
        self._add_keys(intent.story_id, keys)
        self.db["story_versions"].insert({
            "story_id": intent.story_id, "version": intent.version,
            "content_hash": content_hash, "ninjs": row["ninjs"], "ingest": row["ingest"],
            "created_at": at})
        self.db["events"].insert({
            "id": event["id"], "type": event["type"], "story_id": intent.story_id,
            "version": intent.version, "payload": dumps(event), "created_at": at})
        self._event_written(event, story)
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

    def list_stories(self, limit: int = 20, feed_id: str | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE feed_id = ?", [feed_id]) if feed_id else ("", [])
        return list(self.db.query(
            f"SELECT id, feed_id, source, version, headline, byline, located, section, language, "
            f"first_created, version_created, url FROM stories {where} "
            f"ORDER BY version_created DESC, id LIMIT ?", [*params, limit]))

    def get_story(self, story_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM stories WHERE id = ?", [story_id]))
        return rows[0] if rows else None
