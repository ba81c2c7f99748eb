"""NewsML-G2 2.x: news items (alone or in a newsMessage) -> entries.

Only text newsItems are stories. Package, concept, knowledge, planning and
catalog items, and news items of pictures, video or audio, are recognised and
skipped with a reason.

    newsItem@guid, @version  the story, and which version of it this is
    itemMeta                 itemClass, provider, versionCreated, firstCreated,
                             embargoed, pubStatus, signal, edNote
    contentMeta              urgency, headline, slugline, by, dateline, located,
                             subject/genre (qcodes), language, infoSource,
                             creator, description, keyword
    contentSet               inlineXML (NITF or XHTML), inlineData (text or
                             HTML), remoteContent (renditions)

The newsmlg2 package was judged and not used: it prints to stdout (replay's
event stream) on a catalog it does not ship, keeps catalogs in a module-wide
list that every parse resets (unsafe in a worker pool), and parses with lxml's
defaults, which ingestd's safe parser must replace.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from lxml import etree

from ..models import Concept, Entry, Rendition, WireFields
from ._codes import code_of, qcode_uri
from ._markup import text_body_html, xhtml_body_html
from ._nitf import read_nitf
from ._xml import as_int, attribute, child, children, local, norm_time, text

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_NOT_NEWS = {
    "packageItem": "a package of references to other items, not a story",
    "conceptItem": "a vocabulary concept, not a story",
    "knowledgeItem": "a set of vocabulary concepts, not a story",
    "planningItem": "news coverage planning, not a story",
    "catalogItem": "a catalog of vocabulary schemes, not a story",
}
_TEXT_CLASSES = {None, "text", "composite"}
_NAMED = {"person", "organisation", "geoArea", "poi"}  # concept natures with a ninjs array of their own
_NITF_TYPES = ("application/nitf+xml", "application/vnd.iptc.nitf+xml", "text/vnd.iptc.nitf+xml")


def read_g2(root: etree._Element) -> tuple[list[Entry], list[str]]:
    """The stories of a G2 document, and one reason per item left out."""
    items = [i for s in children(root, "itemSet") for i in s] if local(root) == "newsMessage" else [root]
    entries: list[Entry] = []
    skipped: list[str] = []
    for item in items:
        name, guid = local(item), attribute(item, "guid") or "(no guid)"
        if name in _NOT_NEWS:
            skipped.append(f"{name} {guid}: {_NOT_NEWS[name]}")
        elif name != "newsItem":
            skipped.append(f"{name or 'non-element'} {guid}: not a NewsML-G2 item")
        else:
            item_class = code_of(attribute(child(child(item, "itemMeta"), "itemClass"), "qcode"))
            if item_class not in _TEXT_CLASSES:
                skipped.append(f"newsItem {guid}: a {item_class} item, not text")
            else:
                entries.append(_news_item(item))
    return entries, skipped


def _news_item(item: etree._Element) -> Entry:
    schemes = _schemes(item)
    meta, content = child(item, "itemMeta"), child(item, "contentMeta")
    headlines = children(content, "headline")
    main = next((h for h in headlines if "sub" not in (attribute(h, "role") or "")), None)
    sub = next((h for h in headlines if "sub" in (attribute(h, "role") or "")), None)
    located = child(content, "located")
    wire = WireFields(
        format="newsml-g2",
        byline=text(child(content, "by")) or _names(children(content, "creator")),
        located=text(child(located, "name")) or attribute(located, "literal"),
        dateline=text(child(content, "dateline")),
        subheadline=text(sub),
        slugline=text(child(content, "slugline")),
        subjects=_about(content, schemes, None),
        people=_about(content, schemes, "person"),
        organisations=_about(content, schemes, "organisation"),
        places=_about(content, schemes, "geoArea", "poi"),
        genres=tuple(_concept(g, schemes) for g in children(content, "genre")),
        keywords=tuple(k for k in (text(e) for e in children(content, "keyword")) if k),
        urgency=as_int(text(child(content, "urgency")) or text(child(meta, "urgency")), 1, 9),
        embargo=norm_time(text(child(meta, "embargoed"))),
        version=as_int(attribute(item, "version"), 1, 1_000_000_000),
        pub_status=code_of(attribute(child(meta, "pubStatus"), "qcode")),
        signals=tuple(q for q in (attribute(s, "qcode") for s in children(meta, "signal")) if q),
        ed_note=text(child(meta, "edNote")),
        info_sources=_sources(child(meta, "provider"), children(content, "infoSource")),
        copyright_holder=_party(child(child(item, "rightsInfo"), "copyrightHolder")),
        renditions=tuple(_rendition(r) for r in _content_set(item, "remoteContent") if attribute(r, "href")),
    )
    description = next(
        (d for d in children(content, "description") if "summary" in (attribute(d, "role") or "summary")),
        None,
    )
    entry = Entry(
        kind="feed-entry",
        guid=attribute(item, "guid"),
        title=text(main),
        summary_html=text_body_html(text(description) or "") or None,
        published=norm_time(text(child(meta, "firstCreated"))),
        published_raw=text(child(meta, "firstCreated")),
        updated=norm_time(text(child(meta, "versionCreated"))),
        language=attribute(child(content, "language"), "tag") or attribute(item, _XML_LANG),
        wire=wire,
    )
    return _with_payload(entry, wire, item)


def _with_payload(entry: Entry, wire: WireFields, item: etree._Element) -> Entry:
    """The body from the first text payload; an NITF payload also fills what contentMeta left out."""
    for element in _content_set(item, "inlineXML"):
        content_type = (attribute(element, "contenttype") or "").lower()
        payload = next(iter(element), None)
        if payload is None:
            continue
        if content_type in _NITF_TYPES or local(payload) == "nitf":
            inner = read_nitf(payload)
            return dataclasses.replace(
                entry,
                title=entry.title or inner.title,
                summary_html=entry.summary_html or inner.summary_html,
                content_html=inner.content_html,
                published=entry.published or inner.published,
                wire=_filled(wire, inner.wire) if inner.wire else wire,
            )
        return dataclasses.replace(entry, content_html=xhtml_body_html(payload) or None)
    for element in _content_set(item, "inlineData"):
        content_type = (attribute(element, "contenttype") or "text/plain").lower()
        data = element.text or ""
        body = data if content_type in ("text/html", "application/xhtml+xml") else text_body_html(data)
        return dataclasses.replace(entry, content_html=body or None)
    return entry


def _filled(given: WireFields, payload: WireFields) -> WireFields:
    """The item's metadata, with its gaps filled from the payload's."""
    gaps = {
        f.name: getattr(payload, f.name)
        for f in dataclasses.fields(given)
        if getattr(given, f.name) in (None, ()) and f.name != "format"
    }
    return dataclasses.replace(given, **gaps)


def _content_set(item: etree._Element, name: str) -> list[etree._Element]:
    return children(child(item, "contentSet"), name)


def _schemes(item: etree._Element) -> Mapping[str, str]:
    """The aliases the item's own catalogs declare."""
    return {
        alias: uri
        for catalog in children(item, "catalog")
        for scheme in children(catalog, "scheme")
        if (alias := attribute(scheme, "alias")) and (uri := attribute(scheme, "uri"))
    }


