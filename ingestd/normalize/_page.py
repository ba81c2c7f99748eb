"""An article page's HTML -> body blocks, pictures and the page's own metadata.

trafilatura finds the main text. The metadata is gathered as evidence, every
source a page has, ranked but not yet chosen: JSON-LD NewsArticle, OpenGraph and
article:/author meta, microdata, rel=author links, <h1>, <title>, <time>, and
trafilatura's own metadata; the head steps pick from it. trafilatura drops
bylines and figure captions, so the page's short lines and its figures are kept
aside for the steps that need them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import lxml.etree
import lxml.html
import trafilatura
from trafilatura.htmlprocessing import convert_to_html
from trafilatura.settings import Document

from ..models import Picture
from ._draft import Block, PageMeta
from ._text import clean_inline, drop_unwanted, html_blocks, parse_fragment, word_tokens
from ._urls import make_links_absolute

_ARTICLE_TYPES = frozenset(
    {
        "NewsArticle",
        "Article",
        "ReportageNewsArticle",
        "AnalysisNewsArticle",
        "BlogPosting",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "Report",
    }
)
_ARTICLE_SCOPE = ('//*[@itemprop="articleBody"]', "//article", "//main", '//*[@role="main"]')
_PAGE_LINE_MAX = 200  # longer lines are paragraphs, not bylines or time lines
_PAGE_LINES = 400
_BOLD = re.compile(r"<(strong|b)>[^<]+</\1>")
_BOLD_LINE_MAX = 80
_LINK_WORDS = 8  # a run of words longer than a link's text is no cut the precise reading made
_CUT_SHARE = 0.7  # of a paragraph's words: a precise paragraph with fewer is not a cut of it
PRECISE_SHARE = 0.6  # of the default extraction's words: less, and precision cut the article
_SECOND_OPINION = 500  # characters: an extraction this short is checked against a bare one
_AUTHOR_SPLIT = re.compile(r"\s*(?:;|,|\band\b|&)\s*")
# lxml refuses these in text and attributes; a page carrying one is read without it
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# CMSs wrap JSON-LD in a CDATA section or an HTML comment, which JSON does not allow
_JSON_WRAPPER = re.compile(r"^\s*(?://\s*)?(?:<!\[CDATA\[|<!--)|(?://\s*)?(?:\]\]>|-->)\s*$")
_AUTHOR_META = ("author", "article:author", "byl", "sailthru.author", "dc.creator", "parsely-author")
_PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "datepublished",
    "pubdate",
    "publishdate",
    "publish-date",
    "sailthru.date",
    "parsely-pub-date",
    "dc.date.issued",
    "dc.date",
    "date",
)
# the site's chrome: menus, and the page header and footer (an article's own <header> holds its byline)
_CHROME = (
    "//nav | //*[@role='navigation'] | //*[@role='banner'] | //*[@role='contentinfo']"
    " | //header[not(ancestor::article) and not(.//h1)] | //footer[not(ancestor::article)]"
)
# trafilatura's date: the original (not the updated) time, with its clock and zone when the page has one
_DATE_PARAMS = {"original_date": True, "extensive_search": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z"}


def read_page(markup: str, url: str | None) -> tuple[list[Block], list[Picture], PageMeta]:
    """Raises ValueError when the markup holds no document at all."""
    try:
        tree = lxml.html.document_fromstring(_XML_UNSAFE.sub("", markup))
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ValueError(f"unreadable HTML: {exc}") from None
    meta = _metadata(tree)
    url = url or meta.canonical  # a saved page still knows where it lived
    if url and tree.find(".//base[@href]") is None:
        make_links_absolute(tree, url)
    # trafilatura reads the page as published: without links (they skew its link-density
    # judgement) and before our own pruning, which measured worse on real pages
    document = _extraction(tree, url=url, with_metadata=True, date_extraction_params=_DATE_PARAMS)
    # the precise reading drops more chrome; it is taken unless it also lost the article
    precise = _extraction(tree, url=url, favor_precision=True)
    whole = word_tokens(document.text or "") if document is not None else []
    kept = precise is not None and len(word_tokens(precise.text or "")) >= PRECISE_SHARE * len(whole)
    fuller = _extracted_blocks(document, url)
    blocks = _uncut(_extracted_blocks(precise, url), fuller) if kept else fuller
    drop_unwanted(tree)
    page_blocks, _ = html_blocks(tree.body if tree.find("body") is not None else tree)
    meta.page_lines = [b.text for b in page_blocks if len(b.text) <= _PAGE_LINE_MAX][:_PAGE_LINES]
    meta.bold_lines = frozenset(
        b.text for b in page_blocks if len(b.text) <= _BOLD_LINE_MAX and _BOLD.fullmatch(b.html)
    )
    scope = _article_scope(tree)
    _, scope_pictures = html_blocks(scope)
    pictures = [p for p in scope_pictures if p.caption]
    if blocks:
        blocks = _with_links(blocks, page_blocks)
    else:  # too little text for the extractor: take the article element as it is
        blocks, _ = html_blocks(scope)
    meta.extracted_text = (document.text or "") if document is not None else ""
    if len(meta.extracted_text) < _SECOND_OPINION:  # the bare extractor on the page as served
        second = _extraction(markup, url=url)
        if second is not None and len(second.text or "") > len(meta.extracted_text):
            meta.extracted_text = second.text or ""
    if document is not None:
        if document.author:
            meta.author_groups.append(("trafilatura", [a for a in document.author.split("; ") if a]))
        if document.date:
            meta.published.append(document.date)
    return blocks, pictures, meta


def _extracted_blocks(document: Document | None, url: str | None) -> list[Block]:
    if document is None or document.body is None or not len(document.body):
        return []
    body = lxml.etree.tostring(convert_to_html(document.body).find("body"), encoding=str)
    return html_blocks(parse_fragment(body, url))[0]


def _uncut(chosen: list[Block], fuller: list[Block]) -> list[Block]:
    """The precise reading's paragraphs, made whole from the default reading: precision also
    cuts link text out of sentences ("en un comunicado [Twitter Lite] ahora estará") and
    drops short subheads between the paragraphs it keeps."""
    uncut: list[Block] = []
    start, last = 0, None
    for block in chosen:
        words = word_tokens(block.text)
        found = next(
            (
                k
                for k in range(start, len(fuller))
                if fuller[k].text == block.text or _cut_from(words, fuller[k].text)
            ),
            None,
        )
        if found is None:
            uncut.append(block)
            last = None
            continue
        gap: list[Block] = fuller[last + 1 : found] if last is not None else []
        if all(b.tag.startswith("h") for b in gap):  # only subheads stood between two kept paragraphs
            uncut += gap
        uncut.append(Block(fuller[found].text, fuller[found].html, block.tag))
        start = last = found
        start += 1
    return uncut


def _cut_from(words: list[str], text: str) -> bool:
    """`words` are most of `text`'s words, in order, with only short runs left out: link
    texts, not a sentence (a summary repeating a paragraph's first sentence is no cut of
    it, nor is a heading whose words a paragraph happens to hold)."""
    whole = word_tokens(text)
    if not words or len(words) >= len(whole) or len(words) < _CUT_SHARE * len(whole):
        return False
    run, position = 0, 0
    for word in whole:
        if position < len(words) and word == words[position]:
            position, run = position + 1, 0
        elif (run := run + 1) > _LINK_WORDS:
            return False
    return position == len(words)


def _with_links(blocks: list[Block], page_blocks: list[Block]) -> list[Block]:
    """The extracted text with the page's own markup (links, emphasis) where a page paragraph
    reads the same: the extractor runs without links, which skew its judgement of the text."""
    markup: dict[str, str] = {}
    for block in page_blocks:
        markup.setdefault(block.text, block.html)
    return [Block(b.text, markup.get(b.text, b.html), b.tag) for b in blocks]


def _extraction(page: lxml.html.HtmlElement | str, **options: Any) -> Document | None:
    """trafilatura's reading of the article text: no links, images or comments; tables kept."""
    found = trafilatura.bare_extraction(
        page,
        include_links=False,
        include_images=False,
        include_comments=False,
        include_tables=True,
        **options,
    )
    return found if isinstance(found, Document) else None


