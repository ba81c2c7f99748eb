"""Never worse than the extractor alone: a body our steps shrank too far is
replaced by trafilatura's plain extraction of the same page.

"Too far" is under FULLER_SHARE of trafilatura's tokens, or nothing left but
the headline. The swap is flagged; the head the steps found (headline, byline,
dateline) stays.
"""

from __future__ import annotations

import re

from ._draft import Draft
from ._text import text_blocks

FULLER_SHARE = 0.6
_WORD = re.compile(r"\w+")


def keep_fuller_body(draft: Draft) -> Draft:
    extracted = draft.page.extracted_text if draft.page else ""
    if not extracted:
        return draft
    ours = _tokens(" ".join(b.text for b in draft.blocks))
    theirs = _tokens(extracted)
    only_title = not ours or ours == _tokens(draft.story.headline)
    if only_title or len(ours) < FULLER_SHARE * len(theirs):
        draft.blocks = text_blocks(extracted.replace("\n", "\n\n"))
        draft.flag(f"body: trafilatura's extraction used ({len(ours)} of its {len(theirs)} tokens were left)")
    return draft


def _tokens(text: str) -> list[str]:
    # characters for scripts written without spaces, so a Japanese page is not one "word"
    words = _WORD.findall(text.casefold())
    return [ch for w in words for ch in (w if len(w) > 20 and not w.isascii() else [w])]
