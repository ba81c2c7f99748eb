"""The write of a poll: read what the decisions need, decide, hand the store intents.

The store answers small queries and applies plain intents (`StoryWrite`,
`EventWrite`, `DeliveryWrite`, `FeedUpdate`, …, in ingestd.models); every
decision is made here, by calling the pure ones in `dedupe` (identity,
versions, clusters) and `webhooks` (which subscriptions want an event). Any
engine that implements the port (docs/storage.md) gets the same decisions.

    prepare(stories)        CPU only, off the writer: canonical URLs, fingerprints, each
                            story's event drafted and its JSON dumped but for what the
                            writer decides (events.Draft, _Form)
    write_batch(store, …)   in one transaction: the batch's stored keys in one look-up;
                            per story, look up (if one of its keys is stored), decide,
                            apply; the poll's history row and the feed's state with the
                            last batch (an etag never commits ahead of its stories)

A batch's stories are applied one after another inside its transaction, so the
second of two copies in one document finds the first; their outbox rows (events,
deliveries), which no decision reads, are applied together at the batch's end.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from . import dedupe, ninjs
from .events import Draft, draft
from .logs import get_logger
from .models import (
    DeliveryWrite,
    EventWrite,
    Existing,
    FeedUpdate,
    Intent,
    KeysWrite,
    LiveSubscription,
    Policy,
    PolicyWrite,
    PollWrite,
    StoredChange,
    StoredSignature,
    Story,
    StoryWrite,
)
from .timeutil import from_iso
from .webhooks import wants

__all__ = [
    "Prepared",
    "apply_alone",
    "iso",
    "StoryPort",
    "prepare",
    "rebuild_signatures",
    "redeliver",
    "save_poll",
    "save_stories",
    "write_batch",
]

# stories re-fingerprinted per transaction when the fingerprint changes
REBUILD_BATCH = 500
_FINGERPRINT_KEY = "fingerprint.version"


class StoryPort(Protocol):
    """What the composer needs of a store (docs/storage.md): queries and `apply`."""

    def transaction(self) -> AbstractContextManager[None]: ...
    def apply(self, intents: Sequence[Intent]) -> list[str]: ...
    def identity_policy(self, feed_id: str) -> Policy | None: ...
    def holder_of_text(
        self, keys: list[str], feed_id: str, text_hash: str
    ) -> tuple[str | None, frozenset[str]]: ...
    def known_keys(self, keys: list[str]) -> frozenset[str]: ...
    def find_story(self, keys: list[str]) -> Existing | None: ...
    def cluster_candidates(
        self, bands: tuple[int, ...], at: int, window: float, limit: int
    ) -> list[StoredSignature]: ...
    def story_cluster(self, story_id: str) -> tuple[str, bool, int | None]: ...
    def live_subscriptions(self) -> list[LiveSubscription]: ...


@dataclass(frozen=True)
class Prepared:
    """A story with what deciding about it costs CPU: done before the writer sees it."""

    story: Story
    identity: dedupe.Identity  # judged within the batch
    fingerprint: dedupe.Fingerprint | None
    url: str | None  # canonical
    problems: tuple[str, ...]  # why its document may not enter the outbox (outbox_door)
    entry_key: str | None  # the raw entry's key (pipeline.entry_key), stored with the story
    signature: tuple[bytes, str]  # dedupe.encode(fingerprint): what the store keeps (b"", "[]": none)
    draft: Draft  # its event but for what the writer decides
    # the draft's document and ingest block as JSON but for the members the writer fills in
    forms: tuple[_Form, _Form]


def prepare(
    stories: list[Story], settings: dedupe.Settings, now: datetime, entry_keys: Sequence[str | None] = ()
) -> list[Prepared]:
    """Everything about a batch that costs CPU and reads nothing stored. The document is
    checked here, with the story's id and version still unknown: those, and the times
    added with them, have one fixed form."""
    keys = list(entry_keys) or [None] * len(stories)
    urls = [dedupe.canonical_url(s.url, settings.tracking_params) if s.url else None for s in stories]
    identities = dedupe.identify(stories, settings.tracking_params, urls)
    found = [dedupe.fingerprint(story.headline, story.body_text) for story in stories]
    drafts = [draft(story, url) for story, url in zip(stories, urls)]
    return [
        Prepared(
            story,
            ident,
            fingerprint,
            url,
            tuple(outbox_door(drafted.story("st_0", 1, now))),
            key,
            dedupe.encode(fingerprint) if fingerprint else (b"", "[]"),
            drafted,
            (_form(drafted.document, drafted.filled), _form(drafted.ingest, drafted.placed)),
        )
        for story, ident, url, key, fingerprint, drafted in zip(
            stories, identities, urls, keys, found, drafts
        )
    ]


def save_stories(
    store: StoryPort,
    stories: list[Story],
    now: datetime,
    *,
    identity: dedupe.PolicyName | None = None,
    settings: dedupe.Settings | None = None,
) -> list[StoredChange]:
    """Stories that came from no polled feed (replay, tests): one transaction."""
    settings = settings or dedupe.DEFAULT_SETTINGS
    return write_batch(store, prepare(stories, settings, now), now, identity=identity, settings=settings)


def save_poll(
    store: StoryPort,
    poll: PollWrite,
    stories: list[Story],
    feed: FeedUpdate,
    now: datetime,
    *,
    identity: dedupe.PolicyName | None = None,
    settings: dedupe.Settings = dedupe.DEFAULT_SETTINGS,
) -> list[StoredChange]:
    """A whole poll in one transaction: its stories, its history row, the feed's state."""
    return write_batch(
        store,
        prepare(stories, settings, now),
        now,
        identity=identity,
        settings=settings,
        poll=poll,
        feed=feed,
    )


