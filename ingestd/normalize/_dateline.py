"""Find the dateline that opens the story: `WASHINGTON, Jan. 8 (Yonhap) --`.

The block it opens becomes the lead: what stands above it is the head
(headline, section line, byline). The dateline stays in the body text, as wire
copy has it; its place becomes `located`, and ingest["dateline"] gets the place,
the agency and (once dates are resolved) the place's local date.

The patterns are the profile's (data, with their parts: places, regions,
dashes). A line break inside a block starts a paragraph for this purpose: a
dateline under a heading line in the same <p> splits that block in two.
"""

from __future__ import annotations

import html
import re

from ._draft import Block, Draft
from ._profiles import Profile
from ._text import plain

_SEARCH = 12  # blocks from the top
_WRITTEN_PLACE_SEARCH = 3  # a place not in capitals and without an agency opens one of the first blocks
_BR = re.compile(r"<br\s*/?>", re.I)


def find_dateline(draft: Draft) -> Draft:
    for index in range(min(len(draft.blocks), _SEARCH)):
        block = draft.blocks[index]
        lines = [block.text] if "<br" not in block.html else [plain(p) for p in _BR.split(block.html)]
        for at, line in enumerate(lines):
            match = dateline_match(draft.profile, line, early=index < _WRITTEN_PLACE_SEARCH)
            if match is None:
                continue
            if at:  # the lines above the dateline are head lines of their own
                head = " ".join(lines[:at])
                draft.blocks[index : index + 1] = [
                    Block(head, html.escape(head, quote=False), block.tag),
                    Block(" ".join(lines[at:]), "<br>".join(_BR.split(block.html)[at:]), block.tag),
                ]
                index += 1
            _record(draft, index, match.groupdict())
            return draft
    return draft


def dateline_match(profile: Profile, text: str, *, early: bool = True) -> re.Match[str] | None:
    """The profile's first pattern that opens `text` with a real place."""
    for pattern, needed in profile.datelines:
        match = pattern.match(text) if needed in text else None
        if not match:
            continue
        place = match["place"].strip()
        if " ".join(place.split()).casefold() in profile.dateline_not_places:
            continue
        if not early and not match.groupdict().get("agency") and not place.split(",")[0].isupper():
            continue
        return match
    return None


def _record(draft: Draft, index: int, groups: dict[str, str | None]) -> None:
    draft.lead = index
    draft.story.located = (groups["place"] or "").strip()
    draft.dateline_date = groups.get("date")
    draft.dateline_by = (groups.get("by") or "").strip() or None
    tag = (groups.get("agency") or "").strip() or None
    known = draft.profiles.for_agency_tag(tag) if tag else None
    draft.note(
        "dateline",
        {
            "place": draft.story.located,
            "date": None,
            "agency": known.agency if known and known.agency else tag,
        },
    )
