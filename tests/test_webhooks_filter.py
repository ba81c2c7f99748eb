"""Which events a subscription wants: AND across keys, OR within, whole-word keywords."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ingestd.events import build_event
from ingestd.models import SubscriptionFilter
from ingestd.webhooks import matches, wants
from tests.support.webhooks import story

NOW = datetime(2020, 1, 9, 0, 31, 2, tzinfo=UTC)


def event(kind: str = "created", **story_fields: object) -> dict:
    return build_event(kind, "s1", 1, story(1, **story_fields), NOW)  # type: ignore[arg-type]


def test_empty_filter_takes_everything() -> None:
    assert matches(SubscriptionFilter(), event(section=None, language=None))


def test_every_key_given_must_match() -> None:
    """AND across keys: a story matching the source but not the section is left out."""
    both = SubscriptionFilter(sources=("yonhap",), sections=("Defense",))
    assert matches(both, event(source="yonhap", section="Defense"))
    assert not matches(both, event(source="yonhap", section="Economy"))
    assert not matches(both, event(source="ap", section="Defense"))


def test_any_value_within_a_key_matches() -> None:
    """OR within a key."""
    sections = SubscriptionFilter(sections=("Defense", "Politics"))
    assert matches(sections, event(section="Politics"))
    assert not matches(sections, event(section="Economy"))
    assert not matches(sections, event(section=None))


def test_sources_and_sections_ignore_case() -> None:
    assert matches(
        SubscriptionFilter(sources=("Yonhap",), sections=("defense",)),
        event(source="yonhap", section="Defense"),
    )


@pytest.mark.parametrize(
    "language,wanted,expected",
    [
        ("en", "en", True),
        ("en-GB", "en", True),
        ("EN", "en", True),
        ("en", "en-GB", False),
        ("eng", "en", False),
        (None, "en", False),
        ("ko", "en", False),
    ],
)
def test_language_matches_itself_and_its_regional_forms(
    language: str | None, wanted: str, expected: bool
) -> None:
    assert matches(SubscriptionFilter(languages=(wanted,)), event(language=language)) is expected


@pytest.mark.parametrize(
    "text,expected",
    [
        ("The Alliance holds.", True),  # case-insensitive
        ("alliance-wide talks", True),  # a hyphen ends a word
        ("(alliance)", True),
        ("alliances grow", False),  # whole words only
        ("the realliance", False),
        ("no such word", False),
    ],
)
def test_keywords_are_case_insensitive_whole_words(text: str, expected: bool) -> None:
    assert (
        matches(SubscriptionFilter(keywords=("alliance",)), event(body=text, headline="Headline")) is expected
    )


def test_keywords_look_at_the_headline_too() -> None:
    assert matches(
        SubscriptionFilter(keywords=("tariff",)), event(headline="New tariff announced", body="Nothing more.")
    )


def test_a_keyword_phrase_matches_across_any_whitespace() -> None:
    phrase = SubscriptionFilter(keywords=("cost sharing",))
    assert matches(phrase, event(body="The cost\n sharing talks"))
    assert not matches(phrase, event(body="The cost of sharing"))


def test_a_keyword_with_regex_characters_is_taken_literally() -> None:
    assert matches(SubscriptionFilter(keywords=("C++",)), event(body="Written in C++ today"))
    assert not matches(SubscriptionFilter(keywords=("a.c",)), event(body="abc"))


def test_blank_keywords_are_ignored() -> None:
    assert matches(SubscriptionFilter(keywords=("", "  ")), event(body="anything"))


@pytest.mark.parametrize(
    "first,wanted,expected",
    [(True, True, True), (False, True, False), (False, False, True), (True, False, False)],
)
def test_first_of_cluster(first: bool, wanted: bool, expected: bool) -> None:
    assert matches(SubscriptionFilter(first_of_cluster=wanted), event(first_of_cluster=first)) is expected


def test_wants_needs_the_event_type_and_the_filter() -> None:
    updated = event("updated")
    assert wants(("story.created", "story.updated"), SubscriptionFilter(), updated)
    assert not wants(("story.created",), SubscriptionFilter(), updated)
    assert not wants(("story.updated",), SubscriptionFilter(sources=("ap",)), updated)
