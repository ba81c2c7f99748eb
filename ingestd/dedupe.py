"""Which stored story an incoming story is, and what to do about it — decisions only.

Identity keys, in policy order: the feed's guid (scoped to the feed: guids
like "1" are not global), the link, and the text's fingerprint (so the same
story through another feed is stored once). A guid or link repeated within
one document identifies nothing and is left out. The store looks the keys up
and applies the returned intent; nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from typing import Iterator, Literal
from urllib.parse import urlsplit, urlunsplit

from .models import Story

_SPACE = re.compile(r"\s+")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Existing:
    story_id: str
    version: int
    content_hash: str
    first_created: str | None


@dataclass(frozen=True)
class Intent:
    kind: Literal["created", "updated", "unchanged"]
    story_id: str
    version: int


def keyed(stories: list[Story]) -> Iterator[tuple[Story, list[str]]]:
    """Each story with its identity keys, leaving out guids and links the batch repeats."""
    guids = Counter(s.guid for s in stories if s.guid)
    links = Counter(canonical_url(s.url) for s in stories if s.url)
    for story in stories:
        keys = []
        if story.guid and guids[story.guid] == 1:
            keys.append(f"guid:{story.feed_id}:{story.guid}")
        url = canonical_url(story.url) if story.url else None
        if url and links[url] == 1:
            keys.append(f"url:{url}")
        if story.body_text.strip() or not keys:
            keys.append(f"content:{content_hash(story)}")
        yield story, keys


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, default port and fragment dropped."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url.strip()
    netloc = host if port in (None, _DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def content_hash(story: Story) -> str:
    """What makes a version: headline and body after normalization, white space folded."""
    text = _SPACE.sub(" ", story.headline).strip() + "\n" + _SPACE.sub(" ", story.body_text).strip()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def story_id_for(first_key: str) -> str:
    return "st_" + hashlib.sha256(first_key.encode("utf-8")).hexdigest()[:20]


def decide(keys: list[str], new_hash: str, existing: Existing | None) -> Intent:
    if existing is None:
        return Intent("created", story_id_for(keys[0]), 1)
    if existing.content_hash == new_hash:
        return Intent("unchanged", existing.story_id, existing.version)
    return Intent("updated", existing.story_id, existing.version + 1)
