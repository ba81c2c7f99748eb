"""Publish times: read strictly, kept plausible, and always schema-valid at the outbox door."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from ingestd import ninjs
from ingestd.models import Entry
from ingestd.normalize import load_profiles, normalize_entry
from ingestd.normalize._dates import EARLIEST, read_time

NOW = datetime(2020, 1, 10, 12, 0, tzinfo=UTC)
PROFILES = load_profiles(None)
BODY = "<p>Officials said on Tuesday that talks would resume next week after a long pause.</p>"


def _story(**fields):
    entry = Entry(kind="feed-entry", title="Talks to resume", content_html=BODY, **fields)
    return normalize_entry(entry, feed_id="t", source=None, now=NOW, profiles=PROFILES)


def _page(published: str):
    page = (
        f'<html><head><meta property="article:published_time" content="{published}">'
        f"<title>Talks to resume</title></head><body><article>{BODY * 3}</article></body></html>"
    )
    return normalize_entry(
        Entry(kind="page-html", page=page), feed_id="t", source=None, now=NOW, profiles=PROFILES
    )


def _door(story) -> list[str]:
    """What the store does before an event leaves: finalize, then check at the door."""
    doc = ninjs.finalize(story.ninjs, uri="urn:ingestd:story:1", version=1, version_created=NOW)
    return ninjs.check_story(doc)


def _plausible(story) -> bool:
    return EARLIEST <= story.first_created <= NOW + timedelta(minutes=5)


DATE_LIKE = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"\A-?\d{1,4}(-\d{1,3}(-\d{1,3}(T\d{1,3}:\d{1,3}(:\d{1,3})?([+-]\d{1,2}:\d{2}|Z)?)?)?)?\Z"),
    st.from_regex(r"\A(Mon|Sat), \d{1,2} (Jan|Feb|Foo) \d{1,5} \d\d:\d\d:\d\d (GMT|[+-]\d{4})\Z"),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
)


class TestAnyWrittenDate:
    @settings(max_examples=150, deadline=None)
    @given(DATE_LIKE)
    def test_feed_time_string_gives_a_valid_plausible_first_created(self, written):
        """Whatever a feed writes as its date, the story's times validate and are plausible."""
        story = _story(published_raw=written)
        assert _door(story) == []
        assert _plausible(story)

    @settings(max_examples=60, deadline=None)
    @given(DATE_LIKE.filter(lambda s: '"' not in s and "<" not in s and "&" not in s))
    def test_page_time_string_gives_a_valid_plausible_first_created(self, written):
        """Whatever a page's meta says, the story's times validate and are plausible."""
        story = _page(written)
        assert _door(story) == []
        assert _plausible(story)

    @settings(max_examples=150, deadline=None)
    @given(
        st.datetimes(
            min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
        ).map(lambda d: d.astimezone(timezone(timedelta(hours=-5)))),
    )
    def test_any_parsed_feed_time_gives_a_valid_plausible_first_created(self, moment):
        """A parsed time from year 1 to 9999, in any zone, never reaches subscribers unchecked."""
        story = _story(published=moment)
        assert _door(story) == []
        assert _plausible(story)


class TestGarbageDates:
    def test_minus_one_is_not_this_month(self):
        """'-1' is no date: the fetch time is used and flagged."""
        story = _story(published_raw="-1")
        assert story.first_created == NOW
        assert any("unreadable time" in f for f in story.ingest["flags"])

    def test_impossible_fields_are_not_rolled_over(self):
        """Month 13, day 45, hour 99 and a +25:00 offset are not read as some other day."""
        story = _story(published_raw="2020-13-45T99:99:99+25:00")
        assert story.first_created == NOW
        assert any("unreadable time" in f for f in story.ingest["flags"])

    def test_year_one_is_implausible_and_flagged(self):
        """'Sat, 01 Jan 0001' is read, found before 1990, and replaced by the fetch time."""
        story = _story(published_raw="Sat, 01 Jan 0001 00:00:00 GMT")
        assert story.first_created == NOW
        assert any("implausible" in f for f in story.ingest["flags"])
        assert _door(story) == []

    def test_a_plain_good_time_is_kept(self):
        """An ordinary RFC 2822 time is read as written."""
        story = _story(published_raw="Wed, 08 Jan 2020 10:00:00 +0100")
        assert story.first_created == datetime(2020, 1, 8, 9, 0, tzinfo=UTC)
        assert "flags" not in story.ingest


class TestReadTime:
    def test_iso_rfc_and_written_forms(self):
        """ISO 8601, RFC 2822 and a written date with its year are read."""
        assert read_time("2020-01-08T10:00:00Z") == datetime(2020, 1, 8, 10, tzinfo=UTC)
        assert read_time("Wed, 08 Jan 2020 10:00:00 GMT") == datetime(2020, 1, 8, 10, tzinfo=UTC)
        assert read_time("January 8, 2020 10:00") == datetime(2020, 1, 8, 10)

    def test_two_digit_year_and_offset_digits(self):
        """A two-digit RFC 2822 year is the email parser's; the offset's digits are never a year."""
        assert read_time("Wed, 08 Jan 20 10:00:00 +0100") == datetime(2020, 1, 8, 9, tzinfo=UTC)

    def test_fragments_are_not_dates(self):
        """A number, a time alone or a month alone is no date."""
        for fragment in ("-1", "10:00", "January", "8", ""):
            assert read_time(fragment) is None


class TestUtcZ:
    def test_year_has_four_digits(self):
        """Year 1 is written 0001, so a bad time fails validation by its value, not its shape."""
        assert ninjs.utc_z(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00Z"

    def test_check_story_names_missing_times(self):
        """The door refuses a document without firstCreated or versionCreated."""
        errors = ninjs.check_story({"uri": "urn:ingestd:story:1", "type": "text"})
        assert "firstCreated: missing" in errors and "versionCreated: missing" in errors
