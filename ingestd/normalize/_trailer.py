"""Page chrome and story trailers out of the body.

`strip_boilerplate` drops chrome lines anywhere. `cut_trailer` ends the story
at an end marker ("(END)") and peels sign-offs (reporter e-mail, desk
initials) off the tail into ingest["signoff"]. Credit lines ("Reporting by …;
Editing by …", "Photos and reporting by …") are part of the story as
published: they stay in the body and are copied to ingest["credits"].
"""

from __future__ import annotations

import html

from ._draft import Block, Draft


def strip_boilerplate(draft: Draft) -> Draft:
    draft.blocks = [b for b in draft.blocks if not draft.profile.is_boilerplate(b.text)]
    return draft


def cut_trailer(draft: Draft) -> Draft:
    signoffs: list[str] = []
    credits: list[str] = []
    _cut_at_end_marker(draft, signoffs)
    index = len(draft.blocks) - 1
    while index >= 0:
        if _credit(draft, index, credits):
            index -= 1
        elif _peel_signoff(draft, index, signoffs):
            index = min(index, len(draft.blocks) - 1)
        else:
            break
    if signoffs:
        draft.note("signoff", signoffs)
    if credits:
        draft.note("credits", credits)
    return draft


def _cut_at_end_marker(draft: Draft, signoffs: list[str]) -> None:
    for index, block in enumerate(draft.blocks):
        for marker in draft.profile.end_markers:
            match = marker.search(block.text)
            if match and match.group(0).strip():
                signoffs.append(match.group(0).strip())
                del draft.blocks[index + 1 :]
                _trim(draft, index, match.start())
                return


def _credit(draft: Draft, index: int, credits: list[str]) -> bool:
    text = draft.blocks[index].text
    for pattern in draft.profile.credit_patterns:
        match = pattern.search(text)
        if match and match.group(0) == text:
            credits.insert(0, match["credits"].strip())
            return True
    return False


def _peel_signoff(draft: Draft, index: int, signoffs: list[str]) -> bool:
    """A sign-off ends the story's text: only credit lines may stand below it."""
    text = draft.blocks[index].text
    for pattern in draft.profile.signoff_patterns:
        match = pattern.search(text)
        if match and match.end() == len(text) and match.group(0).strip():
            signoffs.insert(0, match.group(0).strip())
            _trim(draft, index, match.start())
            return True
    return False


def _trim(draft: Draft, index: int, end: int) -> None:
    """Keep a block's text up to `end`; its HTML follows when it was plain text."""
    block = draft.blocks[index]
    kept = block.text[:end].rstrip()
    if not kept:
        draft.blocks.pop(index)
        return
    cut = block.text[end:].strip()
    escaped = html.escape(cut, quote=False)
    body = block.html.rstrip()
    # drop the cut text from the HTML when it ends the markup as plain text; else rebuild from text
    new_html = (
        body[: -len(escaped)].rstrip()
        if escaped and body.endswith(escaped)
        else html.escape(kept, quote=False)
    )
    draft.blocks[index] = Block(kept, new_html, block.tag)
