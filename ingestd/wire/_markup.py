"""Story bodies out of wire markup, as the HTML the normalizer reads.

NITF's `body.content` has its own block and inline elements; they map onto
HTML ones (hl2 -> h2, bq -> blockquote, media -> figure). Inline semantic
tags (person, org, chron, money…) keep only their text. XHTML payloads are
HTML already: only the namespace goes. Everything is escaped here and
sanitized again by the normalizer.
"""

from __future__ import annotations

import html
import re

from lxml import etree

from ._xml import attribute, child, children, descendants, local, text

_BLOCKS = {"p": "p", "hl2": "h2", "pre": "pre", "li": "li", "dt": "p", "dd": "p"}
_LISTS = {"ol", "ul"}
_CONTAINERS = {"block", "dl"}  # hold blocks, add nothing of their own
_INLINE = {"em", "q"}
_SKIPPED = {"note", "fn", "nitf-table-metadata", "hr"}  # desk notes and layout, not story text
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")


def nitf_body_html(content: etree._Element | None) -> str:
    """NITF `body.content` (or any NITF block container) -> HTML."""
    return "".join(_block(e) for e in content) if content is not None else ""


def _block(element: etree._Element) -> str:
    name = local(element)
    if name in _BLOCKS:
        tag = _BLOCKS[name]
        return f"<{tag}>{_inline_content(element)}</{tag}>"
    if name in _LISTS:
        return f"<ul>{''.join(_block(e) for e in element)}</ul>"
    if name == "bq":
        blocks = children(element, "block")
        quoted = "".join(map(nitf_body_html, blocks)) or f"<p>{html.escape(text(element) or '')}</p>"
        return f"<blockquote>{quoted}</blockquote>"
    if name in _CONTAINERS:
        return nitf_body_html(element)
    if name == "media":
        return _media(element)
    if name in ("table", "nitf-table"):
        return "".join(_row(row) for row in descendants(element, "tr"))
    if name in _SKIPPED or not name:
        return ""
    words = text(element)  # an element this reader does not know: its text, as a paragraph
    return f"<p>{html.escape(words)}</p>" if words else ""


def _inline_content(element: etree._Element) -> str:
    parts = [html.escape(element.text or "", quote=False)]
    for node in element:
        name = local(node)
        if name == "br":
            parts.append("<br>")
        elif name == "a":
            href = attribute(node, "href")
            inner = _inline_content(node)
            parts.append(f'<a href="{html.escape(href)}">{inner}</a>' if href else inner)
        elif name in _INLINE:
            parts.append(f"<{name}>{_inline_content(node)}</{name}>")
        elif name:
            parts.append(_inline_content(node))
        parts.append(html.escape(node.tail or "", quote=False))
    return "".join(parts)


def _media(media: etree._Element) -> str:
    """An NITF image as a figure: its first image reference and its caption."""
    if (attribute(media, "media-type") or "image") not in ("image", "photo", "graphic"):
        return ""
    reference = next(
        (r for r in children(media, "media-reference") if attribute(r, "source")),
        None,
    )
    caption = text(child(media, "media-caption")) or ""
    if reference is None and not caption:
        return ""
    image = (
        f'<img src="{html.escape(attribute(reference, "source") or "")}" alt="">'
        if reference is not None
        else ""
    )
    return f"<figure>{image}<figcaption>{html.escape(caption, quote=False)}</figcaption></figure>"


def _row(row: etree._Element) -> str:
    cells = [text(cell) or "" for cell in row if local(cell) in ("td", "th")]
    return f"<p>{html.escape(' | '.join(cells), quote=False)}</p>" if any(cells) else ""


def xhtml_body_html(root: etree._Element) -> str:
    """An XHTML payload (a whole document or a fragment) -> the HTML of its body."""
    body = next(iter(descendants(root, "body")), root)
    parts = [html.escape(body.text or "", quote=False)]
    for element in body:
        copy = _without_namespace(element)
        parts.append(etree.tostring(copy, method="html", encoding="unicode", with_tail=False))
        parts.append(html.escape(element.tail or "", quote=False))
    return "".join(parts)


def _without_namespace(element: etree._Element) -> etree._Element:
    copy = etree.fromstring(etree.tostring(element))
    for node in copy.iter():
        if isinstance(node.tag, str):
            node.tag = etree.QName(node).localname
    etree.cleanup_namespaces(copy)
    return copy


def text_body_html(plain: str) -> str:
    """Plain text -> one paragraph per blank-line-separated block."""
    return "".join(
        f"<p>{html.escape(' '.join(block.split()), quote=False)}</p>"
        for block in _PARAGRAPH_BREAK.split(plain)
        if block.strip()
    )
