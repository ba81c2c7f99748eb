"""The story as a ninjs 3.0 document (without uri/version/versionCreated,
which the store adds). Only ninjs fields: everything else is in story.ingest.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any
from urllib.parse import quote, urlsplit

from jsonschema import Draft202012Validator

from ..models import Concept, Picture, Rendition, WireFields
from ..ninjs import ordered, utc_z
from ._draft import Draft

FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER  # the one ninjs.validate checks with


def build_ninjs(draft: Draft) -> Draft:
    story = draft.story
    doc: dict[str, Any] = {"type": "text", "representationType": "full", "pubStatus": "usable"}
    if story.first_created:
        doc["firstCreated"] = utc_z(story.first_created)
    if story.language:
        doc["language"] = story.language
    doc["headlines"] = [{"role": "main", "value": story.headline}]
    if story.summary:
        doc["descriptions"] = [{"role": "summary", "value": story.summary}]
    doc["bodies"] = [
        {
            "role": "main",
            "contentType": "text/plain",
            "value": story.body_text,
            "charCount": len(story.body_text),
            "wordCount": len(story.body_text.split()),
        }
    ]
    if story.body_html:
        doc["bodies"].append({"role": "main", "contentType": "text/html", "value": story.body_html})
    if story.byline:
        doc["by"] = story.byline
    if story.located:
        doc["located"] = story.located
    subjects = [{"name": story.section, "rel": "section"}] if story.section else []
    subjects += [{"name": tag, "rel": "category"} for tag in story.tags if tag != story.section]
    if subjects:
        doc["subjects"] = subjects
    source_name = draft.profile.agency or (draft.page.site_name if draft.page else None)
    if source_name:
        doc["infoSources"] = [{"name": source_name, "role": "originator"}]
    if story.guid:
        doc["altIds"] = [{"role": "guid", "value": story.guid}]
    if story.pictures:
        doc["associations"] = [_picture(n, p) for n, p in enumerate(story.pictures, start=1)]
    if draft.entry.wire is not None:
        _wire_fields(doc, draft.entry.wire)
    story.ninjs = ordered(doc)
    return draft


# A plain http(s) URI (RFC 3986: a reg-name host, a port, path, query and fragment of unreserved
# characters, sub-delims and percent-escapes): valid on its face, without the checker's RFC 3987
# grammar (~20 µs a link); anything else is left to the checker.
_URI_CHAR = r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@]|%[0-9A-Fa-f]{2})"
_PLAIN_URI = re.compile(
    rf"https?://[A-Za-z0-9.-]+(?::[0-9]*)?(?:/{_URI_CHAR}*)*(?:\?(?:{_URI_CHAR}|[/?])*)?(?:#(?:{_URI_CHAR}|[/?])*)?"
)
_ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]+$")
_PUB_STATUS = ("usable", "withheld", "canceled")


def _wire_fields(doc: dict[str, Any], wire: WireFields) -> None:
    """What an agency item states outright and ninjs has a field for."""
    subjects = [c for c in map(_concept, wire.subjects) if c]
    if subjects:
        doc["subjects"] = [*doc.get("subjects", []), *subjects]
    for key, concepts in (
        ("people", wire.people),
        ("organisations", wire.organisations),
        ("places", wire.places),
        ("genres", wire.genres),
    ):
        found = [c for c in map(_concept, concepts) if c]
        if found:
            doc[key] = found
    if wire.subheadline:
        doc["headlines"].append({"role": "subheadline", "value": wire.subheadline})
    if wire.urgency is not None:
        doc["urgency"] = wire.urgency
    if wire.embargo is not None:
        doc["embargoedUntil"] = utc_z(wire.embargo)
    if wire.pub_status in _PUB_STATUS:
        doc["pubStatus"] = wire.pub_status
    if wire.slugline:
        doc["slugline"] = wire.slugline
    if wire.ed_note:
        doc["edNote"] = wire.ed_note
    if wire.copyright_holder:
        doc["copyrightHolder"] = wire.copyright_holder
    if wire.info_sources and "infoSources" not in doc:  # the profile's agency, when known, says it better
        doc["infoSources"] = [{"name": name} for name in wire.info_sources]
    if wire.renditions:
        doc["renditions"] = [_rendition(r) for r in wire.renditions]


def _concept(concept: Concept) -> dict[str, Any]:
    """A subject or genre: its name, URI (the scheme's + the code) and the qcode as written."""
    found: dict[str, Any] = {}
    if concept.name:
        found["name"] = concept.name
    if concept.uri and _ABSOLUTE_URI.match(concept.uri):
        found["uri"] = concept.uri
    if concept.qcode:
        found["literal"] = concept.qcode
    return found


def _rendition(rendition: Rendition) -> dict[str, Any]:
    found: dict[str, Any] = {"name": rendition.name}
    href = _uri(rendition.href)
    if href:
        found["href"] = href
    if rendition.content_type:
        found["contentType"] = rendition.content_type
    for key, value in (
        ("width", rendition.width),
        ("height", rendition.height),
        ("sizeInBytes", rendition.size),
    ):
        if value is not None:
            found[key] = value
    return found


def _picture(number: int, picture: Picture) -> dict[str, Any]:
    href = _uri(picture.href)
    digest = hashlib.sha1(f"{picture.href}\n{picture.caption}".encode()).hexdigest()[:16]
    association: dict[str, Any] = {
        "name": f"picture{number}",
        "rel": "picture",
        "uri": href or f"urn:ingestd:picture:{digest}",
        "type": "picture",
        "representationType": "partial",
    }
    if picture.credit:
        association["by"] = picture.credit
    if picture.caption:
        association["descriptions"] = [{"role": "caption", "value": picture.caption}]
    if href:
        association["renditions"] = [{"name": "original", "href": href}]
    return ordered(association)


def _uri(href: str | None) -> str | None:
    """An absolute http(s) link, percent-encoded so it is a valid URI; else None."""
    if href and _PLAIN_URI.fullmatch(href):  # nothing for quote to encode: the link as it is
        return href
    if not href or urlsplit(href).scheme not in ("http", "https"):
        return None
    uri = quote(href, safe=":/?#[]@!$&'()*+,;=%~")
    # urlsplit forgives what a URI may not hold (a leading NUL, markup in the host)
    return uri if _PLAIN_URI.fullmatch(uri) or FORMAT_CHECKER.conforms(uri, "uri") else None
