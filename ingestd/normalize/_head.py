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

_NAME_SPLIT = re.compile(r"\s*(?:,|;|\band\b|&|\bund\b|\bet\b|\by\b|\be\b|·|、|/)\s*")
# "Author:" / "Von" / "記者" before a name in a metadata field: a label, not part of the name
_ROLE_PREFIX = re.compile(
    r"^(?i:by|von|par|por|di|autor(?:in)?|author|text|reporter|redaktion|記者|记者|作者)\b[:：]?\s+"
)
# a domain or link, an e-mail address, a number: never a person or a desk
_NOT_A_NAME = re.compile(r"https?://|www\.|@|\b[\w-]+\.[a-z]{2,}\b|\d")
_NAME_MAX = 80
# what a page prints after the names on a byline line: the time, an update note, a follow button
_BYLINE_TAIL = re.compile(
    r"\s+(?=(?:(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d|\d{1,4}[:/.-]\d"
    r"|(?i:updated|published|posted|follow)\b|@))"
)
_NAME_WORDS = 6
# sources where the page marks a name as its author itself
_STRUCTURED = frozenset({"feed", "json-ld", "meta", "microdata"})
_CLOSING_MAX = 60  # characters: a closing byline is a line of names, not a paragraph
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
_SITE_SEPARATORS = re.compile(r"\s+(?:[|–—:·•»-]|::)\s+|\s*[｜：]\s*")
_PART_SEPARATORS = "|–—:·•»-｜：/"
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
    """The byline by evidence: structured data before free text, the article's own
    lines before the page's, and only names that can be a person or a desk."""
    in_head = _byline_in_head(draft)
    page = draft.page
    groups: list[tuple[str, list[str]]] = [("feed", list(draft.entry.authors))]
    if page:
        groups += [g for g in page.author_groups if g[0] != "trafilatura"]
    if in_head:
        groups.append(("text", in_head[1]))
    if closing := _byline_at_end(draft):
        groups.append(("closing", closing[1]))
    if page:
        groups += [g for g in page.author_groups if g[0] == "trafilatura"]
        on_page = next(filter(None, (parse_byline(draft.profile, line) for line in page.page_lines)), None)
        groups.append(("page-text", on_page[1] if on_page else []))
    if draft.dateline_by and (in_dateline := _names(draft.profile, draft.dateline_by)):
        groups.append(("dateline", in_dateline[1]))
    for source, names in groups:
        authors = _plausible_names(draft, names)
        if authors:
            # another source naming the same person without a trailing word ("Joshua Sokol May")
            others = [n for _, more in groups for n in more if len(n.split()) >= 2]
            authors = [
                next((o for o in others if a.startswith(o + " ") and " " not in a[len(o) + 1 :]), a)
                for a in authors
            ]
            shown = in_head and [n.casefold() for n in in_head[1]] == [n.casefold() for n in authors]
            draft.story.byline = in_head[0] if in_head and shown else _joined(authors)
            draft.note("authors", authors)
            draft.note("byline_by", source)
            break
    else:
        if credit := _publisher_credit(draft, groups):
            draft.story.byline = credit
            draft.note("authors", [credit])
            draft.note("byline_by", "publisher")
    if in_head and in_head[2]:
        draft.note("byline_title", in_head[2])
    return draft


def _byline_in_head(draft: Draft) -> tuple[str, list[str], str | None] | None:
    """The "By …" line above the lead, taken out of the body (with a second one and a title line under it)."""
    profile, head = draft.profile, draft.head()
    for index in head:
        byline = parse_byline(profile, draft.blocks[index].text) or _bold_names(
            draft, draft.blocks[index].text
        )
        if not byline:
            continue
        draft.remove(index)
        _anchor(draft, index)
        # a second "By …" line under the first adds its names
        while index in draft.head() and (more := parse_byline(profile, draft.blocks[index].text)):
            draft.remove(index)
            names = byline[1] + more[1]
            byline = (_joined(names), names, byline[2] or more[2])
        # "Associated Press" on the line under the names is the byline's title
        if index in draft.head() and _title(profile, draft.blocks[index].text) == draft.blocks[index].text:
            byline = (byline[0], byline[1], draft.remove(index).text)
        return byline
    return None


