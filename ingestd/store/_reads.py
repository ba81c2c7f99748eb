"""What the HTTP API reads (story pages, one story, feeds, the gauges /metrics shows)
and the OPML batch import.

Full-text search is an FTS5 index over headline, body_text and byline, kept in
step with `stories` by triggers, so no writer has to remember it. Writes to
`stories` must be INSERT, UPDATE or DELETE: `INSERT OR REPLACE` deletes rows
without firing triggers and would leave the index behind.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import sqlite_utils

from ..models import FeedConfig
from ..timeutil import from_iso, to_iso
from ._base import BUSY_TIMEOUT_S, Migration, StoreBase
from ._feeds import new_feed_row

# The order of /stories: publication time (ingest time if the input gave none), then id.
# Both are set when a story is first stored, so a page boundary never moves.
NEWEST = "coalesce(s.first_created, s.created_at)"

_FEED_ID_MAX = 64


def _reads_1(db: sqlite_utils.Database) -> None:
    # Contentless FTS5 (the text already lives in `stories`), addressed through a map
    # with an INTEGER PRIMARY KEY: the rowid of `stories` (a text-keyed table) is not
    # stable, VACUUM may renumber it, so the index cannot point at it.
    statements = [
        "CREATE TABLE stories_fts_ids (rowid INTEGER PRIMARY KEY, story_id TEXT NOT NULL UNIQUE)",
        "CREATE VIRTUAL TABLE stories_fts USING fts5(headline, body_text, byline, content='', "
        "tokenize='unicode61 remove_diacritics 2')",
        """CREATE TRIGGER stories_fts_insert AFTER INSERT ON stories BEGIN
             INSERT INTO stories_fts_ids (story_id) VALUES (new.id);
             INSERT INTO stories_fts (rowid, headline, body_text, byline) VALUES (
               (SELECT rowid FROM stories_fts_ids WHERE story_id = new.id),
               new.headline, new.body_text, new.byline);
           END""",
        # a contentless index forgets a row only when told the exact text it indexed
        """CREATE TRIGGER stories_fts_update AFTER UPDATE OF headline, body_text, byline
           ON stories BEGIN
             INSERT INTO stories_fts (stories_fts, rowid, headline, body_text, byline) VALUES (
               'delete', (SELECT rowid FROM stories_fts_ids WHERE story_id = old.id),
               old.headline, old.body_text, old.byline);
             INSERT INTO stories_fts (rowid, headline, body_text, byline) VALUES (
               (SELECT rowid FROM stories_fts_ids WHERE story_id = new.id),
               new.headline, new.body_text, new.byline);
           END""",
        """CREATE TRIGGER stories_fts_delete AFTER DELETE ON stories BEGIN
             INSERT INTO stories_fts (stories_fts, rowid, headline, body_text, byline) VALUES (
               'delete', (SELECT rowid FROM stories_fts_ids WHERE story_id = old.id),
               old.headline, old.body_text, old.byline);
             DELETE FROM stories_fts_ids WHERE story_id = old.id;
           END""",
        "INSERT INTO stories_fts_ids (story_id) SELECT id FROM stories",
        "INSERT INTO stories_fts (rowid, headline, body_text, byline) SELECT i.rowid, "
        "s.headline, s.body_text, s.byline FROM stories s JOIN stories_fts_ids i "
        "ON i.story_id = s.id",
        f"CREATE INDEX idx_stories_newest ON stories ({NEWEST.replace('s.', '')}, id)",
        "CREATE INDEX idx_stories_feed_created ON stories (feed_id, created_at)",
    ]
    for statement in statements:
        db.execute(statement)


# FTS5 merges this many segments of a level at a time (its default: 4). Fewer, larger merges
# cost a stored story 15-17% less index work; a search reads more segments (11 -> 17 at 8,000
# stories, 8 -> 11 at 20,000: 1.05-1.5x the CPU of a query, ~0.03 ms). Every story pays the
# write, only searches the read: bench/fts.py, docs/performance.md.
AUTOMERGE = 8


def _reads_2(db: sqlite_utils.Database) -> None:
    # kept in the index's own config table: every connection, every later write, uses it
    db.execute("INSERT INTO stories_fts (stories_fts, rank) VALUES ('automerge', ?)", [AUTOMERGE])


MIGRATIONS: list[Migration] = [("reads-1", _reads_1), ("reads-2-fts-automerge", _reads_2)]

_STORY_COLUMNS = (
    "s.id, s.version, s.feed_id AS feed, s.source, s.headline, s.byline, s.located, "
    "s.section, s.language, s.first_created, s.version_created, s.url"
)
_FEED_COLUMNS = (
    "id, url, source, origin, state, interval, fetch_article, identity, quiet_after, disabled, "
    "error_count, last_error, last_poll_at, last_success_at, next_poll_at, quiet_since, credentials"
)


@dataclass(frozen=True)
class StoryQuery:
    """One page of /stories. `after` is the last row's (sort key, id) of the page before."""

    limit: int = 20
    after: tuple[str, str] | None = None
    since: str | None = None  # ISO 8601 UTC; published at or after
    feed: str | None = None
    source: str | None = None
    section: str | None = None
    language: str | None = None
    match: str | None = None  # an FTS5 query


