"""Both XML readers over one document, compared entry by entry after normalization."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

from ingestd import normalize
from ingestd.errors import DropStory
from ingestd.models import Entry, ParsedDocument
from ingestd.parse import _lxml, parse

NOW = datetime(2026, 1, 1, tzinfo=UTC)
URL = "http://feeds.example.org/feed.xml"


def normalized(entry: Entry, document: ParsedDocument, profiles: Any) -> dict[str, Any]:
    """Every field of the story the entry becomes (the pipeline's own feed-language rule applied)."""
    if entry.language is None and document.language:
        entry = dataclasses.replace(entry, language=document.language)
    try:
        story = normalize.normalize_entry(entry, feed_id="f", source=None, now=NOW, profiles=profiles)
    except DropStory as exc:
        return {"dropped": str(exc)}
    fields = dataclasses.asdict(story)
    fields["body_html"] = same_markup(story.body_html)
    fields["ninjs"] = _markup_in(story.ninjs)
    return fields


def compare(
    body: bytes, profiles: Any, url: str = URL
) -> list[tuple[int, dict[str, tuple[Any, Any]]]] | None:
    """None when the fast path hands the document to feedparser; else, per entry, the
    fields that differ ({} when all agree). A different entry count is one entry, -1."""
    try:
        fast = _lxml.read(body, url, None)
    except _lxml.Unsupported:
        return None
    reference = parse(body, url=url, fast=False)
    if len(fast.entries) != len(reference.entries):
        return [(-1, {"entries": (len(fast.entries), len(reference.entries))})]
    out = []
    for index, (a, b) in enumerate(zip(fast.entries, reference.entries, strict=True)):
        x, y = normalized(a, fast, profiles), normalized(b, reference, profiles)
        out.append((index, {k: (x.get(k), y.get(k)) for k in x.keys() | y.keys() if x.get(k) != y.get(k)}))
    return out


def same_markup(html: str) -> str:
    """The HTML with each element's attributes in one order: feedparser's URI resolver
    rewrites tags and moves `href` first, which changes no meaning."""
    return re.sub(r"<(\w+)((?:\s+[\w:-]+=\"[^\"]*\")+)\s*(/?)>", _sorted_attributes, html)


def _sorted_attributes(match: re.Match[str]) -> str:
    attributes = sorted(re.findall(r"[\w:-]+=\"[^\"]*\"", match.group(2)))
    return f"<{match.group(1)} {' '.join(attributes)}{match.group(3)}>"


def _markup_in(value: Any) -> Any:
    if isinstance(value, str):
        return same_markup(value)
    if isinstance(value, dict):
        return {k: _markup_in(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_markup_in(v) for v in value]
    return value
