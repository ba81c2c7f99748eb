"""The fast path: well-formed RSS 0.9x/2.0, RSS 1.0 (RDF) and Atom 0.3/1.0 read with lxml.

It yields the Entry values the feedparser path yields for the same bytes; feedparser
stays the reference (tests/test_fastparse_diff.py holds the two together). The
document is read as a stream: each item is taken and then freed, so a 15 MB feed
never stands in memory as a whole tree.

Whatever it does not fully understand raises `Unsupported(reason)`, and the caller
hands the bytes to feedparser: a document that is not well-formed XML, a DOCTYPE
(entities feedparser expands), markup inside an element that should hold text, an
entity left unexpanded, a root it does not know.
"""

from __future__ import annotations

import io
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from html import escape
from typing import Any

import lxml.html
from feedparser.datetimes import _parse_date
from feedparser.html import _cp1252
from feedparser.mixin import _FeedParserMixin
from feedparser.urls import _urifixer
from lxml import etree

from ..models import Entry, ParsedDocument
from ._charset import BOMS, SNIFF_BYTES, charset
from ._time import utc

FALLBACK_REASONS = (
    "not-well-formed",
    "doctype",
    "encoding",
    "unknown-root",
    "markup-in-text",
    "entity",
    "nested-items",
    "too-large",
)

_XML = "{http://www.w3.org/XML/1998/namespace}"
_ATOM10 = "http://www.w3.org/2005/Atom"
_ATOM03 = "http://purl.org/atom/ns#"
_ATOM10_LINK = f"{{{_ATOM10}}}link"
_WEBSUB_RELS = ("hub", "self")
_RSS10 = "http://purl.org/rss/1.0/"
_USERLAND = "http://backend.userland.com/rss2"
_RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
_DC = "{http://purl.org/dc/elements/1.1/}"
_DCTERMS = "{http://purl.org/dc/terms/}"
_SY = "{http://purl.org/rss/1.0/modules/syndication/}"
_MEDIA = "{http://search.yahoo.com/mrss/}"
_ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
_DESCRIPTIONS = (f"{_DC}description", f"{_MEDIA}description", f"{_ITUNES}summary")
_KNOWN_NS = {
    ns.strip("{}").lower(): ns.strip("{}")
    for ns in (_CONTENT, _DC, _DCTERMS, _SY, _MEDIA, _ITUNES, "{http://www.w3.org/1999/xhtml}")
}
_XHTML_BODY = "{http://www.w3.org/1999/xhtml}body"
_CONTENTS = (f"{_CONTENT}encoded", _XHTML_BODY)
_CONTENT_DEFAULTS = {
    "content": "text/plain",
    "body": "application/xhtml+xml",
    _XHTML_BODY: "application/xhtml+xml",
}
_AUTHORS = (f"{_DC}creator", f"{_DC}author", f"{_ITUNES}author")
# (role, local names in the dialect's own namespace, full tags in any), in feedparser's order
_ROLES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("guid", ("guid", "id"), ()),
    ("link", ("link",), ()),
    ("title", ("title",), (f"{_DC}title", f"{_MEDIA}title")),
    ("source", ("source",), ()),
    ("summary", ("description", "summary"), _DESCRIPTIONS),
    ("content", ("content", "body", "fullitem"), _CONTENTS),
    ("published", ("pubDate", "issued", "published"), (f"{_DCTERMS}issued",)),
    ("created", ("created",), (f"{_DCTERMS}created",)),
    ("updated", ("updated", "modified"), (f"{_DC}date", f"{_DCTERMS}modified", f"{{{_ATOM10}}}updated")),
    ("author", ("author",), _AUTHORS),
    ("category", ("category",), (f"{_DC}subject", f"{_MEDIA}category")),
    ("keywords", (), (f"{_MEDIA}keywords", f"{_ITUNES}keywords")),
    ("itunes-category", (), (f"{_ITUNES}category",)),
    ("enclosure", ("enclosure",), ()),
)
_RSS_VERSIONS = {"0.91": "rss091u", "0.92": "rss092", "0.93": "rss093", "0.94": "rss094"}
_DOCTYPE = re.compile(rb"<!DOCTYPE", re.I)
_C1 = re.compile("[\x80-\x9f]")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_SHORT_TYPES = {"text": "text/plain", "html": "text/html", "xhtml": "application/xhtml+xml"}
_ENTITY_REF = re.compile("&([A-Za-z0-9_]+);")
# feedparser's rule for "user@host" inside an RSS author (namespaces/_base.py)
_EMAIL = re.compile(
    r"(([a-zA-Z0-9\_\-\.\+]+)@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.)|(([a-zA-Z0-9\-]+\.)+))"
    r"([a-zA-Z]{2,4}|[0-9]{1,3})(\]?))(\?subject=\S+)?"
)


