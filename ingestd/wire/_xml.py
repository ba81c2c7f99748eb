"""Reading agency XML safely, and the small readings NITF and NewsML-G2 share.

No document may reach the network or expand entities: a DOCTYPE naming the
NITF DTD is common, and an internal subset is an old attack (billion laughs,
XXE). Entity references stay unexpanded and are put back here: the HTML ones
NITF's DTD defines (`&nbsp;`, `&eacute;`) as their characters, others dropped.
"""

from __future__ import annotations

import html.entities
import re
from datetime import UTC, date, datetime

from lxml import etree

from ..errors import ParseError

_PARSER_OPTIONS = dict(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)
_SPACE = re.compile(r"\s+")


def parse_xml(body: bytes) -> etree._Element:
    """The document's root element; ParseError naming the reason when it is not well-formed."""
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise ParseError(f"not well-formed XML: {exc}") from None
    if root is None:
        raise ParseError("XML without a root element")
    _inline_entities(root)
    return root


def _inline_entities(root: etree._Element) -> None:
    for entity in list(root.iter(etree.Entity)):
        name = (entity.text or "").strip("&;")
        point = html.entities.name2codepoint.get(name)
        text = (chr(point) if point is not None else "") + (entity.tail or "")
        parent = entity.getparent()
        if parent is None:
            continue
        previous = entity.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + text
        else:
            parent.text = (parent.text or "") + text
        parent.remove(entity)


def local(element: etree._Element) -> str:
    """The tag without its namespace: '{http://iptc.org/std/nar/2006-10-01/}newsItem' -> 'newsItem'."""
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def children(element: etree._Element | None, name: str) -> list[etree._Element]:
    """Child elements named `name`, in any namespace."""
    if element is None:
        return []
    return [c for c in element if local(c) == name]


def child(element: etree._Element | None, name: str) -> etree._Element | None:
    found = children(element, name)
    return found[0] if found else None


def descendants(element: etree._Element | None, name: str) -> list[etree._Element]:
    if element is None:
        return []
    return [e for e in element.iter() if local(e) == name]


def text(element: etree._Element | None) -> str | None:
    """All the element's text, white space collapsed; None when there is none."""
    if element is None:
        return None
    value = _SPACE.sub(" ", "".join(element.itertext())).strip()
    return value or None


def attribute(element: etree._Element | None, name: str) -> str | None:
    if element is None:
        return None
    value = element.get(name)
    return value.strip() if value and value.strip() else None


def norm_time(written: str | None) -> datetime | None:
    """ISO 8601, basic or extended (NITF's norm, NewsML-G2's dateTime) -> aware UTC.

    A time without a zone is not guessed at: None, so that the normalizer reads
    the written form with its profile's zone instead.
    """
    moment = _iso(written)
    if moment is None or moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


def norm_date(written: str | None) -> date | None:
    """The calendar date of an ISO 8601 date or time as written (its own day, not UTC's)."""
    moment = _iso(written)
    return moment.date() if moment else None


def _iso(written: str | None) -> datetime | None:
    if not written:
        return None
    try:
        return datetime.fromisoformat(written.strip())
    except ValueError:
        return None


def as_int(written: str | None, low: int, high: int) -> int | None:
    """An integer within [low, high] as written; None otherwise."""
    if written is None or not written.strip().isdigit():
        return None
    value = int(written.strip())
    return value if low <= value <= high else None
