"""Identity keys: a version's text hash folds white space as the regex `\\s+` does."""

from __future__ import annotations

import hashlib
import re

import pytest

from ingestd.dedupe import content_hash, identify
from ingestd.models import Story

# every character str.isspace() calls white space: what `\s` matches in a str pattern
SPACES = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


def folded_by_regex(story: Story) -> str:
    """The text hash as first defined: runs of `\\s` made one space, the ends stripped."""
    space = re.compile(r"\s+")
    text = space.sub(" ", story.headline).strip() + "\n" + space.sub(" ", story.body_text).strip()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("space", list(SPACES))
def test_every_white_space_character_folds_as_the_regex_folds_it(space: str) -> None:
    story = Story(
        feed_id="f",
        source="s",
        headline=f"{space}Two{space}{space}words{space}",
        body_text=f"A{space}b\u200bc{space}\n{space}d{space}",
    )
    assert content_hash(story) == folded_by_regex(story)


@pytest.mark.parametrize("body, has_body", [("", False), (" \n\u00a0\u2028", False), (" x ", True)])
def test_a_body_of_white_space_alone_is_no_body(body: str, has_body: bool) -> None:
    [identity] = identify([Story(feed_id="f", source="s", headline="H", body_text=body)], ())
    assert identity.has_body is has_body
