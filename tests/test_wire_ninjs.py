"""ninjs in: 1.x, 2.x and 3.0 documents mapped to the same entry, and out again as 3.0."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ingestd import ninjs
from ingestd.errors import ParseError
from ingestd.normalize import load_profiles
from ingestd.parse import parse
from ingestd.pipeline import process

NOW = datetime(2020, 1, 16, 12, 0, tzinfo=UTC)
PROFILES = load_profiles(None)
BODY = "The harbour reopened on Monday after repairs that took three months and cost 4 million euros."

V1 = {
    "uri": "http://example.org/1",
    "type": "text",
    "versioncreated": "2020-01-14T10:00:00Z",
    "embargoed": "2020-01-15T06:00:00Z",
    "headline": "Harbour reopens",
    "byline": "By ANNA BERG",
    "located": "ROSTOCK",
    "body_text": BODY,
    "subject": [
        {
            "name": "economy, business and finance",
            "scheme": "http://cv.iptc.org/newscodes/mediatopic/",
            "code": "04000000",
        }
    ],
    "renditions": {"print": {"href": "http://example.org/1.pdf", "mimetype": "application/pdf"}},
}
V2 = {
    "uri": "http://example.org/2",
    "type": "text",
    "firstcreated": "2020-01-14T09:00:00+01:00",
    "embargoed": "2020-01-15T06:00:00Z",
    "urgency": 3,
    "headlines": [{"role": "main", "value": "Harbour reopens"}],
    "bodies": [{"role": "main", "contenttype": "text/html", "value": f"<p>{BODY}</p>"}],
    "by": "Anna Berg",
    "subjects": [
        {"name": "economy, business and finance", "uri": "http://cv.iptc.org/newscodes/mediatopic/04000000"}
    ],
    "renditions": [{"name": "print", "href": "http://example.org/1.pdf", "contenttype": "application/pdf"}],
}
V3 = {
    "uri": "http://example.org/3",
    "type": "text",
    "representationType": "full",
    "firstCreated": "2020-01-14T08:00:00Z",
    "embargoedUntil": "2020-01-15T06:00:00Z",
    "edNote": "For the desk.",
    "headlines": [{"role": "main", "value": "Harbour reopens"}],
    "bodies": [{"role": "main", "contentType": "text/plain", "value": BODY}],
    "by": "Anna Berg",
}


@pytest.mark.parametrize("doc, generation", [(V1, "ninjs1"), (V2, "ninjs2"), (V3, "ninjs3")])
def test_each_generation_is_sniffed_and_named(doc, generation):
    assert parse(json.dumps(doc).encode()).format == generation


@pytest.mark.parametrize("doc", [V1, V2, V3], ids=["1.x", "2.x", "3.0"])
def test_every_generation_becomes_a_valid_ninjs_3_story(doc):
    """Headline, body, byline and embargo from any generation; the story validates as 3.0."""
    [story] = process(json.dumps(doc).encode(), feed_id="t", source=None, now=NOW, profiles=PROFILES).stories
    assert story.headline == "Harbour reopens"
    assert story.body_text == BODY
    assert story.byline == "Anna Berg"
    assert story.ninjs["embargoedUntil"] == "2020-01-15T06:00:00Z"
    assert story.guid == doc["uri"]
    final = ninjs.finalize(story.ninjs, uri="urn:ingestd:story:x", version=1, version_created=NOW)
    assert ninjs.validate(final) == []


def test_first_generation_subjects_and_renditions_map_to_3_0():
    """1.x subject scheme + code -> uri and qcode; renditions keyed by name -> a named list."""
    [story] = process(json.dumps(V1).encode(), feed_id="t", source=None, now=NOW, profiles=PROFILES).stories
    assert story.ninjs["subjects"] == [
        {
            "name": "economy, business and finance",
            "uri": "http://cv.iptc.org/newscodes/mediatopic/04000000",
            "literal": "medtop:04000000",
        }
    ]
    assert story.ninjs["renditions"] == [
        {"name": "print", "href": "http://example.org/1.pdf", "contentType": "application/pdf"}
    ]


def test_ninjs_3_ed_note_and_first_created_are_kept():
    [story] = process(json.dumps(V3).encode(), feed_id="t", source=None, now=NOW, profiles=PROFILES).stories
    assert story.ninjs["edNote"] == story.ingest["ed_msg"] == "For the desk."
    assert story.ninjs["firstCreated"] == "2020-01-14T08:00:00Z"


def test_a_picture_is_skipped_with_a_reason():
    doc = {"uri": "http://example.org/p", "type": "picture", "headlines": [{"value": "A photo"}]}
    result = process(json.dumps(doc).encode(), feed_id="t", source=None, now=NOW, profiles=PROFILES)
    assert result.stories == [] and result.dropped == ["ninjs http://example.org/p: a picture item, not text"]


def test_ninjs_without_a_uri_is_not_read():
    doc = {"uri": "", "headlines": [{"value": "x"}]}
    with pytest.raises(ParseError, match="ninjs without a uri"):
        parse(json.dumps(doc).encode())


def test_json_feed_is_still_a_json_feed():
    """A JSON Feed whose items happen to have a `uri`-like field is not ninjs."""
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "F",
        "items": [{"id": "1", "uri": "x", "title": "T", "content_text": "Body text here."}],
        "headlines": [],
    }
    assert parse(json.dumps(feed).encode()).format == "json1.1"
