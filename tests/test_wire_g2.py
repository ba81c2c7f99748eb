"""NewsML-G2 2.x: news items read, other items skipped with a reason, versions stored as versions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestd.normalize import load_profiles
from ingestd.parse import parse
from ingestd.pipeline import process
from tests.support import ROOT, write_config
from tests.support.processes import clean_env

NOW = datetime(2020, 1, 16, 12, 0, tzinfo=UTC)
PROFILES = load_profiles(None)
NAR = 'xmlns="http://iptc.org/std/nar/2006-10-01/"'


def item(
    content_meta: str = "", content_set: str = "", item_meta: str = "", catalog: str = "", **attrs
) -> bytes:
    attributes = " ".join(f'{k}="{v}"' for k, v in {"guid": "urn:test:1", "version": "1", **attrs}.items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<newsItem {NAR} {attributes} standard="NewsML-G2" standardversion="2.28">
  <catalogRef href="http://www.iptc.org/std/catalog/catalog.IPTC-G2-Standards_36.xml"/>
  {catalog}
  <itemMeta>
    <itemClass qcode="ninat:text"/>
    <provider literal="Test Wire"/>
    <versionCreated>2020-01-15T10:00:00Z</versionCreated>
    <firstCreated>2020-01-15T09:00:00+01:00</firstCreated>
    {item_meta}
  </itemMeta>
  <contentMeta>
    <headline>Council approves budget</headline>
    {content_meta}
  </contentMeta>
  <contentSet>{content_set}</contentSet>
</newsItem>""".encode()


XHTML = """<inlineXML contenttype="application/xhtml+xml">
  <html xmlns="http://www.w3.org/1999/xhtml"><body>
    <p>OSLO - The council approved the budget on Wednesday after a long debate.</p>
    <p onclick="steal()">See <a href="javascript:alert(1)">this</a> and <a href="https://example.org/b">that</a>.</p>
    <script>alert("x")</script>
  </body></html>
</inlineXML>"""


def test_item_meta_and_content_meta_are_read():
    """versionCreated, firstCreated, embargoed, pubStatus, signal, edNote, urgency, slugline, by…"""
    doc = item(
        item_meta=(
            '<embargoed>2020-01-15T18:00:00Z</embargoed><pubStatus qcode="stat:withheld"/>'
            '<signal qcode="sig:correction"/><edNote>Corrects vote tally.</edNote>'
        ),
        content_meta=(
            "<urgency>2</urgency><slugline>Norway-budget</slugline><by>By KARI NORDMANN</by>"
            "<dateline>OSLO, Jan 15</dateline><keyword>budget</keyword>"
            '<headline role="hdrol:subhead">Vote is 30-21</headline><language tag="nb"/>'
        ),
        content_set=XHTML,
        version="4",
    )
    [entry] = parse(doc).entries
    wire = entry.wire
    assert wire is not None
    assert entry.guid == "urn:test:1"
    assert entry.title == "Council approves budget"
    assert entry.published == datetime(2020, 1, 15, 8, 0, tzinfo=UTC)
    assert entry.updated == datetime(2020, 1, 15, 10, 0, tzinfo=UTC)
    assert entry.language == "nb"
    assert (wire.version, wire.urgency, wire.pub_status) == (4, 2, "withheld")
    assert wire.embargo == datetime(2020, 1, 15, 18, 0, tzinfo=UTC)
    assert wire.signals == ("sig:correction",)
    assert wire.ed_note == "Corrects vote tally."
    assert (wire.slugline, wire.byline, wire.dateline) == (
        "Norway-budget",
        "By KARI NORDMANN",
        "OSLO, Jan 15",
    )
    assert wire.subheadline == "Vote is 30-21"
    assert wire.info_sources == ("Test Wire",)


