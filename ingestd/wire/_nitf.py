"""NITF 3.x: one document, one story.

head/docdata     doc-id, du-key (the story across its versions), urgency,
                 date.issue, date.release (embargo), key-list, ed-msg,
                 doc.copyright, identified-content
head/tobject     tobject.subject: IPTC subject codes; tobject.type: genre
body.head        hedline (hl1, hl2), byline (byttl), dateline (location,
                 story.date), abstract, distributor
body.content     the story; media with captions
body.end         tagline
"""

from __future__ import annotations

from lxml import etree

from ..models import Concept, Entry, WireFields
from ._codes import SUBJECT_CODES
from ._markup import nitf_body_html
from ._xml import as_int, attribute, child, children, descendants, local, norm_date, norm_time, text

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_STATUS = {"usable": "usable", "withheld": "withheld", "canceled": "canceled", "embargoed": "usable"}


def read_nitf(root: etree._Element) -> Entry:
    """An `nitf` element -> the entry it holds, with its WireFields."""
    head, body = child(root, "head"), child(root, "body")
    docdata = child(head, "docdata")
    body_head = child(body, "body.head")
    hedline = child(body_head, "hedline")
    du_key = child(docdata, "du-key")
    doc_id = child(docdata, "doc-id")
    dateline = child(body_head, "dateline")
    byline = child(body_head, "byline")
    issued = child(docdata, "date.issue")
    abstract = child(body_head, "abstract")
    identified = child(docdata, "identified-content")
    wire = WireFields(
        format="nitf",
        byline=_byline_text(byline),
        byline_title=text(child(byline, "byttl")),
        located=_location(dateline),
        dateline=text(dateline),
        dateline_date=norm_date(attribute(child(dateline, "story.date"), "norm")),
        subheadline=text(child(hedline, "hl2")),
        subjects=(
            *(_subject(s) for s in descendants(head, "tobject.subject")),
            *_named(identified, "classifier"),
        ),
        people=_named(identified, "person"),
        organisations=_named(identified, "org"),
        places=_named(identified, "location"),
        genres=_genres(child(head, "tobject")),
        keywords=tuple(k for k in (attribute(e, "key") for e in descendants(docdata, "keyword")) if k),
        urgency=as_int(attribute(child(docdata, "urgency"), "ed-urg"), 1, 9),
        embargo=norm_time(attribute(child(docdata, "date.release"), "norm")),
        version=as_int(attribute(du_key, "version"), 1, 1_000_000),
        pub_status=_STATUS.get((attribute(docdata, "management-status") or "").lower()),
        ed_note=" ".join(filter(None, (attribute(e, "info") for e in children(docdata, "ed-msg")))) or None,
        tagline=text(child(child(body, "body.end"), "tagline")),
        info_sources=tuple(
            dict.fromkeys(filter(None, (text(child(body_head, "distributor")), attribute(doc_id, "regsrc"))))
        ),
        copyright_holder=attribute(child(docdata, "doc.copyright"), "holder"),
    )
    return Entry(
        kind="feed-entry",
        guid=attribute(du_key, "key") or attribute(doc_id, "id-string"),
        title=text(child(hedline, "hl1")) or text(child(head, "title")),
        summary_html=nitf_body_html(abstract) or None,
        content_html=nitf_body_html(child(body, "body.content")) or None,
        published=norm_time(attribute(issued, "norm")),
        published_raw=attribute(issued, "norm"),
        language=_language(root, head, body),
        wire=wire,
    )


def _byline_text(byline: etree._Element | None) -> str | None:
    """The byline without its byttl (the writer's title is a field of its own)."""
    if byline is None:
        return None
    parts = [byline.text or ""]
    for node in byline:
        if local(node) != "byttl":
            parts.append("".join(node.itertext()))
        parts.append(node.tail or "")
    written = " ".join("".join(parts).split()).strip(" ,")
    return written or None


def _location(dateline: etree._Element | None) -> str | None:
    location = child(dateline, "location")
    city = text(child(location, "city"))
    return city or text(location)


def _subject(element: etree._Element) -> Concept:
    """tobject.subject: the most specific of its names; refnum is an IPTC subject code."""
    name = next(
        filter(
            None,
            (attribute(element, f"tobject.subject.{part}") for part in ("detail", "matter", "type")),
        ),
        None,
    )
    refnum = attribute(element, "tobject.subject.refnum")
    iptc = (attribute(element, "tobject.subject.ipr") or "IPTC").upper() == "IPTC"
    code = refnum if refnum and refnum.isdigit() and len(refnum) == 8 else None
    return Concept(
        name=name,
        qcode=f"subj:{code}" if code and iptc else refnum,
        uri=SUBJECT_CODES + code if code and iptc else None,
    )


def _named(identified: etree._Element | None, name: str) -> tuple[Concept, ...]:
    """identified-content's people, organisations, places and classifiers: text or value,
    with the source's own code (idsrc:value) as the literal."""
    found = []
    for element in children(identified, name):
        value, source = attribute(element, "value"), attribute(element, "idsrc")
        label = text(element) or value
        if label:
            found.append(Concept(name=label, qcode=f"{source}:{value}" if source and value else value))
    return tuple(found)


def _genres(tobject: etree._Element | None) -> tuple[Concept, ...]:
    kind = attribute(tobject, "tobject.type")
    return (Concept(name=kind),) if kind else ()


def _language(*elements: etree._Element | None) -> str | None:
    for element in elements:
        found = attribute(element, _XML_LANG)
        if found:
            return found
    return None
