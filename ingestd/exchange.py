"""Stories moved between instances as events: `ingestd stories export` writes the
subscriber shape (DESIGN.md "The event"), one a line; `stories import` turns each line
back into the store intents of that story version, with the same ids and versions.

`import_intents` is the decision, pure: what one event writes, given the version the
receiving store holds of its story (an event at or below it writes nothing, so
importing a file twice is importing it once). Imported events are not owed to the
receiving instance's subscribers: `webhooks redeliver --since` sends them on purpose.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

import nh3

from . import dedupe
from .models import EventWrite, Intent, KeysWrite, Story, StoryWrite

_URI = "urn:ingestd:story:"
_KINDS = {"story.created", "story.updated"}


class BadEvent(ValueError):
    """A line that is not a story event this daemon could have written."""


def feed_of(event: dict[str, Any]) -> str | None:
    """The feed an event's story came from (for `export --feed`)."""
    ingest = event.get("data", {}).get("ingest", {})
    feed = ingest.get("feed") if isinstance(ingest, dict) else None
    return feed if isinstance(feed, str) else None


def parse_line(line: str) -> dict[str, Any]:
    try:
        event = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadEvent(f"not JSON: {exc}") from exc
    if not isinstance(event, dict):
        raise BadEvent("not a JSON object")
    return event


def story_id_of(event: dict[str, Any]) -> str:
    """The id of the story an event carries. BadEvent: not a story event."""
    if event.get("type") not in _KINDS:
        raise BadEvent(f"type {event.get('type')!r}: only story.created and story.updated are imported")
    data = event.get("data")
    story = data.get("story") if isinstance(data, dict) else None
    ingest = data.get("ingest") if isinstance(data, dict) else None
    if not isinstance(story, dict) or not isinstance(ingest, dict):
        raise BadEvent("data.story and data.ingest must be objects")
    uri = story.get("uri")
    if not isinstance(uri, str) or not uri.startswith(_URI):
        raise BadEvent(f"data.story.uri {uri!r} is not an ingestd story URI ({_URI}…)")
    return uri.removeprefix(_URI)


def import_intents(event: dict[str, Any], stored_version: int | None) -> list[Intent]:
    """The intents that store `event`'s story version; [] when the store has it (or a
    later one) already. BadEvent names what is missing or wrong."""
    story_id = story_id_of(event)
    story, ingest = event["data"]["story"], event["data"]["ingest"]
    version = _version(story, ingest)
    if stored_version is not None and stored_version >= version:
        return []
    for key in ("id", "timestamp"):
        if not isinstance(event.get(key), str):
            raise BadEvent(f"{key}: missing")
    feed_id, source = ingest.get("feed"), ingest.get("source")
    if not isinstance(feed_id, str) or not isinstance(source, str):
        raise BadEvent("data.ingest.feed and data.ingest.source must be strings")
    written_at = story.get("versionCreated")
    if not isinstance(written_at, str):
        raise BadEvent("data.story.versionCreated: missing")
    try:
        text = Story(feed_id=feed_id, source=source, headline=_headline(story), body_text=_body(story))
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise BadEvent(f"data.story: headlines or bodies malformed ({exc!r})") from None
    content_hash = dedupe.content_hash(text)
    url = ingest.get("url") if isinstance(ingest.get("url"), str) else None
    first_created = story.get("firstCreated")
    kind: Literal["created", "updated"] = "created" if stored_version is None else "updated"
    at = first_created if isinstance(first_created, str) else written_at
    return [
        StoryWrite(
            kind=kind,
            story_id=story_id,
            feed_id=feed_id,
            source=source,
            version=version,
            content_hash=content_hash,
            url=url,
            guid=None,  # the event does not carry it: the receiving store knows the story by URL and text
            headline=text.headline,
            byline=_string(story.get("by")),
            located=_string(story.get("located")),
            section=next((s["name"] for s in story.get("subjects", []) if s.get("rel") == "section"), None),
            language=_string(story.get("language")),
            first_created=first_created if isinstance(first_created, str) else None,
            written_at=written_at,
            body_text=text.body_text,
            ninjs=_dumps(story),
            ingest=_dumps(ingest),
            cluster=_string(ingest.get("cluster")) or story_id,
            first_of_cluster=ingest.get("first_of_cluster") is not False,
            at=_epoch(at),
        ),
        KeysWrite(
            story_id, tuple(k for k in (f"url:{url}" if url else None, f"content:{content_hash}") if k)
        ),
        EventWrite(event["id"], event["type"], story_id, version, event["timestamp"]),
    ]


def _epoch(moment: str) -> int:
    try:
        return int(datetime.fromisoformat(moment).timestamp())
    except ValueError:
        raise BadEvent(f"data.story: {moment!r} is not an ISO 8601 time") from None


def _version(story: dict[str, Any], ingest: dict[str, Any]) -> int:
    try:
        version = int(story.get("version", ""))
    except (TypeError, ValueError):
        raise BadEvent(f"data.story.version {story.get('version')!r} is not a number") from None
    if ingest.get("version") != version:
        raise BadEvent(f"data.ingest.version {ingest.get('version')!r} differs from the story's {version}")
    return version


def _headline(story: dict[str, Any]) -> str:
    headlines = story.get("headlines", [])
    return next(
        (h["value"] for h in headlines if h.get("role") == "main"), headlines[0]["value"] if headlines else ""
    )


def _body(story: dict[str, Any]) -> str:
    bodies = story.get("bodies", [])
    body = next((b for b in bodies if b.get("role") == "main"), bodies[0] if bodies else None)
    if body is None:
        return ""
    value = str(body.get("value", ""))
    return value if body.get("contentType") == "text/plain" else nh3.clean(value, tags=set())


def _string(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
