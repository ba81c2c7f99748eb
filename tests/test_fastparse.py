"""The lxml fast path: what it reads itself, and what it hands to feedparser (counted)."""

from __future__ import annotations

from datetime import UTC, datetime

from structlog.testing import capture_logs

from ingestd import normalize
from ingestd.metrics import Metrics
from ingestd.parse import _lxml, fallback_counts, parse
from ingestd.store._reads import StoreGauges
from tests.support.fastparse import URL, compare

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
<channel><title>T</title><language>fr</language><ttl>30</ttl><sy:updatePeriod>hourly</sy:updatePeriod>
<item><title>A &amp; B</title><link>/a</link><guid isPermalink="false">42</guid>
<description><![CDATA[<p>short</p>]]></description><content:encoded>&lt;p&gt;long text&lt;/p&gt;</content:encoded>
<dc:creator>Jo Doe</dc:creator><author>ed@example.org (Ed)</author>
<pubDate>Wed, 08 Jan 2020 15:31:02 GMT</pubDate><category>World</category>
<enclosure url="http://x.org/i.jpg" type="image/jpeg" length="5"/></item>
</channel></rss>"""


def test_rss_item_read_like_feedparser() -> None:
    """Every Entry field the fast path gives equals feedparser's for a plain RSS 2.0 item."""
    url = "http://example.org/feed"
    fast = _lxml.read(RSS, url, None)
    reference = parse(RSS, url=url, fast=False)
    assert fast.entries == reference.entries
    assert (fast.format, fast.language, fast.hints) == (reference.format, reference.language, reference.hints)
    entry = fast.entries[0]
    assert (entry.link, entry.guid, entry.authors) == ("http://example.org/a", "42", ["Jo Doe", "Ed"])
    assert entry.published == datetime(2020, 1, 8, 15, 31, 2, tzinfo=UTC)


def test_atom_xml_base_resolves_links() -> None:
    """Relative links resolve against xml:base, itself resolved against the feed URL."""
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom" xml:base="/news/" xml:lang="de">
    <entry><id>urn:x</id><title type="html">A &lt;b&gt;B&lt;/b&gt;</title><link href="a.html"/>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hi <b>there</b></p></div></content>
    <updated>2020-01-08T00:00:00Z</updated></entry></feed>"""
    fast = _lxml.read(atom, "http://example.org/feed", None)
    assert fast.entries[0].link == "http://example.org/news/a.html"
    assert fast.entries[0].language == "de"
    assert fast.entries[0].content_html == "<p>Hi <b>there</b></p>"


def test_xhtml_content_with_text_after_an_element_is_the_fast_paths() -> None:
    """Text after an element inside XHTML content (`<br/>text`) is read by the fast path, not
    taken for a broken document: until 2026-12-07 each child was copied with its tail, which
    made its own copy not well-formed and sent the whole feed to feedparser."""
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>urn:x</id><title>T</title>
    <updated>2020-01-08T00:00:00Z</updated><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"
    >One<br/>two <a href="http://example.org/a">link</a> &amp; three<p>four</p>five</div></content></entry></feed>"""
    before = sum(fallback_counts().values())
    document = parse(atom, url=URL)
    assert sum(fallback_counts().values()) == before
    assert document.entries[0].content_html == (
        'One<br>two <a href="http://example.org/a">link</a> &amp; three<p>four</p>five'
    )
    assert compare(atom, normalize.load_profiles(None)) == [(0, {})]  # feedparser's story, every field


def test_not_well_formed_falls_back_counted_and_logged() -> None:
    """A broken document is read by feedparser; the fallback is counted by reason and logged at debug."""
    before = fallback_counts()["not-well-formed"]
    with capture_logs() as logs:
        document = parse(
            b"<rss version='2.0'><channel><item><title>A &nbsp; B</title></item></channel></rss>"
        )
    assert document.entries[0].title is not None
    assert fallback_counts()["not-well-formed"] == before + 1
    assert [(e["log_level"], e["reason"]) for e in logs] == [("debug", "not-well-formed")]


