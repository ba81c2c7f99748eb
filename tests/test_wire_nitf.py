"""NITF 3.x: sniffed by its root, read field by field, parsed without entities or network."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from ingestd.errors import ParseError
from ingestd.normalize import load_profiles
from ingestd.parse import parse
from ingestd.pipeline import process

NOW = datetime(2020, 1, 16, 12, 0, tzinfo=UTC)
PROFILES = load_profiles(None)

NITF = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- written by the desk system -->
<!DOCTYPE nitf SYSTEM "nitf-3-6.dtd">
<nitf version="-//IPTC//DTD NITF 3.6//EN" xml:lang="en">
  <head>
    <tobject tobject.type="News">
      <tobject.subject tobject.subject.refnum="15000000" tobject.subject.type="Sport"/>
      <tobject.subject tobject.subject.ipr="ACME" tobject.subject.refnum="77" tobject.subject.type="Local"/>
    </tobject>
    <docdata management-status="usable">
      <doc-id regsrc="AP" id-string="doc-1"/>
      <du-key version="3" key="stadium-vote"/>
      <urgency ed-urg="2"/>
      <date.issue norm="20200115T101500-0500"/>
      <date.release norm="20200115T170000Z"/>
      <doc.copyright holder="The Associated Press"/>
      <key-list><keyword key="stadiums"/></key-list>
      <ed-msg info="Eds: embargoed until noon EST."/>
    </docdata>
  </head>
  <body>
    <body.head>
      <hedline><hl1>City council backs new stadium</hl1><hl2>Vote is 7-2</hl2></hedline>
      <byline>By <person>JANE DOE</person>, <byttl>Associated Press Writer</byttl></byline>
      <dateline><location><city>DENVER</city></location>, <story.date norm="20200115">Jan. 15</story.date></dateline>
    </body.head>
    <body.content>
      <p>DENVER (AP) &#8212; The city council on Wednesday backed a new stadium for the <org>Denver Pioneers</org>, <em>ending</em> a year of talks.</p>
      <hl2>Costs</hl2>
      <p>The stadium would cost $400&nbsp;million.</p>
      <note><p>Eds: not for publication.</p></note>
      <media media-type="image">
        <media-reference source="https://example.org/stadium.jpg" mime-type="image/jpeg"/>
        <media-caption>The planned stadium site in Denver. (AP Photo/Sam Lee)</media-caption>
      </media>
    </body.content>
    <body.end><tagline>Reporter Ann Roe contributed.</tagline></body.end>
  </body>
</nitf>
"""


def test_nitf_is_sniffed_by_its_root_after_the_prolog():
    """Declaration, comment and DOCTYPE before <nitf>: still NITF, with its version."""
    document = parse(NITF)
    assert document.format == "nitf3.6"
    assert len(document.entries) == 1


def test_nitf_fields_are_read_as_structured_values():
    """Head and body.head give the entry and its WireFields, nothing guessed."""
    [entry] = parse(NITF).entries
    wire = entry.wire
    assert wire is not None
    assert entry.guid == "stadium-vote"  # du-key: the story across its versions
    assert entry.title == "City council backs new stadium"
    assert entry.published == datetime(2020, 1, 15, 15, 15, tzinfo=UTC)
    assert entry.language == "en"
    assert wire.subheadline == "Vote is 7-2"
    assert wire.byline == "By JANE DOE"
    assert wire.byline_title == "Associated Press Writer"
    assert wire.located == "DENVER"
    assert wire.dateline_date == date(2020, 1, 15)
    assert wire.urgency == 2
    assert wire.embargo == datetime(2020, 1, 15, 17, 0, tzinfo=UTC)
    assert wire.version == 3
    assert wire.keywords == ("stadiums",)
    assert wire.ed_note == "Eds: embargoed until noon EST."
    assert wire.tagline == "Reporter Ann Roe contributed."
    assert wire.copyright_holder == "The Associated Press"
    [sport, local] = wire.subjects
    assert (sport.name, sport.qcode, sport.uri) == (
        "Sport",
        "subj:15000000",
        "http://cv.iptc.org/newscodes/subjectcode/15000000",
    )
    assert local.uri is None  # not an IPTC code: no invented URI


def test_nitf_body_keeps_its_structure_and_drops_desk_notes():
    """hl2 becomes a heading, inline tags keep their text, <note> is not story text."""
    [entry] = parse(NITF).entries
    html = entry.content_html or ""
    assert "<h2>Costs</h2>" in html
    assert "<em>ending</em>" in html and "Denver Pioneers" in html
    assert "$400\u00a0million" in html
    assert "not for publication" not in html