class Unsupported(Exception):
    """The document is for feedparser; `reason` is one of FALLBACK_REASONS."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


@dataclass
class _Dialect:
    """What the root said: the version feedparser would name, and the namespace of
    the core elements (RSS 2.0 has none)."""

    version: str
    ns: str
    items: frozenset[str]
    feed_tags: dict[str, str] = field(default_factory=dict)


def read(body: bytes, url: str | None, content_type: str | None) -> ParsedDocument:
    """The document's entries, or Unsupported when feedparser must read it."""
    if _DOCTYPE.search(body[:SNIFF_BYTES]):
        raise Unsupported("doctype")
    codec = charset(body, content_type)
    data = _utf8(body, codec).lstrip()  # blank lines before <?xml …?>: feedparser forgives them too
    try:
        return _read(data, url, codec, huge=False)
    except Unsupported as exc:
        # a text node past libxml2's 10 MB limit: read again with the limits lifted, but only
        # with no DOCTYPE anywhere (no entity is declared, so none can be amplified)
        if exc.reason != "too-large" or _DOCTYPE.search(data):
            raise
    return _read(data, url, codec, huge=True)


def _read(data: bytes, url: str | None, codec: str, *, huge: bool) -> ParsedDocument:
    reader = _Reader(url, repair=codec == "utf-8", data=data)
    options: dict[str, Any] = {"events": ("start", "end")}
    if (root := _first_element(data, huge)) is not None:
        # the root known before the stream starts: lxml hands over only the elements the
        # reader takes, not a Python object for every start and end of every element
        reader.dialect = dialect = _dialect(root)
        options = {"events": ("end",), "tag": [root.tag, *dialect.items, *dialect.feed_tags, _ATOM10_LINK]}
    try:
        for event, element in etree.iterparse(io.BytesIO(data), huge_tree=huge, **options, **_OPTIONS):
            reader.take(event, element)
    except etree.XMLSyntaxError as exc:
        reason = "too-large" if "Resource limit exceeded" in str(exc) else "not-well-formed"
        raise Unsupported(reason, str(exc)) from None
    except RecursionError:  # lifted limits allow nesting 2,048 deep: past the reader's own recursion
        raise Unsupported("too-large", "nested too deep") from None
    return reader.document()


_OPTIONS: dict[str, Any] = {
    "encoding": "utf-8",
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "remove_comments": True,
    "remove_pis": True,
}
_FIRST_ELEMENT_BYTES = 65536


def _first_element(data: bytes, huge: bool) -> Any:
    """The root element as the stream first meets it (its tag, namespaces and attributes),
    read from the first bytes alone; None when they do not open it (the full stream then
    finds the root, or the breakage before it, as it always did)."""
    parser = etree.XMLPullParser(events=("start",), huge_tree=huge, **_OPTIONS)
    for at in range(0, min(len(data), _FIRST_ELEMENT_BYTES), 2048):
        try:
            parser.feed(data[at : at + 2048])
        except etree.XMLSyntaxError:
            # broken before or inside the first tag: the stream meets the same breakage first
            return next((element for _, element in parser.read_events()), None)
        for _, element in parser.read_events():
            return element
    return None


def _utf8(body: bytes, codec: str) -> bytes:
    """The body in UTF-8 without a BOM, decoded by the one charset rule."""
    if codec == "utf-8":
        return body.removeprefix(BOMS[0][0])
    try:
        return body.decode(codec).lstrip("\ufeff").encode("utf-8")
    except (UnicodeError, LookupError) as exc:
        raise Unsupported("encoding", str(exc)) from None