def _byline_at_end(draft: Draft) -> tuple[str, list[str], str | None] | None:
    """A short line of names closing the story ("（松岡大地）", "By Jane Roe") is its sign-off."""
    if len(draft.blocks) < 2 or len(draft.blocks) - 1 in draft.head():
        return None
    last = draft.blocks[-1].text
    byline = (
        parse_byline(draft.profile, last) or _bold_names(draft, last) if len(last) <= _CLOSING_MAX else None
    )
    if byline:
        draft.blocks.pop()
        signoffs: list[str] = draft.story.ingest.setdefault("signoff", [])
        signoffs.append(last)
    return byline


def _bold_names(draft: Draft, line: str) -> tuple[str, list[str], str | None] | None:
    """A wholly bold paragraph of full names ("Mathatisi Sebusi/Mohalenyane Phakela",
    "Lê Phương"): a byline printed without "By", above the lead or closing the story."""
    if not draft.page or line not in draft.page.bold_lines:
        return None
    found = _names(draft.profile, line)
    return found if found and all(2 <= len(n.split()) <= 4 for n in found[1]) else None


def _plausible_names(draft: Draft, names: list[str]) -> list[str]:
    """The names that can be a person or a desk: not a publisher, domain, number or nav label."""
    sites = draft.profile.site_names + tuple(draft.page.publishers if draft.page else ())
    rejected = [f for f in map(_fold_name, sites) if f]
    chrome = draft.page.chrome_links if draft.page else frozenset()
    kept: dict[str, str] = {}
    for raw in names:
        name = _ROLE_PREFIX.sub("", clean_inline(raw)).strip(_TITLE_EDGE)
        title = _title(draft.profile, name)
        rest = name[: -len(title)] if title else ""
        # "Ben Silverman Games Editor" loses its title; "Le Figaro et AFP" is a credit, kept whole
        if len(rest.split()) >= 2 and not _ends_with_joiner(rest):
            name = rest.rstrip(_TITLE_EDGE)
        folded = _fold_name(name)
        if (
            not name
            or len(name) > _NAME_MAX
            or len(name.split()) > _NAME_WORDS
            or _NOT_A_NAME.search(name)
            or not folded
            or any(_same_site(folded, site) for site in rejected)
            or name.casefold() in chrome
        ):
            continue
        kept.setdefault(folded, name)
    return list(kept.values())


def _publisher_credit(draft: Draft, groups: list[tuple[str, list[str]]]) -> str | None:
    """The publisher itself, when its structured data credits it as the author and no
    source names a person or a desk (ORF.at's, Les Echos' and 中日新聞Web's desk copy).

    A site name is refused as a name so that chrome never beats the real author; here
    nothing else is there, and the publisher's own author field is the page's credit.
    """
    if not draft.page:
        return None
    sites = {_fold_name(s) for s in draft.page.publishers}
    credits = (n for source, names in groups if source in _STRUCTURED for n in names)
    return next((clean_inline(n) for n in credits if _fold_name(n) in sites - {""}), None)


def _same_site(folded: str, site: str) -> bool:
    """ "VnExpress" is the site "Báo VnExpress" and "vnexpress.net"; "Tom" is not "tomsguide"."""
    return folded == site or len(folded) >= 4 and (site.startswith(folded) or site.endswith(folded))


def _ends_with_joiner(text: str) -> bool:
    words = text.split()
    return bool(words) and bool(_NAME_SPLIT.fullmatch(f" {words[-1]} "))


def _fold_name(name: str) -> str:
    return "".join(c for c in name.casefold() if c.isalnum())


def parse_byline(profile: Profile, line: str) -> tuple[str, list[str], str | None] | None:
    """ "By ZEKE MILLER and JOSH BOAK, Associated Press" -> ("Zeke Miller and Josh Boak", names, title)."""
    for pattern in profile.byline_patterns:
        match = pattern.match(line)
        if match and match.end() == len(line):
            return _names(profile, _BYLINE_TAIL.split(match["by"], maxsplit=1)[0])
    return None


