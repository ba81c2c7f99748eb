"""Property: parse + normalize over mutated real feeds. Whatever the bytes, no
exception but ParseError (the input as a whole) or DropStory (one entry) escapes,
and every story that comes out is valid IPTC ninjs 3.0 once the store's identity
fields are added. The seeds are tests/data/hostile (see README-hostile.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestd import ninjs, normalize
from ingestd.errors import DropStory, ParseError
from ingestd.parse import parse

SEEDS = sorted(p for p in (Path(__file__).parent / "data" / "hostile").iterdir() if p.suffix != ".tsv")
NOW = datetime(2026, 1, 1, tzinfo=UTC)
PROFILES = normalize.load_profiles(None)
# what breaks parsers: markup cut in half, entities, dates, encodings, NULs, deep nesting
TOKENS = [
    b"<",
    b"</",
    b">",
    b"<![CDATA[",
    b"]]>",
    b"&",
    b"&amp;",
    b"&#0;",
    b"&#xD800;",
    b"&#99999999;",
    b"&nosuch;",
    b"<item>",
    b"</item>",
    b"<entry>",
    b"<title>",
    b"</title>",
    b"<pubDate>Thu, 31 Feb 99999 25:61:61 +9999</pubDate>",
    b"<updated>0000-00-00T00:00:00Z</updated>",
    b'<?xml version="1.0" encoding="x-nonsense"?>',
    b'<meta charset="utf-16">',
    b"\x00",
    b"\xff\xfe",
    b"\xef\xbb\xbf",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b'{"items": [{"id": 1, "content_html": null}]}',
    b'"date_published": "yesterday"',
    b"<div>" * 200,
    b"<script>alert(1)</script>",
    b'<a href="javascript:alert(1)">x</a>',
    b'<img src="data:image/png;base64,AAAA">',
]


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    seed = draw(st.sampled_from(SEEDS))
    body = bytearray(seed.read_bytes())
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(body)))
        kind = draw(st.sampled_from(["flip", "delete", "insert", "token", "duplicate", "truncate"]))
        if kind == "flip" and at < len(body):
            body[at] = draw(st.integers(0, 255))
        elif kind == "delete":
            del body[at : at + draw(st.integers(1, 64))]
        elif kind == "insert":
            body[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif kind == "token":
            body[at:at] = draw(st.sampled_from(TOKENS))
        elif kind == "duplicate":
            body[at:at] = body[at : at + draw(st.integers(1, 2000))]
        elif kind == "truncate":
            del body[at:]
    return seed.name, bytes(body)


@pytest.mark.slow
@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None)
@given(
    case=mutated(), content_type=st.sampled_from([None, "application/xml", "text/html; charset=shift_jis"])
)
def test_mutated_feeds_never_raise_and_every_story_is_ninjs(
    case: tuple[str, bytes], content_type: str | None
) -> None:
    _, body = case
    try:
        document = parse(body, url="https://example.org/feed", content_type=content_type, allow_pages=True)
    except ParseError:
        return
    for entry in document.entries:
        try:
            story = normalize.normalize_entry(entry, feed_id="fuzz", source=None, now=NOW, profiles=PROFILES)
        except DropStory:
            continue
        final = ninjs.finalize(story.ninjs, uri="urn:ingestd:story:fuzz", version=1, version_created=NOW)
        assert ninjs.validate(final) == []


def test_a_date_before_the_year_1000_still_gives_valid_ninjs() -> None:
    """Found by the property above: strftime wrote year 100 as "100-08-06T…". The year is
    implausible for a story (before 1990), so the fetch time stands in, flagged."""
    body = (Path(__file__).parent / "data" / "hostile" / "FeedReader__Rss091Stadtfeuerwehr.xml").read_bytes()
    document = parse(body.replace(b"2018 ", b"100 "), allow_pages=True)
    story = normalize.normalize_entry(
        document.entries[0], feed_id="old", source=None, now=NOW, profiles=PROFILES
    )
    final = ninjs.finalize(story.ninjs, uri="urn:ingestd:story:old", version=1, version_created=NOW)
    assert final["firstCreated"] == ninjs.utc_z(NOW)
    assert any("implausible" in flag for flag in story.ingest.get("flags", [])), story.ingest
    assert ninjs.validate(final) == []


def test_every_seed_yields_valid_stories_unmutated() -> None:
    """The property above starts from inputs that work, so a mutation is what breaks."""
    for seed in SEEDS:
        document = parse(seed.read_bytes(), allow_pages=True)
        stories = [
            normalize.normalize_entry(e, feed_id="seed", source=None, now=NOW, profiles=PROFILES)
            for e in document.entries
        ]
        assert stories, seed.name
        for story in stories:
            final = ninjs.finalize(story.ninjs, uri="urn:ingestd:story:seed", version=1, version_created=NOW)
            assert ninjs.validate(final) == [], seed.name
