"""What an agency format states outright (Entry.wire) taken as given.

Structured data outranks heuristics: a byline, a located place or a dateline
an NITF or NewsML-G2 item names wins over what the head steps read from the
text. Two steps:

- `wire_profile`, right after choose_profile: when neither a dateline nor the
  host named the agency, the item's provider or copyright holder may.
- `take_wire`, after the head steps and resolve_dates (the dateline's day is
  the first-created day where the item gives none): byline, located, dateline,
  and the extras ninjs has no field for, into story.ingest.

The ninjs fields these formats fill (subjects with URIs, genres, urgency,
embargoedUntil, renditions…) are written by build_ninjs.
"""

from __future__ import annotations

from datetime import UTC

from ..models import WireFields
from ..ninjs import utc_z
from ._draft import Draft
from ._head import parse_byline
from ._text import clean_inline

_BY = ("by ", "By ", "BY ")


def wire_profile(draft: Draft) -> Draft:
    wire = draft.entry.wire
    if wire is None or draft.story.ingest.get("source_by") != "default":
        return draft
    for party in (*wire.info_sources, wire.copyright_holder):
        profile = draft.profiles.for_agency_tag(party) if party else None
        if profile is not None:
            draft.profile = profile
            draft.story.source = profile.name
            draft.note("source_by", "provider")
            break
    return draft


def take_wire(draft: Draft) -> Draft:
    wire = draft.entry.wire
    if wire is None:
        return draft
    story = draft.story
    draft.note("wire_format", wire.format)
    if wire.byline:
        _take_byline(draft, wire.byline)
    if wire.byline_title:  # NITF byttl: stated, so it outranks a title read off the byline
        draft.note("byline_title", wire.byline_title)
    if wire.located or wire.dateline:
        # the dateline as written opens with its place: "PARIS, Jan 9"
        story.located = clean_inline(wire.located or (wire.dateline or "").split(",")[0])
        _take_dateline(draft, wire)
    if wire.embargo:
        draft.note("embargo", utc_z(wire.embargo))
    if wire.version is not None:
        draft.note("item_version", wire.version)
    if wire.signals:
        draft.note("signals", list(wire.signals))
    if wire.keywords:
        draft.note("keywords", list(wire.keywords))
    if wire.ed_note:
        draft.note("ed_msg", wire.ed_note)
    if wire.tagline:
        draft.note("tagline", wire.tagline)
    return draft


def _take_byline(draft: Draft, written: str) -> None:
    """The item's byline, its names split and recased as the profile reads bylines."""
    for key in ("authors", "byline_title"):  # what the head steps read gives way
        draft.story.ingest.pop(key, None)
    parsed = parse_byline(draft.profile, written)
    if parsed is None and not written.startswith(_BY):
        parsed = parse_byline(draft.profile, f"By {written}")
    if parsed is None:  # not a list of names ("Staff and agencies"): as written, less a leading "By"
        draft.story.byline = clean_inline(written[3:] if written.startswith(_BY) else written)
        return
    draft.story.byline, authors, title = parsed
    if len(authors) > 1:
        draft.note("authors", authors)
    if title:
        draft.note("byline_title", title)


def _take_dateline(draft: Draft, wire: WireFields) -> None:
    story = draft.story
    known = story.ingest.get("dateline") or {}
    if wire.dateline_date is not None:
        day = wire.dateline_date.isoformat()
    elif known.get("date") and known.get("place") == story.located:
        day = known["date"]
    elif story.first_created is not None:
        day = story.first_created.astimezone(draft.profile.time_zone or UTC).date().isoformat()
    else:
        day = None
    draft.note(
        "dateline",
        {
            "place": story.located,
            "date": day,
            "agency": known.get("agency") or draft.profile.agency,
        },
    )
