"""Photo captions out of the body and into pictures.

A paragraph that ends in a photo credit ("… (Yonhap)", "(AP Photo/Evan Vucci)")
and is short enough to be a caption is a picture's caption, not story text.
Never the lead: a dateline paragraph may name the agency too.
"""

from __future__ import annotations

import re

from ..models import Picture
from ._draft import Draft
from ._profiles import Profile


def split_captions(draft: Draft) -> Draft:
    profile = draft.profile
    known = {p.caption for p in draft.pictures}
    index = 0
    while index < len(draft.blocks):
        text = draft.blocks[index].text
        match = None
        if index != draft.lead and len(text) <= profile.caption_max_chars and len(draft.blocks) > 1:
            match = _caption_match(profile, text)
        if match is None:
            index += 1
            continue
        draft.remove(index)
        if text not in known:
            credit = (match.groupdict().get("credit") or "").strip() or None
            draft.pictures.append(Picture(caption=text, credit=credit))
            known.add(text)
    for picture in draft.pictures:  # figures from HTML: the credit is in the caption's tail
        if picture.caption and not picture.credit:
            match = _caption_match(profile, picture.caption)
            picture.credit = ((match.groupdict().get("credit") or "").strip() or None) if match else None
    return draft


def _caption_match(profile: Profile, text: str) -> re.Match[str] | None:
    """The first caption pattern's match; a text without what a pattern requires is not searched."""
    return next((m for p, needed in profile.captions if needed in text and (m := p.search(text))), None)