class _Reader:
    """Takes iterparse events; keeps the feed's own fields and each finished item."""

    def __init__(self, url: str | None, *, repair: bool, data: bytes) -> None:
        self.url, self.repair = url, repair
        self.base = url if url and url.startswith("http") else ""
        # without one written anywhere, no element can carry an xml:base or xml:lang
        # (the xml namespace is bound to the `xml` prefix alone)
        xml_ns = b"XML/1998/namespace" in data
        self.any_base = xml_ns or b"xml:base" in data
        self.any_lang = xml_ns or b"xml:lang" in data
        self.dialect: _Dialect | None = None
        self.root: Any = None
        self.channel: dict[str, str] = {}
        self.entries: list[Entry] = []

    def take(self, event: str, element: Any) -> None:
        if self.root is None:
            self.root = element.getroottree().getroot()
            if self.dialect is None:  # the root's start, the stream's first event
                self.dialect = _dialect(element)
                return
        if event != "end":
            return
        dialect = self.dialect
        assert dialect is not None
        tag = element.tag
        if isinstance(tag, str) and tag in dialect.items:
            if any(a.tag in dialect.items for a in element.iterancestors()):
                raise Unsupported("nested-items")
            self.entries.append(self._entry(element))
            _free(element)
        elif tag == _ATOM10_LINK and element.get("rel") in _WEBSUB_RELS and _in_channel(element, self.root):
            # WebSub discovery (docs/websub.md), as the feedparser path reads it: the last one counts
            href = _join(self._base(element), (element.get("href") or "").strip())
            if href:
                self.channel[f"websub_{element.get('rel')}"] = href
        elif tag in dialect.feed_tags and _in_channel(element, self.root):
            key = dialect.feed_tags[tag]
            if not self.channel.get(key):  # the first one written counts
                # the feed's own fields are informational: markup in them is read as its text
                self.channel[key] = _fixed("".join(element.itertext()).strip(), self.repair)

    def document(self) -> ParsedDocument:
        if self.dialect is None:
            raise Unsupported("unknown-root")
        written = _lang(self.root) if self.any_lang else None
        language = self.channel.get("language") or (written or "").replace("_", "-") or None
        for entry in self.entries:
            entry.language = entry.language or language
        hints = {
            k: self.channel[k]
            for k in ("ttl", "sy_updateperiod", "sy_updatefrequency", "websub_hub", "websub_self")
            if self.channel.get(k)
        }
        return ParsedDocument(
            format=self.dialect.version,
            entries=self.entries,
            title=self.channel.get("title") or None,
            language=language,
            hints=hints,
        )

    def _entry(self, item: Any) -> Entry:
        assert self.dialect is not None
        found = _Found(guid=item.get(f"{{{_RDF}}}about") or None)
        self._walk(item, found, 1)
        contents = [v for kind, v in found.contents if kind in _HTML_TYPES] or [v for _, v in found.contents]
        names = [a["name"] for a in found.authors if a.get("name")]
        if not names and found.authors and found.authors[-1].get("raw"):
            names = [found.authors[-1]["raw"]]
        detail = found.summary_el if found.summary_el is not None else found.title_el
        published, published_raw = found.published or found.created or (None, None)
        return Entry(
            kind="feed-entry",
            guid=found.guid or None,
            link=found.link or None,
            title=found.title or None,
            summary_html=found.summary or None,
            content_html=contents[0] if contents and contents[0] else None,
            authors=names,
            published=published,
            published_raw=published_raw or None,
            updated=found.updated,
            tags=found.tags,
            enclosures=found.enclosures,
            language=_lang(detail) if detail is not None and self.any_lang else None,
            base_url=(self._base(detail) if detail is not None else "") or self.url,
        )

    def _walk(self, parent: Any, found: _Found, depth: int) -> None:
        """feedparser's handlers, in document order, at any depth inside the item."""
        assert self.dialect is not None
        ns = self.dialect.ns
        atom = ns in (_ATOM10, _ATOM03)
        for child in parent:
            if not isinstance(child.tag, str):
                if child.tag is etree.Entity:
                    raise Unsupported("entity", str(child))
                continue
            role, tag, local, own = _role(child.tag, ns)
            if role == "title":
                # the shallowest title wins; media:title never claims the depth
                if found.title_depth is None or depth < found.title_depth:
                    found.title, found.title_el = self._content(child, "text/plain"), child
                    if found.title and tag != f"{_MEDIA}title":
                        found.title_depth = depth
            elif role == "link":
                if atom or child.get("href") is not None:
                    self._atom_link(child, found)
                else:
                    found.link = _link(self._uri(child, self._text(child)))
            elif role == "guid":
                value = self._text(child)
                # feedparser reads attribute names without case: isPermalink is common
                attributes = {k.lower(): v for k, v in child.attrib.items()}
                permalink = attributes.get("ispermalink", "true") == "true"
                found.guid = self._uri(child, value) if permalink and value else value
                if permalink and found.link is None:
                    found.link = found.guid
            elif role == "summary":
                default = "text/plain" if local == "summary" else "text/html"
                value = self._content(child, default)
                if found.summary is not None and not found.has_content:
                    found.contents.append((_kind(child, "text/plain", atom, value), value))
                elif depth <= found.summary_depth:
                    found.summary, found.summary_el, found.summary_depth = value, child, depth
            elif role == "content":
                default = (
                    _CONTENT_DEFAULTS.get(local, "text/html")
                    if own
                    else _CONTENT_DEFAULTS.get(tag, "text/html")
                )
                value = self._content(child, default)
                kind = _kind(child, default, atom, value)
                found.has_content = True
                found.contents.append((kind, value))
                if found.summary is None and kind in ("text/plain", *_HTML_TYPES):
                    # a copy, without the detail (language, base) a summary element carries
                    found.summary, found.summary_depth = value, depth
            elif role == "published":
                written = self._text(child)
                found.published = (_date(written), written)
            elif role == "created":
                written = self._text(child)
                found.created = (_date(written), written)
            elif role == "updated":
                found.updated = _date(self._text(child))
            elif role == "author":
                found.authors.append(self._author(child, atom and own))
            elif role == "category":
                term = (child.get("term") if atom else None) or self._text(child)
                _tag(found.tags, term)
            elif role == "keywords":
                for term in self._text(child).split(","):
                    _tag(found.tags, term.strip())
            elif role == "itunes-category":
                _tag(found.tags, child.get("text") or "")
                self._walk(child, found, depth + 1)
            elif role == "enclosure":
                href = child.get("url") or child.get("href")
                if href:
                    found.enclosures.append(
                        {"href": href, "type": child.get("type"), "length": child.get("length")}
                    )
            elif role == "other" and len(child):
                self._walk(child, found, depth + 1)
            # role "source": the feed an entry was copied from; its title is not the entry's

    def _atom_link(self, child: Any, found: _Found) -> None:
        href, rel = child.get("href"), child.get("rel", "alternate")
        kind = child.get("type", "application/atom+xml" if rel == "self" else "text/html")
        if href is None:
            return
        href = self._uri(child, href.strip())
        if rel == "alternate" and _map_type(kind) in _HTML_TYPES:
            found.link = href
        elif rel == "enclosure":
            found.enclosures.append({"href": href, "type": child.get("type"), "length": child.get("length")})

    def _text(self, element: Any) -> str:
        """A text-only element's text; markup inside it is feedparser's to read."""
        if len(element):
            raise Unsupported("markup-in-text", str(element.tag))
        return _fixed((element.text or "").strip(), self.repair)

    def _author(self, element: Any, atom: bool) -> dict[str, str]:
        """One author as feedparser keeps it: a name, and the raw text feedparser shows
        when there is no name (an e-mail address alone)."""
        if atom:
            name = next((self._text(c) for c in element if etree.QName(c).localname == "name"), "")
            email = next((self._text(c) for c in element if etree.QName(c).localname == "email"), "")
            return {"name": name, "raw": email}
        raw = self._text(element)
        name = raw
        if match := _EMAIL.search(raw):
            name = raw.replace(match.group(0), "").replace("()", "").replace("<>", "").replace("&lt;&gt;", "")
            name = name.strip()
            name = name[1:] if name.startswith("(") else name
            name = name[:-1] if name.endswith(")") else name
            name = name.strip()
        return {"name": name, "raw": raw}

    def _content(self, element: Any, default: str) -> str:
        """A text construct's value as feedparser gives it: text, HTML, or XHTML made HTML."""
        kind = _map_type(element.get("type", default))
        if element.get("mode") == "base64" or kind not in ("text/plain", *_HTML_TYPES):
            raise Unsupported("markup-in-text", f"{element.tag} of type {kind}")
        if kind == "application/xhtml+xml":
            strip_div = self.dialect is not None and self.dialect.version == "atom10"
            text = _fixed(_xhtml(element, strip_div=strip_div), self.repair)
        else:
            text = self._text(element)
        base = self._base(element)
        if kind != "text/plain" and text and base != self.base:
            # an xml:base in scope: links inside resolve against it, as feedparser does
            return _absolute_links(text, base)
        return text

    def _base(self, element: Any) -> str:
        if not self.any_base:
            return self.base
        bases = [b for b in (e.get(f"{_XML}base") for e in _lineage(element)) if b is not None]
        base = self.base
        for written in bases:
            base = _join(base, written.strip())
        return base

    def _uri(self, element: Any, value: str) -> str:
        return _join(self._base(element), value) if value else value


