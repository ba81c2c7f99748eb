"""The seventh pass' shortcuts in choosing a profile by host and ordering a ninjs document
give what urlsplit and `ninjs.ordered` give."""

from __future__ import annotations

import itertools
import random
from urllib.parse import urlsplit

import pytest

from ingestd.ninjs import ordered
from ingestd.normalize._ninjs_doc import _ordered
from ingestd.normalize._source import _hostname

URLS = [
    "https://www.Example.COM/news/1",
    "http://example.com",
    "http://example.com:8080/x?y#z",
    "http://example.com:65536/x",
    "http://example.com:/x",
    "http://user:pw@example.com/x",
    "http://[::1]:80/x",
    "http://exa\tmple.com/x",
    "http://example.com\n/x",
    " http://example.com/x",
    "HTTP://Example.com/x",
    "https://xn--bcher-kva.example/",
    "https://bücher.example/",
    "ftp://example.com/x",
    "http:///x",
    "http://a..b./?q",
    "//example.com/x",
    "/relative/path",
]


def _generated(count: int) -> list[str]:
    rng = random.Random(7)
    pieces = [
        "http",
        "https",
        "HTTP",
        "://",
        "@",
        ":",
        "80",
        "99999",
        "[",
        "]",
        "/",
        "?",
        "#",
        "a",
        "B.",
        "-",
        " ",
        "\t",
        "é",
    ]
    return ["".join(rng.choices(pieces, k=rng.randint(1, 10))) for _ in range(count)]


def _outcome(url: str, host) -> str | None:
    try:
        return host(url)
    except ValueError as exc:
        return f"ValueError: {exc}"


@pytest.mark.parametrize("url", URLS)
def test_hostname_is_urlsplits(url: str) -> None:
    assert _outcome(url, _hostname) == _outcome(url, lambda u: urlsplit(u).hostname)


def test_hostname_is_urlsplits_on_generated_links() -> None:
    for url in _generated(5000):
        assert _outcome(url, _hostname) == _outcome(url, lambda u: urlsplit(u).hostname), url


KEYS = [
    "type",
    "uri",
    "headlines",
    "bodies",
    "language",
    "by",
    "associations",
    "x-unknown",
    "altIds",
    "a-unknown",
]


def test_ordered_is_ninjs_ordered_for_every_key_set() -> None:
    for size in range(len(KEYS) + 1):
        for keys in itertools.permutations(KEYS, size) if size <= 3 else itertools.combinations(KEYS, size):
            doc = {key: index for index, key in enumerate(keys)}
            assert list(_ordered(doc).items()) == list(ordered(doc).items())
