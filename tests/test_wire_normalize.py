"""The normalizer's wire steps: structured values outrank what the heuristics read."""

from __future__ import annotations

from datetime import UTC, datetime

from ingestd.models import Concept, Entry, WireFields
from ingestd.normalize import CHAIN, load_profiles, normalize_entry
from ingestd.normalize._wire import take_wire, wire_profile

NOW = datetime(2020, 1, 16, 12, 0, tzinfo=UTC)
PROFILES = load_profiles(None)
BODY = (
    "<p>By John Roe</p>"
    "<p>WASHINGTON (AP) — Lawmakers approved the budget on Tuesday after a debate that lasted all night.</p>"
    "<p>The vote was 230-201.</p>"
)


def entry(wire: WireFields | None, body: str = BODY) -> Entry:
    return Entry(
        kind="feed-entry",
        guid="g1",
        title="Lawmakers approve budget",
        content_html=body,
        published=datetime(2020, 1, 14, 20, 0, tzinfo=UTC),
        wire=wire,
    )


def story(wire: WireFields | None, body: str = BODY, source: str | None = None):
    return normalize_entry(entry(wire, body), feed_id="t", source=source, now=NOW, profiles=PROFILES)


def test_wire_steps_stand_after_the_heuristics_they_outrank():
    """wire_profile right after choose_profile; take_wire after the head steps and dates,
    before the body is rendered and the ninjs built."""
    names = [step.__name__ for step in CHAIN]
    assert names.index("wire_profile") == names.index("choose_profile") + 1
    assert names.index("read_byline") < names.index("take_wire") < names.index("render_body")
    assert names.index("resolve_dates") < names.index("take_wire")


def test_without_wire_fields_the_story_is_what_the_heuristics_read():
    plain = story(None)
    assert plain.byline == "John Roe"
    assert plain.located == "WASHINGTON"
    assert "wire_format" not in plain.ingest


def test_the_items_byline_and_place_outrank_the_texts():
    """The body says "By John Roe" and WASHINGTON; the item says Jane Doe in BALTIMORE."""
    wired = story(
        WireFields(format="nitf", byline="By JANE DOE", byline_title="AP Writer", located="BALTIMORE")
    )
    assert wired.byline == wired.ninjs["by"] == "Jane Doe"
    assert wired.located == wired.ninjs["located"] == "BALTIMORE"
    assert wired.ingest["byline_title"] == "AP Writer"
    assert wired.ingest["dateline"]["place"] == "BALTIMORE"
    assert wired.ingest["wire_format"] == "nitf"


def test_a_byline_that_is_not_names_is_kept_as_written():
    wired = story(WireFields(format="newsml-g2", byline="By Staff and agencies in Geneva"))
    assert wired.byline == "Staff and agencies in Geneva"
    assert "authors" not in wired.ingest


def test_several_names_are_split_as_the_profile_splits_bylines():
    wired = story(WireFields(format="ninjs", byline="Pieter de Wit and SOFIE JANSSEN"))
    assert wired.byline == "Pieter de Wit and Sofie Janssen"
    assert wired.ingest["authors"] == ["Pieter de Wit", "Sofie Janssen"]


def test_a_dateline_written_without_located_gives_the_place():
    wired = story(
        WireFields(format="newsml-g2", dateline="GENEVA, Jan 14"),
        body="<p>Talks ended on Tuesday with a deal.</p>",
    )
    assert wired.located == "GENEVA"
    assert wired.ingest["dateline"] == {"place": "GENEVA", "date": "2020-01-14", "agency": None}


def test_the_provider_names_the_profile_when_nothing_else_does():
    """No dateline agency, no host: the item's provider (an AFP agency tag) picks AFP's rules."""
    body = "<p>The council approved the budget on Tuesday after a long debate.</p>"
    wired = story(WireFields(format="newsml-g2", info_sources=("Agence France-Presse",)), body=body)
    assert wired.source == "afp"
    assert wired.ingest["source_by"] == "provider"
    assert wired.ninjs["infoSources"] == [{"name": "AFP", "role": "originator"}]


def test_the_provider_does_not_override_a_given_source():
    wired = story(WireFields(format="newsml-g2", info_sources=("AFP",)), source="reuters")
    assert wired.source == "reuters"


def test_embargo_urgency_status_and_extras_reach_ninjs_and_ingest():
    wire = WireFields(
        format="newsml-g2",
        embargo=datetime(2020, 1, 20, 5, 0, tzinfo=UTC),
        urgency=2,
        pub_status="withheld",
        version=3,
        signals=("sig:update",),
        keywords=("budget",),
        slugline="US-budget",
        subjects=(
            Concept(
                name="politics",
                qcode="medtop:11000000",
                uri="http://cv.iptc.org/newscodes/mediatopic/11000000",
            ),
        ),
    )
    wired = story(wire)
    assert wired.ninjs["embargoedUntil"] == wired.ingest["embargo"] == "2020-01-20T05:00:00Z"
    assert (wired.ninjs["urgency"], wired.ninjs["pubStatus"], wired.ninjs["slugline"]) == (
        2,
        "withheld",
        "US-budget",
    )
    assert wired.ingest["item_version"] == 3
    assert wired.ingest["signals"] == ["sig:update"]
    assert wired.ingest["keywords"] == ["budget"]
    assert wired.ninjs["subjects"][-1] == {
        "name": "politics",
        "uri": "http://cv.iptc.org/newscodes/mediatopic/11000000",
        "literal": "medtop:11000000",
    }


def test_the_steps_leave_a_story_without_wire_fields_alone():
    """Both steps are no-ops for feed entries and pages."""
    from ingestd.models import Story
    from ingestd.normalize._draft import Draft

    draft = Draft(
        entry=entry(None),
        story=Story(feed_id="t", source="generic", headline="h", body_text="b"),
        now=NOW,
        profiles=PROFILES,
        profile=PROFILES.generic,
    )
    before = (draft.story.byline, draft.story.located, dict(draft.story.ingest), draft.profile)
    take_wire(wire_profile(draft))
    assert (draft.story.byline, draft.story.located, draft.story.ingest, draft.profile) == before
