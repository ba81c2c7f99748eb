"""Which events a subscription wants: pure, read from the event itself.

Every filter key given must match (AND); within a key, any value (OR):

    sources           data.ingest.source, case-insensitive
    sections          a ninjs subject with rel "section", case-insensitive
    languages         the ninjs language; "en" also matches "en-GB"
    keywords          whole words (or phrases) in the main headline or the
                      plain-text body, case-insensitive
    first_of_cluster  data.ingest.first_of_cluster is this value

The event is what the receiver gets, so the same function decides when a
story is stored and when events are redelivered later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

from ..models import SubscriptionFilter


def wants(events: Sequence[str], story_filter: SubscriptionFilter, event: dict[str, Any]) -> bool:
    """The subscription takes this event: its type is subscribed and the filter matches."""
    return event["type"] in events and matches(story_filter, event)


def matches(story_filter: SubscriptionFilter, event: dict[str, Any]) -> bool:
    story = event["data"]["story"]
    ingest = event["data"]["ingest"]
    if story_filter.sources and not _any_equal(story_filter.sources, [ingest.get("source")]):
        return False
    if story_filter.sections and not _any_equal(story_filter.sections, _sections(story)):
        return False
    if story_filter.languages and not _language_matches(story_filter.languages, story.get("language")):
        return False
    if (
        story_filter.first_of_cluster is not None
        and bool(ingest.get("first_of_cluster")) != story_filter.first_of_cluster
    ):
        return False
    pattern = _keywords(tuple(story_filter.keywords))
    return pattern is None or bool(pattern.search(f"{_headline(story)}\n{_plain_body(story)}"))


def _any_equal(wanted: Iterable[str], values: Iterable[str | None]) -> bool:
    have = {v.casefold() for v in values if v}
    return any(w.casefold() in have for w in wanted)


def _language_matches(wanted: Iterable[str], language: str | None) -> bool:
    if not language:
        return False
    language = language.casefold()
    return any(language == w.casefold() or language.startswith(w.casefold() + "-") for w in wanted)


def _sections(story: dict[str, Any]) -> list[str]:
    return [s.get("name") for s in story.get("subjects", []) if s.get("rel") == "section"]


def _headline(story: dict[str, Any]) -> str:
    return next((h.get("value", "") for h in story.get("headlines", []) if h.get("role") == "main"), "")


def _plain_body(story: dict[str, Any]) -> str:
    return "\n".join(
        b.get("value", "") for b in story.get("bodies", []) if b.get("contentType") == "text/plain"
    )


@lru_cache(maxsize=256)
def _keywords(keywords: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern for all keywords; a phrase's spaces match any whitespace.
    None when no keyword has a word in it (blank ones are ignored)."""
    words = [r"\s+".join(map(re.escape, k.split())) for k in keywords if k.strip()]
    if not words:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + r")(?!\w)", re.IGNORECASE)
