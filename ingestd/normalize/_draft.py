"""The working state the chain passes along: the Story being built, plus what
the steps need beside it (the entry, the profile, the fetch time, the body as
blocks that keep their HTML, times read but not yet resolved).

A step is `Draft -> Draft` and drops the story by raising DropStory; the chain
order lives in `_chain.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..models import Entry, Picture, Story
from ._profiles import Profile, Profiles

HEAD_WITHOUT_DATELINE = 4  # with no dateline, the head is looked for in this many blocks


@dataclass
class Block:
    """One paragraph-level piece of the body: its plain text and its inline HTML."""

    text: str
    html: str
    tag: str = "p"  # p, h2…h6, li, blockquote, pre


@dataclass
class PageMeta:
    """What an HTML page says about itself outside the article text."""

    # Evidence, best source first; the head and date steps choose from it.
    declared_headlines: list[str] = field(default_factory=list)  # JSON-LD headline, og:title
    headlines: list[str] = field(default_factory=list)  # twitter:, <title>, <h1>
    title: str | None = None  # the document's <title>: breaks a tie between the declared two
    author_groups: list[tuple[str, list[str]]] = field(default_factory=list)  # (source, names)
    publishers: list[str] = field(default_factory=list)  # site and publisher names: never an author
    chrome_links: frozenset[str] = frozenset()  # casefolded link texts of nav/header/footer
    published: list[str] = field(default_factory=list)  # times as written
    extracted_text: str = ""  # trafilatura's plain text of the article, the body to beat
    modified: str | None = None
    section: str | None = None
    description: str | None = None
    language: str | None = None
    site_name: str | None = None
    canonical: str | None = None
    tags: list[str] = field(default_factory=list)
    # Short text lines of the whole page in reading order, for rules the extractor
    # may have cut away (bylines, section/time lines).
    page_lines: list[str] = field(default_factory=list)
    # Short paragraphs that are wholly bold: where a page without "By" prints its byline.
    bold_lines: frozenset[str] = frozenset()


@dataclass
class Draft:
    entry: Entry
    story: Story
    now: datetime
    profiles: Profiles
    profile: Profile
    blocks: list[Block] = field(default_factory=list)
    pictures: list[Picture] = field(default_factory=list)
    page: PageMeta | None = None
    requested_source: str | None = None  # the feed's source or replay --source
    lead: int | None = None  # index of the block that opens the story (the dateline's)
    head_anchor: int | None = None  # where the first head line (section, byline) stood
    dateline_date: str | None = None  # the dateline's date as written ("Jan. 8")
    dateline_by: str | None = None  # a reporter named inside the dateline (Korean style)
    local_time: datetime | None = None  # naive time read from the page, in the profile zone

    def head(self) -> range:
        """Indexes of the blocks above the story's opening: headline, section, byline."""
        if self.lead is not None:
            return range(self.lead)
        return range(min(len(self.blocks), HEAD_WITHOUT_DATELINE))

    def remove(self, index: int) -> Block:
        """Take a block out, keeping `lead` and `head_anchor` on the same blocks."""
        block = self.blocks.pop(index)
        if self.lead is not None and index < self.lead:
            self.lead -= 1
        if self.head_anchor is not None and index < self.head_anchor:
            self.head_anchor -= 1
        return block

    def flag(self, reason: str) -> None:
        """Note something degraded; it ends up in story.ingest["flags"]."""
        flags: list[str] = self.story.ingest.setdefault("flags", [])
        if reason not in flags:
            flags.append(reason)

    def note(self, key: str, value: Any) -> None:
        self.story.ingest[key] = value


Step = Callable[[Draft], Draft]
