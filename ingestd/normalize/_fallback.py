"""Never worse than the extractor alone: a body our steps shrank too far is
replaced by trafilatura's plain extraction of the same page.

"Too far" is under FULLER_SHARE of trafilatura's tokens, or nothing left but
the headline. The swap is flagged; the head the steps found (headline, byline,
dateline) stays.
"""

from __future__ import annotations

from ._draft import Draft
from ._text import text_blocks, word_tokens

FULLER_SHARE = 0.6


def keep_fuller_body(draft: Draft) -> Draft:
    extracted = draft.page.extracted_text if draft.page else ""
    if not extracted:
        return draft
    ours = word_tokens(" ".join(b.text for b in draft.blocks))
    theirs = word_tokens(extracted)
    only_title = not ours or ours == word_tokens(draft.story.headline)
    if only_title or len(ours) < FULLER_SHARE * len(theirs):
        draft.blocks = text_blocks(extracted.replace("\n", "\n\n"))
        draft.flag(f"body: trafilatura's extraction used ({len(ours)} of its {len(theirs)} tokens were left)")
    return draft
