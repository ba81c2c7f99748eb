"""`join` is urljoin with a shortcut: the same answer (or the same ValueError) on every input."""

import random
from urllib.parse import urljoin

import lxml.html
import pytest

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


def _rewritten(markup: str, rewrite) -> bytes | str:
    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    try:
        rewrite(root)
    except ValueError as exc:  # a <base href> is applied with failures raised, by both
        return f"ValueError: {exc}"
    return lxml.html.tostring(root)


@pytest.mark.parametrize("base", ["https://example.com/feed", "http://[bad/feed"])
@pytest.mark.parametrize("with_base_tag", [False, True])
def test_links_rewritten_as_lxml_rewrites_them(base: str, with_base_tag: bool) -> None:
    markup = (
        '<p><a href="/a">a</a> <a href=" https://x.example/b ">b</a> <img src="http://[bad/c">'
        '<a href="e">e</a> <span style="background: url(f.png)">f</span></p>'
    )
    if with_base_tag:
        markup = markup.replace(' <img src="http://[bad/c">', "") + '<base href="https://base.example/d/">'
    ours = _rewritten(markup, lambda root: make_links_absolute(root, base))
    theirs = _rewritten(
        markup,
        lambda root: root.make_links_absolute(base, resolve_base_href=False, handle_failures="discard"),
    )
    assert ours == theirs
