"""Find the dateline that opens the story: `WASHINGTON, Jan. 8 (Yonhap) --`.

The block it opens becomes the lead: what stands above it is the head
(headline, section line, byline). The dateline stays in the body text, as wire
copy has it; its place becomes `located`, and ingest["dateline"] gets the place,
the agency and (once dates are resolved) the place's local date.
"""

from __future__ import annotations

from ._draft import Draft

_SEARCH = 12  # blocks from the top


def find_dateline(draft: Draft) -> Draft:
    for index, block in enumerate(draft.blocks[:_SEARCH]):
        for pattern in draft.profile.dateline_patterns:
            match = pattern.match(block.text)
            if match:
                groups = match.groupdict()
                draft.lead = index
                draft.story.located = groups["place"].strip()
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
                return draft
    return draft