def write_batch(
    store: StoryPort,
    prepared: list[Prepared],
    now: datetime,
    *,
    identity: dedupe.PolicyName | None = None,
    settings: dedupe.Settings = dedupe.DEFAULT_SETTINGS,
    poll: PollWrite | None = None,
    feed: FeedUpdate | None = None,
    known: int = 0,
) -> list[StoredChange]:
    """One batch of one document's stories, in order, in one transaction; with it the
    poll's history row and the feed's new state when given. `known`: the document's
    entries skipped as stored already (evidence for the identity policy)."""
    with store.transaction():
        identities = [p.identity for p in prepared]
        # the batch's stored identity keys, in one look-up: a story none of whose keys is
        # stored, or written by the batch before it (most new stories), is looked up no further
        stored = _stored_keys(store, identities)
        policies = {
            feed_id: _settle_policy(
                store, feed_id, [i for i in identities if i.feed_id == feed_id], identity, now, known, stored
            )
            for feed_id in dict.fromkeys(i.feed_id for i in identities)
        }
        subscriptions = store.live_subscriptions() if prepared else []
        times = _Times(now, iso(now), _millis(now.replace(microsecond=0)))
        changes = []
        # nothing the batch's decisions read is in the outbox: its rows are written together, last
        closing: list[Intent] = []
        for item, ident in zip(prepared, identities):
            change, intents, outbox = _decide_story(
                store, item, ident, policies[ident.feed_id], times, settings, subscriptions, stored
            )
            if intents:
                store.apply(intents)
            for written in intents:
                if isinstance(written, KeysWrite):  # the next stories may find them
                    stored.update(written.keys)
            closing += outbox
            if change is not None:
                changes.append(change)
        if poll is not None:
            counts = {k: sum(1 for c in changes if c.kind == k) for k in ("created", "updated", "unchanged")}
            closing.append(
                PollWrite(
                    poll.feed_id,
                    poll.started_at,
                    poll.duration_ms,
                    poll.status,
                    poll.bytes,
                    poll.new + counts["created"],
                    poll.updated + counts["updated"],
                    poll.unchanged + counts["unchanged"],
                    poll.error,
                )
            )
        if feed is not None:
            closing.append(feed)
        _log_fenced(store.apply(closing), feed)
    return changes