def _names(profile: Profile, raw: str) -> tuple[str, list[str], str | None] | None:
    raw = raw.strip(_TITLE_EDGE)
    title = None
    while raw:
        found = _title(profile, raw)
        if not found or found == raw or _ends_with_joiner(raw[: -len(found)]):
            break  # "… et AFP": an agency after "and" is a co-author, not a title
        title = found if title is None else f"{found}, {title}"
        raw = raw[: -len(found)].rstrip(_TITLE_EDGE)
    names = [n for n in _NAME_SPLIT.split(raw) if n]
    if not names or not all(_is_name(n) for n in names):
        return None
    # the byline as the page shows it ("Jeanne Roux et Paul Martin"), names recased
    shown = _NAME_SPLIT.sub(lambda m: f"\0{m.group(0)}\0", raw).split("\0")
    by = "".join(part if index % 2 else _recase(part) for index, part in enumerate(shown))
    return by, [_recase(n) for n in names], title


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
    """The headline the page declares (JSON-LD `headline`, `og:title`); without one,
    the one most of the page's other sources agree on (twitter:, <title>, <h1>), on a
    tie the first. Structured data outranks free text, as for bylines: a visible <h1>
    is often a shorter display wording of the declared headline. The publisher's
    characters are kept: only a site-name suffix or prefix goes."""
    page = draft.page
    assert page is not None  # called for pages only
    sites = {_fold_name(s) for s in (*draft.profile.site_names, *page.publishers) if s}
    declared = [h for h in (_without_site(c, sites) for c in page.declared_headlines) if h]
    if declared:
        return _declared_headline(declared, _without_site(page.title, sites) if page.title else None)
    candidates = [_without_site(c, sites) for c in page.headlines]
    if not candidates:
        first = draft.blocks[0] if draft.blocks else None
        return first.text if first and first.tag.startswith("h") else draft.story.headline
    folded = [_folded(c) for c in candidates]
    best = max(range(len(candidates)), key=lambda i: (sum(_support(f, folded[i]) for f in folded), -i))
    return candidates[best]


def _declared_headline(declared: list[str], title: str | None) -> str:
    """JSON-LD's headline and og:title, when the page gives both and they differ.

    og:title is built like a <title>: it may dress the headline with a kicker, a
    section or the site ("Topic: Headline | Section - Site"); then the JSON-LD
    headline it holds is the headline. Two different wordings are the article's
    headline and an alternative (a social-card teaser, or a display wording the
    CMS copied into JSON-LD): the one the document's <title> repeats is the one the
    publisher titles the page with, so two of its three declarations agree on it.
    """
    if len(declared) == 1:
        return declared[0]
    json_ld, og_title = declared
    if _support(_folded(og_title), _folded(json_ld)):
        return json_ld
    if title:
        folded = _folded(title)
        if _support(folded, _folded(og_title)) > _support(folded, _folded(json_ld)):
            return og_title
    return json_ld


def _folded(headline: str) -> str:
    return " ".join(headline.casefold().split())


def _support(other: str, mine: str) -> float:
    """1 when `other` is `mine`; half when it holds it as one separated part ("Kicker | mine - Site")."""
    if other == mine:
        return 1.0
    start = other.find(mine)
    if start < 0:
        return 0.0
    before, after = other[:start].rstrip(), other[start + len(mine) :].lstrip()
    part = (not before or before[-1] in _PART_SEPARATORS) and (not after or after[0] in _PART_SEPARATORS)
    return 0.5 if part else 0.0


def _without_site(title: str, sites: set[str]) -> str:
    """ "Headline | Site" / "Site - Headline" -> "Headline", cut where the separator stands."""
    separators = list(_SITE_SEPARATORS.finditer(title))
    if separators and _fold_name(title[separators[-1].end() :]) in sites:
        return title[: separators[-1].start()]
    if separators and _fold_name(title[: separators[0].start()]) in sites:
        return title[separators[0].end() :]
    return title


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
    # a page's standfirst is part of the article as published; wire copy's goes to the summary
    lines = draft.lead or 0
    if draft.entry.kind == "page-html":
        standfirst = [b.text for b in draft.blocks[:lines]]
    else:
        standfirst = [draft.remove(0).text for _ in range(lines)]
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
