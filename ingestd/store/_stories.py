"""Stories: identity keys, versions, near-duplicate clusters, tombstones, and the outbox
events written with them.

Nothing here decides (ingestd.compose does, with dedupe): this part answers the
composer's small queries and applies the intents it is handed, inside the
caller's transaction. The cluster index is `story_bands`: one row per LSH band
of a story's fingerprint, keyed (day, band, story), so finding a story's
near-duplicates costs one index range per band, whatever the size of the
database. Each story's signature (shingles and numbers) is stored beside it,
so a candidate is compared without being fingerprinted again.

A version's ninjs document is stored once, in `story_versions`; an outbox event
refers to it (`EVENT_BODY` puts the event back together, byte for byte).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

import sqlite_utils

from ..models import EventWrite, Existing, Policy, PolicyWrite, StoredSignature, StoryWrite
from ..timeutil import to_iso
from ._base import Migration, StoreBase

PURGE_BATCH = 500  # stories per purge transaction: the writer is never held for long
# Band rows are grouped by the day their story was published: a new story's rows go among
# recent ones (pages already in cache) rather than anywhere in an index as big as the
# database, and a cluster window is a few days' worth of ranges.
DAY = 86_400
# band rows read, at most, when looking for a story's near-duplicates
BAND_ROWS = 1024
# An event as sent: its envelope around its version's document, in the one form
# `json.dumps(event, ensure_ascii=False, separators=(",", ":"))` gives it.
EVENT_BODY = (
    """'{"type":"' || e.type || '","id":"' || e.id || '","timestamp":"' || e.timestamp || """
    """'","data":{"story":' || v.ninjs || ',"ingest":' || v.ingest || '}}'"""
)
EVENT_VERSION_JOIN = "JOIN story_versions v ON v.story_id = e.story_id AND v.version = e.version"
# A story's row, written from a StoryWrite: the columns every version sets, then those only
# the first sets (a later version keeps the feed and cluster it was first stored with).
_VERSION_COLUMNS = (
    "url, guid, version, content_hash, headline, byline, located, section, language, "
    "first_created, version_created, body_text, fingerprint, shingles, numbers"
).split(", ")
_FIRST_COLUMNS = ["id", "feed_id", "source", "cluster_id", "first_of_cluster", "created_at"]
_INSERT_STORY = (
    f"INSERT INTO stories ({', '.join(_VERSION_COLUMNS + _FIRST_COLUMNS)}) "
    f"VALUES ({', '.join('?' * (len(_VERSION_COLUMNS) + len(_FIRST_COLUMNS)))})"
)
_UPDATE_STORY = f"UPDATE stories SET {', '.join(f'{c} = ?' for c in _VERSION_COLUMNS)} WHERE id = ?"
_INSERT_BANDS = "INSERT INTO story_bands (day, band, story_id, at) VALUES (?, ?, ?, ?)"
_INSERT_VERSION = (
    "INSERT INTO story_versions (story_id, version, content_hash, ninjs, ingest, created_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def _stories_1(db: sqlite_utils.Database) -> None:
    db.table("stories").create(
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
    db.table("stories").create_index(["feed_id"])
    db.table("stories").create_index(["first_created"])
    db.table("story_keys").create({"key": str, "story_id": str}, pk="key")
    db.table("story_keys").create_index(["story_id"])
    db.table("story_versions").create(
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
    db.table("events").create(
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
    db.table("events").create_index(["id"], unique=True)


def _stories_2(db: sqlite_utils.Database) -> None:
    """Clusters, the band index, tombstones and per-feed identity policies."""
    stories = db.table("stories")
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
    db.table("story_tombstones").create(
        {"story_id": str, "feed_id": str, "version": int, "purged_at": str}, pk="story_id"
    )
    db.table("feed_identity").create(
        {"feed_id": str, "policy": str, "reason": str, "pinned": int, "changed_at": str}, pk="feed_id"
    )


def _stories_3(db: sqlite_utils.Database) -> None:
    """One copy of each ninjs version: stories and events refer to story_versions.
    Stored signatures beside each story; the read paths' indexes."""
    # events whose version row an earlier purge dropped keep their document there
    db.execute(
        "INSERT OR IGNORE INTO story_versions (story_id, version, content_hash, ninjs, ingest, "
        "created_at) SELECT story_id, version, NULL, json_extract(payload, '$.data.story'), "
        "json_extract(payload, '$.data.ingest'), created_at FROM events"
    )
    db.table("events").add_column("timestamp", str)
    db.execute("UPDATE events SET timestamp = json_extract(payload, '$.timestamp')")
    db.execute("ALTER TABLE events DROP COLUMN payload")
    db.execute("ALTER TABLE stories DROP COLUMN ninjs")
    db.execute("ALTER TABLE stories DROP COLUMN ingest")
    db.table("stories").add_column("shingles", bytes)
    db.table("stories").add_column("numbers", str)
    # the signatures are (re)built by the composer: the fingerprint version is unknown
    db.execute("DELETE FROM meta WHERE key = 'fingerprint.version'")
    db.execute("CREATE INDEX idx_stories_feed_first ON stories (feed_id, first_created)")
    # each covered by a wider index above (feed_id, …) or never read alone
    db.execute("DROP INDEX IF EXISTS idx_stories_feed_id")
    db.execute("DROP INDEX IF EXISTS idx_stories_first_created")
    db.execute("CREATE INDEX idx_events_story ON events (story_id, version)")


