"""Canonical URLs: one spelling per page."""

from __future__ import annotations

import pytest

from ingestd.dedupe import DEFAULT_SETTINGS, canonical_url

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
