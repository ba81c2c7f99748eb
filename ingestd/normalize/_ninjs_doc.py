"""The story as a ninjs 3.0 document (without uri/version/versionCreated,
which the store adds). Only ninjs fields: everything else is in story.ingest.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote, urlsplit

from jsonschema import Draft202012Validator

from ..models import Picture
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
    story.ninjs = ordered(doc)
    return draft


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
    if not href or urlsplit(href).scheme not in ("http", "https"):
        return None
    uri = quote(href, safe=":/?#[]@!$&'()*+,;=%~")
    # urlsplit forgives what a URI may not hold (a leading NUL, markup in the host)
    return uri if FORMAT_CHECKER.conforms(uri, "uri") else None
