"""parse -> normalize for one input: the CPU-bound part of a poll, with no I/O.

The daemon runs `process` in its worker pool (off the event loop); replay
calls it directly. One entry that cannot be normalized is reported and
skipped; the others go on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import normalize
from .errors import DropStory, ParseError
from .models import Entry, ParsedDocument, Story
from .parse import decode_text, parse


@dataclass
class Processed:
    """What one input yielded."""

    document: ParsedDocument | None
    stories: list[Story] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)  # the entry each story came from
    dropped: list[str] = field(default_factory=list)  # one reason per entry left out
    error: str | None = None  # the input as a whole could not be read


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
) -> Processed:
    try:
        document = parse(body, url=url, content_type=content_type, allow_pages=allow_pages)
    except ParseError as exc:
        return Processed(document=None, error=str(exc))
    result = Processed(document=document)
    result.dropped.extend(document.skipped)  # items a format recognises and leaves out (wire packages)
    for index, entry in enumerate(document.entries):
        if entry.language is None and document.language:
            entry.language = document.language
        try:
            result.stories.append(
                normalize.normalize_entry(entry, feed_id=feed_id, source=source, now=now, profiles=profiles)
            )
            result.entries.append(entry)
        except DropStory as exc:
            result.dropped.append(f"entry {index}: {exc}")
        except Exception as exc:  # a normalizer bug must cost one entry, not the feed
            result.dropped.append(f"entry {index}: {type(exc).__name__}: {exc}")
    return result


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
