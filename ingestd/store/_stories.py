"""Stories: identity keys, versions, near-duplicate clusters, tombstones, and the outbox
events written with them.

dedupe decides; this part looks things up, applies the decision and writes,
all inside the caller's transaction. The cluster index is `story_bands`: one
row per LSH band of a story's fingerprint, keyed (band, published time), so
finding a story's near-duplicates costs one index range per band, whatever the
size of the database.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlite_utils

from .. import dedupe
from ..events import build_event
from ..logs import get_logger
from ..models import StoredChange, Story
from ..timeutil import to_iso
from ._base import Migration, StoreBase, dumps

PURGE_BATCH = 500  # stories per purge transaction: the writer is never held for long
# Band rows are grouped by the day their story was published: a new story's rows go among
# recent ones (pages already in cache) rather than anywhere in an index as big as the
# database, and a cluster window is a few days' worth of ranges.
DAY = 86_400


def _stories_1(db: sqlite_utils.Database) -> None:
    db["stories"].create(
        {
            "id": str,
            "feed_id": str,
            "source": str,
            "url": str,
            "guid": str,
            "version": int,
            "content_hash": str,
            "headline": str,
            "byline": str,
            "located": str,
            "section": str,
            "language": str,
            "first_created": str,
            "version_created": str,
            "body_text": str,
            "ninjs": str,
            "ingest": str,
            "created_at": str,
        },
        pk="id",
    )
    db["stories"].create_index(["feed_id"])
    db["stories"].create_index(["first_created"])
    db["story_keys"].create({"key": str, "story_id": str}, pk="key")
    db["story_keys"].create_index(["story_id"])
    db["story_versions"].create(
        {
            "story_id": str,
            "version": int,
            "content_hash": str,
            "ninjs": str,
            "ingest": str,
            "created_at": str,
        },
        pk=("story_id", "version"),
    )
    # the transactional outbox: one row per event, written with its story
    db["events"].create(
        {
            "seq": int,
            "id": str,
            "type": str,
            "story_id": str,
            "version": int,
            "payload": str,
            "created_at": str,
        },
        pk="seq",
    )
    db["events"].create_index(["id"], unique=True)


def _stories_2(db: sqlite_utils.Database) -> None:
    """Clusters, the band index, tombstones and per-feed identity policies."""
    stories = db["stories"]
    stories.add_column("cluster_id", str)
    stories.add_column("first_of_cluster", int)
    stories.add_column("fingerprint", str)  # JSON {"at": epoch s, "bands": [...]}: rows to drop
    db.execute("UPDATE stories SET cluster_id = id, first_of_cluster = 1")
    stories.create_index(["version_created"])  # retention
    db.execute(
        "CREATE TABLE story_bands (day INTEGER NOT NULL, band INTEGER NOT NULL, "
        "story_id TEXT NOT NULL, at INTEGER NOT NULL, "
        "PRIMARY KEY (day, band, story_id)) WITHOUT ROWID"
    )
    db["story_tombstones"].create(
        {"story_id": str, "feed_id": str, "version": int, "purged_at": str}, pk="story_id"
    )
    db["feed_identity"].create(
        {"feed_id": str, "policy": str, "reason": str, "pinned": int, "changed_at": str}, pk="feed_id"
    )


MIGRATIONS: list[Migration] = [("stories-1", _stories_1), ("stories-2", _stories_2)]


class StoriesMixin(StoreBase):
    def save_stories(
        self,
        stories: list[Story],
        now: datetime,
        *,
        identity: dedupe.PolicyName | None = None,
        settings: dedupe.Settings | None = None,
    ) -> list[StoredChange]:
        """Stories that came from no polled feed (replay): same rules, one transaction.
        `identity`: the feed's pinned identity policy, if its config pins one."""
        with self.transaction():
            return self._save_stories(stories, now, identity=identity, settings=settings)

    def _save_stories(
        self,
        stories: list[Story],
        now: datetime,
        *,
        identity: dedupe.PolicyName | None = None,
        settings: dedupe.Settings | None = None,
    ) -> list[StoredChange]:
        """One document's stories (a poll, a replayed file), in order."""
        settings = settings or dedupe.DEFAULT_SETTINGS
        identities = dedupe.identify(stories, settings.tracking_params)
        policies = {
            feed_id: self._settle_policy(
                feed_id, [i for i in identities if i.feed_id == feed_id], identity, now
            )
            for feed_id in dict.fromkeys(i.feed_id for i in identities)
        }
        return [
            self._save_story(story, ident, policies[ident.feed_id], now, settings)
            for story, ident in zip(stories, identities)
        ]

    # ── identity policy ──────────────────────────────────────────────────────

    def _settle_policy(
        self, feed_id: str, identities: list[dedupe.Identity], pinned: dedupe.PolicyName | None, now: datetime
    ) -> dedupe.PolicyName:
        """The feed's policy after what this document shows. A change is stored and logged;
        a new feed's first policy only stored (`identity_policy` shows it)."""
        current = self.identity_policy(feed_id)
        evidence = dedupe.observe(identities, [self._sighting(i) for i in identities])
        chosen = dedupe.choose_policy(current, evidence, pinned)
        if chosen != current:
            if current is not None:
                get_logger().info(
                    "identity policy changed",
                    feed_id=feed_id,
                    **{"from": current.name},
                    to=chosen.name,
                    reason=chosen.reason,
                    pinned=chosen.pinned,
                )
            self.db["feed_identity"].upsert(
                {
                    "feed_id": feed_id,
                    "policy": chosen.name,
                    "reason": chosen.reason,
                    "pinned": int(chosen.pinned),
                    "changed_at": to_iso(now),
                },
                pk="feed_id",
            )
        return chosen.name

    def _sighting(self, ident: dedupe.Identity) -> dedupe.Sighting:
        """Whether a story of this feed already has this text, and under which keys."""
        keys = [k for k in (ident.guid, ident.url, ident.content) if k]
        found = dict(
            self.db.execute(
                f"SELECT key, story_id FROM story_keys WHERE key IN ({','.join('?' * len(keys))})", keys
            ).fetchall()
        )
        holder = next(
            (
                story_id
                for story_id in dict.fromkeys(found.values())
                if self.db.execute(
                    "SELECT 1 FROM stories s JOIN story_versions v ON v.story_id = s.id "
                    "WHERE s.id = ? AND s.feed_id = ? AND v.content_hash = ?",
                    [story_id, ident.feed_id, ident.text_hash],
                ).fetchone()
            ),
            None,
        )
        if holder is None:
            return dedupe.Sighting(None)
        return dedupe.Sighting(
            holder,
            frozenset(
                k for (k,) in self.db.execute("SELECT key FROM story_keys WHERE story_id = ?", [holder])
            ),
        )

    def identity_policy(self, feed_id: str) -> dedupe.Policy | None:
        """The feed's identity policy, as learnt or pinned; None before its first stories."""
        row = self.db.execute(
            "SELECT policy, reason, pinned FROM feed_identity WHERE feed_id = ?", [feed_id]
        ).fetchone()
        return dedupe.Policy(row[0], row[1], bool(row[2])) if row else None

    def identity_policies(self) -> dict[str, dedupe.Policy]:
        """Every feed's identity policy, by feed id (for `ingestd feeds list`)."""
        return {
            feed_id: dedupe.Policy(policy, reason, bool(pinned))
            for feed_id, policy, reason, pinned in self.db.execute(
                "SELECT feed_id, policy, reason, pinned FROM feed_identity ORDER BY feed_id"
            )
        }

    def reset_identity_policy(self, feed_id: str) -> bool:
        """Forget the learnt policy: the feed's next stories choose again, from guid."""
        with self.transaction():
            cursor = self.db.execute("DELETE FROM feed_identity WHERE feed_id = ?", [feed_id])
        return cursor.rowcount > 0

    # ── one story ────────────────────────────────────────────────────────────

    def _save_story(
        self,
        story: Story,
        ident: dedupe.Identity,
        policy: dedupe.PolicyName,
        now: datetime,
        settings: dedupe.Settings,
    ) -> StoredChange:
        lookup = ident.lookup(policy)
        existing = self._find_story(lookup)
        intent = dedupe.decide(lookup, ident.text_hash, existing)
        if intent.kind == "unchanged":
            self._add_keys(intent.story_id, ident.recorded(policy))
            return StoredChange(
                "unchanged", intent.story_id, intent.version, matched=existing.matched if existing else None
            )
        fingerprint = dedupe.fingerprint(story.headline, story.body_text)
        if intent.kind == "created":
            at = int((story.first_created or now).timestamp())
            placement = dedupe.place(
                intent.story_id, fingerprint, self._candidates(fingerprint, at, settings.cluster_window)
            )
        else:
            stored = self._drop_bands(intent.story_id)
            at = stored["at"] if stored else int((story.first_created or now).timestamp())
            placement = self._placement(intent.story_id)
        url = dedupe.canonical_url(story.url, settings.tracking_params) if story.url else None
        event = build_event(
            intent.kind,
            intent.story_id,
            intent.version,
            story,
            now,
            first_created=existing.first_created if existing else None,
            url=url,
            cluster=placement.cluster,
            first_of_cluster=placement.first_of_cluster,
        )
        ninjs = event["data"]["story"]
        bands = list(fingerprint.bands) if fingerprint else []
        written = to_iso(now)
        row = {
            "url": story.url,
            "guid": story.guid,
            "version": intent.version,
            "content_hash": ident.text_hash,
            "headline": story.headline,
            "byline": story.byline,
            "located": story.located,
            "section": story.section,
            "language": story.language,
            "first_created": ninjs.get("firstCreated"),
            "version_created": written,
            "body_text": story.body_text,
            "ninjs": dumps(ninjs),
            "ingest": dumps(event["data"]["ingest"]),
            "fingerprint": dumps({"at": at, "bands": bands}) if bands else None,
        }
        if intent.kind == "created":
            self.db["stories"].insert(
                {
                    "id": intent.story_id,
                    "feed_id": story.feed_id,
                    "source": story.source,
                    **row,
                    "cluster_id": placement.cluster,
                    "first_of_cluster": int(placement.first_of_cluster),
                    "created_at": written,
                }
            )
        else:  # the story keeps the feed it was first stored from
            self.db["stories"].update(intent.story_id, row)
        self.db.conn.executemany(
            "INSERT INTO story_bands (day, band, story_id, at) VALUES (?, ?, ?, ?)",
            [(at // DAY, band, intent.story_id, at) for band in bands],
        )
        self._add_keys(intent.story_id, ident.recorded(policy))
        self.db["story_versions"].insert(
            {
                "story_id": intent.story_id,
                "version": intent.version,
                "content_hash": ident.text_hash,
                "ninjs": row["ninjs"],
                "ingest": row["ingest"],
                "created_at": written,
            }
        )
        self.db["events"].insert(
            {
                "id": event["id"],
                "type": event["type"],
                "story_id": intent.story_id,
                "version": intent.version,
                "payload": dumps(event),
                "created_at": written,
            }
        )
        self._event_written(event, story)
        matched = existing.matched if existing else (None if placement.first_of_cluster else "cluster")
        return StoredChange(intent.kind, intent.story_id, intent.version, event, matched)

    def _find_story(self, keys: list[str]) -> dedupe.Existing | None:
        for key in keys:  # in policy order: the first key that is known decides
            row = self.db.execute(
                "SELECT k.story_id, s.version, s.first_created, t.version FROM story_keys k "
                "LEFT JOIN stories s ON s.id = k.story_id "
                "LEFT JOIN story_tombstones t ON t.story_id = k.story_id WHERE k.key = ?",
                [key],
            ).fetchone()
            if row is None:
                continue
            story_id, version, first_created, purged_version = row
            matched = key.split(":", 1)[0]
            if version is None:  # the story was purged; its keys stay so it stays gone
                return dedupe.Existing(
                    story_id, purged_version or 0, None, frozenset(), purged=True, matched=matched
                )
            seen = frozenset(
                h
                for (h,) in self.db.execute(
                    "SELECT content_hash FROM story_versions WHERE story_id = ?", [story_id]
                )
            )
            return dedupe.Existing(story_id, version, first_created, seen, matched=matched)
        return None

    def _add_keys(self, story_id: str, keys: list[str]) -> None:
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO story_keys (key, story_id) VALUES (?, ?)", [(k, story_id) for k in keys]
        )

    # ── clusters ─────────────────────────────────────────────────────────────

    def _candidates(
        self, fingerprint: dedupe.Fingerprint | None, at: int, window: float
    ) -> list[dedupe.Candidate]:
        """Stories published within the window that share a band, most bands first."""
        if fingerprint is None:
            return []
        bands = fingerprint.bands
        days = range(int(at - window) // DAY, int(at + window) // DAY + 1)
        rows = self.db.execute(
            f"SELECT story_id FROM story_bands WHERE day IN ({','.join('?' * len(days))}) "
            f"AND band IN ({','.join('?' * len(bands))}) AND at BETWEEN ? AND ? "
            f"GROUP BY story_id ORDER BY COUNT(*) DESC, story_id LIMIT {dedupe.MAX_CANDIDATES}",
            [*days, *bands, at - window, at + window],
        ).fetchall()
        ids = [story_id for (story_id,) in rows]
        candidates = []
        for story_id, cluster, headline, body in self.db.execute(
            f"SELECT id, cluster_id, headline, body_text FROM stories "
            f"WHERE id IN ({','.join('?' * len(ids))})",
            ids,
        ):
            found = dedupe.fingerprint(headline or "", body or "")
            if found is not None:
                candidates.append(dedupe.Candidate(story_id, cluster, found))
        return sorted(candidates, key=lambda c: ids.index(c.story_id))

    def _placement(self, story_id: str) -> dedupe.Placement:
        cluster, first = self.db.execute(
            "SELECT cluster_id, first_of_cluster FROM stories WHERE id = ?", [story_id]
        ).fetchone()
        return dedupe.Placement(cluster, bool(first))

    def _drop_bands(self, story_id: str) -> dict[str, Any] | None:
        """Remove a story's rows from the band index; returns what they were."""
        (stored,) = self.db.execute("SELECT fingerprint FROM stories WHERE id = ?", [story_id]).fetchone()
        if not stored:
            return None
        fingerprint = json.loads(stored)
        self.db.conn.executemany(
            "DELETE FROM story_bands WHERE day = ? AND band = ? AND story_id = ?",
            [(fingerprint["at"] // DAY, band, story_id) for band in fingerprint["bands"]],
        )
        return fingerprint

    # ── retention ────────────────────────────────────────────────────────────

    def purge_stories(self, cutoff: datetime, now: datetime) -> int:
        """Delete stories not written since `cutoff`, with their versions and band rows.
        Their identity keys stay, with a tombstone, so a feed still listing them does not
        bring them back. Outbox events stay: delivering and pruning them is the outbox's
        business. Returns how many stories were purged."""
        purged = 0
        while True:
            with self.transaction():
                rows = self.db.execute(
                    "SELECT id, feed_id, version FROM stories WHERE version_created < ? "
                    "ORDER BY version_created LIMIT ?",
                    [to_iso(cutoff), PURGE_BATCH],
                ).fetchall()
                for story_id, _, _ in rows:
                    self._drop_bands(story_id)
                self.db.conn.executemany(
                    "INSERT OR REPLACE INTO story_tombstones (story_id, feed_id, version, "
                    "purged_at) VALUES (?, ?, ?, ?)",
                    [(story_id, feed_id, version, to_iso(now)) for story_id, feed_id, version in rows],
                )
                ids = [(story_id,) for story_id, _, _ in rows]
                self.db.conn.executemany("DELETE FROM story_versions WHERE story_id = ?", ids)
                self.db.conn.executemany("DELETE FROM stories WHERE id = ?", ids)
            purged += len(rows)
            if len(rows) < PURGE_BATCH:
                return purged

    # ── reading ──────────────────────────────────────────────────────────────

    def list_stories(self, limit: int = 20, feed_id: str | None = None) -> list[dict[str, Any]]:
        where, params = ("WHERE feed_id = ?", [feed_id]) if feed_id else ("", [])
        return list(
            self.db.query(
                f"SELECT id, feed_id, source, version, headline, byline, located, section, language, "
                f"first_created, version_created, url, cluster_id, first_of_cluster FROM stories "
                f"{where} ORDER BY version_created DESC, id LIMIT ?",
                [*params, limit],
            )
        )

    def get_story(self, story_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM stories WHERE id = ?", [story_id]))
        return rows[0] if rows else None