def _stored_keys(store: StoryPort, identities: list[dedupe.Identity]) -> set[str]:
    keys = list(dict.fromkeys(k for ident in identities for k in ident.every_key()))
    return set(store.known_keys(keys)) if keys else set()


def _settle_policy(
    store: StoryPort,
    feed_id: str,
    identities: list[dedupe.Identity],
    pinned: dedupe.PolicyName | None,
    now: datetime,
    known: int,
    stored: set[str],
) -> dedupe.PolicyName:
    """The feed's policy after what this document shows. A change is stored and logged;
    a new feed's first policy only stored (`identity_policy` shows it). `stored`: the
    batch's identity keys that are stored (a story with none has no holder)."""
    current = store.identity_policy(feed_id)
    sightings = [
        dedupe.Sighting(*store.holder_of_text(keys, feed_id, i.text_hash))
        if not stored.isdisjoint(keys := i.every_key())
        else dedupe.Sighting(None, frozenset())
        for i in identities
    ]
    chosen = dedupe.choose_policy(current, dedupe.observe(identities, sightings, known), pinned)
    if chosen != current:
        if current is not None:
            get_logger().info(
                "identity policy changed",
                feed_id=feed_id,
                **{"from": current.name},
                to=chosen.name,
                reason=chosen.reason,
                pinned=chosen.pinned,
            )
        store.apply([PolicyWrite(feed_id, chosen.name, chosen.reason, chosen.pinned, iso(now))])
    return chosen.name


@dataclass(frozen=True)
class _Times:
    """A batch's one `now`, in the forms its rows take (made once, not once a story)."""

    now: datetime
    written: str  # iso(now)
    queued: str  # the events' own time, as the outbox reads it


def _decide_story(
    store: StoryPort,
    item: Prepared,
    ident: dedupe.Identity,
    policy: dedupe.PolicyName,
    times: _Times,
    settings: dedupe.Settings,
    subscriptions: list[LiveSubscription],
    stored: set[str],
) -> tuple[StoredChange | None, list[Intent], list[Intent]]:
    """The story's change, its intents and, apart, its outbox rows."""
    story, now = item.story, times.now
    lookup = ident.lookup(policy)
    existing = None if stored.isdisjoint(lookup) else store.find_story(lookup)
    item_version = story.ingest.get("item_version")
    intent = dedupe.decide(
        lookup, ident.text_hash, existing, item_version if isinstance(item_version, int) else None
    )
    recorded = ident.recorded(policy)
    keys = KeysWrite(intent.story_id, tuple([*recorded, item.entry_key] if item.entry_key else recorded))
    if intent.kind == "unchanged":
        matched = existing.matched if existing else None
        return StoredChange("unchanged", intent.story_id, intent.version, matched=matched), [keys], []
    found = item.fingerprint
    if intent.kind == "created":
        at = int((story.first_created or now).timestamp())
        candidates = store.cluster_candidates(
            found.bands if found else (), at, settings.cluster_window, dedupe.MAX_CANDIDATES
        )
        placement = dedupe.place(
            intent.story_id,
            found,
            [
                dedupe.Candidate(c.story_id, c.cluster, dedupe.decode(c.shingles, c.numbers))
                for c in candidates
            ],
        )
    else:  # a new version keeps its cluster, and the time its bands are filed under
        cluster, first, stored_at = store.story_cluster(intent.story_id)
        placement = dedupe.Placement(cluster, first)
        at = stored_at if stored_at is not None else int((story.first_created or now).timestamp())
    event = item.draft.event(
        intent.kind,
        intent.story_id,
        intent.version,
        now,
        first_created=existing.first_created if existing else None,
        cluster=placement.cluster,
        first_of_cluster=placement.first_of_cluster,
    )
    document, ingest = event["data"]["story"], event["data"]["ingest"]
    if item.problems:  # found by outbox_door when the batch was prepared
        get_logger().warning(
            "story not stored: not valid ninjs",
            feed_id=story.feed_id,
            story_id=intent.story_id,
            error="; ".join(item.problems[:3]),
        )
        return None, [], []
    shingles, numbers = item.signature
    written = times.written
    write = StoryWrite(
        kind=intent.kind,
        story_id=intent.story_id,
        feed_id=story.feed_id,
        source=story.source,
        version=intent.version,
        content_hash=ident.text_hash,
        url=story.url,
        guid=story.guid,
        headline=story.headline,
        byline=story.byline,
        located=story.located,
        section=story.section,
        language=story.language,
        first_created=document.get("firstCreated"),
        written_at=written,
        body_text=story.body_text,
        ninjs=item.forms[0].dumps(document),
        ingest=item.forms[1].dumps(ingest),
        cluster=placement.cluster,
        first_of_cluster=placement.first_of_cluster,
        at=at,
        bands=found.bands if found else (),
        shingles=shingles,
        numbers=numbers,
    )
    queued = times.queued
    outbox: list[Intent] = [
        EventWrite(
            event["id"],
            event["type"],
            intent.story_id,
            intent.version,
            event["timestamp"],
            _millis(held) if (held := hold_until(story, now)) else None,
        ),
        *(
            DeliveryWrite(
                sub.id,
                event["id"],
                intent.story_id,
                intent.version,
                "pending" if wants(sub.events, sub.filter, event) else "filtered",
                queued,
            )
            for sub in subscriptions
        ),
    ]
    matched = existing.matched if existing else (None if placement.first_of_cluster else "cluster")
    return StoredChange(intent.kind, intent.story_id, intent.version, event, matched), [write, keys], outbox