def test_subject_qcodes_get_their_scheme_uris():
    """IPTC aliases from the standards catalog, the item's own catalog's aliases; an alias no
    catalog declares keeps its qcode and gets no URI."""
    doc = item(
        catalog='<catalog><scheme alias="my" uri="http://cv.example.org/topics/"/></catalog>',
        content_meta=(
            '<subject qcode="medtop:11000000"><name>politics</name></subject>'
            '<subject qcode="subj:11006000"/>'
            '<subject qcode="my:budget"><name>Budget</name></subject>'
            '<subject qcode="nobody:x"><name>Unknown</name></subject>'
            '<genre qcode="genre:Current"><name>Current</name></genre>'
        ),
        content_set=XHTML,
    )
    [story] = process(doc, feed_id="t", source=None, now=NOW, profiles=PROFILES).stories
    assert story.ninjs["subjects"] == [
        {
            "name": "politics",
            "uri": "http://cv.iptc.org/newscodes/mediatopic/11000000",
            "literal": "medtop:11000000",
        },
        {"uri": "http://cv.iptc.org/newscodes/subjectcode/11006000", "literal": "subj:11006000"},
        {"name": "Budget", "uri": "http://cv.example.org/topics/budget", "literal": "my:budget"},
        {"name": "Unknown", "literal": "nobody:x"},
    ]
    assert story.ninjs["genres"] == [
        {"name": "Current", "uri": "http://cv.iptc.org/newscodes/genre/Current", "literal": "genre:Current"}
    ]


def test_xhtml_payload_is_the_body_sanitized():
    """No script, handler or javascript: link survives; a real link does."""
    [story] = process(item(content_set=XHTML), feed_id="t", source=None, now=NOW, profiles=PROFILES).stories
    assert story.body_text.startswith("OSLO - The council approved the budget")
    for gone in ("script", "alert", "onclick", "javascript"):
        assert gone not in story.body_html
    assert 'href="https://example.org/b"' in story.body_html


def test_nitf_payload_fills_what_content_meta_left_out():
    """contentMeta wins where it speaks; the NITF payload's byline and dateline fill the gaps."""
    payload = """<inlineXML contenttype="application/nitf+xml">
      <nitf xmlns="http://iptc.org/std/NITF/2006-10-18/"><body>
        <body.head><hedline><hl1>Payload headline</hl1></hedline>
          <byline>By Ola Nordmann</byline>
          <dateline><location><city>BERGEN</city></location></dateline></body.head>
        <body.content><p>The council in Bergen approved the budget on Wednesday.</p></body.content>
      </body></nitf></inlineXML>"""
    [entry] = parse(item(content_set=payload)).entries
    assert entry.title == "Council approves budget"
    assert entry.wire is not None and entry.wire.format == "newsml-g2"
    assert (entry.wire.byline, entry.wire.located) == ("By Ola Nordmann", "BERGEN")
    assert "approved the budget" in (entry.content_html or "")


def test_inline_data_text_becomes_paragraphs():
    data = '<inlineData contenttype="text/plain">First paragraph here.\n\nSecond &amp; last.</inlineData>'
    [entry] = parse(item(content_set=data)).entries
    assert entry.content_html == "<p>First paragraph here.</p><p>Second &amp; last.</p>"


def test_remote_content_becomes_renditions():
    remote = (
        XHTML + '<remoteContent rendition="rnd:print" href="https://example.org/a.pdf" '
        'contenttype="application/pdf" size="1200"/><remoteContent href="https://example.org/a.html"/>'
    )
    [story] = process(item(content_set=remote), feed_id="t", source=None, now=NOW, profiles=PROFILES).stories
    assert story.ninjs["renditions"] == [
        {
            "name": "print",
            "href": "https://example.org/a.pdf",
            "contentType": "application/pdf",
            "sizeInBytes": 1200,
        },
        {"name": "original", "href": "https://example.org/a.html"},
    ]


