"""Every seed in seeds/ normalized and compared with its golden story in tests/golden/.

The golden files are the reviewed expected output. After an intended change,
rewrite them with `UPDATE_GOLDEN=1 pytest tests/test_normalize_seeds.py`
and review the diff.
"""

from __future__ import annotations

import dataclasses
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestd import ninjs
from ingestd.models import Entry, Story
from ingestd.normalize import load_profiles, normalize_entry
from ingestd.parse import parse

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
GOLDEN = Path(__file__).resolve().parent / "golden"
FETCHED = datetime(2020, 1, 10, 12, 0, tzinfo=UTC)
PROFILES = load_profiles(None)


def seed_entries(path: Path) -> list[Entry]:
    """The seed as the parse stage hands it over; pages keep no URL (as in replay of a
    bare file), so the golden stories do not depend on where the checkout lives."""
    return [
        dataclasses.replace(entry, base_url=None) if entry.kind != "feed-entry" else entry
        for entry in parse(path.read_bytes(), allow_pages=True).entries
    ]


def as_json(story: Story) -> dict:
    data = dataclasses.asdict(story)
    for key in ("first_created", "updated"):
        data[key] = ninjs.utc_z(data[key]) if data[key] else None
    return data


def normalized(path: Path) -> list[Story]:
    return [
        normalize_entry(e, feed_id="seeds", source=None, now=FETCHED, profiles=PROFILES)
        for e in seed_entries(path)
    ]


SEED_FILES = sorted(p for p in SEEDS.iterdir() if p.suffix in (".txt", ".html", ".xml"))


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_seed_matches_golden(path):
    """The seed normalizes to exactly its reviewed golden stories."""
    stories = [as_json(s) for s in normalized(path)]
    golden = GOLDEN / f"{path.name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(json.dumps(stories, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    assert stories == json.loads(golden.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda p: p.name)
def test_seed_stories_are_valid_ninjs(path):
    """Every seed's story, finalized as the store would, validates against ninjs 3.0."""
    for story in normalized(path):
        doc = ninjs.finalize(story.ninjs, uri="urn:ingestd:story:seed", version=1, version_created=FETCHED)
        assert ninjs.validate(doc) == []


def test_golden_files_have_seeds():
    """No golden file is left over from a seed that is gone."""
    assert {p.name for p in GOLDEN.glob("*.json")} == {f"{p.name}.json" for p in SEED_FILES}


def test_yonhap_seed_gives_the_readme_table():
    """seeds/README.md's table for the Yonhap page, field by field, with no --source."""
    (story,) = normalized(SEEDS / "yonhap-2020-01-09-defense-cost-sharing.txt")
    paragraphs = story.body_text.split("\n\n")
    assert story.headline == "U.S. cites progress in defense cost-sharing talks with S. Korea"
    assert story.section == "Defense"
    assert story.ninjs["subjects"] == [{"name": "Defense", "rel": "section"}]
    assert story.ninjs["firstCreated"] == "2020-01-09T00:25:00Z"
    assert story.byline == story.ninjs["by"] == "Lee Haye-ah"
    assert story.located == story.ninjs["located"] == "WASHINGTON"
    assert story.ingest["dateline"] == {"place": "WASHINGTON", "date": "2020-01-08", "agency": "Yonhap"}
    assert story.source == "yonhap"
    assert story.language == story.ninjs["language"] == "en"
    assert len(paragraphs) == 8
    assert paragraphs[0].startswith("WASHINGTON, Jan. 8 (Yonhap) -- South Korea and the United States")
    assert paragraphs[-1].endswith("it does not mean we're walking away from our alliance.\"")
    caption = "This AFP file photo shows the U.S. Department of State in Washington. (Yonhap)"
    assert [p.caption for p in story.pictures] == [caption]
    assert story.ninjs["associations"][0]["descriptions"] == [{"role": "caption", "value": caption}]
    for gone in (
        caption,
        "Go to Contents",
        "Send Feedback",
        "How can we improve?",
        "Thanks for your feedback!",
    ):
        assert gone not in story.body_text and gone not in story.body_html