def _stories_4(db: sqlite_utils.Database) -> None:
    """An embargoed story's event is held: not sent before `not_before` (outbox time form)."""
    db.table("events").add_column("not_before", str)


MIGRATIONS: list[Migration] = [
    ("stories-1", _stories_1),
    ("stories-2", _stories_2),
    ("stories-3", _stories_3),
    ("stories-4", _stories_4),
]


def _fingerprint_json(at: int, bands: tuple[int, ...]) -> str:
    """`json.dumps({"at": at, "bands": list(bands)})`, byte for byte (whole numbers only),
    without the encoder: the band rows a story's next version or purge drops."""
    return f'{{"at": {int.__repr__(at)}, "bands": [{", ".join(map(int.__repr__, bands))}]}}'


class StoriesMixin(StoreBase):
    # ── queries the composer decides from ────────────────────────────────────

    def identity_policy(self, feed_id: str) -> Policy | None:
        """The feed's identity policy, as learnt or pinned; None before its first stories."""
        row = self.db.execute(
            "SELECT policy, reason, pinned FROM feed_identity WHERE feed_id = ?", [feed_id]
        ).fetchone()
        return Policy(row[0], row[1], bool(row[2])) if row else None

    def identity_policies(self) -> dict[str, Policy]:
        """Every feed's identity policy, by feed id (for `ingestd feeds list`)."""
        return {
            feed_id: Policy(policy, reason, bool(pinned))
            for feed_id, policy, reason, pinned in self.db.execute(
                "SELECT feed_id, policy, reason, pinned FROM feed_identity ORDER BY feed_id"
            )
        }

    def reset_identity_policy(self, feed_id: str) -> bool:
        """Forget the learnt policy: the feed's next stories choose again, from guid."""
        with self.transaction():
            cursor = self.db.execute("DELETE FROM feed_identity WHERE feed_id = ?", [feed_id])
        return cursor.rowcount > 0

    def holder_of_text(
        self, keys: list[str], feed_id: str, text_hash: str
    ) -> tuple[str | None, frozenset[str]]:
        """A story of this feed, named by one of `keys`, that already has this exact text,
        and every key stored for it; (None, {}) when there is none."""
        found = dict(
            self.db.execute(
                f"SELECT key, story_id FROM story_keys WHERE key IN ({','.join('?' * len(keys))})", keys
            ).fetchall()
        )
        for story_id in dict.fromkeys(found.values()):
            if self.db.execute(
                "SELECT 1 FROM stories s JOIN story_versions v ON v.story_id = s.id "
                "WHERE s.id = ? AND s.feed_id = ? AND v.content_hash = ?",
                [story_id, feed_id, text_hash],
            ).fetchone():
                held = self.db.execute("SELECT key FROM story_keys WHERE story_id = ?", [story_id])
                return story_id, frozenset(k for (k,) in held)
        return None, frozenset()

    def known_keys(self, keys: list[str]) -> frozenset[str]:
        """Which of these keys (identity keys, raw-entry keys) are stored."""
        known: set[str] = set()
        for start in range(0, len(keys), 500):  # SQLite's bound-parameter limit
            chunk = keys[start : start + 500]
            known.update(
                k
                for (k,) in self.db.execute(
                    f"SELECT key FROM story_keys WHERE key IN ({','.join('?' * len(chunk))})", chunk
                )
            )
        return frozenset(known)

    def find_story(self, keys: list[str]) -> Existing | None:
        """The story the first known key names, in the order given (the policy's)."""
        if not keys:
            return None
        # one look-up for every key (a new story's are all unknown), the first known one wins
        found = {
            row[0]: row[1:]
            for row in self.db.conn.execute(
                "SELECT k.key, k.story_id, s.version, s.first_created, t.version FROM story_keys k "
                "LEFT JOIN stories s ON s.id = k.story_id "
                f"LEFT JOIN story_tombstones t ON t.story_id = k.story_id WHERE k.key IN ({','.join('?' * len(keys))})",
                keys,
            )
        }
        for key in keys:
            if key not in found:
                continue
            story_id, version, first_created, purged_version = found[key]
            matched = key.split(":", 1)[0]
            if version is None:  # the story was purged; its keys stay so it stays gone
                return Existing(
                    story_id, purged_version or 0, None, frozenset(), purged=True, matched=matched
                )
            stored = self.db.execute(
                "SELECT content_hash, json_extract(ingest, '$.item_version') FROM story_versions "
                "WHERE story_id = ?",
                [story_id],
            ).fetchall()
            items = [v for _, v in stored if isinstance(v, int)]
            return Existing(
                story_id,
                version,
                first_created,
                frozenset(h for h, _ in stored),
                matched=matched,
                item_version=max(items, default=None),
            )
        return None

    def cluster_candidates(
        self, bands: tuple[int, ...], at: int, window: float, limit: int
    ) -> list[StoredSignature]:
        """Stories published within `window` of `at` that share a band, most bands first."""
        if not bands:
            return []
        days = range(int(at - window) // DAY, int(at + window) // DAY + 1)
        # the band rows read are capped, so a storm of near-copies costs no more than a few;
        # counted here, not by GROUP BY: most new stories share no band, and SQLite's two
        # sorting B-trees cost more than counting the few rows that come back
        rows = self.db.conn.execute(
            f"SELECT story_id FROM story_bands WHERE day IN ({','.join('?' * len(days))}) "
            f"AND band IN ({','.join('?' * len(bands))}) AND at BETWEEN ? AND ? LIMIT {BAND_ROWS}",
            [*days, *bands, at - window, at + window],
        ).fetchall()
        if not rows:
            return []
        shared = Counter(story_id for (story_id,) in rows)
        ids = sorted(shared, key=lambda story_id: (-shared[story_id], story_id))[:limit]
        found = {
            row[0]: StoredSignature(*row)
            for row in self.db.execute(
                f"SELECT id, cluster_id, shingles, numbers FROM stories "
                f"WHERE id IN ({','.join('?' * len(ids))}) AND shingles IS NOT NULL",
                ids,
            )
        }
        return [found[story_id] for story_id in ids if story_id in found]

    def story_cluster(self, story_id: str) -> tuple[str, bool, int | None]:
        """A stored story's cluster, whether it is the cluster's first, and the time
        its band rows are filed under (None: it has none)."""
        cluster, first, stored = self.db.execute(
            "SELECT cluster_id, first_of_cluster, fingerprint FROM stories WHERE id = ?", [story_id]
        ).fetchone()
        return cluster, bool(first), json.loads(stored)["at"] if stored else None

    # ── applying intents ─────────────────────────────────────────────────────

    def _write_story(self, w: StoryWrite) -> None:
        conn = self.db.conn
        row = (
            w.url,
            w.guid,
            w.version,
            w.content_hash,
            w.headline,
            w.byline,
            w.located,
            w.section,
            w.language,
            w.first_created,
            w.written_at,
            w.body_text,
            _fingerprint_json(w.at, w.bands) if w.bands else None,
            w.shingles or None,
            w.numbers if w.bands else None,
        )
        if w.kind == "created":
            first = (w.story_id, w.feed_id, w.source, w.cluster, int(w.first_of_cluster), w.written_at)
            conn.execute(_INSERT_STORY, row + first)
        else:
            self._drop_bands(w.story_id)
            conn.execute(_UPDATE_STORY, (*row, w.story_id))
        if w.bands:
            day = w.at // DAY
            conn.executemany(_INSERT_BANDS, [(day, band, w.story_id, w.at) for band in w.bands])
        conn.execute(
            _INSERT_VERSION, (w.story_id, w.version, w.content_hash, w.ninjs, w.ingest, w.written_at)
        )

    def _write_keys(self, story_id: str, keys: tuple[str, ...]) -> None:
        self.db.conn.executemany(
            "INSERT OR IGNORE INTO story_keys (key, story_id) VALUES (?, ?)", [(k, story_id) for k in keys]
        )

    def _write_events(self, writes: list[EventWrite]) -> None:
        self.db.conn.executemany(
            "INSERT INTO events (id, type, story_id, version, timestamp, created_at, not_before) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(w.id, w.type, w.story_id, w.version, w.timestamp, w.timestamp, w.not_before) for w in writes],
        )

    def event_bodies(self, event_ids: list[str]) -> dict[str, str]:
        """Events as they are sent (and printed by replay), by id."""
        return dict(
            self.db.execute(
                f"SELECT e.id, {EVENT_BODY} FROM events e {EVENT_VERSION_JOIN} "
                f"WHERE e.id IN ({','.join('?' * len(event_ids))})",
                event_ids,
            ).fetchall()
        )

    def _write_policy(self, w: PolicyWrite) -> None:
        self.db.execute(
            "INSERT INTO feed_identity (feed_id, policy, reason, pinned, changed_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (feed_id) DO UPDATE SET policy = excluded.policy, reason = excluded.reason, "
            "pinned = excluded.pinned, changed_at = excluded.changed_at",
            [w.feed_id, w.policy, w.reason, int(w.pinned), w.changed_at],
        )

    def _drop_bands(self, story_id: str) -> None:
        """Remove a story's rows from the band index."""
        (stored,) = self.db.execute("SELECT fingerprint FROM stories WHERE id = ?", [story_id]).fetchone()
        if not stored:
            return
        fingerprint = json.loads(stored)
        self.db.conn.executemany(
            "DELETE FROM story_bands WHERE day = ? AND band = ? AND story_id = ?",
            [(fingerprint["at"] // DAY, band, story_id) for band in fingerprint["bands"]],
        )

    # ── signatures: rebuilt when the fingerprint changes ─────────────────────

    def stories_after(self, after: str, limit: int) -> list[tuple[str, str, str, str | None, str]]:
        """(id, headline, body_text, first_created, created_at) of stories by id after `after`."""
        return self.db.execute(
            "SELECT id, headline, body_text, first_created, created_at FROM stories "
            "WHERE id > ? ORDER BY id LIMIT ?",
            [after, limit],
        ).fetchall()

    def replace_signature(
        self, story_id: str, at: int, bands: tuple[int, ...], shingles: bytes, numbers: str
    ) -> None:
        """A story's bands and signature as a new fingerprint makes them (inside a transaction)."""
        self._drop_bands(story_id)
        self.db.execute(
            "UPDATE stories SET fingerprint = ?, shingles = ?, numbers = ? WHERE id = ?",
            [
                _fingerprint_json(at, bands) if bands else None,
                shingles or None,
                numbers if bands else None,
                story_id,
            ],
        )
        self.db.conn.executemany(
            "INSERT INTO story_bands (day, band, story_id, at) VALUES (?, ?, ?, ?)",
            [(at // DAY, band, story_id, at) for band in bands],
        )

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
                # a version an outbox event still refers to stays until the event goes
                self.db.conn.executemany(
                    "DELETE FROM story_versions WHERE story_id = ? AND NOT EXISTS (SELECT 1 FROM "
                    "events e WHERE e.story_id = story_versions.story_id AND e.version = story_versions.version)",
                    ids,
                )
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
                f"{where} ORDER BY coalesce(first_created, created_at) DESC, id DESC LIMIT ?",
                [*params, limit],
            )
        )

    def get_story(self, story_id: str) -> dict[str, Any] | None:
        rows = list(
            self.db.query(
                "SELECT s.*, v.ninjs, v.ingest FROM stories s JOIN story_versions v "
                "ON v.story_id = s.id AND v.version = s.version WHERE s.id = ?",
                [story_id],
            )
        )
        return rows[0] if rows else None
