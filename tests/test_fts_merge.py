"""The full-text index merges 8 segments at a time (`_reads.AUTOMERGE`, cheaper writes): every
form of `q` the API documents still finds what it should once many polls' segments have been
written and merged."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ingestd.api._query import fts_query
from ingestd.compose import save_stories
from ingestd.store import Store
from ingestd.store._reads import AUTOMERGE, StoryQuery
from tests.support.stories import NOW, story

TARGETS = [
    story(1, headline="North Korea fires missile", body="Launch over the East Sea."),
    story(2, headline="Markets close higher", body="U.S.-China trade talks lift stocks."),
    story(3, headline="Weather", body="Fine dust in Seoul.", byline="By Kim Ji-hoon"),
    story(4, headline="Défense budget", body="Cost-sharing talks resume."),
]


def _found(store: Store, q: str) -> list[str]:
    rows = store.stories_page(StoryQuery(limit=100, match=fts_query(q))).stories
    return sorted(
        guid
        for (guid,) in (
            store.db.execute("SELECT guid FROM stories WHERE id = ?", [r["id"]]).fetchone() for r in rows
        )
    )


def test_the_index_merges_eight_segments_at_a_time(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    try:
        row = store.db.execute("SELECT v FROM stories_fts_config WHERE k = 'automerge'").fetchone()
        assert row == (AUTOMERGE,) == (8,)
    finally:
        store.close()


def test_every_documented_query_form_finds_its_stories_across_merged_segments(tmp_path: Path) -> None:
    store = Store(tmp_path / "db.sqlite")
    try:
        save_stories(store, TARGETS, NOW)
        for n in range(100, 300):  # one transaction each: a segment each, merged level by level
            filler = f"Filler item {n} about harbour cranes and rainfall totals number {n}."
            save_stories(store, [story(n, headline=f"Filler {n}", body=filler)], NOW)
        assert _found(store, "missile") == ["g1"]
        assert _found(store, "talks") == ["g2", "g4"]
        assert _found(store, "U.S.-China") == ["g2"]
        assert _found(store, '"trade talks"') == ["g2"]
        assert _found(store, '"talks trade"') == []
        assert _found(store, "kim") == ["g3"]
        assert _found(store, "miss*") == ["g1"]
        assert _found(store, "defense") == ["g4"]
        assert _found(store, "talks resume") == ["g4"]
        every = "SELECT count(*) FROM stories_fts WHERE stories_fts MATCH ?"
        assert store.db.execute(every, [fts_query("harbour cranes")]).fetchone() == (200,)
        assert _found(store, '"rainfall totals number 123"') == ["g123"]
    finally:
        store.close()


def test_a_database_made_before_the_setting_gets_it_on_open(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    Store(path).close()
    with sqlite3.connect(path) as conn:  # as it was before the migration
        conn.execute("DELETE FROM stories_fts_config WHERE k = 'automerge'")
        conn.execute("DELETE FROM schema_migrations WHERE name = 'reads-2-fts-automerge'")
    store = Store(path)
    try:
        assert "reads-2-fts-automerge" in store.applied
        row = store.db.execute("SELECT v FROM stories_fts_config WHERE k = 'automerge'").fetchone()
        assert row == (AUTOMERGE,)
    finally:
        store.close()
