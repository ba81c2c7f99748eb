"""The eighth pass over prepare and the store: the shortcuts give what the full work gives."""

from __future__ import annotations

import random

import pytest

from ingestd.dedupe import DEFAULT_SETTINGS, _urls, canonical_url

TRACKING = DEFAULT_SETTINGS.tracking_params


@pytest.mark.parametrize(
    "url, canonical",
    [
        ("https://example.org/a?b=2&a=1", "https://example.org/a?a=1&b=2"),
        # by name, then value: "a-b=1" sorts after "a=2" though "-" < "=" in the joined form
        ("https://example.org/a?a-b=1&a=2", "https://example.org/a?a=2&a-b=1"),
        ("https://example.org/a?a=2&a=1&a=", "https://example.org/a?a=&a=1&a=2"),
        ("https://example.org/a?utm_source=rss&id=7&fbclid=x", "https://example.org/a?id=7"),
        ("https://example.org/a?UTM_Medium=x&gclid=y", "https://example.org/a"),
        ("https://example.org/a#comments", "https://example.org/a"),
        ("https://example.org/a?x=1#top", "https://example.org/a?x=1"),
        ("https://example.org/a?ref=rss#x?y=1&b", "https://example.org/a?ref=rss"),
        ("https://example.org/a#", "https://example.org/a"),
    ],
)
def test_a_plain_query_or_fragment_is_canonicalized_without_parsing(url: str, canonical: str) -> None:
    assert _urls._PLAIN.fullmatch(url)
    assert not _urls._CANONICAL.fullmatch(url)
    assert canonical_url(url, TRACKING) == canonical == _urls._canonicalized(url, TRACKING)


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/a?b",  # no "=": w3lib writes "b="
        "https://example.org/a?=b",
        "https://example.org/a?",
        "https://example.org/a?b=1&&c=2",
        "https://example.org/a?b=1=2",
        "https://example.org/a?b=%41",
        "https://example.org/a?b=x+y",
        "https://example.org/a?b=x;c=1",
        "https://example.org/a/..?b=1",
        "https://example.org/a/.#top",
        "https://Example.org/a?b=1",
        "https://example.org:443/a?b=1",
        "https://example.org/a#top\n",
    ],
)
def test_a_query_that_may_change_is_canonicalized_in_full(url: str) -> None:
    assert not _urls._PLAIN.fullmatch(url)
    assert canonical_url(url, TRACKING) == _urls._canonicalized(url, TRACKING)


def test_random_links_with_queries_are_what_w3lib_makes_of_them() -> None:
    """The shortcut's claim, on links made of the characters it accepts and a few it does not,
    with the tracking list's names (exact and by prefix) among the pairs."""
    rng = random.Random(8)
    names = ["a", "A", "b", "a-b", "a.b", "x~", "_ga", "_gax", "utm_source", "fbclid", "ref_srcx", ""]
    taken = 0
    for _ in range(20000):
        host = ".".join(
            "".join(rng.choice("ab09-xX") for _ in range(rng.randint(1, 5))) for _ in range(rng.randint(1, 3))
        )
        path = "".join(rng.choice("az09-._~/AZ") for _ in range(rng.randint(0, 8)))
        pairs = [
            rng.choice(names)
            + rng.choice(["=", "=", "=", "", "=="])
            + "".join(rng.choice("ab1-_.~%+ =AZ") for _ in range(rng.randint(0, 3)))
            for _ in range(rng.randint(1, 4))
        ]
        query = f"?{'&'.join(pairs)}" if rng.random() < 0.8 else ""
        fragment = "#" + "".join(rng.choice("az?#&=/ %") for _ in range(rng.randint(0, 4)))
        if rng.random() < 0.6:
            fragment = ""
        url = f"{rng.choice(['http', 'https'])}://{host}/{path}{query}{fragment}"
        if _urls._PLAIN.fullmatch(url) and not _urls._CANONICAL.fullmatch(url):
            taken += 1
        assert canonical_url(url, TRACKING) == _urls._canonicalized(url, TRACKING), url
    assert taken > 500
