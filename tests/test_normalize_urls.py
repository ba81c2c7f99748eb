"""`join` is urljoin with a shortcut: the same answer (or the same ValueError) on every input."""

import random
from urllib.parse import urljoin, urlsplit

import lxml.html
import pytest

from ingestd.normalize._intake import _absolute
from ingestd.normalize._urls import join, make_links_absolute

BASES = [
    "https://example.com/news/feed.xml",
    "http://example.com/a/b/",
    "file:///work/feeds/agency.xml",
    "https://example.com",
    "http://[::1]:8080/x",
    "http://[bad/feed",  # urlsplit refuses it: so does every join on it
    "mailto:desk@example.com",
]
LINKS = [
    "https://example.com/story/1",
    "http://example.com/story/1?id=2#top",
    "https://other.example.org/a/b/c.html?x=1&y=2",
    "HTTPS://Example.com/Upper",
    "https://example.com/a;params",
    "https://example.com/a?",
    "https://example.com/a#",
    "https://example.com/a?#f",
    "https://example.com/a?q#",
    "https://example.com/a#f#g?h",
    "https://example.com/a b",
    "https://example.com/a\tb",
    "https://example.com/a\nb",
    "https://[::1]/x",
    "https://[::1/x",
    "http:///no-host",
    "http://",
    "https://exämple.com/ü",
    "https://example.com/%zz",
    "https://user:pw@example.com:81/x",
    "http://example.com:port/x",
    "//example.com/protocol-relative",
    "/absolute/path",
    "relative/path?q=1",
    "../up",
    "?only=query",
    "#only-fragment",
    "javascript:alert(1)",
    "data:image/png;base64,AAAA",
    "\x01https://example.com/control",
]


def _outcome(base: str, url: str, joiner) -> str:
    try:
        return joiner(base, url)
    except ValueError as exc:
        return f"ValueError: {exc}"


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("url", LINKS)
def test_join_is_urljoin(base: str, url: str) -> None:
    assert _outcome(base, url, join) == _outcome(base, url, urljoin)


def test_join_is_urljoin_on_generated_links() -> None:
    rng = random.Random(14)
    alphabet = "ab/?#;:@[]% \t.-_=&é"
    for _ in range(5000):
        tail = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
        url = rng.choice(["http://", "https://", "http:", "https:/", ""]) + tail
        base = rng.choice(BASES)
        assert _outcome(base, url, join) == _outcome(base, url, urljoin), (base, url)


MARKUPS = [
    '<p><a href="/a">a</a> <a href=" https://x.example/b ">b</a> <img src="http://[bad/c"> <a href>e</a></p>',
    '<p><a href="e">e</a><svg><a xlink:href="f">f</a></svg><form action="g"><button formaction="h">h</button></form></p>',
    '<p><a href="/a">a</a></p><base href="https://base.example/d/"><base href="https://other.example/">',
    '<p><a href="/a">a</a> <img src="http://[bad/c"></p><base href="https://base.example/d/">',
    '<p style="background: url(f.png)"><a href="/a">a</a></p>',
    '<p style="background: url(http://[bad/x) url(http://[bad/y)">two failing links in one style</p>',
    '<object codebase="/code/" classid="c.class" data="d.bin" archive="a.jar b.jar"></object>',
    '<meta http-equiv="refresh" content="0; url=/next"><param valuetype="ref" value="v">',
    "<style>p { background: url(s.png) } @import 'i.css';</style><p>x</p>",
    "<p>no links at all</p>",
]


def _rewritten(markup: str, rewrite) -> bytes | str:
    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    try:
        rewrite(root)
    except (
        ValueError,
        KeyError,
    ) as exc:  # as lxml fails (a <base href> it cannot join, a style it edits twice)
        return f"{type(exc).__name__}: {exc}"
    return lxml.html.tostring(root)


@pytest.mark.parametrize("base", ["https://example.com/feed", "file:///work/feed.xml", "http://[bad/feed"])
@pytest.mark.parametrize("markup", MARKUPS)
def test_links_rewritten_as_lxml_rewrites_them(base: str, markup: str) -> None:
    ours = _rewritten(markup, lambda root: make_links_absolute(root, base))
    theirs = _rewritten(
        markup,
        lambda root: root.make_links_absolute(base, resolve_base_href=False, handle_failures="discard"),
    )
    assert ours == theirs


def _absolute_as_it_was(url: str | None, base: str | None) -> str | None:
    """intake's `_absolute` before its shortcuts: urljoin, then urlsplit's judgement."""
    if not url:
        return None
    try:
        url = urljoin(base, url.strip()) if base else url.strip()
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it is what checks it
    except ValueError:
        return None
    if parts.scheme in ("http", "https") and not parts.hostname:
        return None
    return url


@pytest.mark.parametrize("base", [None, *BASES])
@pytest.mark.parametrize(
    "url",
    [
        *LINKS,
        "http://example.com:65535/x",
        "http://example.com:65536/x",
        "http://example.com:9999",
        "http://example.com:/x",
        "http://:80/x",
        "http://host\n.example/x",
        "https://a.b-c.example?q",
        None,
        "",
    ],
)
def test_absolute_as_it_was(url: str | None, base: str | None) -> None:
    assert _absolute(url, base) == _absolute_as_it_was(url, base)
