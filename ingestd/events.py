"""The event: what `replay` prints and a webhook POST carries (DESIGN.md "The event")."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from . import ninjs
from .models import Story
from .timeutil import to_iso

# the members `Draft.event` fills in, as `draft` places them: only their places are kept
_UNPLACED = dict.fromkeys(ninjs.IDENTITY, "")


def event_id(story_id: str, version: int) -> str:
    """One id per story version: the same on every retry and redelivery."""
    digest = hashlib.sha256(f"{story_id}:{version}".encode()).hexdigest()[:24]
    return f"evt_{digest}"


def build_event(
    kind: str,
    story_id: str,
    version: int,
    story: Story,
    now: datetime,
    *,
    first_created: str | None = None,
    url: str | None = None,
    cluster: str | None = None,
    first_of_cluster: bool = True,
) -> dict[str, Any]:
    """`first_created`: the stored first version's, for a story whose input gives no date;
    `url`: the canonical URL (default: the story's own); `cluster`: the id of the cluster's
    first story (default: a cluster of its own)."""
    return draft(story, url).event(
        kind,
        story_id,
        version,
        now,
        first_created=first_created,
        cluster=cluster,
        first_of_cluster=first_of_cluster,
    )


@dataclass(frozen=True)
class Draft:
    """A story's event before the store has placed it: every member of its document and
    ingest block in its final place, the ones the writer decides (id, version, cluster, the
    write's time) still to fill in. Made off the writer (compose.prepare), so an event
    there costs a copy and a few assignments, not a key sort and time formatting."""

    document: dict[str, Any]
    ingest: dict[str, Any]
    filled: tuple[str, ...]  # the document's members `event` sets
    placed: tuple[str, ...]  # the ingest block's members `event` sets (the story's own win)

    def event(
        self,
        kind: str,
        story_id: str,
        version: int,
        now: datetime,
        *,
        first_created: str | None = None,
        cluster: str | None = None,
        first_of_cluster: bool = True,
    ) -> dict[str, Any]:
        ingest = self.ingest.copy()
        placing = {"version": version, "cluster": cluster or story_id, "first_of_cluster": first_of_cluster}
        for key in self.placed:
            ingest[key] = placing[key]
        return {
            "type": f"story.{kind}",
            "id": event_id(story_id, version),
            "timestamp": _stamps(now)[1],
            "data": {"story": self.story(story_id, version, now, first_created), "ingest": ingest},
        }

    def story(
        self, story_id: str, version: int, now: datetime, first_created: str | None = None
    ) -> dict[str, Any]:
        """The event's story document alone (what the outbox door checks)."""
        created, stamp = _stamps(now)
        document = self.document.copy()  # same keys: the order stays the finalized one
        document["uri"] = f"urn:ingestd:story:{story_id}"
        document["version"] = str(version)
        document["versionCreated"] = created
        if "firstCreated" in self.filled:
            document["firstCreated"] = first_created or stamp
        return document


def draft(story: Story, url: str | None = None) -> Draft:
    """`url`: the canonical URL (default: the story's own)."""
    doc = dict(story.ninjs)
    dated = "firstCreated" in doc
    if not dated:  # the stored first version's date, or the write's time: its place only
        doc["firstCreated"] = ""
    document = ninjs.ordered(doc | _UNPLACED)  # as `ninjs.finalize` orders it, without its values
    ingest = {
        "feed": story.feed_id,
        "source": story.source,
        "url": url or story.url,
        "version": 0,
        "cluster": "",
        "first_of_cluster": True,
        **story.ingest,
    }
    filled = ninjs.IDENTITY if dated else (*ninjs.IDENTITY, "firstCreated")
    placed = tuple(key for key in ("version", "cluster", "first_of_cluster") if key not in story.ingest)
    return Draft(document, ingest, filled, placed)


@lru_cache(maxsize=8)
def _stamps(now: datetime) -> tuple[str, str | None]:
    """`now` as versionCreated and as the event's timestamp: a batch's stories share it."""
    return ninjs.utc_z(now), to_iso(now)
