"""What to do with a story whose identity was looked up: create, new version, or nothing."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..models import Existing
from ._keys import story_id_for

__all__ = ["Existing", "Intent", "decide"]


@dataclass(frozen=True)
class Intent:
    kind: Literal["created", "updated", "unchanged"]
    story_id: str
    version: int


def decide(lookup_keys: list[str], text_hash: str, existing: Existing | None) -> Intent:
    """A text any version already had is no change: a feed flipping between two
    copies (a stale cache, two outlets with one link) must not make versions."""
    if existing is None:
        return Intent("created", story_id_for(lookup_keys[0]), 1)
    if existing.purged or text_hash in existing.seen:
        return Intent("unchanged", existing.story_id, existing.version)
    return Intent("updated", existing.story_id, existing.version + 1)