class ApplyPort(Protocol):
    def transaction(self) -> AbstractContextManager[None]: ...
    def apply(self, intents: Sequence[Intent]) -> list[str]: ...


def apply_alone(store: ApplyPort, intents: Sequence[Intent]) -> None:
    """Intents that need no decision read from the store (a failed poll's feed state)."""
    with store.transaction():
        dropped = store.apply(intents)
    for update in intents:
        if isinstance(update, FeedUpdate):
            _log_fenced(dropped, update)


def _log_fenced(dropped: list[str], update: FeedUpdate | None) -> None:
    """Fencing: the store dropped the feed's new state, its lease being another replica's
    now (this one's ran out mid-poll); the new holder's poll writes the feed's state."""
    if update is not None and update.feed_id in dropped:
        get_logger().warning(
            "feed state not written: the lease is another replica's",
            feed_id=update.feed_id,
            owner=update.lease_owner,
        )


def hold_until(story: Story, now: datetime) -> datetime | None:
    """An embargoed story's event waits for the embargo time (every version: a later
    version is never sent before an earlier one, so it waits behind the first held)."""
    embargo = from_iso(story.ingest.get("embargo"))  # set by normalize from the wire item
    return embargo if embargo is not None and embargo > now else None


def outbox_door(document: dict[str, Any]) -> list[str]:
    """The one place an event's story document is checked before it becomes an
    EventWrite: the schema errors that keep it out of the outbox (empty: it goes in)."""
    return ninjs.validate(document)


class SignaturePort(Protocol):
    def transaction(self) -> AbstractContextManager[None]: ...
    def get_meta(self, key: str) -> str | None: ...
    def set_meta_in_transaction(self, key: str, value: str) -> None: ...
    def stories_after(self, after: str, limit: int) -> list[tuple[str, str, str, str | None, str]]: ...
    def replace_signature(
        self, story_id: str, at: int, bands: tuple[int, ...], shingles: bytes, numbers: str
    ) -> None: ...


def rebuild_signatures(store: SignaturePort) -> int:
    """When the stored bands were made by another fingerprint (or none), make them again
    from each story's text, a batch per transaction. Returns how many stories."""
    if store.get_meta(_FINGERPRINT_KEY) == dedupe.FINGERPRINT_VERSION:
        return 0
    done, after = 0, ""
    for batch in _batches(store, after):
        with store.transaction():
            for story_id, headline, body, first_created, created_at in batch:
                found = dedupe.fingerprint(headline or "", body or "")
                at = int(datetime.fromisoformat(first_created or created_at).astimezone(UTC).timestamp())
                shingles, numbers = dedupe.encode(found) if found else (b"", "[]")
                store.replace_signature(story_id, at, found.bands if found else (), shingles, numbers)
        done += len(batch)
    with store.transaction():
        store.set_meta_in_transaction(_FINGERPRINT_KEY, dedupe.FINGERPRINT_VERSION)
    if done:
        get_logger().info("cluster signatures rebuilt", stories=done, fingerprint=dedupe.FINGERPRINT_VERSION)
    return done


