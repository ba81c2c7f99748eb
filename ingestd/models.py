"""The plain data that flows between stages.

config -> FeedConfig; fetch -> FetchResult; parse -> ParsedDocument of Entry;
normalize -> Story; store -> StoredChange and the events it wrote.
No stage hands another an httpx response, a feedparser dict or a sqlite row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

EntryKind = Literal["feed-entry", "page-text", "page-html"]


def credentials_summary(shown: dict[str, Any] | None) -> str:
    """`FeedCredentials.shown()` in a few words: "X-Api-Key, bearer auth, ?api_key"."""
    if not shown:
        return ""
    kinds = [*shown.get("headers", {}), *([shown["auth"] + " auth"] if "auth" in shown else [])]
    kinds += [f"?{name}" for name in shown.get("query", {})]
    return ", ".join(kinds + (["client cert"] if "client_cert" in shown else []))


@dataclass(frozen=True)
class FeedCredentials:
    """What a feed's own origin is sent, secrets resolved: headers, HTTP auth, query
    parameters, a client certificate. Bound to `origin` ("https://host:443", the
    declared URL's): no other origin ever gets them. Never in a repr, a log line or an
    output: `shown()` says what is set, never a value."""

    origin: str
    headers: tuple[tuple[str, str], ...] = ()
    basic: tuple[str, str] | None = None  # (username, password)
    bearer: str | None = None
    query: tuple[tuple[str, str], ...] = ()
    client_cert: str | None = None  # PEM file
    client_key: str | None = None  # PEM file; unset: the key is in client_cert's file

    def __repr__(self) -> str:
        return f"FeedCredentials({self.origin}, {self.shown()})"

    def shown(self) -> dict[str, Any]:
        """Set or unset, never the value: for `feeds list`, the API, the status page."""
        shown: dict[str, Any] = {}
        if self.headers:
            shown["headers"] = {name: "set" for name, _ in self.headers}
        if self.basic or self.bearer:
            shown["auth"] = "basic" if self.basic else "bearer"
        if self.query:
            shown["query"] = {name: "set" for name, _ in self.query}
        if self.client_cert:
            shown["client_cert"] = "set"
        return shown

    def to_json(self) -> str:
        """For the store: a run-time feed's secrets, kept like a subscription's."""
        return json.dumps(
            {
                "origin": self.origin,
                "headers": self.headers,
                "basic": self.basic,
                "bearer": self.bearer,
                "query": self.query,
                "client_cert": self.client_cert,
                "client_key": self.client_key,
            },
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str) -> FeedCredentials:
        raw = json.loads(text)
        return cls(
            origin=raw["origin"],
            headers=tuple((k, v) for k, v in raw["headers"]),
            basic=(raw["basic"][0], raw["basic"][1]) if raw["basic"] else None,
            bearer=raw["bearer"],
            query=tuple((k, v) for k, v in raw["query"]),
            client_cert=raw["client_cert"],
            client_key=raw["client_key"],
        )


@dataclass(frozen=True)
class FeedConfig:
    """A feed as declared in the config file (or added at run time)."""

    id: str
    url: str
    source: str | None = None
    interval: float = 300.0  # seconds
    fetch_article: bool = False
    identity: str | None = None  # pinned identity policy: "guid" | "url" | "content"
    quiet_after: float | None = None  # seconds without a story before the feed is "quiet"
    credentials: FeedCredentials | None = None


@dataclass(frozen=True)
class SubscriptionFilter:
    """Every key given must match (AND); within a key, any value (OR)."""

    sources: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()  # case-insensitive whole words in headline and body
    first_of_cluster: bool | None = None


@dataclass(frozen=True)
class SubscriptionConfig:
    """A webhook subscription as declared in the config file."""

    id: str
    url: str
    secrets: tuple[str, ...]  # resolved whsec_… values; several while rotating
    events: tuple[str, ...] = ("story.created", "story.updated")
    filter: SubscriptionFilter = SubscriptionFilter()


@dataclass
class FeedState:
    """What the store knows about a feed between polls."""

    id: str
    url: str
    source: str | None
    interval: float
    fetch_article: bool
    origin: str  # "config" | "cli"
    state: str  # "ok" | "erroring" | "parked"
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    next_poll_at: datetime | None = None
    last_poll_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    error_count: int = 0
    redirect_target: str | None = None  # a permanent redirect seen, not yet adopted
    redirect_count: int = 0  # consecutive polls that saw it
    quiet_after: float | None = None  # pinned by config; None: from the observed rate
    quiet_since: datetime | None = None  # when the feed was found quiet; None: not quiet
    # publish times of its newest entries, as its last document gave them (None: unknown)
    recent_published: tuple[datetime, ...] | None = None
    # a run-time feed's stored credentials (a config feed's stay in the config)
    secrets: FeedCredentials | None = None
    credentials: dict[str, Any] | None = None  # FeedCredentials.shown(), for any feed
    identity: str | None = None  # a pinned identity policy (the feed's table set it)


@dataclass
class FetchResult:
    """One fetch of a feed URL (or a local file)."""

    url: str  # the URL asked for
    final_url: str  # after redirects
    status: int  # HTTP status; 200 for local files
    body: bytes  # empty on 304
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    duration_ms: int = 0
    fetched_at: datetime | None = None
    permanent_redirect: str | None = None  # target of a leading run of 301/308 hops

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass(frozen=True)
class Concept:
    """A controlled-vocabulary term as a wire item names it (IPTC subject, media topic, genre)."""

    name: str | None = None
    qcode: str | None = None  # "medtop:20000002", as the item wrote it
    uri: str | None = None  # the qcode's scheme URI + code, when the scheme is known


@dataclass(frozen=True)
class Rendition:
    """One rendition of a wire item's content (NewsML-G2 remoteContent, ninjs renditions)."""

    name: str
    href: str | None = None
    content_type: str | None = None
    width: int | None = None
    height: int | None = None
    size: int | None = None


@dataclass(frozen=True)
class WireFields:
    """What agency formats (NITF, NewsML-G2, ninjs) state outright and feeds do not.

    The normalizer takes these as given: structured data outranks its heuristics.
    """

    format: str  # "nitf", "newsml-g2", "ninjs"
    byline: str | None = None  # as written: "By JANE DOE"
    byline_title: str | None = None  # NITF byttl: "Associated Press Writer"
    located: str | None = None  # the place the story was filed from
    dateline: str | None = None  # as written: "PARIS, Jan 9"
    dateline_date: date | None = None  # NITF story.date@norm
    subheadline: str | None = None
    slugline: str | None = None
    subjects: tuple[Concept, ...] = ()
    people: tuple[Concept, ...] = ()  # whom the story is about (G2 cpnat:person, NITF person)
    organisations: tuple[Concept, ...] = ()
    places: tuple[Concept, ...] = ()  # what the story is about, not where it was filed (located)
    genres: tuple[Concept, ...] = ()
    keywords: tuple[str, ...] = ()
    urgency: int | None = None  # 1 (flash) … 9
    embargo: datetime | None = None  # aware UTC: not to be published before
    version: int | None = None  # the item's own version number
    pub_status: str | None = None  # "usable", "withheld", "canceled"
    signals: tuple[str, ...] = ()  # NewsML-G2 signal qcodes: "sig:update", "sig:correction"
    ed_note: str | None = None  # NITF ed-msg, NewsML-G2 edNote: for the desk, not for print
    tagline: str | None = None
    info_sources: tuple[str, ...] = ()  # provider, distributor: who sent it
    copyright_holder: str | None = None
    renditions: tuple[Rendition, ...] = ()


@dataclass
class Entry:
    """One item as the input gave it: a feed entry, or a whole article page.

    Feed entries carry HTML in `summary_html`/`content_html`; pages carry their
    raw text or HTML in `page` for the normalizer to take apart.
    """

    kind: EntryKind
    guid: str | None = None
    link: str | None = None
    title: str | None = None
    summary_html: str | None = None
    content_html: str | None = None
    page: str | None = None
    authors: list[str] = field(default_factory=list)
    published: datetime | None = None  # aware UTC, when the input gave a zone
    published_raw: str | None = None  # as written, for the normalizer's own reading
    updated: datetime | None = None
    tags: list[str] = field(default_factory=list)
    enclosures: list[dict[str, Any]] = field(default_factory=list)
    language: str | None = None  # declared by the entry or its feed
    base_url: str | None = None  # for resolving relative links
    wire: WireFields | None = None  # agency formats only


@dataclass
class ParsedDocument:
    """What parse made of one input: the entries in document order."""

    format: str  # "rss20", "atom10", "json1.1", "page-text", "page-html", …
    entries: list[Entry]
    title: str | None = None
    language: str | None = None
    hints: dict[str, str] = field(default_factory=dict)  # ttl, sy_updateperiod, … for the scheduler
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # items recognised and left out, each with its reason


@dataclass
class Picture:
    caption: str
    href: str | None = None
    credit: str | None = None


@dataclass
class Story:
    """A normalized story: what normalize hands to dedupe and store.

    `ingest` holds what ninjs has no field for (dateline, headline tags,
    credits, flags); it ends up in the event's `data.ingest`.
    `ninjs` is built by the normalizer's last step, without the identity
    fields (`uri`, `version`, `versionCreated`) that only the store knows.
    """

    feed_id: str
    source: str
    headline: str
    body_text: str
    body_html: str = ""
    guid: str | None = None
    url: str | None = None
    byline: str | None = None
    located: str | None = None
    section: str | None = None
    language: str | None = None
    first_created: datetime | None = None  # aware, UTC
    updated: datetime | None = None
    summary: str = ""
    pictures: list[Picture] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    enclosures: list[dict[str, Any]] = field(default_factory=list)
    ingest: dict[str, Any] = field(default_factory=dict)
    ninjs: dict[str, Any] = field(default_factory=dict)


@dataclass
class StoredChange:
    """What the store did with one story: which event (if any) it wrote."""

    kind: Literal["created", "updated", "unchanged"]
    story_id: str
    version: int
    event: dict[str, Any] | None = None
    # what recognised it: "guid", "url" or "content" (an identity key), or "cluster"
    # (a new story that joined another's cluster); None for a story never seen before
    matched: str | None = None


PolicyName = Literal["guid", "url", "content"]


@dataclass(frozen=True)
class Policy:
    """A feed's identity policy: which key identifies its stories (dedupe decides it)."""

    name: PolicyName
    reason: str
    pinned: bool = False


@dataclass(frozen=True)
class Existing:
    """The stored story an incoming one was identified as."""

    story_id: str
    version: int
    first_created: str | None
    seen: frozenset[str]  # the text hash of every stored version
    purged: bool = False  # a tombstone: the story was purged, its keys kept
    matched: str | None = None  # the kind of key that found it: guid, url or content
    item_version: int | None = None  # the highest wire item version stored (ingest.item_version)


# ── what the store reads for the composer, and the intents it applies ────────
# The store imports nothing but this module: the composer (ingestd.compose) reads
# these through the store's small queries, decides with dedupe and webhooks, and
# hands back the intents below. See docs/storage.md.


@dataclass(frozen=True)
class StoredSignature:
    """A stored story's near-duplicate signature, as written: never recomputed."""

    story_id: str
    cluster: str
    shingles: bytes  # sorted uint64 shingle hashes, little-endian
    numbers: str  # JSON: [[place, before, after, [numbers…]], …]


@dataclass(frozen=True)
class LiveSubscription:
    """A subscription that gets new deliveries: what deciding one needs."""

    id: str
    events: tuple[str, ...]
    filter: SubscriptionFilter


@dataclass(frozen=True)
class StoryWrite:
    """A story's new version: created (a new row) or updated (the row moves to it).
    `ninjs` and `ingest` are JSON text, stored once per version; events refer to them."""

    kind: Literal["created", "updated"]
    story_id: str
    feed_id: str
    source: str
    version: int
    content_hash: str
    url: str | None
    guid: str | None
    headline: str
    byline: str | None
    located: str | None
    section: str | None
    language: str | None
    first_created: str | None
    written_at: str
    body_text: str
    ninjs: str
    ingest: str
    cluster: str
    first_of_cluster: bool
    at: int  # epoch seconds the band rows are filed under
    bands: tuple[int, ...] = ()  # empty: too short to cluster, no signature
    shingles: bytes = b""
    numbers: str = "[]"


@dataclass(frozen=True)
class KeysWrite:
    """Identity keys (and raw-entry digests) that name a stored story."""

    story_id: str
    keys: tuple[str, ...]


@dataclass(frozen=True)
class EventWrite:
    """An outbox event: its story document is the version's (StoryWrite.ninjs)."""

    id: str
    type: str
    story_id: str
    version: int
    timestamp: str
    # an embargoed story's event is not sent before this (the outbox's time form); None: now
    not_before: str | None = None


@dataclass(frozen=True)
class DeliveryWrite:
    """One subscription's delivery of an event: owed ("pending") or not ("filtered")."""

    subscription_id: str
    event_id: str
    story_id: str
    version: int
    state: Literal["pending", "filtered"]
    queued_at: str  # milliseconds, fixed width (the outbox's time form)


@dataclass(frozen=True)
class PolicyWrite:
    """A feed's identity policy, learnt or pinned."""

    feed_id: str
    policy: str
    reason: str
    pinned: bool
    changed_at: str


@dataclass(frozen=True)
class PollWrite:
    """One poll's history row."""

    feed_id: str
    started_at: str
    duration_ms: int
    status: int | None
    bytes: int
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    error: str | None = None


@dataclass(frozen=True)
class FeedUpdate:
    """The feed's state after a poll; releases its lease. `fields`: column -> value
    (times as ISO text), only those the poll changed."""

    feed_id: str
    fields: tuple[tuple[str, Any], ...]
    lease_owner: str | None = None  # the claim's owner: a write by another is dropped

    @classmethod
    def of(cls, feed_id: str, fields: dict[str, Any], lease_owner: str | None = None) -> FeedUpdate:
        return cls(feed_id, tuple(fields.items()), lease_owner)

    def get(self, name: str, default: Any = None) -> Any:
        return dict(self.fields).get(name, default)


Intent = StoryWrite | KeysWrite | EventWrite | DeliveryWrite | PolicyWrite | PollWrite | FeedUpdate


# ── webhooks: what crosses the webhook modules and the store ─────────────────

DeliveryState = Literal["pending", "delivering", "delivered", "failed", "filtered"]
SubscriptionState = Literal["active", "paused", "disabled", "removed"]
# Where a subscription comes from: the config file, or a run-time `ingestd webhooks add`
# or `POST /subscriptions` (those keep their secrets in the database).
Origin = Literal["config", "cli", "api"]


def secret_fingerprint(secret: str) -> str:
    """Tells secrets apart (which one is live while rotating) without revealing them."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Claimed:
    """A delivery taken by one sender until it records the attempt (or its lease ends)."""

    delivery_id: int
    subscription_id: str
    url: str
    event_id: str
    body: bytes
    attempt: int  # the number this attempt will have, from 1
    probe: bool  # the subscription is paused and this attempt probes it


@dataclass(frozen=True)
class DueSubscription:
    id: str
    state: SubscriptionState
    due: int  # deliveries that may be sent now (at most the limit asked for)


@dataclass(frozen=True)
class SubscriptionStatus:
    """One line of `ingestd webhooks list`, one subscription of `GET /subscriptions`:
    never its secrets, at most their fingerprints."""

    id: str
    url: str
    origin: Origin
    events: tuple[str, ...]
    filter: SubscriptionFilter
    secret_fingerprints: tuple[str, ...] | None  # run-time subscriptions only
    state: SubscriptionState
    reason: str | None
    backlog: int  # pending or being delivered
    failed: int
    delivered: int
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None


class UnknownSubscription(LookupError):
    """No subscription by that id; the message names it."""


class SubscriptionConflict(Exception):
    """A run-time change the subscription does not allow (it exists already, or the
    config declares it); the message names the id and says what to do instead."""


@dataclass(frozen=True)
class AttemptContext:
    """What deciding an attempt's outcome reads: its delivery and its subscription."""

    delivery_state: str
    attempts: int  # made before this one
    queued_at: datetime
    subscription_state: SubscriptionState
    reason: str | None
    failing_since: datetime | None
    next_send_at: datetime | None


@dataclass(frozen=True)
class AttemptWrite:
    """An attempt's outcome: the delivery's new state and its subscription's."""

    delivery_id: int
    subscription_id: str
    state: DeliveryState
    next_attempt_at: datetime | None
    status: int | None
    error: str | None
    at: datetime
    subscription: tuple[tuple[str, Any], ...]  # columns to set (times as datetimes)
    resume_pending: bool = False  # the breaker closed: every pending delivery is due now
    expire_queued_before: datetime | None = None  # paused: pending ones queued earlier fail
    expire_reason: str | None = None


# ── websub: what crosses the websub decisions and the store ──────────────────

# subscribing: asked the hub, its verification not yet seen; active: verified, the lease
# runs; lapsed: the lease ran out unrenewed (polling took over); unsubscribing: asked
# the hub to stop (the feed was removed)
WebSubState = Literal["subscribing", "active", "lapsed", "unsubscribing"]


@dataclass(frozen=True)
class WebSubSubscription:
    """A feed's subscription at its hub, as stored (and as a write: the row replaced)."""

    feed_id: str
    hub: str
    topic: str
    secret: str  # the per-feed secret the hub signs content distributions with
    state: WebSubState
    requested_at: datetime
    lease_seconds: int | None = None  # as the hub granted it
    lease_until: datetime | None = None


@dataclass(frozen=True)
class WebSubForget:
    """The feed's subscription is gone (unsubscribed, or denied by the hub)."""

    feed_id: str