def _dialect(root: Any) -> _Dialect:
    tag = root.tag if isinstance(root.tag, str) else ""
    if tag == "rss":
        return _Dialect(_rss_version(root), "", frozenset({"item", "entry"}), _feed_tags(""))
    if tag == f"{{{_USERLAND}}}rss":  # RSS 2.0 in UserLand's namespace: feedparser reads it as plain RSS
        return _Dialect(_rss_version(root), _USERLAND, _items(_USERLAND), _feed_tags(f"{{{_USERLAND}}}"))
    if tag == f"{{{_RDF}}}RDF":
        namespaces = set(root.nsmap.values())
        for ns, version in ((_RSS10, "rss10"), (_RSS090, "rss090")):
            if ns in namespaces:
                return _Dialect(version, ns, _items(ns), _feed_tags(f"{{{ns}}}"))
    for ns, version in ((_ATOM10, "atom10"), (_ATOM03, "atom03")):
        if tag == f"{{{ns}}}feed":
            return _Dialect(version, ns, _items(ns), _feed_tags(f"{{{ns}}}"))
    raise Unsupported("unknown-root", tag or "none")


def _rss_version(root: Any) -> str:
    """feedparser's name for the version attribute: any 2.x is rss20."""
    written = root.get("version") or ""
    return _RSS_VERSIONS.get(written) or ("rss20" if written.startswith("2.") else "rss")


