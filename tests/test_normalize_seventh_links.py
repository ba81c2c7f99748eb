"""The seventh pass' shortcuts in choosing a profile by host and in a picture's URI give what
urlsplit and quote give."""

from __future__ import annotations

import random
from urllib.parse import quote, urlsplit

import pytest

from ingestd.normalize._ninjs_doc import _PLAIN_URI, FORMAT_CHECKER, _uri
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


def _uri_as_it_was(href: str | None) -> str | None:
    if not href or urlsplit(href).scheme not in ("http", "https"):
        return None
    uri = quote(href, safe=":/?#[]@!$&'()*+,;=%~")
    return uri if _PLAIN_URI.fullmatch(uri) or FORMAT_CHECKER.conforms(uri, "uri") else None


@pytest.mark.parametrize(
    "href",
    [
        None,
        "",
        "https://img.example/a/b.jpg?w=640&h=480#x",
        "http://img.example:8080/a%20b.png",
        "https://img.example/a b.png",
        "https://img.example/caf\u00e9.png",
        "HTTPS://img.example/a.png",
        "https://img.example/a%zz.png",
        "https://img.example/a.png?q=[1]",
        "ftp://img.example/a.png",
        "/relative.png",
        "https://user@img.example/a.png",
    ],
)
def test_picture_uri_as_it_was(href: str | None) -> None:
    assert _uri(href) == _uri_as_it_was(href)


def test_picture_uri_as_it_was_on_generated_links() -> None:
    for href in _generated(5000):
        assert _outcome(href, _uri) == _outcome(href, _uri_as_it_was), href
