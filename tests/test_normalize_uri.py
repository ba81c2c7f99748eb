"""A picture's link taken as a URI on its face only where the format checker takes it too."""

import random

import pytest

from ingestd.normalize._ninjs_doc import _PLAIN_URI, FORMAT_CHECKER, _uri


@pytest.mark.parametrize(
    "href",
    [
        "https://example.com/a/b.jpg?w=640&h=480#top",
        "http://img.example.com:8080/x%20y.png",
        "https://example.com/%zz.jpg",
        "https://exa mple.com/x.jpg",
        "https://example.com/a#b#c",
        "https://[::1]/x.jpg",
        "https://user@example.com/x.jpg",
        "https://example.com/<b>.jpg",
        "https://example.com/ü.jpg",
        "ftp://example.com/x.jpg",
    ],
)
def test_uri_as_the_checker_says(href: str) -> None:
    uri = _uri(href)
    if uri is not None:
        assert FORMAT_CHECKER.conforms(uri, "uri")


def test_plain_uris_conform() -> None:
    rng = random.Random(14)
    alphabet = "aZ09-._~!$&'()*+,;=:@/?#%" * 4 + '[] <>"{}|\\^`é'
    plain = 0
    for _ in range(5000):
        uri = rng.choice(["http://", "https://"]) + "".join(
            rng.choice(alphabet) for _ in range(rng.randint(0, 16))
        )
        if _PLAIN_URI.fullmatch(uri):
            plain += 1
            assert FORMAT_CHECKER.conforms(uri, "uri"), uri
    assert plain
