"""Bytes -> ParsedDocument: which format it is, and its entries in document order.

The format is sniffed from the content, never from a file name: JSON Feed by
its `version`, RSS in JSON (Dave Winer's `{"rss": {"channel": …}}`) by its `rss`
object, XML feeds by their root element (read by feedparser, always
from bytes), HTML pages and plain-text story pages (like the Yonhap seed) as
one entry each. Pages are only taken where the caller allows them (local
files and replay); a feed URL that answers with a web page is an error.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
import structlog

from .. import wire
from ..errors import ParseError
from ..models import Entry, ParsedDocument
from . import _lxml
from ._charset import BOMS, SNIFF_BYTES, charset, decode_text
from ._lxml import FALLBACK_REASONS
from ._time import utc

__all__ = ["FALLBACK_REASONS", "charset", "decode_text", "fallback_counts", "parse"]

log = structlog.get_logger("ingestd.parse")
_fallbacks: Counter[str] = Counter()
_fallback_lock = threading.Lock()

_FEED_ROOT = re.compile(rb"<(?:[\w-]+:)?(rss|feed|rdf|channel)[\s>/]", re.I)
_HTML_ROOT = re.compile(rb"<(?:!doctype\s+html|html[\s>])", re.I)
# feedparser flags these but reads the document fine
_BENIGN = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_JSONFEED_VERSION = re.compile(r"^https?://jsonfeed\.org/version/1(\.1)?/?$")


def parse(
    body: bytes,
    *,
    url: str | None = None,
    content_type: str | None = None,
    allow_pages: bool = False,
    fast: bool = True,
) -> ParsedDocument:
    """Read one input. Raises ParseError naming the reason when it is not readable.

    `fast=False` reads XML feeds with feedparser alone (the reference the fast path is held to).
    """
    if not body.strip():
        raise ParseError("empty body")
    head = _sniff_head(body)
    if agency_format := wire.sniff(head):  # NITF, NewsML-G2, ninjs: ingestd/wire
        return wire.read(body, agency_format)
    if head[:1] in (b"{", b"["):
        return _parse_json_feed(body, url)
    if head[:1] == b"<":
        if _HTML_ROOT.search(head) and not _FEED_ROOT.search(head):
            if not allow_pages:
                raise ParseError("an HTML page, not a feed")
            return _page(body, "page-html", url, content_type)
        if fast:
            return _fast_or_feedparser(body, url, content_type)
        return _parse_xml_feed(body, url, content_type)
    if _looks_binary(body):
        raise ParseError("binary data, not a feed or a story")
    if not allow_pages:
        raise ParseError("plain text, not a feed")
    return _page(body, "page-text", url, content_type)


def _sniff_head(body: bytes) -> bytes:
    """The first bytes with BOM, NULs (UTF-16/32) and leading blank space removed."""
    head = body[:SNIFF_BYTES]
    for bom, _ in BOMS:
        if head.startswith(bom):
            head = head[len(bom) :]
            break
    return head.replace(b"\x00", b"").lstrip()


def _looks_binary(body: bytes) -> bool:
    sample = body[:4096]
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 9 or 13 < b < 32)
    return controls > len(sample) // 100


# ── pages ────────────────────────────────────────────────────────────────────


def _page(body: bytes, kind: str, url: str | None, content_type: str | None) -> ParsedDocument:
    text = decode_text(body, content_type)
    entry = Entry(kind=kind, page=text, link=url if url and url.startswith("http") else None, base_url=url)  # type: ignore[arg-type]
    return ParsedDocument(format=kind, entries=[entry])


# ── XML feeds: lxml when it can, feedparser when it must ────────────────────


def _fast_or_feedparser(body: bytes, url: str | None, content_type: str | None) -> ParsedDocument:
    try:
        return _lxml.read(body, url, content_type)
    except _lxml.Unsupported as exc:
        with _fallback_lock:
            _fallbacks[exc.reason] += 1
        log.debug("parse fallback to feedparser", reason=exc.reason, detail=str(exc)[:200], url=url)
        return _parse_xml_feed(body, url, content_type)


def fallback_counts() -> dict[str, int]:
    """XML documents this process handed to feedparser, by reason (every reason, from 0)."""
    with _fallback_lock:
        return {reason: _fallbacks[reason] for reason in FALLBACK_REASONS}


# ── XML feeds (feedparser) ───────────────────────────────────────────────────


def _parse_xml_feed(body: bytes, url: str | None, content_type: str | None) -> ParsedDocument:
    # one charset rule for every reader: feedparser is handed the codec it picks (UTF-16/32
    # it finds itself, from the BOM or the first bytes, and misreads when told)
    codec = charset(body, content_type)
    if not codec.startswith(("utf-16", "utf-32")):
        media_type = content_type.split(";")[0].strip() if content_type else "application/xml"
        content_type = f"{media_type}; charset={codec}"
    headers = {"content-type": content_type} if content_type else {}
    if url and url.startswith("http"):
        headers["content-location"] = url
    try:
        parsed = feedparser.parse(body, response_headers=headers, sanitize_html=False)
    except Exception as exc:  # feedparser is robust, but a bad document must never escape
        raise ParseError(f"feedparser failed: {type(exc).__name__}: {exc}") from exc
    entries_raw = parsed.get("entries") or []
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if isinstance(problem, _BENIGN):
        problem = None
    feed = parsed.get("feed") or {}
    # a broken document that still yielded a feed element or entries was read (loosely)
    if not entries_raw and (not parsed.get("version") or (problem and not feed)):
        raise ParseError(f"not a readable feed: {problem or 'no feed element'}")
    feed_language = feed.get("language")
    entries = [_feed_entry(e, feed_language, url) for e in entries_raw]
    # entries read from a broken document are kept; the breakage is a warning
    warnings = (
        [f"not well-formed ({type(problem).__name__}: {problem}); {len(entries)} entries read anyway"]
        if problem
        else []
    )
    hints = {key: str(feed[key]) for key in ("ttl", "sy_updateperiod", "sy_updatefrequency") if feed.get(key)}
    # WebSub discovery (docs/websub.md): <atom:link rel="hub"> and rel="self"
    links = {link.get("rel"): link.get("href") for link in feed.get("links") or [] if link.get("href")}
    hints |= {f"websub_{rel}": str(links[rel]) for rel in ("hub", "self") if links.get(rel)}
    return ParsedDocument(
        format=parsed.get("version") or "unknown",
        entries=entries,
        title=feed.get("title"),
        language=feed_language,
        hints=hints,
        warnings=warnings,
    )


def _feed_entry(e: Any, feed_language: str | None, url: str | None) -> Entry:
    content = e.get("content") or []
    html_parts = [c for c in content if "html" in (c.get("type") or "")] or content
    content_html = html_parts[0].get("value") if html_parts else None
    authors = [a.get("name") for a in e.get("authors") or [] if a.get("name")]
    if not authors and e.get("author"):
        authors = [e["author"]]
    detail = e.get("summary_detail") or e.get("title_detail") or {}
    return Entry(
        kind="feed-entry",
        guid=_text(e.get("id")),
        link=_text(e.get("link")),
        title=_text(e.get("title")),
        summary_html=_text(e.get("summary")),
        content_html=_text(content_html),
        authors=authors,
        published=utc(e.get("published_parsed") or e.get("created_parsed")),
        published_raw=_text(e.get("published") or e.get("created")),
        # dict.get: FeedParserDict.get would fall back to published, with a warning
        updated=utc(dict.get(e, "updated_parsed")),
        tags=[t.get("term") for t in e.get("tags") or [] if t.get("term")],
        enclosures=[
            {"href": x.get("href"), "type": x.get("type"), "length": x.get("length")}
            for x in e.get("enclosures") or []
            if x.get("href")
        ],
        language=detail.get("language") or feed_language,
        base_url=detail.get("base") or url,
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


# ── JSON Feed 1.0 / 1.1 (feedparser 6.0.x does not read it) ────────────────


def _parse_json_feed(body: bytes, url: str | None) -> ParsedDocument:
    try:
        doc = json.loads(decode_text(body, "application/json; charset=utf-8"))
    except (ValueError, RecursionError) as exc:
        raise ParseError(f"invalid JSON: {exc}") from exc
    if isinstance(doc, dict) and isinstance(doc.get("rss"), dict):
        return _parse_rss_json(doc["rss"], url)
    if not isinstance(doc, dict) or not _JSONFEED_VERSION.match(str(doc.get("version", ""))):
        raise ParseError(
            "JSON, but not a JSON Feed (no jsonfeed.org version) nor RSS in JSON (no rss object)"
        )
    items = doc.get("items")
    if not isinstance(items, list):
        raise ParseError("JSON Feed without an items array")
    language = _text(doc.get("language"))
    feed_authors = _json_authors(doc)
    entries = [
        _json_entry(item, language, feed_authors, url or _text(doc.get("feed_url")))
        for item in items
        if isinstance(item, dict)
    ]
    version = "json1.1" if doc["version"].rstrip("/").endswith("1.1") else "json1"
    return ParsedDocument(format=version, entries=entries, title=_text(doc.get("title")), language=language)


# ── RSS in JSON (Dave Winer's rss.js: RSS 2.0's elements as JSON keys) ─────


def _parse_rss_json(rss: dict[str, Any], url: str | None) -> ParsedDocument:
    channel = rss.get("channel")
    if not isinstance(channel, dict):
        raise ParseError("RSS in JSON without a channel object")
    items = channel.get("item", [])
    items = [items] if isinstance(items, dict) else items  # one item may be written bare
    if not isinstance(items, list):
        raise ParseError("RSS in JSON whose channel.item is neither an object nor an array")
    language = _text(channel.get("language"))
    base = url or _text(channel.get("link"))
    entries = [_rss_json_entry(item, language, base) for item in items if isinstance(item, dict)]
    return ParsedDocument(
        format="rss-json", entries=entries, title=_text(channel.get("title")), language=language
    )


def _rss_json_entry(item: dict[str, Any], language: str | None, url: str | None) -> Entry:
    guid = item.get("guid")
    if isinstance(guid, dict):  # {"isPermaLink": "false", "value": "…"} (or "#value")
        guid = guid.get("value") or guid.get("#value") or guid.get("#text")
    enclosures = item.get("enclosure") or []
    enclosures = [enclosures] if isinstance(enclosures, dict) else enclosures
    categories = item.get("category") or []
    categories = [categories] if not isinstance(categories, list) else categories
    written = _text(item.get("pubDate"))
    return Entry(
        kind="feed-entry",
        guid=str(guid) if isinstance(guid, (str, int)) and str(guid).strip() else None,
        link=_text(item.get("link")),
        title=_text(item.get("title")),
        summary_html=_text(item.get("description")),
        content_html=_text(item.get("content:encoded")),
        authors=[a for a in (_text(item.get("author")), _text(item.get("dc:creator"))) if a],
        published=_rfc2822(written),
        published_raw=written,
        tags=[c if isinstance(c, str) else str(c.get("value") or "") for c in categories if c],
        enclosures=[
            {"href": e.get("url"), "type": e.get("type"), "length": e.get("length")}
            for e in enclosures
            if isinstance(e, dict) and _text(e.get("url"))
        ],
        language=language,
        base_url=url,
    )


def _rfc2822(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _json_entry(
    item: dict[str, Any], language: str | None, feed_authors: list[str], url: str | None
) -> Entry:
    text = _text(item.get("content_text"))
    html = _text(item.get("content_html"))
    if html is None and text is not None:
        html = "".join(f"<p>{_escape(p)}</p>" for p in re.split(r"\n\s*\n", text) if p.strip())
    attachments = _list(item.get("attachments"))
    enclosures = [
        {"href": a.get("url"), "type": a.get("mime_type"), "length": a.get("size_in_bytes")}
        for a in attachments
        if isinstance(a, dict) and _text(a.get("url"))
    ]
    if _text(item.get("image")):
        enclosures.insert(0, {"href": item["image"], "type": "image", "length": None})
    tags = _list(item.get("tags"))
    guid = item.get("id")
    return Entry(
        kind="feed-entry",
        guid=str(guid) if isinstance(guid, (str, int)) and str(guid).strip() else None,
        link=_text(item.get("url")) or _text(item.get("external_url")),
        title=_text(item.get("title")),
        summary_html=_text(item.get("summary")),
        content_html=html,
        authors=_json_authors(item) or feed_authors,
        published=_rfc3339(item.get("date_published")),
        published_raw=_text(item.get("date_published")),
        updated=_rfc3339(item.get("date_modified")),
        tags=[t for t in tags if isinstance(t, str) and t.strip()],
        enclosures=enclosures,
        language=_text(item.get("language")) or language,
        base_url=url,
    )


def _json_authors(obj: dict[str, Any]) -> list[str]:
    authors = _list(obj.get("authors"))
    if isinstance(obj.get("author"), dict):  # JSON Feed 1.0
        authors = [obj["author"], *authors]
    return [a["name"] for a in authors if isinstance(a, dict) and _text(a.get("name"))]


def _rfc3339(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
