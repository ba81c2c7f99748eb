"""The library API: ingestd's pipeline on bytes you hold, with no daemon, store or network.

    import ingestd
    documents = ingestd.normalize(body, url="https://example.org/feed.xml")
    events = ingestd.build_events(body, source="yonhap")

`read` is the one step from bytes to stories; `replay` calls it too (the daemon's polls
run the same `pipeline` in two halves), so a document from here is the one they would store (as a first version: its
`uri` is the id a fresh store gives the story; a store that knew the story already
would give a later version).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from . import compose, dedupe
from .errors import ParseError
from .events import build_event
from .normalize import Profiles, load_profiles
from .pipeline import Processed, process
from .timeutil import utcnow

__all__ = ["build_event", "build_events", "normalize", "read"]


@cache
def _builtin_profiles() -> Profiles:
    return load_profiles(None)


def read(
    data: bytes,
    *,
    feed_id: str,
    source: str | None = None,
    url: str | None = None,
    content_type: str | None = None,
    now: datetime,
    profiles: Profiles | None = None,
) -> Processed:
    """One input (a feed, a page, a wire file) parsed and normalized into stories, with
    the built-in source profiles unless `profiles` (a config's sources_dir) are given."""
    return process(
        data,
        feed_id=feed_id,
        source=source,
        now=now,
        profiles=profiles if profiles is not None else _builtin_profiles(),
        url=url,
        content_type=content_type,
        allow_pages=True,
    )


def build_events(
    data: bytes,
    *,
    source: str | None = None,
    url: str | None = None,
    content_type: str | None = None,
    now: datetime | None = None,
    feed_id: str | None = None,
) -> list[dict[str, Any]]:
    """The `story.created` events (DESIGN.md "The event") a fresh store would emit for
    `data`, in document order; a story whose document is not valid ninjs is left out, as
    the store leaves it out. ParseError: the input as a whole could not be read."""
    when = now or utcnow()
    feed = feed_id or source or "library"
    result = read(data, feed_id=feed, source=source, url=url, content_type=content_type, now=when)
    if result.error:
        raise ParseError(result.error)
    events = []
    for item in compose.prepare(result.stories, dedupe.DEFAULT_SETTINGS, when):
        if item.problems:  # the store would not keep it either
            continue
        story_id = dedupe.story_id_for(item.identity.lookup("guid")[0])
        events.append(build_event("created", story_id, 1, item.story, when, url=item.url))
    return events


def normalize(
    data: bytes,
    *,
    source: str | None = None,
    url: str | None = None,
    content_type: str | None = None,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """The IPTC ninjs 3.0 documents in `data` (RSS, Atom, JSON Feed, NewsML-G2, a news
    page or a wire file), schema-valid, in document order. `source` names a site
    profile (default: guessed from the input); `url` is where the input came from
    (resolves relative links, guesses the source); `now` stands for the time the input
    was fetched (default: the current time). ParseError: the input could not be read."""
    events = build_events(data, source=source, url=url, content_type=content_type, now=now)
    return [event["data"]["story"] for event in events]
