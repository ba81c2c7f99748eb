from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ingestd.errors import ParseError
from ingestd.parse import decode_text, parse
from tests.support import DATA, SEED

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>T</title><language>en</language><ttl>15</ttl>
<item><guid>a-1</guid><title>First &amp; best</title><link>https://example.org/1</link>
<description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt;&lt;/p&gt;</description>
<pubDate>Thu, 09 Jan 2020 09:25:00 +0900</pubDate><category>Defense</category>
<enclosure url="https://example.org/a.jpg" type="image/jpeg" length="10"/></item>
<item><guid>a-2</guid><title>Second</title><link>https://example.org/2</link></item>
</channel></rss>"""


def test_rss_entries_in_document_order_with_utc_dates() -> None:
    doc = parse(RSS)
    assert doc.format == "rss20"
    assert [e.guid for e in doc.entries] == ["a-1", "a-2"]
    first = doc.entries[0]
    assert first.title == "First & best"
    assert first.published == datetime(2020, 1, 9, 0, 25, tzinfo=UTC)
    assert first.tags == ["Defense"]
    assert first.enclosures[0]["href"] == "https://example.org/a.jpg"
    assert first.language == "en"
    assert doc.hints == {"ttl": "15"}


def test_json_feed_1_1() -> None:
    body = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "J",
            "language": "en",
            "authors": [{"name": "Feed Author"}],
            "items": [
                {
                    "id": 7,
                    "url": "https://example.org/7",
                    "title": "Seven",
                    "content_text": "Para one.\n\nPara two.",
                    "date_published": "2020-01-09T09:25:00+09:00",
                    "tags": ["x"],
                    "attachments": [{"url": "https://example.org/a.mp3", "mime_type": "audio/mpeg"}],
                }
            ],
        }
    ).encode()
    doc = parse(body)
    assert doc.format == "json1.1"
    entry = doc.entries[0]
    assert entry.guid == "7"
    assert entry.content_html == "<p>Para one.</p><p>Para two.</p>"
    assert entry.published == datetime(2020, 1, 9, 0, 25, tzinfo=UTC)
    assert entry.authors == ["Feed Author"]
    assert entry.enclosures == [{"href": "https://example.org/a.mp3", "type": "audio/mpeg", "length": None}]


def test_feedparser_corpus_json_example() -> None:
    doc = parse((DATA / "corpus/feedparser-tests/json/example.json").read_bytes())
    assert doc.format == "json1" and doc.title == "My Example Feed"
    assert [e.guid for e in doc.entries] == ["2", "1"]
    assert doc.entries[1].authors == ["you"]
    assert doc.entries[0].tags == ["test", "JSON"]


def test_seed_text_is_a_page_only_where_pages_are_allowed() -> None:
    body = SEED.read_bytes()
    doc = parse(body, allow_pages=True)
    assert doc.format == "page-text" and doc.entries[0].page.startswith("Go to Contents")
    with pytest.raises(ParseError, match="plain text, not a feed"):
        parse(body)


@pytest.mark.parametrize(
    "body,reason",
    [
        (b"", "empty body"),
        (b"  \n ", "empty body"),
        (b"<html><head><title>x</title></head><body>hi</body></html>", "an HTML page, not a feed"),
        (b"<?xml version='1.0'?><rss version='2.0'><chan", "not a readable feed"),
        (b'{"hello": "world"}', "not a JSON Feed"),
        (b"{not json", "invalid JSON"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
    ],
)
def test_unreadable_inputs_name_the_reason(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        parse(body)


def test_decode_uses_declared_charset_then_utf8() -> None:
    korean = "<html><head><meta charset='euc-kr'></head><body>연합뉴스</body></html>"
    assert "연합뉴스" in decode_text(korean.encode("euc-kr"))
    assert decode_text("café".encode("cp1252"), "text/plain; charset=windows-1252") == "café"
    assert decode_text("\ufeffhello".encode("utf-8")) == "hello"


def test_entries_of_a_broken_feed_are_kept_with_a_warning() -> None:
    doc = parse(
        b"<?xml version='1.0'?><rss version='2.0'><channel><item><title>x</title>"
        b"<guid>g</guid></item><item><title>y &nbsp; </tit"
    )
    assert [e.title for e in doc.entries][:1] == ["x"]
    assert doc.warnings and "not well-formed" in doc.warnings[0]
