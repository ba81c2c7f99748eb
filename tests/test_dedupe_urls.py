"""Canonical URLs: one spelling per page."""

from __future__ import annotations

import random

import pytest

from ingestd.dedupe import DEFAULT_SETTINGS, _urls, canonical_url

TRACKING = DEFAULT_SETTINGS.tracking_params


@pytest.mark.parametrize(
    "url, canonical",
    [
        ("HTTPS://Example.ORG/a", "https://example.org/a"),
        ("https://example.org:443/a", "https://example.org/a"),
        ("http://example.org:80/a", "http://example.org/a"),
        ("https://example.org:8443/a", "https://example.org:8443/a"),
        ("https://example.org/a#comments", "https://example.org/a"),
        ("https://example.org/a?utm_source=rss&utm_medium=feed&id=7", "https://example.org/a?id=7"),
        ("https://example.org/a?fbclid=x&gclid=y&mc_cid=z", "https://example.org/a"),
        ("https://example.org/a?b=2&a=1", "https://example.org/a?a=1&b=2"),
        ("https://Bücher.example/straße", "https://xn--bcher-kva.example/stra%C3%9Fe"),
        ("https://example.org", "https://example.org/"),
        ("  https://example.org/a  ", "https://example.org/a"),
        ("https://user:secret@example.org/a", "https://example.org/a"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url, TRACKING) == canonical


@pytest.mark.parametrize(
    "url",
    [
        "mailto:desk@example.org",
        "file:///tmp/feed.xml",
        "/relative/path",
        "https://example.org:port/",
        "not a url",
    ],
)
def test_what_is_not_an_http_url_identifies_nothing(url: str) -> None:
    assert canonical_url(url, TRACKING) is None


def test_tracking_parameters_come_from_the_config_list() -> None:
    """`*` is a suffix wildcard; anything not listed is kept."""
    assert (
        canonical_url("https://e.org/?ref_src=a&refx=b&src_x=c", ("src_*", "ref_src"))
        == "https://e.org/?refx=b"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/",
        "http://www.example.org/2024/01/some-story_1.html",
        "https://a.b-c.example/A/B~c/d.e/-/",
        "https://127.0.0.1/x",
        "https://example.org//double//slashes",
        "https://example.org/..a/b../.c/c.",
        f"https://{'a' * 70}.example/{'long-label'}",
    ],
)
def test_a_link_taken_as_canonical_is_what_w3lib_makes_of_it(url: str) -> None:
    assert _urls._CANONICAL.fullmatch(url)
    assert _urls._canonicalized(url, TRACKING) == url == canonical_url(url, TRACKING)


@pytest.mark.parametrize(
    "url",
    [
        "HTTPS://example.org/a",
        "https://Example.org/a",
        "https://xn--bcher-kva.example/a",
        "https://example.org./a",
        "https://example.org:443/a",
        "https://user@example.org/a",
        "https://example.org",
        "https://example.org/a?b=1",
        "https://example.org/a#top",
        "https://example.org/a/./b",
        "https://example.org/a/../b",
        "https://example.org/a/..",
        "https://example.org/%7Ea",
        "https://example.org/a;b",
        "https://example.org/a b",
        "https://example.org/straße",
        " https://example.org/a",
    ],
)
def test_a_link_that_may_change_is_canonicalized_in_full(url: str) -> None:
    assert not _urls._CANONICAL.fullmatch(url)


def test_random_plain_links_are_what_w3lib_makes_of_them() -> None:
    """The shortcut's claim, on links made of the characters it accepts and a few it does not."""
    rng = random.Random(7)
    taken = 0
    for _ in range(20000):
        host = ".".join(
            "".join(rng.choice("ab09-xX_") for _ in range(rng.randint(1, 6)))
            for _ in range(rng.randint(1, 3))
        )
        path = "".join(rng.choice("az09-._~/AZ%?#;") for _ in range(rng.randint(0, 12)))
        url = f"{rng.choice(['http', 'https'])}://{host}/{path}"
        if _urls._CANONICAL.fullmatch(url):
            taken += 1
            assert _urls._canonicalized(url, TRACKING) == url
    assert taken > 500