def _batches(store: SignaturePort, after: str) -> Iterator[list[tuple[str, str, str, str | None, str]]]:
    while batch := store.stories_after(after, REBUILD_BATCH):
        yield batch
        after = batch[-1][0]


class RedeliverPort(Protocol):
    def transaction(self) -> AbstractContextManager[None]: ...
    def subscription_wants(self, subscription_id: str) -> LiveSubscription | None: ...
    def events_since(self, since: datetime) -> list[tuple[str, str]]: ...
    def requeue(self, subscription_id: str, event_ids: list[str], now: datetime) -> int: ...


def redeliver(store: RedeliverPort, subscription_id: str, since: datetime, now: datetime) -> int | None:
    """Queue again every event since `since` that the subscription wants (same ids, a
    fresh retry schedule), delivered or not; None if there is no such subscription."""
    with store.transaction():
        sub = store.subscription_wants(subscription_id)
        if sub is None:
            return None
        wanted = [
            event_id
            for event_id, body in store.events_since(since)
            if wants(sub.events, sub.filter, json.loads(body))
        ]
        return store.requeue(subscription_id, wanted, now)


def iso(moment: datetime) -> str:
    """An aware time as the store keeps it: UTC, whole seconds, `Z`."""
    return ninjs.utc_z(moment)


# json.dumps with these options, without building an encoder each call (stateless: any thread)
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_string = json.encoder.encode_basestring  # what that encoder writes a str with (ensure_ascii=False)


def _member(key: str, value: Any) -> str:
    """`"key":value` as `_dumps` writes it inside a document; a string, a whole number,
    a bool or null (the ids, versions, times and flags the writer adds) as the encoder
    writes one, without the encoder."""
    if type(key) is not str:
        return _dumps({key: value})[1:-1]
    kind = type(value)
    if kind is str:
        return f"{_string(key)}:{_string(value)}"
    if kind is int:
        return f"{_string(key)}:{int.__repr__(value)}"
    if value is None or kind is bool:
        return f"{_string(key)}:{_LITERALS[value]}"
    return _dumps({key: value})[1:-1]


_LITERALS = {None: "null", True: "true", False: "false"}


@dataclass(frozen=True)
class _Form:
    """A document's JSON, made in prepare (the CPU pool) from its draft: every run of
    members the writer does not fill in dumped and joined there, so the writer dumps
    only its own (ids, version, times, cluster), never the body again."""

    pieces: tuple[str, ...]  # a run of members as JSON, or "" where a filled one goes
    holes: tuple[tuple[int, str], ...]  # (place in pieces, key) of each member filled in

    def dumps(self, document: dict[str, Any]) -> str:
        """`_dumps(document)`, byte for byte, for the draft's document with its holes filled."""
        pieces = list(self.pieces)
        for place, key in self.holes:
            pieces[place] = _member(key, document[key])
        return "{" + ",".join(pieces) + "}"


def _form(document: dict[str, Any], filled: tuple[str, ...]) -> _Form:
    pieces: list[str] = []
    holes: list[tuple[int, str]] = []
    run: dict[Any, Any] = {}
    for key, value in document.items():
        if key in filled:
            if run:
                pieces.append(_dumps(run)[1:-1])
                run = {}
            holes.append((len(pieces), key))
            pieces.append("")
        else:
            run[key] = value
    if run:  # a run dumped in one call: the members `_dumps(document)` writes, joined by ","
        pieces.append(_dumps(run)[1:-1])
    return _Form(tuple(pieces), tuple(holes))


def _millis(moment: datetime) -> str:
    """The outbox's time form: UTC, milliseconds, fixed width."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
