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


def decide(
    lookup_keys: list[str], text_hash: str, existing: Existing | None, item_version: int | None = None
) -> Intent:
    """A text any version already had is no change: a feed flipping between two
    copies (a stale cache, two outlets with one link) must not make versions. Nor is
    a wire item older than one stored (its own `version` lower): a late, superseded
    copy must not overwrite the newer one."""
    if existing is None:
        return Intent("created", story_id_for(lookup_keys[0]), 1)
    superseded = (
        item_version is not None
        and existing.item_version is not None
        and item_version < existing.item_version
    )
    if existing.purged or text_hash in existing.seen or superseded:
        return Intent("unchanged", existing.story_id, existing.version)
    return Intent("updated", existing.story_id, existing.version + 1)
