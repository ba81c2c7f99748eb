"""Entry -> Draft: the three input kinds brought to one shape (blocks + fields).

Inputs are capped before any work so a 50 MB page costs what a large article
costs; the cut is flagged.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from ..errors import DropStory
from ..models import Entry, Picture, Story
from ._draft import Block, Draft
from ._page import read_page
from ._profiles import Profiles
from ._text import clean_inline, embedded_media, html_blocks, parse_fragment, plain, text_blocks, unmangle
from ._urls import PLAIN_HOST, join

MAX_TEXT_CHARS = 1_000_000  # page text: ~150k words, far past any article
MAX_HTML_CHARS = 3_000_000  # page or entry HTML: real article pages are well under 1 MB
_JUNK_SAMPLE = 20_000
_JUNK_RATIO = 0.05  # more unreadable characters than this in a page's sample: binary, not text
_JUNK_MIN = 16  # a stray control character or two in a short page is not binary
# C0 controls but tab and line breaks, and the two noncharacters XML refuses
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CONTROL_BYTES = bytes(range(0x20)).translate(None, b"\t\n\r")
_FFFE, _FFFF = "\ufffe".encode(), "\uffff".encode()
_MOJIBAKE_LEAD = b"\xc3"  # the UTF-8 lead byte of U+00C0-U+00FF: mojibake opens with one of them
_TEXT_FIELDS = ("title", "summary_html", "content_html", "guid", "link", "published_raw")


def intake(entry: Entry, *, feed_id: str, source: str | None, now: datetime, profiles: Profiles) -> Draft:
    entry = _repaired(entry)
    story = Story(feed_id=feed_id, source=source or "generic", headline="", body_text="")
    draft = Draft(
        entry=entry,
        story=story,
        now=now,
        profiles=profiles,
        profile=profiles.generic,
        requested_source=source,
    )
    story.guid = clean_inline(entry.guid) if entry.guid else None
    story.url = _absolute(entry.link, entry.base_url)
    if entry.link and story.url is None:
        draft.flag(f"unusable link dropped: {entry.link[:80]!r}")
    story.tags = list(dict.fromkeys(t for t in map(_plain_tag, entry.tags) if t))
    story.enclosures = [dict(e) for e in entry.enclosures]
    story.updated = entry.updated
    if entry.kind == "feed-entry":
        _feed_entry(draft)
    elif entry.kind == "page-text":
        draft.blocks = text_blocks(_capped(draft, _readable(entry.page), MAX_TEXT_CHARS))
    else:
        _page_html(draft)
    return draft


# a feed's stories repeat its few categories
_plain_tag = lru_cache(maxsize=1024)(plain)


def _feed_entry(draft: Draft) -> None:
    entry, story = draft.entry, draft.story
    story.headline = plain(entry.title)
    base = entry.base_url or entry.link
    candidates = []
    parsed: dict[str, tuple[list[Block], list[Picture], list[dict[str, str]]]] = {}
    for markup in (entry.content_html, entry.summary_html):
        if markup and markup.strip():
            if markup not in parsed:  # a summary that is a copy of the content is parsed once
                root = parse_fragment(_capped(draft, markup, MAX_HTML_CHARS), base)
                parsed[markup] = (*html_blocks(root), embedded_media(root))
            candidates.append(parsed[markup])
    if candidates:
        # the fuller of content and summary is the body; a shorter summary stays a summary
        candidates.sort(key=lambda c: -sum(len(b.text) for b in c[0]))
        draft.blocks, draft.pictures, media = candidates[0]
        known = {e.get("href") or e.get("url") for e in story.enclosures}
        story.enclosures += [m for m in media if m["href"] not in known]
        if len(candidates) > 1 and candidates[1][0]:
            story.summary = " ".join(b.text for b in candidates[1][0])
    for enclosure in entry.enclosures:
        href = enclosure.get("href") or enclosure.get("url")
        if href and str(enclosure.get("type", "")).startswith("image/"):
            draft.pictures.append(Picture(caption="", href=_absolute(href, base)))


def _page_html(draft: Draft) -> None:
    entry, story = draft.entry, draft.story
    markup = _capped(draft, _readable(entry.page), MAX_HTML_CHARS)
    # a page read from a file has a file: base; links must not point there
    base = next(
        (u for u in (entry.link, entry.base_url) if u and u.startswith(("http://", "https://"))), None
    )
    try:
        draft.blocks, draft.pictures, page = read_page(markup, base)
    except ValueError as exc:
        raise DropStory(str(exc)) from None
    draft.page = page
    if page.canonical and not story.url:
        story.url = _absolute(page.canonical, base)
    story.summary = page.description or ""
    story.tags = story.tags or page.tags


def _repaired(entry: Entry) -> Entry:
    """The entry with mis-decoded text fields repaired (see `unmangle`) and control
    characters removed: a stray `&#0;` costs that character, never the entry."""
    texts = {name: value for name in _TEXT_FIELDS if isinstance(value := getattr(entry, name), str)}
    fields: dict[str, Any] = {}
    # all fields' bytes looked at at once: most entries (every one in a feed of plain English)
    # have nothing to repair, and one look costs less than one for each field
    data = "".join([*texts.values(), *entry.authors]).encode("utf-8", "surrogatepass")
    if _MOJIBAKE_LEAD in data or _has_controls(data):
        fields = {
            name: repaired for name, value in texts.items() if (repaired := _repaired_text(value)) != value
        }
        authors = [_repaired_text(a) for a in entry.authors]
        if authors != entry.authors:
            fields["authors"] = authors
    if entry.page is not None:  # a page keeps its controls until _readable has judged it binary or not
        fields["page"] = unmangle(entry.page)
    return dataclasses.replace(entry, **fields) if fields else entry  # most entries need no repair


def _repaired_text(text: str) -> str:
    """`unmangle(_CONTROLS.sub("", text))`. Both regexes test every character in Python's
    engine; the UTF-8 bytes tell in C whether either can match: a control is its own byte,
    a noncharacter its own three, and mojibake needs a letter of U+00C0-U+00FF (lead byte C3)."""
    data = text.encode("utf-8", "surrogatepass")
    if _has_controls(data):
        text = _CONTROLS.sub("", text)
    return unmangle(text) if _MOJIBAKE_LEAD in data else text


def _has_controls(data: bytes) -> bool:
    """Whether UTF-8 `data` holds a character `_CONTROLS` matches."""
    return len(data.translate(None, _CONTROL_BYTES)) != len(data) or _FFFE in data or _FFFF in data


def _readable(text: str | None) -> str:
    """The text itself, or DropStory when it is empty or binary bytes decoded as text."""
    if not text or not text.strip():
        raise DropStory("empty input")
    sample = text[:_JUNK_SAMPLE]
    unreadable = sum(
        1
        for ch in sample
        if ch == "\ufffd" or (unicodedata.category(ch) in ("Cc", "Co", "Cs") and ch not in "\n\r\t")
    )
    if unreadable > max(_JUNK_RATIO * len(sample), _JUNK_MIN):
        raise DropStory(f"binary content: {unreadable} of {len(sample)} characters are not text")
    return text


def _capped(draft: Draft, text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    draft.flag(f"input cut to its first {limit} characters (was {len(text)})")
    return text[:limit]


def _absolute(url: str | None, base: str | None) -> str | None:
    """The link made absolute; None when it is no usable URL (`http://[0]/x`): that costs the link only."""
    if not url:
        return None
    try:
        url = join(base, url.strip()) if base else url.strip()
        if PLAIN_HOST.match(url):  # what urlsplit would find usable, without splitting
            return url
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it is what checks it
    except ValueError:
        return None
    if parts.scheme in ("http", "https") and not parts.hostname:
        return None
    return url
