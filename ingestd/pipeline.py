"""parse -> normalize for one input: the CPU-bound part of a poll, with no I/O.

The daemon runs these in its worker pool (off the event loop), in two steps so
that it can ask the store in between which entries it has already stored
unchanged (`Parsed.entry_keys`): those are not normalized again. Replay calls
`process`, both steps at once. One entry that cannot be normalized is reported
and skipped; the others go on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import normalize
from .errors import DropStory, ParseError
from .models import Entry, ParsedDocument, Story
from .parse import decode_text, parse


@dataclass
class Parsed:
    """One input's entries, as many as a poll takes, each with its entry key."""

    document: ParsedDocument | None
    entries: list[Entry] = field(default_factory=list)
    # "entry:<feed>:<digest of guid and raw content>" when the entry's guid is its own
    # within the document; None: never skipped
    entry_keys: list[str | None] = field(default_factory=list)
    cut: int = 0  # entries left out by max_entries
    error: str | None = None  # the input as a whole could not be read


@dataclass
class Processed:
    """What one input yielded."""

    document: ParsedDocument | None
    stories: list[Story] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)  # the entry each story came from
    entry_keys: list[str | None] = field(default_factory=list)  # each story's entry's key
    dropped: list[str] = field(default_factory=list)  # one reason per entry left out
    error: str | None = None  # the input as a whole could not be read
    cut: int = 0  # entries left out by max_entries
    known: int = 0  # entries skipped: stored before with the same raw content
    # their publish times, as the input gave them: the schedule still sees every entry
    known_published: list[datetime] = field(default_factory=list)


def bounded(entries: list[Entry], limit: int) -> list[Entry]:
    """At most `limit` entries (0: all): the newest by published time when every entry
    has one, else the first in document order. Document order is kept."""
    if not limit or len(entries) <= limit:
        return entries
    stamped = [(e.published, i) for i, e in enumerate(entries) if e.published is not None]
    if len(stamped) < len(entries):
        return entries[:limit]
    return [entries[i] for i in sorted(i for _, i in sorted(stamped, reverse=True)[:limit])]


def entry_key(feed_id: str, entry: Entry) -> str:
    """The entry as the input gave it, before any normalization: same key, same story."""
    raw = json.dumps(
        [
            entry.kind,
            entry.guid,
            entry.link,
            entry.title,
            entry.summary_html,
            entry.content_html,
            entry.page,
            entry.authors,
            entry.published_raw,
            entry.updated.isoformat() if entry.updated else None,
            entry.tags,
            entry.enclosures,
            entry.language,
        ],
        ensure_ascii=False,
        default=str,
    )
    return f"entry:{feed_id}:{hashlib.sha256(raw.encode()).hexdigest()[:32]}"


def parse_input(
    body: bytes,
    *,
    feed_id: str,
    url: str | None = None,
    content_type: str | None = None,
    allow_pages: bool = False,
    max_entries: int = 0,
) -> Parsed:
    try:
        document = parse(body, url=url, content_type=content_type, allow_pages=allow_pages)
    except ParseError as exc:
        return Parsed(document=None, error=str(exc))
    for entry in document.entries:
        if entry.language is None and document.language:
            entry.language = document.language
    entries = bounded(document.entries, max_entries)
    # a guid the document repeats is evidence for the identity policy: never skipped
    guids = Counter(e.guid for e in entries if e.guid)
    keys = [entry_key(feed_id, e) if e.guid and guids[e.guid] == 1 else None for e in entries]
    return Parsed(document, entries, keys, cut=len(document.entries) - len(entries))


def normalize_parsed(
    parsed: Parsed,
    *,
    feed_id: str,
    source: str | None,
    now: datetime,
    profiles: Any,
    known: frozenset[str] = frozenset(),
) -> Processed:
    """Each entry's story, but for those whose entry key is `known` (stored already)."""
    result = Processed(document=parsed.document, error=parsed.error, cut=parsed.cut)
    if parsed.document is not None:  # items a format recognises and leaves out (wire packages)
        result.dropped.extend(parsed.document.skipped)
    for index, (entry, key) in enumerate(zip(parsed.entries, parsed.entry_keys)):
        if key is not None and key in known:
            result.known += 1
            if entry.published is not None:
                result.known_published.append(entry.published)
            continue
        try:
            result.stories.append(
                normalize.normalize_entry(entry, feed_id=feed_id, source=source, now=now, profiles=profiles)
            )
            result.entries.append(entry)
            result.entry_keys.append(key)
        except DropStory as exc:
            result.dropped.append(f"entry {index}: {exc}")
        except Exception as exc:  # a normalizer bug must cost one entry, not the feed
            result.dropped.append(f"entry {index}: {type(exc).__name__}: {exc}")
    return result


def process(
    body: bytes,
    *,
    feed_id: str,
    source: str | None,
    now: datetime,
    profiles: Any,
    url: str | None = None,
    content_type: str | None = None,
    allow_pages: bool = False,
    max_entries: int = 0,
) -> Processed:
    parsed = parse_input(
        body,
        feed_id=feed_id,
        url=url,
        content_type=content_type,
        allow_pages=allow_pages,
        max_entries=max_entries,
    )
    return normalize_parsed(parsed, feed_id=feed_id, source=source, now=now, profiles=profiles)


def process_article(
    entry: Entry,
    body: bytes,
    *,
    content_type: str | None,
    feed_id: str,
    source: str | None,
    now: datetime,
    profiles: Any,
) -> Story:
    """A feed entry's own page, normalized instead of the feed's summary. The entry's
    guid, link and date stay: they are what identifies the story."""
    page = dataclasses.replace(entry, kind="page-html", page=decode_text(body, content_type))
    return normalize.normalize_entry(page, feed_id=feed_id, source=source, now=now, profiles=profiles)