def _about(
    content: etree._Element | None, schemes: Mapping[str, str], *natures: str | None
) -> tuple[Concept, ...]:
    """The subjects of one concept nature (cpnat:person…); None: those of no nature ninjs
    has an array for (abstract concepts, events, objects)."""
    found = []
    for subject in children(content, "subject"):
        nature = code_of(attribute(subject, "type"))
        if nature in natures or (None in natures and nature not in _NAMED):
            found.append(_concept(subject, schemes))
    return tuple(found)


def _concept(element: etree._Element, schemes: Mapping[str, str]) -> Concept:
    qcode = attribute(element, "qcode")
    uri = attribute(element, "uri") or qcode_uri(qcode, schemes)
    literal = attribute(element, "literal")  # an identifier outside any scheme
    return Concept(name=text(child(element, "name")) or literal, qcode=qcode or literal, uri=uri)


def _sources(provider: etree._Element | None, sources: list[etree._Element]) -> tuple[str, ...]:
    """Who sent it: the provider (its name, literal or qcode's code), then the info sources."""
    names = [_party(provider) or _code(provider), *(_party(s) for s in sources)]
    return tuple(dict.fromkeys(n for n in names if n))


def _names(parties: list[etree._Element]) -> str | None:
    names = [n for n in (_party(p) for p in parties) if n]
    return ", ".join(names) or None


def _party(element: etree._Element | None) -> str | None:
    return text(child(element, "name")) or attribute(element, "literal") if element is not None else None


def _code(element: etree._Element | None) -> str | None:
    return code_of(attribute(element, "qcode"))


def _rendition(element: etree._Element) -> Rendition:
    return Rendition(
        name=code_of(attribute(element, "rendition")) or "original",
        href=attribute(element, "href"),
        content_type=attribute(element, "contenttype"),
        width=as_int(attribute(element, "width"), 1, 1_000_000),
        height=as_int(attribute(element, "height"), 1, 1_000_000),
        size=as_int(attribute(element, "size"), 0, 10**15),
    )
