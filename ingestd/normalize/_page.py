"""An article page's HTML -> body blocks, pictures and the page's own metadata.

trafilatura finds the main text; the metadata comes from <title>, og:/article:
meta and JSON-LD NewsArticle. trafilatura drops bylines and figure captions,
so the page's short lines and its figures are kept aside for the steps that
need them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import lxml.etree
import lxml.html
import trafilatura
from trafilatura.htmlprocessing import convert_to_html

from ..models import Picture
from ._draft import Block, PageMeta
from ._text import clean_inline, drop_unwanted, html_blocks, parse_fragment

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


def read_page(markup: str, url: str | None) -> tuple[list[Block], list[Picture], PageMeta]:
    """Raises ValueError when the markup holds no document at all."""
    try:
        tree = lxml.html.document_fromstring(markup)
    except (lxml.etree.ParserError, ValueError) as exc:
        raise ValueError(f"unreadable HTML: {exc}") from None
    meta = _metadata(tree)
    url = url or meta.canonical  # a saved page still knows where it lived
    if url and tree.find(".//base[@href]") is None:
        tree.make_links_absolute(url, handle_failures="discard")
    drop_unwanted(tree)
    page_blocks, _ = html_blocks(tree.body if tree.find("body") is not None else tree)
    meta.page_lines = [b.text for b in page_blocks if len(b.text) <= _PAGE_LINE_MAX][:_PAGE_LINES]
    scope = _article_scope(tree)
    _, scope_pictures = html_blocks(scope)
    pictures = [p for p in scope_pictures if p.caption]
    # bare_extraction, not extract: extract also fingerprints the text, a second
    # pass that costs as much as the extraction on a large page
    document = trafilatura.bare_extraction(
        tree, url=url, include_links=True, include_images=False, include_comments=False, include_tables=True
    )
    if document is not None and document.body is not None and len(document.body):
        body = lxml.etree.tostring(convert_to_html(document.body).find("body"), encoding=str)
        blocks, _ = html_blocks(parse_fragment(body, url))
    else:  # too little text for the extractor: take the article element as it is
        blocks, _ = html_blocks(scope)
    return blocks, pictures, meta


def _article_scope(tree: lxml.html.HtmlElement) -> lxml.html.HtmlElement:
    for xpath in _ARTICLE_SCOPE:
        found = tree.xpath(xpath)
        if found:
            return found[0]
    return tree


def _metadata(tree: lxml.html.HtmlElement) -> PageMeta:
    metas: dict[str, str] = {}
    for element in tree.iter("meta"):
        key = (element.get("property") or element.get("name") or element.get("itemprop") or "").lower()
        content = element.get("content")
        if key and content and key not in metas:
            metas[key] = content
    article = _json_ld_article(tree)
    title = tree.findtext(".//title")
    canonical = tree.xpath('string(//link[@rel="canonical"]/@href)') or metas.get("og:url") or None
    authors = _names(article.get("author")) or _split_authors(
        metas.get("author") or metas.get("article:author")
    )
    section = article.get("articleSection")
    if isinstance(section, list):
        section = section[0] if section else None
    keywords = article.get("keywords") or metas.get("keywords") or metas.get("news_keywords") or ""
    if isinstance(keywords, str):
        keywords = keywords.split(",")
    publisher = article.get("publisher")
    return PageMeta(
        title=clean_inline(title) if title else None,
        headline=_text(article.get("headline")) or _text(metas.get("og:title") or metas.get("twitter:title")),
        authors=authors,
        published=_text(article.get("datePublished"))
        or _text(metas.get("article:published_time") or metas.get("pubdate") or metas.get("date")),
        modified=_text(article.get("dateModified")) or _text(metas.get("article:modified_time")),
        section=_text(section) or _text(metas.get("article:section")),
        description=_text(article.get("description"))
        or _text(metas.get("og:description") or metas.get("description")),
        language=_text(tree.get("lang"))
        or _text(article.get("inLanguage"))
        or _text(metas.get("content-language"))
        or _text(metas.get("og:locale")),
        site_name=_text(metas.get("og:site_name"))
        or (_text(publisher.get("name")) if isinstance(publisher, dict) else None),
        canonical=canonical,
        tags=[t for t in (_text(k) for k in keywords if isinstance(k, str)) if t],
    )


def _json_ld_article(tree: lxml.html.HtmlElement) -> dict[str, Any]:
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "", strict=False)
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
    name = _text(value) if isinstance(value, str) else None
    return [name] if name else []


def _split_authors(value: str | None) -> list[str]:
    if not value or value.startswith(("http://", "https://")):
        return []
    return [clean_inline(value)]


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return clean_inline(value) or None
