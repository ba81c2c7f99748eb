"""A page's headline when its two declarations, JSON-LD `headline` and og:title, differ."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from ingestd.models import Entry
from ingestd.normalize import load_profiles, normalize_entry

NOW = datetime(2020, 1, 10, 12, 0, tzinfo=UTC)
PROFILES = load_profiles(None)
PARAGRAPHS = "".join(
    f"<p>Paragraph {n} of the story says what officials decided about the harbor and why it matters.</p>"
    for n in range(1, 7)
)
HEADLINE = "Harbor deal reached after two days of talks"
TEASER = "Why the port will stay open all winter"


def headline(*, json_ld: str, og_title: str, title: str, h1: str = HEADLINE) -> str:
    data = json.dumps({"@type": "NewsArticle", "headline": json_ld})
    markup = (
        f"<html><head><title>{title}</title>"
        '<meta property="og:site_name" content="Harbor Gazette">'
        f'<meta property="og:title" content="{og_title}">'
        f'<script type="application/ld+json">{data}</script>'
        f"</head><body><article><h1>{h1}</h1>{PARAGRAPHS}</article></body></html>"
    )
    entry = Entry(kind="page-html", page=markup, link="https://news.example.com/a/1")
    return normalize_entry(entry, feed_id="t", source=None, now=NOW, profiles=PROFILES).headline


@pytest.mark.parametrize(
    "og_title",
    [
        f"{HEADLINE} - Business | Gazette Online",  # a section and a site name the page names nowhere else
        f"Port strike: {HEADLINE}",  # a topic kicker
        f"Port strike | {HEADLINE} | Business",
    ],
)
def test_og_title_dressing_the_json_ld_headline_gives_way_to_it(og_title: str) -> None:
    """og:title holding the JSON-LD headline as one separated part adds chrome around it;
    even a <title> that repeats og:title does not bring the chrome back."""
    assert headline(json_ld=HEADLINE, og_title=og_title, title=og_title) == HEADLINE


def test_the_title_repeating_og_title_makes_it_the_headline() -> None:
    """Two wordings: the document's <title> (its site suffix aside) sides with og:title,
    and the JSON-LD/<h1> wording is the page's display headline."""
    assert (
        headline(json_ld=TEASER, og_title=HEADLINE, title=f"{HEADLINE} - Harbor Gazette", h1=TEASER)
        == HEADLINE
    )


def test_the_title_repeating_the_json_ld_headline_keeps_it() -> None:
    """og:title as a social-card teaser: the <title> names the JSON-LD wording."""
    assert headline(json_ld=HEADLINE, og_title=TEASER, title=f"{HEADLINE} | Harbor Gazette") == HEADLINE


def test_a_title_that_repeats_neither_leaves_json_ld_first() -> None:
    assert headline(json_ld=HEADLINE, og_title=TEASER, title="Harbor Gazette: latest news") == HEADLINE


def test_og_title_and_title_kept_as_published_when_they_win() -> None:
    """The publisher's characters survive the comparison, which folds only case and spaces."""
    published = "Harbor deal – the port's “winter” plan | a look back"
    assert headline(json_ld=TEASER, og_title=published, title=published, h1=TEASER) == published
