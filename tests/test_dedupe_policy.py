"""The identity policy: chosen from what polls show, logged by the store, pinnable."""

from __future__ import annotations

from ingestd.dedupe import Policy, Sighting, choose_policy, identify, observe
from ingestd.dedupe._policy import Evidence, KeyEvidence
from ingestd.models import Story

TRACKING = ("utm_*",)
UNSEEN = Sighting(holder=None)


def story(guid: str | None, url: str | None, body: str = "Body") -> Story:
    return Story(feed_id="f", source="generic", headline="H", body_text=body, guid=guid, url=url)


GOOD = KeyEvidence(1)


def evidence(guid: KeyEvidence = GOOD, url: KeyEvidence = GOOD) -> Evidence:
    return Evidence(guid=guid, url=url)


def test_a_new_feed_with_good_guids_starts_on_guid() -> None:
    assert choose_policy(None, evidence(), None) == Policy("guid", "guids present, unique and stable")


def test_guids_repeated_for_different_texts_move_the_feed_to_url() -> None:
    batch = [story("1", "https://e.org/a", "One"), story("1", "https://e.org/b", "Two")]
    found = observe(identify(batch, TRACKING), [UNSEEN, UNSEEN])
    assert choose_policy(None, found, None) == Policy("url", "guids repeated within one document")


def test_an_entry_listed_twice_is_not_a_repeated_guid() -> None:
    batch = [story("1", "https://e.org/a", "One"), story("1", "https://e.org/a", "One")]
    assert observe(identify(batch, TRACKING), [UNSEEN, UNSEEN]).guid.repeated == 0


def test_guids_missing_from_most_entries_move_the_feed_to_url() -> None:
    batch = [
        story(None, "https://e.org/a"),
        story(None, "https://e.org/b", "B"),
        story("3", "https://e.org/c", "C"),
    ]
    assert choose_policy(None, observe(identify(batch, TRACKING), [UNSEEN] * 3), None).name == "url"


def test_stories_seen_again_under_new_guids_move_the_feed_to_url() -> None:
    current = Policy("guid", "guids present, unique and stable")
    moved = Sighting("st_1", frozenset({"guid:f:old", "url:https://e.org/a"}))
    found = observe(identify([story("new", "https://e.org/a")], TRACKING), [moved])
    assert (found.guid.moved, found.url.kept) == (1, 1)
    assert choose_policy(current, found, None) == Policy("url", "guids change while the text stays the same")


def test_a_guid_that_was_never_stored_has_not_changed() -> None:
    """Stories stored under the url policy have no guid keys: no evidence either way."""
    unknown = Sighting("st_1", frozenset({"url:https://e.org/a"}))
    found = observe(identify([story("g", "https://e.org/a")], TRACKING), [unknown])
    assert (found.guid.kept, found.guid.moved) == (0, 0)


def test_without_usable_guids_or_links_the_text_identifies() -> None:
    chosen = choose_policy(None, evidence(KeyEvidence(2, missing=2), KeyEvidence(2, repeated=2)), None)
    assert chosen == Policy("content", "guids missing from most entries; links repeated within one document")


def test_a_policy_never_steps_up_by_itself() -> None:
    current = Policy("url", "guids missing from most entries")
    assert choose_policy(current, evidence(), None) is current


def test_a_pinned_policy_ignores_evidence() -> None:
    pinned = choose_policy(None, evidence(KeyEvidence(3, repeated=3)), "guid")
    assert pinned == Policy("guid", "pinned in config", pinned=True)
    assert choose_policy(pinned, evidence(KeyEvidence(3, repeated=3)), "guid") is pinned


def test_unpinning_learns_again_from_guid() -> None:
    pinned = Policy("content", "pinned in config", pinned=True)
    assert choose_policy(pinned, evidence(), None).name == "guid"


def test_a_headline_alone_identifies_only_when_nothing_else_does() -> None:
    [with_guid, bare] = identify([story("1", None, ""), story(None, None, "")], TRACKING)
    assert with_guid.lookup("guid") == ["guid:f:1"]
    assert with_guid.recorded("guid") == ["guid:f:1", with_guid.content]
    assert with_guid.content.startswith("content:f:")  # no body: scoped to the feed
    assert bare.lookup("guid") == [bare.content]


def test_the_url_policy_does_not_look_up_or_keep_guids() -> None:
    [ident] = identify([story("g", "https://e.org/a?utm_source=x")], TRACKING)
    assert ident.lookup("url") == ["url:https://e.org/a", ident.content]
    assert ident.lookup("content") == [ident.content]
