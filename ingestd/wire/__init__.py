"""Agency formats: NITF 3.x, NewsML-G2 2.x and ninjs 1.x/2.x/3.0 -> ParsedDocument.

    kind = sniff(head)                 # "nitf", "newsml-g2", "ninjs" or None
    document = read(body, kind)        # entries carry Entry.wire (WireFields)

Readers are pure (bytes in, entries out). What these formats state outright
and feeds do not (byline, dateline, IPTC subjects, urgency, embargo, version,
renditions…) travels in `Entry.wire` for the normalizer to take as given.
Items that are not text stories (NewsML-G2 packages and concepts, ninjs
pictures) are listed in `ParsedDocument.skipped` with their reason.
"""

from __future__ import annotations

import codecs
import json
import re
from typing import Any

from ..errors import ParseError
from ..models import ParsedDocument
from ._g2 import read_g2
from ._ninjs import generation, read_ninjs
from ._nitf import read_nitf
from ._xml import local, parse_xml

__all__ = ["read", "sniff"]

# the first element after the prolog (declaration, comments, processing instructions, DOCTYPE)
_ROOT = re.compile(
    rb"^(?:\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>))*\s*<(?:[\w.-]+:)?([\w.-]+)[\s>/]",
    re.S,
)
_G2_ROOTS = {
    b"newsItem",
    b"packageItem",
    b"conceptItem",
    b"knowledgeItem",
    b"planningItem",
    b"catalogItem",
    b"newsMessage",
}
_NINJS_ID = re.compile(rb'"uri"\s*:')
_NINJS_KEY = re.compile(
    rb'"(?:headlines|headline|bodies|body_text|body_html|versioncreated|versionCreated|firstcreated'
    rb'|firstCreated|representationtype|representationType)"\s*:'
)
_JSON_FEED = re.compile(rb'"version"\s*:\s*"https?://jsonfeed\.org/')


def sniff(head: bytes) -> str | None:
    """Which agency format the document's first bytes show (BOM and leading space removed)."""
    if head[:1] == b"<":
        match = _ROOT.match(head)
        root = match.group(1) if match else b""
        if root == b"nitf":
            return "nitf"
        return "newsml-g2" if root in _G2_ROOTS else None
    if head[:1] == b"{" and _NINJS_ID.search(head) and _NINJS_KEY.search(head):
        return None if _JSON_FEED.search(head) else "ninjs"
    return None


def read(body: bytes, kind: str) -> ParsedDocument:
    """One document of the sniffed kind; ParseError naming the reason when unreadable."""
    if kind == "ninjs":
        doc = _json(body)
        entries, skipped = read_ninjs(doc)
        return ParsedDocument(format=generation(doc), entries=entries, skipped=skipped)
    root = parse_xml(body)
    if kind == "nitf":
        if local(root) != "nitf":
            raise ParseError(f"NITF expected, root element is {local(root)!r}")
        version = (root.get("version") or "").removeprefix("-//IPTC//DTD NITF ").split("//")[0]
        return ParsedDocument(format=f"nitf{version}".strip(), entries=[read_nitf(root)])
    if kind == "newsml-g2":
        entries, skipped = read_g2(root)
        return ParsedDocument(format="newsml-g2", entries=entries, skipped=skipped)
    raise ValueError(f"not an agency format: {kind!r}")


def _json(body: bytes) -> dict[str, Any]:
    try:
        # json reads UTF-8, -16 and -32 from bytes, but refuses UTF-8's BOM
        doc = json.loads(body.removeprefix(codecs.BOM_UTF8))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ParseError(f"invalid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise ParseError("ninjs must be a JSON object")
    return doc