def _article_scope(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    for xpath in _ARTICLE_SCOPE:
        found = tree.xpath(xpath)
        if found:
            return found[0]
    return tree


def _metadata(tree: lxml.html.HtmlElement) -> PageMeta:
    metas: dict[str, list[str]] = {}
    for element in tree.iter("meta"):
        key = (element.get("property") or element.get("name") or element.get("itemprop") or "").lower()
        content = element.get("content")
        if key and content and content.strip():
            metas.setdefault(key, []).append(content)

    def first(*keys: str) -> str | None:
        return next((_text(metas[k][0]) for k in keys if k in metas), None)

    article = _json_ld_article(tree)
    # the document's title, not an inline SVG icon's
    title = next((t.text for t in tree.iter("title") if t.text and t.text.strip()), None)
    canonical = tree.xpath('string(//link[@rel="canonical"]/@href)') or first("og:url")
    section = article.get("articleSection")
    if isinstance(section, list):
        section = section[0] if section else None
    keywords = article.get("keywords") or first("keywords", "news_keywords") or ""
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    publisher = article.get("publisher")
    publisher_name = _text(publisher.get("name")) if isinstance(publisher, dict) else None
    declared = [h for h in (_text(article.get("headline")), first("og:title")) if h]
    title = clean_inline(title) if title else None
    headlines = [
        h
        for h in (
            first("twitter:title"),
            title,
            *(_text(h.text_content()) for h in tree.xpath("//h1")[:2]),
        )
        if h
    ]
    return PageMeta(
        declared_headlines=declared,
        headlines=headlines,  # repeats kept: each is a vote
        title=title,
        author_groups=_author_groups(tree, article, metas),
        publishers=[n for n in (first("og:site_name"), publisher_name, first("application-name")) if n],
        chrome_links=_chrome_links(tree),
        published=[
            p
            for p in (
                _text(article.get("datePublished")),
                _text(article.get("dateCreated")),
                *(_text(v) for k in _PUBLISHED_META for v in metas.get(k, [])),
                *(_text(t.get("datetime")) for t in tree.xpath("//time[@datetime]")[:3]),
            )
            if p
        ],
        modified=_text(article.get("dateModified")) or first("article:modified_time"),
        section=_text(section) or first("article:section"),
        description=_text(article.get("description")) or first("og:description", "description"),
        language=_text(tree.get("lang"))
        or _text(article.get("inLanguage"))
        or first("content-language", "og:locale"),
        site_name=first("og:site_name") or publisher_name,
        canonical=canonical or None,
        tags=[t for t in (_text(k) for k in keywords if isinstance(k, str)) if t],
    )


def _author_groups(
    tree: lxml.html.HtmlElement, article: dict[str, Any], metas: dict[str, list[str]]
) -> list[tuple[str, list[str]]]:
    """Names by source, most trusted first: structured data, then links marked as the author's."""
    groups = [
        ("json-ld", _names(article.get("author")) or _names(article.get("creator"))),
        ("meta", [n for k in _AUTHOR_META for v in metas.get(k, []) for n in _split_authors(v)]),
        ("microdata", [_text(e.text_content()) or "" for e in tree.xpath('//*[@itemprop="author"]')[:6]]),
        ("rel-author", [_text(a.text_content()) or "" for a in tree.xpath('//a[@rel="author"]')[:6]]),
    ]
    return [(source, list(dict.fromkeys(n for n in names if n))) for source, names in groups if any(names)]


def _chrome_links(tree: lxml.html.HtmlElement) -> frozenset[str]:
    """Link texts of navigation, header and footer: what a name must not be."""
    return frozenset(
        folded
        for block in tree.xpath(_CHROME)
        for link in block.iter("a")
        if (folded := clean_inline(link.text_content()).casefold())
    )


def _json_ld_article(tree: lxml.html.HtmlElement) -> dict[str, Any]:
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(_JSON_WRAPPER.sub("", script.text or ""), strict=False)
        except ValueError:
            continue
        for node in _nodes(data):
            kinds = node.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if any(isinstance(k, str) and k in _ARTICLE_TYPES for k in kinds):
                return node
    return {}


def _nodes(data: Any) -> Iterator[dict[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _nodes(item)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _nodes(data["@graph"])


def _names(value: Any) -> list[str]:
    if isinstance(value, list):
        return [n for item in value for n in _names(item)]
    if isinstance(value, dict):
        value = value.get("name")
    return _split_authors(value) if isinstance(value, str) else []


def _split_authors(value: str) -> list[str]:
    """A meta author may list several names: "A, B and C" or "A; B"."""
    if value.startswith(("http://", "https://")):
        return []
    names = [n for n in (clean_inline(p) for p in _AUTHOR_SPLIT.split(value)) if n]
    # "Miller, Zeke" is one name written backwards, not two
    if len(names) == 2 and "," in value and all(len(n.split()) == 1 for n in names):
        return [clean_inline(value)]
    return names


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return clean_inline(value) or None
