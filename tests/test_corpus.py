"""Every file of the feed corpus (tests/data/corpus) through the whole pipeline: no exception escapes,
and each feed yields a story for every entry (or says why not)."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestd import normalize
from ingestd.config import load_config
from ingestd.errors import ParseError
from ingestd.parse import parse
from ingestd.pipeline import process
from ingestd.replay import input_files, replay
from tests.support import DATA, write_config

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.slow
def test_whole_corpus_replays_without_an_exception(tmp_path: Path) -> None:
    feed_sets = [DATA / "corpus" / "feedparser-tests", DATA / "corpus" / "real-feeds"]
    config = load_config(write_config(tmp_path, ""), env={})
    out = io.StringIO()
    summary = replay(
        feed_sets,
        config=config,
        profiles=normalize.load_profiles(None),
        now=NOW,
        out=out,
        db_path=str(tmp_path / "c.db"),
    )
    entries = 0
    for path in input_files(feed_sets):
        try:
            entries += len(parse(path.read_bytes(), allow_pages=True).entries)
        except ParseError:
            pass
    assert summary.inputs > 2100
    # only the files that hold no feed at all may fail
    assert summary.failed < 20
    # every entry is accounted for: stored, recognised as already stored, or dropped with a reason
    assert summary.created + summary.updated + summary.unchanged + summary.dropped == entries
    assert summary.created > entries // 2


def test_real_feeds_yield_a_story_per_entry() -> None:
    profiles = normalize.load_profiles(None)
    for path in input_files([DATA / "corpus" / "real-feeds"]):
        if path.suffix in (".md", ".tsv"):
            continue
        result = process(
            path.read_bytes(),
            feed_id=path.name,
            source=None,
            now=NOW,
            profiles=profiles,
            url=path.as_uri(),
            allow_pages=True,
        )
        assert result.error is None, f"{path.name}: {result.error}"
        entries = result.document.entries
        assert len(result.stories) + len(result.dropped) == len(entries)
        # an entry with nothing in it (illegally nested <item>s leave some) is no story
        meaningful = [e for e in entries if e.title or e.link or e.guid or e.summary_html or e.content_html]
        assert len(result.stories) == len(meaningful), f"{path.name}: {result.dropped[:3]}"