def _items(ns: str) -> frozenset[str]:
    # feedparser takes <item> and <entry> alike, whatever the dialect
    return frozenset({f"{{{ns}}}item", f"{{{ns}}}entry"})


def _feed_tags(prefix: str) -> dict[str, str]:
    return {
        f"{prefix}title": "title",
        f"{prefix}language": "language",
        f"{_DC}language": "language",
        f"{prefix}ttl": "ttl",
        f"{_SY}updatePeriod": "sy_updateperiod",
        f"{_SY}updateFrequency": "sy_updatefrequency",
    }


def _in_channel(element: Any, root: Any) -> bool:
    """A child of the feed element (Atom), or of the channel (RSS, RDF)."""
    parent = element.getparent()
    if parent is root:
        return True
    return parent is not None and parent.getparent() is root and str(parent.tag).endswith("channel")


def _free(item: Any) -> None:
    """Drop a finished item and the ones before it: the stream keeps no tree behind it."""
    item.clear()
    parent = item.getparent()
    while parent is not None and item.getprevious() is not None:
        del parent[0]


def _lineage(element: Any) -> list[Any]:
    """The element's ancestors from the root down, then the element itself."""
    chain: list[Any] = [element, *element.iterancestors()]
    return chain[::-1]


def _lang(element: Any) -> str | None:
    for e in (element, *element.iterancestors()):
        if lang := e.get(f"{_XML}lang"):
            return str(lang).strip() or None
    return None


def _map_type(kind: str) -> str:
    """feedparser's `map_content_type`: Atom's short names as MIME types."""
    kind = kind.lower().strip()
    return _SHORT_TYPES.get(kind, kind)


def _xhtml(element: Any, *, strip_div: bool) -> str:
    """XHTML content as HTML, namespaces dropped (Atom 1.0: without its wrapping div)."""
    children = list(element)
    wrapped = (
        len(children) == 1
        and etree.QName(children[0]).localname == "div"
        and not (element.text or "").strip()
    )
    holder = children[0] if strip_div and wrapped and not (children[0].tail or "").strip() else element
    parts = [escape(holder.text or "", quote=False)]
    for child in holder:
        copy = etree.fromstring(etree.tostring(child, with_tail=False))  # the tail is text: added below
        for e in copy.iter():
            if isinstance(e.tag, str):
                e.tag = etree.QName(e).localname
        etree.cleanup_namespaces(copy)
        parts.append(etree.tostring(copy, encoding="unicode", method="html", with_tail=False))
        parts.append(escape(child.tail or "", quote=False))
    return "".join(parts).strip()