def test_doctype_goes_to_feedparser() -> None:
    """Entities a DOCTYPE declares are feedparser's to expand: the fast path declines."""
    body = b'<!DOCTYPE rss [<!ENTITY x "y">]><rss version="2.0"><channel><item><title>&x;</title></item></channel></rss>'
    try:
        _lxml.read(body, None, None)
    except _lxml.Unsupported as exc:
        assert exc.reason == "doctype"
    else:
        raise AssertionError("read a DOCTYPE")


def test_fallback_family_exported_at_zero_for_every_reason() -> None:
    """ingestd_parse_fallback_total has a series per reason from the start."""
    gauges = StoreGauges(feeds_by_state={}, feeds_quiet=0, outbox_backlog=0, outbox_oldest_at=None)
    text = Metrics().render(gauges, datetime(2026, 1, 1, tzinfo=UTC)).decode()
    for reason in _lxml.FALLBACK_REASONS:
        assert f'ingestd_parse_fallback_total{{reason="{reason}"}}' in text


def _one_item(description: str, before_root: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{before_root}<rss version="2.0"><channel><title>T</title>'
        f"<item><title>Big</title><link>http://x.org/1</link><description>{description}</description>"
        "</item></channel></rss>"
    ).encode()


def test_a_text_node_past_10_mb_is_read_by_the_fast_path() -> None:
    """libxml2 refuses a text node over 10 MB with huge trees off: with no DOCTYPE the fast
    path reads it again with the limits lifted."""
    text = "budget " * 1_500_000  # 10.5 MB in one node
    body = _one_item(text)
    try:
        _lxml._read(body, None, "utf-8", huge=False)
    except _lxml.Unsupported as exc:
        assert exc.reason == "too-large"
    else:
        raise AssertionError("libxml2 read a 10.5 MB text node with its limits on")
    before = fallback_counts()["too-large"]
    entry = parse(body).entries[0]
    assert fallback_counts()["too-large"] == before
    assert (entry.title, entry.link, entry.summary_html) == ("Big", "http://x.org/1", text.strip())


def test_a_huge_text_node_with_a_doctype_anywhere_stays_feedparsers() -> None:
    """A DOCTYPE past the first bytes (comments before it) keeps the limits on: its entities
    could be amplified with them lifted."""
    body = _one_item(
        "x" * 10_500_000, before_root="<!--" + "c" * 20_000 + '--><!DOCTYPE rss [<!ENTITY e "f">]>'
    )
    try:
        _lxml.read(body, None, None)
    except _lxml.Unsupported as exc:
        assert exc.reason == "too-large"
    else:
        raise AssertionError("read a huge text node beside a DOCTYPE")


def test_deep_nesting_beside_a_huge_text_node_falls_back_without_crashing() -> None:
    """With limits lifted libxml2 allows 2,048 levels, past the reader's own recursion: feedparser reads it."""
    nested = "<x:a xmlns:x='urn:x'>" * 1_500 + "x" + "</x:a>" * 1_500
    body = _one_item("x" * 10_500_000).replace(
        b"</channel>", f"<item><title>u</title>{nested}</item></channel>".encode()
    )
    try:
        _lxml.read(body, None, None)
    except _lxml.Unsupported as exc:
        assert exc.reason == "too-large"
    else:
        raise AssertionError("read 1,500 levels")


def test_an_unknown_root_is_named_before_a_breakage_after_it() -> None:
    """The root is read from the head before the stream: an unknown root broken further on
    is counted as an unknown root, as the stream meets it first."""
    before = fallback_counts()
    parse(b"<html-ish><item><title>x</title></html-ish>")
    parse(b"<rss version='2.0'><channel><item><title>x</title></channel></rss>")
    after = fallback_counts()
    assert after["unknown-root"] == before["unknown-root"] + 1
    assert after["not-well-formed"] == before["not-well-formed"] + 1


def test_a_root_past_a_long_prolog_is_still_read_by_the_fast_path() -> None:
    """A root that opens past the head the reader looks at first: the stream finds it."""
    body = RSS.replace(b"<rss ", b"<!--" + b"x" * 70_000 + b"-->\n<rss ", 1)
    before = sum(fallback_counts().values())
    fast = parse(body, url="http://example.org/feed")
    assert sum(fallback_counts().values()) == before
    assert fast.entries == parse(body, url="http://example.org/feed", fast=False).entries
    assert fast.language == "fr"
