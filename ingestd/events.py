"""The event: what `replay` prints and a webhook POST carries (DESIGN.md "The event")."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from . import ninjs
from .models import Story
from .timeutil import to_iso


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
    doc = dict(story.ninjs)
    if "firstCreated" not in doc:
        doc["firstCreated"] = first_created or to_iso(now)
    document = ninjs.finalize(doc, uri=f"urn:ingestd:story:{story_id}", version=version, version_created=now)
    ingest = {
        "feed": story.feed_id,
        "source": story.source,
        "url": url or story.url,
        "version": version,
        "cluster": cluster or story_id,
        "first_of_cluster": first_of_cluster,
        **story.ingest,
    }
    return {
        "type": f"story.{kind}",
        "id": event_id(story_id, version),
        "timestamp": to_iso(now),
        "data": {"story": document, "ingest": ingest},
    }