@dataclass(slots=True)
class _Found:
    """What the walk has read of one item so far, with feedparser's precedence state."""

    guid: str | None = None
    link: str | None = None
    title: str | None = None
    title_el: Any = None
    title_depth: int | None = None
    summary: str | None = None
    summary_el: Any = None
    summary_depth: int = 1_000
    has_content: bool = False
    contents: list[tuple[str, str]] = field(default_factory=list)
    published: tuple[datetime | None, str] | None = None
    created: tuple[datetime | None, str] | None = None
    updated: datetime | None = None
    authors: list[dict[str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    enclosures: list[dict[str, Any]] = field(default_factory=list)


def _absolute_links(markup: str, base: str) -> str:
    """The HTML with its links made absolute against `base`."""
    holder = lxml.html.fragment_fromstring(markup, create_parent="div")
    holder.make_links_absolute(base, resolve_base_href=False, handle_failures="ignore")
    inner = [escape(holder.text or "", quote=False)]
    inner += [lxml.html.tostring(child, encoding="unicode") for child in holder]
    return "".join(inner)


@lru_cache(maxsize=2048)
def _role(written: str, ns: str) -> tuple[str, str, str, bool]:
    """Which of feedparser's handlers an element of this tag meets inside an item (the first
    that claims it, in feedparser's order), with its canonical tag, local name, and whether it
    is in the dialect's own namespace. Decided once per tag, not once per element."""
    tag = _canonical(written)
    local = tag.rsplit("}", 1)[-1]
    own = tag == f"{{{ns}}}{local}" if ns else "}" not in tag
    for role, names, tags in _ROLES:
        if own and local in names or tag in tags:
            return role, tag, local, own
    return "other", tag, local, own


def _canonical(tag: str) -> str:
    """The tag with a known namespace spelled the usual way: feedparser matches them without case."""
    if tag[0] != "{":
        return tag
    ns, local = tag[1:].split("}", 1)
    known = _KNOWN_NS.get(ns.lower())
    return f"{{{known}}}{local}" if known and known != ns else tag


def _kind(element: Any, default: str, atom: bool, value: str) -> str:
    """The content's type as feedparser settles it: outside Atom, plain text that looks like HTML is HTML."""
    kind = _map_type(element.get("type", default))
    if not atom and kind == "text/plain" and _FeedParserMixin.looks_like_html(value):
        return "text/html"
    return kind


def _date(written: str) -> datetime | None:
    """feedparser's date reading as a UTC datetime, once per distinct string a day: feeds
    repeat their dates from poll to poll. Keyed by today's UTC date too, as feedparser fills
    a partial ISO 8601 date (no year, month or day) from it."""
    return _date_on(written, time.gmtime()[:3])


@lru_cache(maxsize=4096)
def _date_on(written: str, today: tuple[int, int, int]) -> datetime | None:
    return utc(_parse_date(written))  # immutable, safe to share


def _join(base: str, uri: str) -> str:
    """feedparser's `_urljoin`, without its substitution where it cannot match (it drops
    the slashes after `scheme://`), and without urljoin where there is no base."""
    if ":///" in uri:
        uri = _urifixer.sub(r"\1\3", uri)
    if not base:
        return uri
    try:
        return urllib.parse.urljoin(base, uri)
    except ValueError:
        return ""


def _tag(tags: list[str], term: str) -> None:
    if term and term not in tags:
        tags.append(term)


def _link(value: str) -> str:
    """feedparser's repair of `?a=1&amp;b=2` links escaped twice."""
    if "&" not in value:
        return value
    return _ENTITY_REF.sub(r"&\g<1>", value.replace("&amp;", "&"))


def _fixed(value: str, repair: bool) -> str:
    """feedparser's last touch on every text: UTF-8 read as Latin-1 and re-encoded
    (in a UTF-8 document) is undone; C1 controls become the windows-1252 characters."""
    if value.isascii():  # neither touch changes ASCII
        return value
    if repair:
        try:
            value = value.encode("iso-8859-1").decode("utf-8")
        except UnicodeError:
            pass
    return value.translate(_cp1252) if _C1.search(value) else value  # translate() is slow on long text
