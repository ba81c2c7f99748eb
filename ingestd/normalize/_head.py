"""Read the head of a story: the section/time line, the byline, the headline.

The head is what stands above the lead (the dateline's block). Each step takes
the lines it recognises out of the body. An HTML extractor may have cut a byline
or a section line away, so for pages the whole page's short lines are searched
when the extracted text has none.
"""

from __future__ import annotations

import re
from datetime import datetime

from ..errors import DropStory
from ._draft import Draft
from ._profiles import Profile
from ._text import clean_inline

_NAME_SPLIT = re.compile(r"\s*(?:,|;|\band\b|&|\bund\b|\bet\b|\by\b|·)\s*")
_PARTICLES = frozenset(
    {
        "de",
        "da",
        "di",
        "del",
        "der",
        "den",
        "van",
        "von",
        "al",
        "el",
        "bin",
        "ibn",
        "la",
        "le",
        "du",
        "dos",
        "das",
        "ter",
        "zu",
        "st.",
        "mc",
    }
)
_TITLE_EDGE = " ,;|/–—-"
_SITE_SEPARATORS = re.compile(r"\s+(?:[|–—:·•»-]|::)\s+")
_HEADLINE_MAX = 300
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


# ── section/time line ────────────────────────────────────────────────────────


def read_section_line(draft: Draft) -> Draft:
    found = None
    for index in draft.head():
        found = _section_line(draft, draft.blocks[index].text)
        if found:
            draft.remove(index)
            _anchor(draft, index)
            break
    if not found and draft.page:
        found = next(filter(None, (_section_line(draft, line) for line in draft.page.page_lines)), None)
    section, local_time = found or (None, None)
    draft.story.section = section or (draft.page.section if draft.page else None)
    draft.local_time = local_time
    return draft


def _section_line(draft: Draft, text: str) -> tuple[str | None, datetime | None] | None:
    for pattern, fmt in draft.profile.section_lines:
        match = pattern.match(text)
        if match and match.end() == len(text):
            section = (match.groupdict().get("section") or "").strip() or None
            try:
                return section, datetime.strptime(f"{match['date']} {match['time']}", fmt)
            except ValueError:
                draft.flag(f"section line time unreadable: {text!r}")
                return section, None
    return None


# ── byline ───────────────────────────────────────────────────────────────────


def read_byline(draft: Draft) -> Draft:
    profile, head = draft.profile, draft.head()
    byline = None
    for index in head:
        byline = parse_byline(profile, draft.blocks[index].text)
        if byline:
            draft.remove(index)
            _anchor(draft, index)
            # a second "By …" line under the first adds its names
            while index in draft.head() and (more := parse_byline(profile, draft.blocks[index].text)):
                draft.remove(index)
                names = byline[1] + more[1]
                byline = (_joined(names), names, byline[2] or more[2])
            # "Associated Press" on the line under the names is the byline's title
            if (
                index in draft.head()
                and _title(profile, draft.blocks[index].text) == draft.blocks[index].text
            ):
                byline = (byline[0], byline[1], draft.remove(index).text)
            break
    if not byline and draft.page:
        byline = next(filter(None, (parse_byline(profile, line) for line in draft.page.page_lines)), None)
    if not byline and draft.dateline_by:
        byline = _names(profile, draft.dateline_by)
    if not byline:  # the input's own author list: names as given, never split further
        authors = [
            n
            for n in (
                clean_inline(a) for a in draft.entry.authors or (draft.page.authors if draft.page else [])
            )
            if n
        ]
        byline = (_joined(authors), authors, None) if authors else None
    if byline:
        draft.story.byline, authors, title = byline
        if len(authors) > 1:
            draft.note("authors", authors)
        if title:
            draft.note("byline_title", title)
    return draft


def parse_byline(profile: Profile, line: str) -> tuple[str, list[str], str | None] | None:
    """ "By ZEKE MILLER and JOSH BOAK, Associated Press" -> ("Zeke Miller and Josh Boak", names, title)."""
    for pattern in profile.byline_patterns:
        match = pattern.match(line)
        if match and match.end() == len(line):
            return _names(profile, match["by"])
    return None


def _names(profile: Profile, raw: str) -> tuple[str, list[str], str | None] | None:
    raw = raw.strip(_TITLE_EDGE)
    title = None
    while raw:
        found = _title(profile, raw)
        if not found or found == raw:
            break
        title = found if title is None else f"{found}, {title}"
        raw = raw[: -len(found)].rstrip(_TITLE_EDGE)
    names = [n for n in _NAME_SPLIT.split(raw) if n]
    if not names or not all(_is_name(n) for n in names):
        return None
    names = [_recase(n) for n in names]
    return _joined(names), names, title