@dataclass
class StoryPage:
    stories: list[dict[str, Any]]
    next_after: tuple[str, str] | None  # None: this was the last page


@dataclass
class StoreGauges:
    """What /metrics reads from the database at scrape time."""

    feeds_by_state: dict[str, int]
    outbox_backlog: int
    outbox_oldest_at: datetime | None
    feeds_quiet: int = 0
    # per feed not removed: (state, last success or None); alert rules need the feed label
    feeds_status: dict[str, tuple[str, datetime | None]] = field(default_factory=dict)


@dataclass
class ImportReport:
    added: list[FeedConfig] = field(default_factory=list)  # with the ids they were given
    present: list[tuple[FeedConfig, str]] = field(default_factory=list)  # (feed, existing id)


R = TypeVar("R", bound="ReadsMixin")


class ReadsMixin(StoreBase):
    @classmethod
    def open_reader(cls: type[R], path: str | Path) -> R:
        """A read-only connection for the API's threads: never the daemon's writer, and it
        never migrates (the daemon's writer has, before the server starts)."""
        reader = cls.__new__(cls)
        reader.path = str(path)
        conn = sqlite3.connect(
            f"file:{quote(str(Path(path).resolve()))}?mode=ro",
            uri=True,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute("PRAGMA query_only=ON")
        reader.db = sqlite_utils.Database(conn)
        return reader

    def stories_page(self, query: StoryQuery) -> StoryPage:
        """Newest first; a page continues strictly after the last row of the one before,
        so stories stored meanwhile neither repeat nor push others out of the pages."""
        where: list[str] = []
        params: list[Any] = []
        tables = "stories s"
        if query.match:
            tables = (
                "stories_fts JOIN stories_fts_ids i ON i.rowid = stories_fts.rowid "
                "JOIN stories s ON s.id = i.story_id"
            )
            where.append("stories_fts MATCH ?")
            params.append(query.match)
        for column, value in (
            ("feed_id", query.feed),
            ("source", query.source),
            ("section", query.section),
            ("language", query.language),
        ):
            if value is not None:
                where.append(f"s.{column} = ?")
                params.append(value)
        if query.since:
            where.append(f"{NEWEST} >= ?")
            params.append(query.since)
        if query.after:
            # spelt out rather than as a row value, which SQLite cannot seek an index by
            key, story_id = query.after
            where.append(f"{NEWEST} <= ? AND ({NEWEST} < ? OR s.id < ?)")
            params.extend([key, key, story_id])
        sql = (
            f"SELECT {_STORY_COLUMNS}, {NEWEST} AS sort_key FROM {tables} "
            f"{'WHERE ' + ' AND '.join(where) if where else ''} "
            f"ORDER BY {NEWEST} DESC, s.id DESC LIMIT ?"
        )
        rows = list(self.db.query(sql, [*params, query.limit + 1]))
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        keys = [(row.pop("sort_key"), row["id"]) for row in rows]
        return StoryPage(rows, keys[-1] if more else None)

    def story_document(self, story_id: str) -> dict[str, Any] | None:
        """The current ninjs document, its ingest data, and every version, newest first."""
        row = self.db.execute(
            "SELECT v.ninjs, v.ingest FROM stories s JOIN story_versions v "
            "ON v.story_id = s.id AND v.version = s.version WHERE s.id = ?",
            [story_id],
        ).fetchone()
        if row is None:
            return None
        versions = [
            {
                "version": version,
                "created_at": created_at,
                "story": json.loads(ninjs),
                "ingest": json.loads(ingest),
            }
            for version, created_at, ninjs, ingest in self.db.execute(
                "SELECT version, created_at, ninjs, ingest FROM story_versions "
                "WHERE story_id = ? ORDER BY version DESC",
                [story_id],
            )
        ]
        return {
            "id": story_id,
            "story": json.loads(row[0]),
            "ingest": json.loads(row[1]),
            "versions": versions,
        }

    def feeds_overview(self) -> list[dict[str, Any]]:
        """Each feed's state, and when it last brought a story stored for the first time.
        Its credentials as set/unset (never `secrets`)."""
        return self._overview("", [])

    def feed_overview(self, feed_id: str) -> dict[str, Any] | None:
        """One feed as feeds_overview shows it."""
        rows = self._overview("WHERE id = ?", [feed_id])
        return rows[0] if rows else None

    def _overview(self, where: str, params: list[Any]) -> list[dict[str, Any]]:
        rows = self.db.query(
            f"SELECT {_FEED_COLUMNS}, (SELECT max(created_at) FROM stories "
            f"WHERE feed_id = feeds.id) AS last_story_at FROM feeds {where} ORDER BY id",
            params,
        )
        return [
            row
            | {k: bool(row[k]) for k in ("fetch_article", "disabled")}
            | {"credentials": json.loads(row["credentials"] or "null")}
            for row in rows
        ]

    def oldest_undelivered(self) -> dict[str, datetime]:
        """{subscription id: when its oldest delivery still owed was queued}."""
        return {
            sub_id: moment
            for sub_id, queued in self.db.execute(
                "SELECT subscription_id, min(queued_at) FROM deliveries "
                "WHERE state IN ('pending', 'delivering') GROUP BY subscription_id"
            )
            if (moment := from_iso(queued)) is not None
        }

    def service_gauges(self) -> StoreGauges:
        by_state = dict(self.db.execute("SELECT state, count(*) FROM feeds GROUP BY state"))
        backlog, oldest = self.outbox_backlog()
        quiet = self.db.execute(
            "SELECT count(*) FROM feeds WHERE quiet_since IS NOT NULL AND state != 'removed'"
        ).fetchone()[0]
        status = {
            feed_id: (state, from_iso(success))
            for feed_id, state, success in self.db.execute(
                "SELECT id, state, last_success_at FROM feeds WHERE state != 'removed'"
            )
        }
        return StoreGauges(by_state, backlog, from_iso(oldest), quiet, status)

    def stories_per_day(self, since: datetime) -> dict[str, dict[str, int]]:
        """{feed id: {"YYYY-MM-DD": stories first stored that UTC day}} from `since` on."""
        counts: dict[str, dict[str, int]] = {}
        for feed_id, day, count in self.db.execute(
            "SELECT feed_id, substr(created_at, 1, 10), count(*) FROM stories "
            "WHERE created_at >= ? GROUP BY 1, 2",
            [to_iso(since)],
        ):
            counts.setdefault(feed_id, {})[day] = count
        return counts

    def failed_polls_since(self, at: datetime) -> dict[str, str]:
        """{feed id: its last error} for feeds whose poll started at or after `at` failed."""
        return dict(
            self.db.execute(
                "SELECT feed_id, error FROM polls WHERE started_at >= ? AND error IS NOT NULL "
                "ORDER BY started_at",
                [to_iso(at)],
            )
        )

    def outbox_backlog(self) -> tuple[int, str | None]:
        """Deliveries still owed, and when the oldest of them was written. The webhooks
        part owns the deliveries and overrides this (it comes before ReadsMixin in Store's
        bases); without subscriptions nothing is owed."""
        return 0, None

    def import_feeds(
        self,
        feeds: list[FeedConfig],
        origin: str,
        now: datetime,
        progress: Callable[[list[FeedConfig]], Iterable[FeedConfig]] | None = None,
    ) -> ImportReport:
        """Add feeds in one transaction: all of them or, on any error, none. A feed whose
        URL is already known is left as it is; an id already taken gets a -2, -3, … suffix.
        Like `add_feed`, this never checks URLs: callers refuse file: and non-HTTP ones."""
        report = ImportReport()
        at = to_iso(now)
        with self.transaction():
            stored = self.db.execute("SELECT id, url, declared_url FROM feeds").fetchall()
            for feed in importing(progress(feeds) if progress else feeds, stored, report):
                self.db.table("feeds").insert(new_feed_row(feed, feed.id, origin, at))
        return report


def importing(
    feeds: Iterable[FeedConfig], stored: Iterable[tuple[str, str, str | None]], report: ImportReport
) -> Iterator[FeedConfig]:
    """The feeds an import adds, each under the id it is given (an id already taken gets a
    -2, -3, … suffix), once the caller has written the one before; a feed whose URL is
    known (`stored`: id, url, declared url) goes in `report.present` instead."""
    known: dict[str | None, str] = {}
    taken: set[str] = set()
    for feed_id, url, declared in stored:
        taken.add(feed_id)
        known.setdefault(url, feed_id)
        known.setdefault(declared, feed_id)
    for feed in feeds:
        if feed.url in known:
            report.present.append((feed, known[feed.url]))
            continue
        added = replace(feed, id=_unique(feed.id, taken))
        yield added
        taken.add(added.id)
        known[feed.url] = added.id
        report.added.append(added)


def _unique(feed_id: str, taken: set[str]) -> str:
    candidate, n = feed_id, 1
    while candidate in taken:
        n += 1
        suffix = f"-{n}"
        candidate = feed_id[: _FEED_ID_MAX - len(suffix)] + suffix
    return candidate
