"""RSS in JSON is read as a feed; a bad link or a control character costs that field only."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ingestd.errors import ParseError
from ingestd.models import Entry
from ingestd.normalize import load_profiles, normalize_entry
from ingestd.parse import parse

NOW = datetime(2020, 1, 10, 12, 0, tzinfo=UTC)
PROFILES = load_profiles(None)


def normalized(entry: Entry):
    return normalize_entry(entry, feed_id="f", source=None, now=NOW, profiles=PROFILES)


def rss_json(items) -> bytes:
    channel = {"title": "Scripting News", "link": "http://scripting.com/", "language": "en-us", "item": items}
    return json.dumps({"rss": {"version": "2.0", "channel": channel}}).encode()


class TestRssInJson:
    def test_items_become_entries(self):
        """Dave Winer's {"rss": {"channel": {"item": [...]}}} is a feed, not an error."""
        doc = parse(
            rss_json(
                [
                    {
                        "title": "Talks resume",
                        "link": "http://scripting.com/2020/01/08.html#a1",
                        "description": "<p>Officials said talks resume.</p>",
                        "pubDate": "Wed, 08 Jan 2020 15:00:00 GMT",
                        "guid": "http://scripting.com/2020/01/08.html#a1",
                        "category": ["politics", "world"],
                    },
                    {
                        "description": "An item with no title.",
                        "guid": {"isPermaLink": "false", "value": "x2"},
                        "enclosure": {
                            "url": "http://scripting.com/p.jpg",
                            "type": "image/jpeg",
                            "length": "1",
                        },
                    },
                ]
            )
        )
        assert doc.format == "rss-json" and doc.title == "Scripting News" and doc.language == "en-us"
        first, second = doc.entries
        assert first.title == "Talks resume" and first.link == "http://scripting.com/2020/01/08.html#a1"
        assert first.published == datetime(2020, 1, 8, 15, 0, tzinfo=UTC)
        assert first.tags == ["politics", "world"]
        assert second.guid == "x2" and second.enclosures[0]["href"] == "http://scripting.com/p.jpg"
        assert normalized(first).headline == "Talks resume"

    def test_a_single_item_object_is_one_entry(self):
        """channel.item written as one object, not an array, is one entry."""
        assert len(parse(rss_json({"title": "Only one", "description": "Text."})).entries) == 1

    def test_rss_without_channel_is_a_clear_error(self):
        """An rss object with no channel names what is missing."""
        with pytest.raises(ParseError, match="without a channel"):
            parse(b'{"rss": {"version": "2.0"}}')


class TestFieldsCostOnlyThemselves:
    def test_unparseable_link_costs_the_link(self):
        """http://[0]/x is no URL: the story is kept, without a url."""
        story = normalized(
            Entry(kind="feed-entry", title="Kept", link="http://[0]/x", content_html="<p>Body.</p>")
        )
        assert story.url is None and story.headline == "Kept" and story.body_text == "Body."
        assert any("unusable link" in f for f in story.ingest["flags"])

    def test_bad_link_in_json_feed_costs_the_link(self):
        """The same through the JSON Feed reader."""
        feed = {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "T",
            "items": [{"id": "1", "url": "http://[::1/x", "title": "Kept", "content_text": "Body."}],
        }
        (entry,) = parse(json.dumps(feed).encode()).entries
        assert normalized(entry).url is None

    def test_control_character_costs_the_character(self):
        """&#0; in an RSS title and description is dropped, the entry stored without it."""
        xml = (
            b'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
            b"<item><title>Control &#0; char</title><link>http://example.com/b</link>"
            b"<description>Body &#0; two &#1; here.</description></item></channel></rss>"
        )
        (entry,) = parse(xml).entries
        story = normalized(entry)
        assert story.headline == "Control char" and story.body_text == "Body two here."
        assert story.url == "http://example.com/b"

    def test_control_character_in_a_page_costs_the_character(self):
        """A NUL inside an HTML page no longer loses the page."""
        page = (
            "<html><head><title>Page</title></head><body><article><p>One\x00 two.</p>"
            + ("<p>More text of the article follows here.</p>" * 5)
            + "</article></body></html>"
        )
        story = normalized(Entry(kind="page-html", page=page))
        assert "One two." in story.body_text
