"""ingestd.ninjs: the schema validator is wired right, and finalize adds identity in a stable order."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ingestd import ninjs
from tests.support import DATA

SUITE = DATA / "schemas" / "ninjs" / "test_suite"
WHEN = datetime(2020, 1, 9, 9, 31, 2, 123456, tzinfo=timezone(timedelta(hours=9)))


def suite(kind: str) -> list[Path]:
    files = sorted((SUITE / kind).glob("*.json"))
    assert files, f"IPTC's test suite is missing at {SUITE}"
    return files


@pytest.mark.parametrize("path", suite("should_pass"), ids=lambda p: p.name)
def test_iptc_should_pass(path):
    """Every document IPTC says is valid ninjs 3.0 validates."""
    assert ninjs.validate(json.loads(path.read_text(encoding="utf-8"))) == []


@pytest.mark.parametrize("path", suite("should_fail"), ids=lambda p: p.name)
def test_iptc_should_fail(path):
    """Every document IPTC says is invalid is rejected."""
    assert ninjs.validate(json.loads(path.read_text(encoding="utf-8")))


def test_shipped_schema_is_iptcs():
    """The package's copy of the schema is IPTC's (tests/data/schemas/ninjs)."""
    shipped = json.loads(ninjs.SCHEMA_PATH.read_text(encoding="utf-8"))
    assert shipped == json.loads(
        (DATA / "schemas" / "ninjs" / "ninjs-schema_3.0.json").read_text(encoding="utf-8")
    )


@pytest.mark.parametrize("bad", ["2020-13-45T00:00:00Z", "2020-01-09 00:25", "January 9, 2020"])
def test_bad_date_time_fails_format_check(bad):
    """Format checks are on: a malformed date-time is an error, not just a string."""
    errors = ninjs.validate({"uri": "urn:ingestd:story:1", "firstCreated": bad})
    assert errors == [f"firstCreated: {bad!r} is not a 'date-time'"]


def test_bad_uri_fails_format_check():
    """`uri` must be a URI."""
    assert ninjs.validate({"uri": "not a uri"}) == ["uri: 'not a uri' is not a 'uri'"]


def test_finalize_adds_identity_in_schema_order():
    """uri, version (a string) and versionCreated (UTC, Z) are added first; the input is untouched."""
    doc = {"headlines": [{"value": "H"}], "type": "text", "language": "en"}
    done = ninjs.finalize(doc, uri="urn:ingestd:story:abc", version=2, version_created=WHEN)
    assert list(done) == ["uri", "version", "versionCreated", "type", "language", "headlines"]
    assert done["version"] == "2" and done["versionCreated"] == "2020-01-09T00:31:02Z"
    assert "uri" not in doc
    assert ninjs.validate(done) == []


def test_finalize_order_does_not_depend_on_input_order():
    """Two documents with the same content serialize identically."""
    a = ninjs.finalize({"type": "text", "by": "X"}, uri="urn:x:1", version=1, version_created=WHEN)
    b = ninjs.finalize({"by": "X", "type": "text"}, uri="urn:x:1", version=1, version_created=WHEN)
    assert json.dumps(a, ensure_ascii=False) == json.dumps(b, ensure_ascii=False)


def test_utc_z():
    """Any aware time comes out in UTC with Z and whole seconds."""
    assert ninjs.utc_z(WHEN) == "2020-01-09T00:31:02Z"


def test_geojson_is_checked_offline():
    """places[].geoJSON is validated against the offline GeoJSON outline: a bad type fails."""
    place = {"name": "Seoul", "geoJSON": {"type": "Foo", "coordinates": [126.9, 37.5]}}
    assert ninjs.validate({"uri": "urn:x:1", "places": [place]})
    place["geoJSON"]["type"] = "Point"
    assert ninjs.validate({"uri": "urn:x:1", "places": [place]}) == []
