"""The seventh pass' shortcuts give what the work they skip gave: intake's repair of an
entry's text fields (controls removed, mojibake undone) and link rewriting where a style
attribute holds no `url(`."""

from __future__ import annotations

import dataclasses

import lxml.html
import pytest

from ingestd.models import Entry
from ingestd.normalize._intake import _CONTROLS, _repaired
from ingestd.normalize._text import unmangle
from ingestd.normalize._urls import make_links_absolute

TEXTS = [
    "",
    "plain ASCII, nothing to do",
    "tab\tnew\nline\rreturn kept",
    "a NUL\x00 and a \x1f unit separator and a \x0b vertical tab",
    "noncharacters \ufffe and \uffff are dropped",
    "caf\u00c3\u00a9 and don\u00e2\u20ac\u2122t: mojibake",
    "café, naïve, Ünïcödé written right",
    "curly \u2019quotes\u2019 and \u201cdashes\u201d \u2014 no Latin-1 letters",
    "a lone surrogate \ud800 stays",
    "mojibake after a control: \x01caf\u00c3\u00a9",
    "Cyrillic текст and CJK 文字",
    "\u00c3",
]


def _as_it_was(entry: Entry) -> Entry:
    """intake's repair before the shortcuts: every field through both regexes, always a copy."""
    fields = {
        name: unmangle(_CONTROLS.sub("", value))
        for name in ("title", "summary_html", "content_html", "guid", "link", "published_raw")
        if isinstance(value := getattr(entry, name), str)
    }
    fields["authors"] = [unmangle(_CONTROLS.sub("", a)) for a in entry.authors]
    return dataclasses.replace(entry, **fields)


@pytest.mark.parametrize("text", TEXTS)
def test_repair_is_the_two_regexes(text: str) -> None:
    entry = Entry(
        kind="feed-entry",
        guid=text,
        link=text,
        title=text,
        summary_html=text,
        content_html=f"<p>{text}</p>",
        published_raw=text,
        authors=[text, "Jane Doe"],
    )
    assert _repaired(entry) == _as_it_was(entry)


def test_an_entry_with_nothing_to_repair_is_not_copied() -> None:
    entry = Entry(kind="feed-entry", title="Headline", content_html="<p>Body</p>", authors=["A. Writer"])
    assert _repaired(entry) is entry


MARKUPS = [
    '<p style="color: red"><a href="/a">a</a> <img src="b.png"></p>',
    '<p style=""><a href="/a" style="font-weight: bold">a</a></p>',
    '<p style="background: URL(f.png)"><a href="/a">a</a></p>',
    '<p style="background: Url(  \'g.png\' )"><a href="http://[bad/x">bad</a></p>',
    '<p style="content: \'url\'"><a href=" https://x.example/b ">b</a></p>',
    '<p style="background: url(unclosed"><a href="/a">a</a></p>',
]


@pytest.mark.parametrize("base", ["https://example.com/feed/", "http://[bad/feed"])
@pytest.mark.parametrize("markup", MARKUPS)
def test_style_attributes_rewritten_as_lxml_rewrites_them(base: str, markup: str) -> None:
    ours = lxml.html.fragment_fromstring(markup, create_parent="div")
    theirs = lxml.html.fragment_fromstring(markup, create_parent="div")
    make_links_absolute(ours, base)
    theirs.make_links_absolute(base, resolve_base_href=False, handle_failures="discard")
    assert lxml.html.tostring(ours) == lxml.html.tostring(theirs)