@pytest.mark.parametrize(
    "root, reason",
    [
        ("packageItem", "a package of references to other items, not a story"),
        ("conceptItem", "a vocabulary concept, not a story"),
        ("knowledgeItem", "a set of vocabulary concepts, not a story"),
        ("planningItem", "news coverage planning, not a story"),
    ],
)
def test_items_that_are_not_stories_are_skipped_with_a_reason(root, reason):
    doc = f'<{root} {NAR} guid="urn:test:p" version="1"><itemMeta/></{root}>'.encode()
    result = process(doc, feed_id="t", source=None, now=NOW, profiles=PROFILES)
    assert result.error is None and result.stories == []
    assert result.dropped == [f"{root} urn:test:p: {reason}"]


def test_news_message_gives_its_text_items_and_skips_pictures():
    text = item(content_set=XHTML).split(b"?>", 1)[1].decode()
    picture = text.replace('guid="urn:test:1"', 'guid="urn:test:2"').replace("ninat:text", "ninat:picture")
    message = f"<newsMessage {NAR}><header/><itemSet>{text}{picture}</itemSet></newsMessage>".encode()
    result = process(message, feed_id="t", source=None, now=NOW, profiles=PROFILES)
    assert [s.guid for s in result.stories] == ["urn:test:1"]
    assert result.dropped == ["newsItem urn:test:2: a picture item, not text"]


def _replay(db: Path, folder: Path, config: Path) -> list[dict]:
    env = clean_env()
    env["INGESTD_LOG_FORMAT"] = "json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "ingestd",
            "replay",
            "--config",
            str(config),
            "--db",
            str(db),
            "--now",
            "2020-01-16T12:00:00Z",
            str(folder),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_replay_of_version_1_then_version_2_into_one_database(tmp_path):
    """`ingestd replay` of v1, then of v2 into the same database: the second run prints one
    story.updated event, version 2 of the same story."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    config = write_config(tmp_path, f'[[feeds]]\nid = "afp-wire"\nurl = "{inbox.as_uri()}"\n')
    db = tmp_path / "wire.db"
    seeds = ROOT / "seeds" / "wire"
    shutil.copy(seeds / "g2-afp-2020-01-15-rhine-floods-v1.xml", inbox)
    [created] = _replay(db, inbox, config)
    (inbox / "g2-afp-2020-01-15-rhine-floods-v1.xml").unlink()
    shutil.copy(seeds / "g2-afp-2020-01-15-rhine-floods-v2.xml", inbox)
    [updated] = _replay(db, inbox, config)
    assert (created["type"], updated["type"]) == ("story.created", "story.updated")
    assert updated["data"]["story"]["uri"] == created["data"]["story"]["uri"]
    assert updated["data"]["story"]["version"] == "2"
    assert updated["data"]["ingest"]["item_version"] == 2


def test_subjects_of_people_organisations_and_places_go_to_their_ninjs_arrays():
    """cpnat:person -> people, cpnat:organisation -> organisations, cpnat:geoArea/poi -> places;
    abstract concepts stay subjects. A @literal identifier is kept as the literal."""
    doc = item(
        content_meta=(
            '<subject type="cpnat:abstract" qcode="medtop:11000000"><name>politics</name></subject>'
            '<subject type="cpnat:person" literal="kari-n"><name>Kari Nordmann</name></subject>'
            '<subject type="cpnat:organisation" qcode="nprov:NTB"><name>NTB</name></subject>'
            '<subject type="cpnat:geoArea"><name>Oslo</name></subject>'
            '<subject type="cpnat:poi"><name>Storting</name></subject>'
        ),
        content_set=XHTML,
    )
    [story] = process(doc, feed_id="t", source=None, now=NOW, profiles=PROFILES).stories
    assert [s.get("name") for s in story.ninjs["subjects"]] == ["politics"]
    assert story.ninjs["people"] == [{"name": "Kari Nordmann", "literal": "kari-n"}]
    assert story.ninjs["organisations"] == [
        {"name": "NTB", "uri": "http://cv.iptc.org/newscodes/newsprovider/NTB", "literal": "nprov:NTB"}
    ]
    assert story.ninjs["places"] == [{"name": "Oslo"}, {"name": "Storting"}]
