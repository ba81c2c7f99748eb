"""Text hygiene: plain text out of markup, entities decoded, NFC, whitespace
collapsed inside a paragraph; and bodies cut into paragraph blocks.
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache

import lxml.etree
import lxml.html

from ..models import Picture
from ._draft import Block
from ._urls import make_links_absolute

_WORD = re.compile(r"\w+")
# C0/C1 controls, zero-width marks and the BOM: never wanted in news text.
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff]")
_MARKUP_HINT = re.compile(r"<[a-zA-Z/!]|&[#\w]+;")
# cp1252 letters of a UTF-8 sequence (lead byte, then continuation bytes): the mark of mis-decoding
_CONT = (
    "[\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014"
    "\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
)
# one leading character class, so the engine scans for it instead of trying three branches everywhere
_MOJIBAKE = re.compile(
    f"[\u00c2-\u00f4](?:(?<=[\u00c2-\u00df]){_CONT}|(?<=[\u00e0-\u00ef]){_CONT}{{2}}|(?<=[\u00f0-\u00f4]){_CONT}{{3}})"
)
_TERMINAL = re.compile(r"[.!?:;\"'”’»)\]…。]$")
_DROP_TAGS = (
    "script",
    "style",
    "iframe",
    "noscript",
    "object",
    "form",
    "button",
    "svg",
    "template",
    "select",
    "input",
    "textarea",
    "canvas",
    "video",
    "audio",
)
_BLOCK_TAGS = frozenset(
    {
        "p",
        "div",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "ul",
        "ol",
        "blockquote",
        "pre",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "aside",
        "nav",
        "table",
        "thead",
        "tbody",
        "tr",
        "td",
        "th",
        "dl",
        "dt",
        "dd",
        "figure",
        "figcaption",
        "hr",
        "address",
        "center",
        "body",
        "html",
    }
)
_UTF8 = lxml.html.HTMLParser(encoding="utf-8")
# lxml.html's parser picks each element's class in a Python call (form controls get their own);
# these trees need only HtmlElement's methods, and this one picks it in C
_FRAGMENTS = lxml.etree.HTMLParser()
_FRAGMENTS.set_element_class_lookup(
    lxml.etree.ElementDefaultClassLookup(
        element=lxml.html.HtmlElement,
        comment=lxml.html.HtmlComment,
        pi=lxml.html.HtmlProcessingInstruction,
        entity=lxml.html.HtmlEntity,
    )
)
_KEEP_TAG = {
    "h1": "h2",
    "h2": "h2",
    "h3": "h3",
    "h4": "h4",
    "h5": "h5",
    "h6": "h6",
    "li": "li",
    "blockquote": "blockquote",
    "pre": "pre",
}

# every attribute lxml's link rewriting reads (lxml.html.defs.link_attrs, <meta> refresh,
# <param> value, url() in style); <style> elements are dropped before links are rewritten
_LINK_ATTRIBUTE = lxml.etree.XPath(
    "boolean(.//@*[contains(' action archive background cite classid codebase content data dynsrc"
    " formaction href longdesc lowsrc profile src style usemap value ', concat(' ', name(), ' '))])"
)


def unmangle(text: str) -> str:
    """UTF-8 that was read as cp1252 ("Ã©", "â€™") turned back into what was written.

    Sequence by sequence, and only where the bytes make valid UTF-8, so correct
    text around a mangled word is left alone.
    """
    if text.isascii():  # O(1): mojibake is made of non-ASCII letters
        return text
    return _MOJIBAKE.sub(_utf8, text) if _MOJIBAKE.search(text) else text


def _utf8(match: re.Match[str]) -> str:
    return _repaired_sequence(match.group(0))


# a mangled text repeats its few letters (Russian's 33, in both cases, are 66 sequences); a
# repair that fails raises, which costs more than the decoding: each sequence is worked out once
@lru_cache(maxsize=4096)
def _repaired_sequence(sequence: str) -> str:
    try:
        return sequence.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return sequence


def clean_inline(text: str) -> str:
    """One paragraph of plain text: entities decoded, NFC, single spaces."""
    text = html.unescape(text) if "&" in text else text
    text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    return " ".join(text.split())  # str.split's whitespace is re's \s: one C pass, not a match per space


def plain(text: str | None) -> str:
    """Plain text from a field that may hold markup (real feeds put <i> in titles)."""
    if not text:
        return ""
    if _MARKUP_HINT.search(text):
        try:
            text = _fragment(text).text_content()
        except (lxml.etree.ParserError, ValueError):
            pass
    return clean_inline(text)


def text_blocks(text: str) -> list[Block]:
    """Page text -> paragraphs: one per line, rejoining lines a hard wrap split."""
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [clean_inline(line) for line in chunk.split("\n")]
        current = ""
        for line in filter(None, lines):
            wrapped = (
                current
                and not _TERMINAL.search(current)
                and (line[0].islower() or current.endswith(("-", ",")))
            )
            if wrapped:
                current += ("" if current.endswith("-") else " ") + line
            else:
                if current:
                    blocks.append(Block(current, html.escape(current, quote=False)))
                current = line
        if current:
            blocks.append(Block(current, html.escape(current, quote=False)))
    return blocks


def word_tokens(text: str) -> list[str]:
    """Words, casefolded; characters for scripts written without spaces (a Japanese page is not one word)."""
    words = _WORD.findall(text.casefold())
    return [ch for w in words for ch in (w if len(w) > 20 and not w.isascii() else [w])]


def parse_fragment(fragment: str, base_url: str | None) -> lxml.html.HtmlElement:
    """An HTML fragment as a tree under one <div>, dangerous parts removed, links absolute."""
    try:
        root = _fragment(fragment)
    except ValueError:  # lxml refuses str with an XML encoding declaration: give it bytes
        root = lxml.html.fragment_fromstring(fragment.encode("utf-8"), create_parent="div", parser=_UTF8)
    except lxml.etree.ParserError:  # nothing but comments or whitespace
        root = lxml.html.Element("div")
    drop_unwanted(root)
    if base_url and _LINK_ATTRIBUTE(root):  # rewriting walks every element: only where a link may be
        make_links_absolute(root, base_url)
    return root


def _fragment(fragment: str) -> lxml.html.HtmlElement:
    """`lxml.html.fragment_fromstring(fragment, create_parent="div")`, the tree made by _FRAGMENTS."""
    elements = lxml.html.fragments_fromstring(fragment, parser=_FRAGMENTS)
    root = _FRAGMENTS.makeelement("div")
    if elements and isinstance(elements[0], str):  # the text before the first element
        root.text = elements.pop(0)
    root.extend(elements)
    return root


def drop_unwanted(root: lxml.html.HtmlElement) -> None:
    for element in list(root.iter(*_DROP_TAGS, lxml.etree.Comment, lxml.etree.ProcessingInstruction)):
        if element.getparent() is not None:
            element.drop_tree()
    for embed in list(root.iter("embed")):
        _void(embed)


def _void(element: lxml.html.HtmlElement) -> None:
    """What libxml2's HTML 4 parser put inside a void element (HTML5's <embed>) moved after it:
    the text that follows an <embed> is the page's, not the embed's."""
    after = [element.text or "", *element]
    element.text = None
    tail, element.tail = element.tail, after[0]
    for child in reversed(after[1:]):
        element.addnext(child)
    last = after[-1] if len(after) > 1 else element
    last.tail = (last.tail or "") + (tail or "")


def embedded_media(root: lxml.html.HtmlElement) -> list[dict[str, str]]:
    """The <embed>s of a tree as enclosures: media, never text."""
    found = [(e.get("src", "").strip(), e.get("type", "").strip()) for e in root.iter("embed")]
    return [{"href": src, "type": kind} if kind else {"href": src} for src, kind in found if src]


def html_blocks(root: lxml.html.HtmlElement) -> tuple[list[Block], list[Picture]]:
    """A tree -> paragraph blocks in reading order, and the pictures it shows."""
    walker = _Walker()
    walker.walk(root)
    walker.flush()
    return walker.blocks, walker.pictures


class _Walker:
    """Flattens nested markup into blocks; inline markup is kept as HTML."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.pictures: list[Picture] = []
        self._html: list[str] = []
        self._text: list[str] = []
        self._tag = "p"
        self._after_br = False

    def flush(self) -> None:
        if not self._text:  # nothing since the last flush (every block element ends in one)
            self._after_br = False
            return
        text = clean_inline("".join(self._text))
        if text:
            self.blocks.append(Block(text, "".join(self._html).strip(), self._tag))
        self._html, self._text, self._after_br = [], [], False

    def _add_text(self, text: str) -> None:
        if text.strip():
            self._after_br = False
        self._text.append(text)
        self._html.append(html.escape(text, quote=False))

    def walk(self, element: lxml.html.HtmlElement) -> None:
        if element.text:
            self._add_text(element.text)
        for child in element:
            tag = child.tag  # lxml builds the string on each read
            if not isinstance(tag, str):
                tag = ""
            if tag == "br":
                self._line_break()
            elif tag == "img":
                self._image(child)
            elif tag == "embed":
                pass  # media, no text (`embedded_media`)
            elif tag == "figure":
                self.flush()
                self._figure(child)
            elif tag in _BLOCK_TAGS or (len(child) and _holds_blocks(child)):
                self.flush()
                self._tag = _KEEP_TAG.get(tag, "p")
                self.walk(child)
                self.flush()
                self._tag = "p"
            elif tag:
                if len(child):
                    for image in list(child.iter("img")):
                        self._image(image)
                        image.drop_tree()
                    self._text.append(child.text_content())
                else:  # no children (elements, comments, entities): no image, and its text is all its text
                    self._text.append(child.text or "")
                self._html.append(lxml.html.tostring(child, encoding=str, with_tail=False))
                self._after_br = False
            if child.tail:
                self._add_text(child.tail)

    def _line_break(self) -> None:
        # <br><br> separates paragraphs in much feed HTML; a single <br> is a line break.
        if self._after_br:
            # the first <br> now ends a paragraph instead
            del self._html[len(self._html) - 1 - self._html[::-1].index("<br>")]
            self.flush()
        else:
            self._text.append(" ")
            self._html.append("<br>")
            self._after_br = True

    def _image(self, image: lxml.html.HtmlElement, caption: str = "", in_figure: bool = False) -> None:
        width, height = image.get("width", ""), image.get("height", "")
        if width.strip() in ("0", "1") or height.strip() in ("0", "1"):
            return  # tracking pixel
        src = image.get("src") or image.get("data-src")
        caption = caption or clean_inline(image.get("alt") or "")
        # outside a <figure>, an image without alt text is an icon, a share button or a pixel
        if caption or (src and in_figure):
            self.pictures.append(Picture(caption=caption, href=src or None))

    def _figure(self, figure: lxml.html.HtmlElement) -> None:
        captions = figure.findall(".//figcaption")
        caption = clean_inline(" ".join(c.text_content() for c in captions))
        images = list(figure.iter("img"))
        if images:
            self._image(images[0], caption, in_figure=True)
        elif caption:
            self.pictures.append(Picture(caption=caption))


def _holds_blocks(element: lxml.html.HtmlElement) -> bool:
    # a comment's tag is a function: never in the set
    return any(e.tag in _BLOCK_TAGS for e in element.iterdescendants())
