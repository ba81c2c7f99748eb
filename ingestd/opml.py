"""OPML in and out: the feed lists other readers import and export.

Import reads OPML 1.0 and 2.0: outlines nest (folders), and an outline with
an `xmlUrl` is a feed. defusedxml refuses entity declarations and external
references, so a crafted file can neither expand into gigabytes nor read
local files. Every problem is collected before anything is written, then all
feeds go in in one transaction: a bad file imports nothing. Feed URLs must be
http(s): `file:` URLs and paths belong in the config file only (DESIGN.md,
"Network guard").
"""

from __future__ import annotations

import re
import unicodedata
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from datetime import datetime
from urllib.parse import urlsplit

import defusedxml
import defusedxml.ElementTree as SafeET

from .models import FeedConfig, FeedState
from .store import Store
from .store._reads import ImportReport

__all__ = ["OPMLError", "parse_opml", "import_opml", "export_opml", "feed_id_for"]

ORIGIN = "opml"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_NOT_ID = re.compile(r"[^a-z0-9]+")


class OPMLError(Exception):
    """The file cannot be imported: one line per problem in `.problems`."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def parse_opml(data: bytes, *, interval: float) -> list[FeedConfig]:
    """The feeds an OPML document lists, in document order. Raises OPMLError."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except defusedxml.DefusedXmlException as exc:
        raise OPMLError(
            [f"refused: the file declares XML entities or external references ({type(exc).__name__})"]
        ) from None
    except ET.ParseError as exc:
        raise OPMLError([f"not well-formed XML: {exc}"]) from None
    if root.tag != "opml":
        raise OPMLError([f"not OPML: the root element is <{root.tag}>, not <opml>"])
    body = root.find("body")
    if body is None:
        raise OPMLError(["not OPML: there is no <body>"])
    feeds: list[FeedConfig] = []
    problems: list[str] = []
    _walk(body, "body", interval, feeds, problems)
    if not problems and not feeds:
        problems.append("no feeds: no outline has an xmlUrl")
    if problems:
        raise OPMLError(problems)
    return feeds


def _walk(
    parent: ET.Element, where: str, interval: float, feeds: list[FeedConfig], problems: list[str]
) -> None:
    for index, outline in enumerate(parent.findall("outline"), start=1):
        attrs = {name.lower(): value for name, value in outline.attrib.items()}
        title = (attrs.get("title") or attrs.get("text") or "").strip()
        here = f"{where} › {title or f'outline {index}'}"
        url = attrs.get("xmlurl")
        if url is not None:
            problem = _url_problem(url.strip())
            if problem:
                problems.append(f'outline "{here}": {problem}')
            else:
                feeds.append(
                    FeedConfig(id=feed_id_for(title, url.strip()), url=url.strip(), interval=interval)
                )
        _walk(outline, here, interval, feeds, problems)


def _url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return f"{url!r} is not a URL"
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        return None if host else f"{url!r} has no host"
    if scheme == "file" or not scheme or len(scheme) == 1:  # C:\… on Windows
        return f"{url!r} refused: file: URLs and paths can be feeds only in the config file, never from OPML"
    return f"{url!r} refused: only http and https feeds can be imported"


def feed_id_for(title: str | None, url: str) -> str:
    """A stable id: the title if it is one already (as `export_opml` writes them), else
    the title made into one, else the URL's host and path. The store makes it unique."""
    if title and _ID.fullmatch(title):
        return title
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    slug = _slug(title or "") or _slug(f"{host} {parts.path}") or "feed"
    return slug[:64].rstrip("-")


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _NOT_ID.sub("-", ascii_text.lower()).strip("-")


def import_opml(
    store: Store,
    data: bytes,
    *,
    interval: float,
    now: datetime,
    progress: Callable[[list[FeedConfig]], Iterable[FeedConfig]] | None = None,
) -> ImportReport:
    """Parse, then add every feed in one transaction (feeds whose URL is known are left)."""
    return store.import_feeds(parse_opml(data, interval=interval), ORIGIN, now, progress)


def export_opml(feeds: Iterable[FeedState], title: str = "ingestd feeds") -> tuple[bytes, list[FeedState]]:
    """OPML 2.0 of the feeds not removed, and the local (file:) feeds left out of it,
    since no OPML import, ours included, may take them."""
    root = ET.Element("opml", version="2.0")
    ET.SubElement(ET.SubElement(root, "head"), "title").text = title
    body = ET.SubElement(root, "body")
    left_out = []
    for feed in feeds:
        if feed.state == "removed":
            continue
        if urlsplit(feed.url).scheme.lower() not in ("http", "https"):
            left_out.append(feed)
            continue
        ET.SubElement(body, "outline", text=feed.id, title=feed.id, type="rss", xmlUrl=feed.url)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n", left_out
