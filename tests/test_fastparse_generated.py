"""Generated feeds through both XML readers: the fast path gives feedparser's stories."""

from __future__ import annotations

from html import escape

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingestd import normalize
from tests.support.fastparse import compare

PROFILES = normalize.load_profiles(None)
WORDS = st.sampled_from(
    [
        "Seoul",
        "talks",
        "résumé",
        "北京",
        "AT&T",
        "x < y",
        "«quoted»",
        "café",
        "news",
        "2020",
        "a/b",
        "Ünïcode",
    ]
)
TEXT = st.lists(WORDS, min_size=1, max_size=8).map(" ".join)
LINK = st.sampled_from(["/a/1", "b.html", "http://example.org/c?x=1&y=2", "https://n.example.com/d", "../e"])
DATE = st.sampled_from(
    [
        "Wed, 08 Jan 2020 15:31:02 GMT",
        "Wed, 8 Jan 2020 15:31:02 +0900",
        "2020-01-08T15:31:02Z",
        "2020-01-08T15:31:02+09:00",
        "2020-01-08",
        "yesterday",
    ]
)
HTML = st.lists(
    st.tuples(st.sampled_from(["p", "b", "a", "li"]), TEXT, LINK),
    min_size=1,
    max_size=4,
).map(
    lambda parts: "".join(
        f'<{t} href="{h}">{escape(x)}</{t}>' if t == "a" else f"<{t}>{escape(x)}</{t}>" for t, x, h in parts
    )
)
ITEM = st.fixed_dictionaries(
    {
        "title": TEXT,
        "link": st.none() | LINK,
        "guid": st.none() | st.tuples(TEXT.map(lambda t: t.replace(" ", "-")), st.booleans()),
        "summary": st.none() | HTML,
        "content": st.none() | HTML,
        "date": st.none() | DATE,
        "author": st.none() | st.sampled_from(["Jo Doe", "jo@example.org (Jo Doe)", "ed@example.org"]),
        "tags": st.lists(TEXT, max_size=3),
        "lang": st.none() | st.sampled_from(["en", "ko-KR", "fr_FR"]),
        "cdata": st.booleans(),
    }
)


def _html(value: str, cdata: bool) -> str:
    return f"<![CDATA[{value}]]>" if cdata else escape(value)


def _rss(items: list[dict], base: str | None) -> bytes:
    parts = []
    for i in items:
        parts.append("<item>")
        parts.append(f"<title>{escape(i['title'])}</title>")
        if i["link"]:
            parts.append(f"<link>{escape(i['link'])}</link>")
        if i["guid"]:
            parts.append(f'<guid isPermaLink="{str(i["guid"][1]).lower()}">{escape(i["guid"][0])}</guid>')
        if i["summary"]:
            parts.append(f"<description>{_html(i['summary'], i['cdata'])}</description>")
        if i["content"]:
            parts.append(f"<content:encoded>{_html(i['content'], i['cdata'])}</content:encoded>")
        if i["date"]:
            parts.append(f"<pubDate>{i['date']}</pubDate>")
        if i["author"]:
            parts.append(f"<author>{escape(i['author'])}</author>")
        parts.extend(f"<category>{escape(t)}</category>" for t in i["tags"])
        parts.append("</item>")
    xml_base = f' xml:base="{base}"' if base else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel{xml_base}><title>T</title><language>en</language>{''.join(parts)}</channel></rss>"
    ).encode()


def _atom(items: list[dict], base: str | None) -> bytes:
    parts = []
    for i in items:
        lang = f' xml:lang="{i["lang"]}"' if i["lang"] else ""
        parts.append(f"<entry{lang}>")
        parts.append(f"<title>{escape(i['title'])}</title>")
        if i["link"]:
            parts.append(f'<link rel="alternate" href="{escape(i["link"])}"/>')
        if i["guid"]:
            parts.append(f"<id>urn:x:{escape(i['guid'][0])}</id>")
        if i["summary"]:
            parts.append(f'<summary type="html">{_html(i["summary"], i["cdata"])}</summary>')
        if i["content"]:
            parts.append(f'<content type="html">{_html(i["content"], i["cdata"])}</content>')
        if i["date"]:
            parts.append(f"<published>{i['date']}</published><updated>{i['date']}</updated>")
        if i["author"]:
            parts.append(f"<author><name>{escape(i['author'])}</name></author>")
        parts.extend(f'<category term="{escape(t)}"/>' for t in i["tags"])
        parts.append("</entry>")
    xml_base = f' xml:base="{base}"' if base else ""
    return (
        f'<feed xmlns="http://www.w3.org/2005/Atom"{xml_base}><title>T</title>{"".join(parts)}</feed>'
    ).encode()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    items=st.lists(ITEM, min_size=1, max_size=3),
    atom=st.booleans(),
    base=st.none() | st.sampled_from(["http://base.example.net/x/", "/sub/"]),
)
def test_generated_feeds_agree(items: list[dict], atom: bool, base: str | None) -> None:
    """Any feed built from these parts: the fast path reads it, and every story field equals feedparser's."""
    body = (_atom if atom else _rss)(items, base)
    result = compare(body, PROFILES)
    assert result is not None, body
    assert all(not diff for _, diff in result), (body, result)
