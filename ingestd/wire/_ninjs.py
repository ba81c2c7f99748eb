"""ninjs 1.x, 2.x and 3.0 JSON -> one entry.

The generations differ in shape more than in meaning: 1.x has `headline`,
`body_html`/`body_text`, `subject` items with `scheme` + `code` and renditions
keyed by name; 2.x has arrays (`headlines`, `bodies`, `subjects` with URIs)
under all-lowercase names; 3.0 spells the same names in camelCase
(`firstCreated`, `embargoedUntil`, `edNote`). Names are read without regard
to case, so one reader serves all three.
"""

from __future__ import annotations

from typing import Any

from ..errors import ParseError
from ..models import Concept, Entry, Rendition, WireFields
from ._codes import IPTC_SCHEMES
from ._markup import text_body_html
from ._xml import norm_time

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_ALIASES = {uri: alias for alias, uri in IPTC_SCHEMES.items()}  # 1.x names a scheme by URI


def generation(doc: dict[str, Any]) -> str:
    """'ninjs1', 'ninjs2' or 'ninjs3', from the document's shape."""
    keys = {k.lower() for k in doc}
    if not keys & {"headlines", "bodies", "subjects", "infosources"} and keys & {
        "headline",
        "body_text",
        "body_html",
        "body_xhtml",
        "subject",
        "byline",
    }:
        return "ninjs1"
    return "ninjs3" if any(k != k.lower() for k in doc) else "ninjs2"


def read_ninjs(raw: dict[str, Any]) -> tuple[list[Entry], list[str]]:
    """The story of one ninjs document (none, with a reason, when it is not text)."""
    doc = {k.lower(): v for k, v in raw.items()}
    uri = _str(doc.get("uri"))
    if uri is None:
        raise ParseError("ninjs without a uri")
    kind = _str(doc.get("type")) or "text"
    if kind not in ("text", "composite"):
        return [], [f"ninjs {uri}: a {kind} item, not text"]
    first_gen = generation(raw) == "ninjs1"
    headlines = _list(doc.get("headlines"))
    main = next((h for h in headlines if "sub" not in str(h.get("role", ""))), None)
    sub = next((h for h in headlines if "sub" in str(h.get("role", ""))), None)
    wire = WireFields(
        format="ninjs",
        byline=_str(doc.get("by")) or _str(doc.get("byline")),
        located=_str(doc.get("located")),
        subheadline=_str(sub.get("value")) if sub else None,
        slugline=_str(doc.get("slugline")),
        subjects=tuple(_concept(s) for s in _list(doc.get("subjects") or doc.get("subject"))),
        people=tuple(_concept(s) for s in _list(doc.get("people") or doc.get("person"))),
        organisations=tuple(_concept(s) for s in _list(doc.get("organisations") or doc.get("organisation"))),
        places=tuple(_concept(s) for s in _list(doc.get("places") or doc.get("place"))),
        genres=tuple(_concept(g) for g in _list(doc.get("genres") or doc.get("genre"))),
        keywords=tuple(k for k in doc.get("keywords") or [] if isinstance(k, str) and k.strip()),
        urgency=_urgency(doc.get("urgency")),
        embargo=norm_time(_str(doc.get("embargoeduntil") or doc.get("embargoed"))),
        version=_version(doc.get("version")),
        pub_status=_str(doc.get("pubstatus")),
        ed_note=_str(doc.get("ednote")),
        info_sources=tuple(n for n in (_str(s.get("name")) for s in _list(doc.get("infosources"))) if n),
        copyright_holder=_str(doc.get("copyrightholder")),
        renditions=_renditions(doc.get("renditions")),
    )
    entry = Entry(
        kind="feed-entry",
        guid=uri,
        title=_str(doc.get("headline")) if first_gen else _str(main.get("value")) if main else None,
        summary_html=_description(doc),
        content_html=_body(doc),
        published=norm_time(_str(doc.get("firstcreated"))),
        published_raw=_str(doc.get("firstcreated")),
        updated=norm_time(_str(doc.get("versioncreated"))),
        language=_str(doc.get("language")),
        wire=wire,
    )
    return [entry], []


def _body(doc: dict[str, Any]) -> str | None:
    for key in ("body_html", "body_xhtml"):
        if _str(doc.get(key)):
            return str(doc[key])
    if _str(doc.get("body_text")):
        return text_body_html(doc["body_text"])
    bodies = [{k.lower(): v for k, v in b.items()} for b in _list(doc.get("bodies"))]
    marked = next((b for b in bodies if str(b.get("contenttype", "")).lower() in _HTML_TYPES), None)
    if marked and _str(marked.get("value")):
        return str(marked["value"])
    plain = next((b for b in bodies if _str(b.get("value"))), None)
    return text_body_html(plain["value"]) if plain else None


def _description(doc: dict[str, Any]) -> str | None:
    if _str(doc.get("description_html")):
        return str(doc["description_html"])
    if _str(doc.get("description_text")):
        return text_body_html(doc["description_text"])
    found = [{k.lower(): v for k, v in d.items()} for d in _list(doc.get("descriptions"))]
    summary = next((d for d in found if "summary" in str(d.get("role", "summary"))), None)
    if summary is None or not _str(summary.get("value")):
        return None
    value = str(summary["value"])
    return value if str(summary.get("contenttype", "")).lower() in _HTML_TYPES else text_body_html(value)


def _concept(item: dict[str, Any]) -> Concept:
    """2.x/3.0 {name, uri, literal}; 1.x {name, scheme, code}."""
    item = {k.lower(): v for k, v in item.items()}
    code, scheme = _str(item.get("code")), _str(item.get("scheme"))
    uri = _str(item.get("uri"))
    if uri is None and code and scheme and scheme.startswith(("http://", "https://")):
        uri = scheme + code if scheme.endswith(("/", "#")) else f"{scheme}/{code}"
    alias = _ALIASES.get(scheme or "")
    qcode = f"{alias}:{code}" if alias and code else code
    return Concept(name=_str(item.get("name")), qcode=_str(item.get("literal")) or qcode, uri=uri)


def _renditions(value: Any) -> tuple[Rendition, ...]:
    """2.x/3.0: a list of named renditions; 1.x: an object keyed by name."""
    if isinstance(value, dict):
        items = [{**r, "name": name} for name, r in value.items() if isinstance(r, dict)]
    else:
        items = _list(value)
    found = []
    for raw in items:
        r = {k.lower(): v for k, v in raw.items()}
        name = _str(r.get("name"))
        if name:
            found.append(
                Rendition(
                    name=name,
                    href=_str(r.get("href")),
                    content_type=_str(r.get("contenttype") or r.get("mimetype")),
                    width=_int(r.get("width")),
                    height=_int(r.get("height")),
                    size=_int(r.get("sizeinbytes")),
                )
            )
    return tuple(found)


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _urgency(value: Any) -> int | None:
    number = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    return int(number) if number is not None and number == int(number) and 1 <= number <= 9 else None


def _version(value: Any) -> int | None:
    written = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return int(written) if written.isdigit() and int(written) >= 1 else None
