"""The plain data that flows between stages.

config -> FeedConfig; fetch -> FetchResult; parse -> ParsedDocument of Entry;
normalize -> Story; store -> StoredChange and the events it wrote.
No stage hands another an httpx response, a feedparser dict or a sqlite row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

EntryKind = Literal["feed-entry", "page-text", "page-html"]


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