# What a wire editor would read off each new seed: the fields judged against gold.
EXPECTED = {
    "yonhap-2020-01-10-north-korea-lead-past-midnight.txt": dict(
        headline="N. Korea's Kim inspects artillery drill, calls for stronger deterrence",
        headline_tags=["LEAD"],
        section="North Korea",
        first_created="2020-01-09T15:12:00Z",
        byline="Kim Soo-yeon",
        located="SEOUL",
        dateline={"place": "SEOUL", "date": "2020-01-10", "agency": "Yonhap"},
        paragraphs=5,
        pictures=2,
        last="passed without progress.",
    ),
    "yonhap-2020-01-09-economy-finance-2nd-ld.txt": dict(
        headline="S. Korea's current account surplus narrows for 2nd month on weak chip exports",
        headline_tags=["2nd LD", "News Focus"],
        section="Economy & Finance",
        first_created="2020-01-09T07:48:00Z",
        byline="Kang Yoon-seung and Choi Kyong-ae",
        located="SEOUL",
        dateline={"place": "SEOUL", "date": "2020-01-09", "agency": "Yonhap"},
        paragraphs=4,
        pictures=0,
        last="a BOK official told reporters.",
    ),
    "ap-2020-01-08-white-house-two-bylines.txt": dict(
        headline="Trump says Iran appears to be standing down after missile strikes",
        headline_tags=None,
        section=None,
        first_created="2020-01-08T20:42:00Z",
        byline="Zeke Miller and Josh Boak",
        located="WASHINGTON",
        dateline={"place": "WASHINGTON", "date": "2020-01-08", "agency": "AP"},
        paragraphs=5,  # the credit line closes the story, as published
        pictures=1,
        last="Lolita C. Baldor and Deb Riechmann contributed to this report.",
    ),
    "reuters-2020-01-08-uk-factory-output.txt": dict(
        headline="UK factory output slips as Brexit uncertainty weighs on orders",
        headline_tags=["UPDATE 2"],
        section="Business News",
        first_created="2020-01-08T15:05:00Z",
        byline="Kate Holton",
        located="LONDON",
        dateline={"place": "LONDON", "date": "2020-01-08", "agency": "Reuters"},
        paragraphs=5,  # the credit line closes the story, as published
        pictures=0,
        last="(Reporting by Kate Holton; additional reporting by David Milliken; Editing by Alison Williams)",
    ),
    "feed-afp-script-iframe-relative-links.xml": dict(
        headline="France braces for new strike day as pension talks stall",
        headline_tags=None,
        section=None,
        first_created="2020-01-09T06:45:00Z",
        byline=None,
        located="PARIS",
        dateline={"place": "PARIS", "date": "2020-01-09", "agency": "AFP"},
        paragraphs=4,
        pictures=1,
        last="meet union leaders again on Friday.",
    ),
    "html-2020-01-08-harbor-gazette-port-strike.html": dict(
        headline="Dockworkers walk off the job at East Coast ports",
        headline_tags=None,
        section="Business",
        first_created="2020-01-08T21:45:00Z",
        byline="Maria Lopez",
        located="NEW YORK",
        dateline={"place": "NEW YORK", "date": "2020-01-08", "agency": None},
        paragraphs=5,
        pictures=1,
        last="already on its way from Asia.",
    ),
    "yonhap-ko-2020-01-09-fine-dust-euc-kr.html": dict(
        headline="정부, 미세먼지 저감 대책 발표…노후 경유차 운행 제한 확대",
        headline_tags=None,
        section="사회",
        first_created="2020-01-09T00:25:00Z",
        byline="김민수",
        located="서울",
        dateline={"place": "서울", "date": "2020-01-09", "agency": "Yonhap"},
        paragraphs=4,
        pictures=0,
        last='동원하겠다"고 말했다.',
    ),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_seed_wire_fields(name):
    """Headline, tags, section, time, byline, dateline and body edges of each new seed."""
    want = EXPECTED[name]
    (story,) = normalized(SEEDS / name)
    paragraphs = story.body_text.split("\n\n")
    assert story.headline == want["headline"]
    assert story.ingest.get("headline_tags") == want["headline_tags"]
    assert story.section == want["section"]
    assert ninjs.utc_z(story.first_created) == want["first_created"]
    assert story.byline == want["byline"]
    assert story.located == want["located"]
    assert story.ingest["dateline"] == want["dateline"]
    assert len(paragraphs) == want["paragraphs"]
    assert story.located in paragraphs[0][:20]  # the body opens with the dateline
    assert paragraphs[-1].endswith(want["last"])
    assert len(story.pictures) == want["pictures"]
    assert "flags" not in story.ingest or not any("failed" in f for f in story.ingest["flags"])


def test_signoff_and_end_marker_leave_the_body():
    """The reporter's address and (END) go to ingest.signoff; the chrome after (END) is gone."""
    (story,) = normalized(SEEDS / "yonhap-2020-01-10-north-korea-lead-past-midnight.txt")
    assert story.ingest["signoff"] == ["sooyeon@yna.co.kr", "(END)"]
    for gone in ("@yna.co.kr", "(END)", "Keywords", "#North Korea", "Most Liked"):
        assert gone not in story.body_text


def test_credit_lines_stay_in_the_body_and_are_recorded():
    """Reuters' and AP's closing credit lines are part of the story as published, and copied to credits."""
    (reuters,) = normalized(SEEDS / "reuters-2020-01-08-uk-factory-output.txt")
    (ap,) = normalized(SEEDS / "ap-2020-01-08-white-house-two-bylines.txt")
    assert reuters.ingest["credits"] == [
        "Reporting by Kate Holton; additional reporting by David Milliken; Editing by Alison Williams"
    ]
    assert ap.ingest["credits"] == [
        "Associated Press writers Lolita C. Baldor and Deb Riechmann contributed to this report."
    ]
    assert ap.ingest["byline_title"] == "Associated Press"
    assert ap.ingest["authors"] == ["Zeke Miller", "Josh Boak"]
    assert reuters.body_text.endswith("Editing by Alison Williams)")
    assert ap.body_text.endswith("contributed to this report.")


def test_feed_entry_html_is_sanitized_with_absolute_links():
    """script, style, iframe, on* and javascript: are gone; relative links are absolute."""
    (story,) = normalized(SEEDS / "feed-afp-script-iframe-relative-links.xml")
    html = story.body_html
    for bad in (
        "<script",
        "<style",
        "<iframe",
        "onclick",
        "javascript:",
        "track(",
        "display: none",
        "pixel.gif",
    ):
        assert bad not in html and bad not in story.body_text
    assert 'href="https://news.example.org/world/pension-reform"' in html
    assert story.pictures[0].href == "https://news.example.org/img/2020/01/paris-march.jpg"
    assert story.ingest["signoff"] == ["sst/jj"]


def test_html_page_chrome_is_gone():
    """Navigation, share buttons, related links and footer stay out of the story."""
    (story,) = normalized(SEEDS / "html-2020-01-08-harbor-gazette-port-strike.html")
    for chrome in (
        "Home",
        "Share on",
        "Related stories",
        "Ports bet on automation",
        "All rights reserved",
        "Privacy policy",
        "dataLayer",
        "By Maria Lopez",
    ):
        assert chrome not in story.body_text
    assert story.url == "https://www.harborgazette.example/business/2020/01/08/dockworkers-strike"
    assert story.pictures[0].credit == "Sam Lee/The Harbor Gazette"