def test_nitf_story_has_picture_subjects_urgency_and_embargo():
    """Through the normalizer: the media caption is a picture, the rest ninjs fields."""
    [story] = process(NITF, feed_id="t", source=None, now=NOW, profiles=PROFILES).stories
    assert story.byline == story.ninjs["by"] == "Jane Doe"
    assert story.ingest["byline_title"] == "Associated Press Writer"
    assert story.located == "DENVER"
    assert story.ingest["dateline"] == {"place": "DENVER", "date": "2020-01-15", "agency": "AP"}
    assert [p.caption for p in story.pictures] == ["The planned stadium site in Denver. (AP Photo/Sam Lee)"]
    assert story.ninjs["urgency"] == 2
    assert story.ninjs["embargoedUntil"] == story.ingest["embargo"] == "2020-01-15T17:00:00Z"
    assert story.ninjs["headlines"][1] == {"role": "subheadline", "value": "Vote is 7-2"}
    assert story.ingest["ed_msg"] == "Eds: embargoed until noon EST."
    assert story.ingest["tagline"] == "Reporter Ann Roe contributed."


def test_internal_entities_are_never_expanded():
    """A billion-laughs DOCTYPE costs nothing: its entities stay unexpanded."""
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE nitf [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b"<nitf><body><body.head><hedline><hl1>Bomb &c;</hl1></hedline></body.head>"
        b"<body.content><p>Text &c;.</p></body.content></body></nitf>"
    )
    [entry] = parse(bomb).entries
    assert entry.title == "Bomb"
    assert "aaaa" not in (entry.content_html or "")


def test_external_entities_are_never_read(tmp_path):
    """XXE: a SYSTEM entity naming a local file is not read into the story."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE nitf [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        "<nitf><body><body.head><hedline><hl1>Hi</hl1></hedline></body.head>"
        "<body.content><p>Leak: &x;</p></body.content></body></nitf>"
    ).encode()
    [entry] = parse(doc).entries
    assert "TOP-SECRET" not in (entry.content_html or "")


def test_broken_nitf_is_a_parse_error_naming_the_reason():
    with pytest.raises(ParseError, match="not well-formed XML"):
        parse(b"<nitf><body><p>unclosed</body></nitf>")


def test_rss_is_not_taken_for_a_wire_format():
    """An RSS item that quotes NITF in its text is still an RSS feed."""
    rss = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        b"<item><title>About &lt;nitf&gt;</title><description>x</description></item></channel></rss>"
    )
    assert parse(rss).format == "rss20"


def test_quotes_blocks_and_lists_keep_their_text():
    """bq with and without blocks, nested blocks, lists: every line of text survives."""
    doc = b"""<nitf><body><body.head><hedline><hl1>H</hl1></hedline></body.head><body.content>
      <block><p>In a block.</p><block><p>Nested.</p></block></block>
      <bq><block><p>Quoted in a block.</p></block><credit>Someone</credit></bq>
      <bq>Quoted bare.</bq>
      <ol><li>One</li><li>Two</li></ol>
      <dl><dt>Term</dt><dd>Meaning</dd></dl>
    </body.content></body></nitf>"""
    [entry] = parse(doc).entries
    assert entry.content_html == (
        "<p>In a block.</p><p>Nested.</p>"
        "<blockquote><p>Quoted in a block.</p></blockquote>"
        "<blockquote><p>Quoted bare.</p></blockquote>"
        "<ul><li>One</li><li>Two</li></ul>"
        "<p>Term</p><p>Meaning</p>"
    )


def test_identified_content_gives_people_organisations_places_and_subjects():
    doc = b"""<nitf><head><docdata><identified-content>
        <person>Ann Roe</person><org value="X1" idsrc="acme">Acme Corp</org>
        <location>Denver</location><classifier value="sports"/>
      </identified-content></docdata></head>
      <body><body.head><hedline><hl1>Acme buys team</hl1></hedline></body.head>
      <body.content><p>Acme Corp bought the Denver team on Tuesday, its owner Ann Roe said.</p></body.content></body></nitf>"""
    [story] = process(doc, feed_id="t", source=None, now=NOW, profiles=PROFILES).stories
    assert story.ninjs["people"] == [{"name": "Ann Roe"}]
    assert story.ninjs["organisations"] == [{"name": "Acme Corp", "literal": "acme:X1"}]
    assert story.ninjs["places"] == [{"name": "Denver"}]
    assert story.ninjs["subjects"] == [{"name": "sports", "literal": "sports"}]


def test_a_time_without_zone_is_read_in_the_agencys_zone():
    """date.issue with no offset from Yonhap (its doc-id's regsrc): Seoul time, not UTC."""
    doc = b"""<nitf><head><docdata><doc-id regsrc="Yonhap" id-string="AEN1"/>
      <date.issue norm="20200115T143000"/></docdata></head>
      <body><body.head><hedline><hl1>Exports rise for the first time in a year</hl1></hedline></body.head>
      <body.content><p>South Korea's exports rose for the first time in 14 months in January.</p></body.content>
      </body></nitf>"""
    [story] = process(doc, feed_id="t", source=None, now=NOW, profiles=PROFILES).stories
    assert story.source == "yonhap"
    assert story.ninjs["firstCreated"] == "2020-01-15T05:30:00Z"
