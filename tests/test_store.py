from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ingestd.models import FeedConfig, Story
from ingestd.store import PollRecord, Store

NOW = datetime(2020, 1, 9, 0, 31, 2, tzinfo=timezone.utc)


def story(guid: str | None = "g1", url: str | None = "https://example.org/1",
          headline: str = "Headline", body: str = "A body with words.",
          feed_id: str = "f") -> Story:
    return Story(feed_id=feed_id, source="generic", headline=headline, body_text=body,
                 guid=guid, url=url,
                 ninjs={"type": "text", "headlines": [{"role": "main", "value": headline}],
                        "bodies": [{"role": "main", "contentType": "text/plain",
                                    "value": body}]})


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "db" / "test.db")
    yield s
    s.close()


def kinds(changes: list) -> list[str]:
    return [c.kind for c in changes]


def test_same_story_twice_is_stored_once(store: Store) -> None:
    assert kinds(store.save_stories([story()], NOW)) == ["created"]
    assert kinds(store.save_stories([story()], NOW)) == ["unchanged"]
    assert store.count("stories") == 1 and store.count("events") == 1


def test_changed_headline_is_version_2_with_an_updated_event(store: Store) -> None:
    [first] = store.save_stories([story()], NOW)
    [second] = store.save_stories([story(headline="Retitled")], NOW + timedelta(minutes=5))
    assert (second.kind, second.story_id, second.version) == ("updated", first.story_id, 2)
    assert second.event["type"] == "story.updated"
    assert second.event["data"]["story"]["version"] == "2"
    assert second.event["id"] != first.event["id"]
    assert store.count("story_versions") == 2


def test_whitespace_alone_is_not_a_change(store: Store) -> None:
    store.save_stories([story(body="A body with words.")], NOW)
    assert kinds(store.save_stories([story(body="A  body\nwith words. ")], NOW)) == ["unchanged"]


def test_dedupe_by_guid_then_link(store: Store) -> None:
    store.save_stories([story(guid="g1", url="https://example.org/1")], NOW)
    # new guid, same link (case and fragment aside): the same story
    assert kinds(store.save_stories(
        [story(guid="other", url="HTTPS://Example.org/1#top")], NOW)) == ["unchanged"]


def test_same_text_through_another_feed_is_stored_once(store: Store) -> None:
    store.save_stories([story(feed_id="a", guid="1", url="https://a.example/1")], NOW)
    assert kinds(store.save_stories(
        [story(feed_id="b", guid="1", url="https://b.example/x")], NOW)) == ["unchanged"]


def test_guids_repeated_within_a_document_identify_nothing(store: Store) -> None:
    batch = [story(guid="same", url=f"https://example.org/{i}", body=f"Body {i}")
             for i in range(3)]
    assert kinds(store.save_stories(batch, NOW)) == ["created"] * 3


def test_event_is_written_with_its_story(store: Store) -> None:
    [change] = store.save_stories([story()], NOW)
    row = store.db.execute("SELECT id, story_id, version, type FROM events").fetchone()
    assert row == (change.event["id"], change.story_id, 1, "story.created")


def test_config_sync_keeps_learnt_state_and_sets_aside_removed_feeds(store: Store) -> None:
    feed = FeedConfig(id="f", url="https://example.org/feed", interval=300)
    store.sync_config_feeds([feed], NOW)
    store.save_poll(PollRecord("f", NOW, 5, 200, 10), [],
                    {"etag": '"x"', "error_count": 0, "state": "ok"}, NOW)
    store.sync_config_feeds([FeedConfig(id="f", url=feed.url, interval=600)], NOW)
    state = store.get_feed("f")
    assert state.etag == '"x"' and state.interval == 600
    store.sync_config_feeds([], NOW)
    assert store.get_feed("f").state == "removed"
    assert store.claim_due(NOW + timedelta(days=1), 10) == []


def test_claimed_feed_is_not_claimed_again_until_released(store: Store) -> None:
    store.sync_config_feeds([FeedConfig(id="f", url="https://example.org/feed")], NOW)
    assert [f.id for f in store.claim_due(NOW, 10)] == ["f"]
    assert store.claim_due(NOW, 10) == []
    store.release_feeds(["f"], NOW)
    assert [f.id for f in store.claim_due(NOW, 10)] == ["f"]