def _joined(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _title(profile: Profile, text: str) -> str | None:
    """The job title that ends `text`, if one of the profile's patterns does."""
    for pattern in profile.byline_titles:
        for match in pattern.finditer(text):
            start = match.start()
            if match.end() == len(text) and (start == 0 or text[start - 1] in _TITLE_EDGE):
                return text[start:]
    return None


def _is_name(name: str) -> bool:
    words = name.split()
    if not 1 <= len(words) <= 5:
        return False
    return all(
        w[0].isupper()
        or w.casefold() in _PARTICLES
        or not w.isascii()
        and w[0].isalpha()
        and not w[0].islower()
        for w in words
    )


def _recase(name: str) -> str:
    """ZEKE MILLER -> Zeke Miller; names already in mixed case stay as written."""
    if not any(c.isupper() for c in name) or name != name.upper() or len(name) <= 3:
        return name
    return re.sub(r"[^\W\d_]+", lambda m: m.group(0).capitalize(), name.lower())


# ── headline ─────────────────────────────────────────────────────────────────


def read_headline(draft: Draft) -> Draft:
    if draft.entry.kind == "page-text":
        position = _headline_from_text(draft)
    else:
        if draft.page:
            draft.story.headline = _page_headline(draft)
        position = _find(draft, draft.story.headline)
    if draft.lead is not None and (position is not None or draft.entry.kind == "page-html"):
        _tidy_head(draft, position)
    elif position is not None:
        draft.remove(position)
    _strip_tags(draft)
    return draft


def _headline_from_text(draft: Draft) -> int | None:
    """The head line that reads as a headline: several words, no closing period.

    With a section or byline line found, the nearest such line above it wins
    (chrome sits higher up); else the first one; else the longest short line.
    """
    head = [i for i in draft.head() if len(draft.blocks[i].text) <= _HEADLINE_MAX]
    likely = [
        i for i in head if len(draft.blocks[i].text.split()) >= 4 and not draft.blocks[i].text.endswith(".")
    ]
    above = [i for i in likely if draft.head_anchor is not None and i < draft.head_anchor]
    if above:
        chosen = above[-1]
    elif likely or head:
        chosen = likely[0] if likely else max(head, key=lambda i: len(draft.blocks[i].text))
    else:
        return None
    draft.story.headline = draft.blocks[chosen].text
    return chosen


def _page_headline(draft: Draft) -> str:
    page = draft.page
    sites = {s.casefold() for s in (*draft.profile.site_names, page.site_name or "") if s}
    for candidate in (page.headline, page.title):
        if candidate:
            parts = _SITE_SEPARATORS.split(candidate)
            while len(parts) > 1 and parts[-1].casefold() in sites:
                parts.pop()
            while len(parts) > 1 and parts[0].casefold() in sites:
                parts.pop(0)
            return " - ".join(parts) if len(parts) > 1 else parts[0]
    first = draft.blocks[0] if draft.blocks else None
    return first.text if first and first.tag.startswith("h") else draft.story.headline


def _find(draft: Draft, headline: str) -> int | None:
    """The head block that repeats the headline, if any."""
    folded = headline.casefold()
    for index in draft.head():
        if draft.blocks[index].text.casefold() == folded:
            return index
    return None


def _tidy_head(draft: Draft, position: int | None) -> None:
    """Above the headline (at `position`, if among the blocks) is chrome; between
    it and the lead is a standfirst."""
    if position is not None:
        for _ in range(position + 1):
            draft.remove(0)
        if position:
            draft.flag(f"dropped {position} unrecognised line(s) above the headline")
    standfirst = [draft.remove(0).text for _ in range(draft.lead or 0)]
    if standfirst and not draft.story.summary:
        draft.story.summary = " ".join(standfirst)


def _strip_tags(draft: Draft) -> None:
    headline, tags = draft.story.headline, []
    changed = True
    while changed:
        changed = False
        for pattern in draft.profile.headline_tags:
            match = pattern.search(headline)
            rest = (headline[: match.start()] + " " + headline[match.end() :]).strip() if match else ""
            if match and match.group(0).strip() and rest:
                tags.append(match["tag"].strip())
                headline, changed = rest, True
    draft.story.headline = headline
    if tags:
        draft.note("headline_tags", tags)


def _anchor(draft: Draft, index: int) -> None:
    if draft.head_anchor is None or index < draft.head_anchor:
        draft.head_anchor = index


# ── nothing usable ───────────────────────────────────────────────────────────


def require_content(draft: Draft) -> Draft:
    """Drop a story with neither headline nor body; a body alone lends its first sentence."""
    if not draft.story.headline and not draft.blocks:
        raise DropStory("no headline and no body")
    if not draft.story.headline:
        first = draft.blocks[0].text
        sentence = _SENTENCE_END.split(first, maxsplit=1)[0]
        if len(sentence) > _HEADLINE_MAX:
            sentence = sentence[:_HEADLINE_MAX].rsplit(" ", 1)[0] + "…"
        draft.story.headline = sentence
        draft.flag("no headline: first sentence of the body used")
    if not draft.blocks:
        draft.flag("no body text")
    return draft
