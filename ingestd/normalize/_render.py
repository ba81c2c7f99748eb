"""The body out of its blocks: plain text, and HTML sanitized by nh3.

Runs after every step that edits blocks, so the sanitizer sees the final
markup: nothing may touch body_html after it.
"""

from __future__ import annotations

import nh3

from ._draft import Draft

_TAGS = {
    "p",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "li",
    "blockquote",
    "pre",
    "a",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "s",
    "sub",
    "sup",
    "small",
    "mark",
    "q",
    "cite",
    "abbr",
    "time",
    "code",
    "span",
    "br",
}
_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "time": {"datetime"}, "q": {"cite"}}
_SCHEMES = {"http", "https", "mailto"}


def render_body(draft: Draft) -> Draft:
    story = draft.story
    story.body_text = "\n\n".join(b.text for b in draft.blocks)
    parts: list[str] = []
    in_list = False
    for block in draft.blocks:
        if (block.tag == "li") != in_list:
            parts.append("<ul>" if not in_list else "</ul>")
            in_list = not in_list
        parts.append(f"<{block.tag}>{block.html}</{block.tag}>")
    if in_list:
        parts.append("</ul>")
    story.body_html = sanitize("".join(parts))
    story.pictures = draft.pictures
    return draft


def sanitize(markup: str) -> str:
    """No script, style, iframe, on* attributes or javascript: URLs survive."""
    return nh3.clean(
        markup,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
