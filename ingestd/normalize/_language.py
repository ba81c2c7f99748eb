"""The story's language: the entry's or page's declaration when it is a
language tag, else detected from the text with py3langid (its model ships in
the package; the answer is the same on every run; `_langid` computes it faster).
"""

from __future__ import annotations

import re
from functools import cache
from itertools import islice
from typing import TYPE_CHECKING

from ._draft import Draft

if TYPE_CHECKING:
    from ._langid import Identifier

_TAG = re.compile(r"^([A-Za-z]{2,3})(?:[-_]([A-Za-z]{4}))?(?:[-_]([A-Za-z]{2}|\d{3}))?$")
# characters of text the detector reads: its cost grows with each byte. Over the corpus
# (3,418 stories) the first 600 gave the answer the first 3,000 did on every story. 400 did
# as well on the corpora, but a body that opens with a table of figures (scores, prices)
# then reads too few letters, or only the figures' words, and changes language
_SAMPLE = 600
_MIN_LETTERS = 20  # below this a guess is noise


def detect_language(draft: Draft) -> Draft:
    story = draft.story
    written = draft.entry.language or (draft.page.language if draft.page else None)
    declared = normalize_tag(written) if written else None
    if written and not declared:
        draft.flag(f"declared language {written!r} is not a language tag")
    if declared:
        story.language = declared
        draft.note("language_by", "declared")
        return draft
    body = story.body_text or " ".join(b.text for b in draft.blocks)
    story.language = detect(f"{story.headline}\n{body[:_SAMPLE]}")  # the sample only: bodies can be long
    if story.language:
        draft.note("language_by", "detected")
    else:
        draft.flag("too little text to tell the language")
    return draft


def normalize_tag(written: str) -> str | None:
    """'en_us' -> 'en-US', 'EN' -> 'en'; None when it is not a BCP 47 language tag."""
    match = _TAG.match(written.strip())
    if not match:
        return None
    language, script, region = match.groups()
    return "-".join(filter(None, (language.lower(), script and script.title(), region and region.upper())))


def detect(text: str) -> str | None:
    sample = text[:_SAMPLE]
    if len(list(islice(filter(str.isalpha, sample), _MIN_LETTERS))) < _MIN_LETTERS:
        return None
    return str(_identifier().classify(sample)[0])


def warm() -> None:
    _identifier()


@cache
def _identifier() -> Identifier:
    # imported and loaded on first use: the model takes about a second to load
    from ._langid import load

    return load()
