from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from ingestd.compose import save_poll, save_stories
from ingestd.dedupe import Policy
from ingestd.models import FeedConfig, FeedUpdate, PollWrite, Story
from ingestd.store import Store
from ingestd.timeutil import to_iso
from tests.support.store import WIRE, story

NOW = datetime(2020, 1, 9, 0, 31, 2, tzinfo=UTC)


def feed_poll(poll: int, stories: int = 3) -> list[Story]:
    """One poll of a feed whose guids change every time while links and texts do not."""
    return [
        story(
            guid=f"urn:poll{poll}:item{i}",
            url=f"https://example.org/{i}?utm_source={poll}",
            headline=f"Story {i}",
            body=f"The text of story number {i}.",
        )
        for i in range(stories)
    ]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "db" / "test.db")
    yield s
    s.close()


def kinds(changes: list) -> list[str]:
    return [c.kind for c in changes]


def test_same_story_twice_is_stored_once(store: Store) -> None:
    assert kinds(save_stories(store, [story()], NOW)) == ["created"]
    assert kinds(save_stories(store, [story()], NOW)) == ["unchanged"]
    assert store.count("stories") == 1 and store.count("events") == 1


def test_retitled_story_is_version_2_with_an_updated_event(store: Store) -> None:
    [first] = save_stories(store, [story()], NOW)
    [second] = save_stories(store, [story(headline="Retitled")], NOW + timedelta(minutes=5))
    assert (second.kind, second.story_id, second.version) == ("updated", first.story_id, 2)
    assert second.event["type"] == "story.updated"
    assert second.event["data"]["story"]["version"] == "2"
    assert second.event["data"]["story"]["versionCreated"] == "2020-01-09T00:36:02Z"
    assert second.event["id"] != first.event["id"]
    assert store.count("stories") == 1 and store.count("story_versions") == 2


def test_same_feed_polled_again_stores_nothing_new(store: Store) -> None:
    poll = [story(guid=f"g{i}", url=f"https://example.org/{i}", body=f"Text {i}.") for i in range(3)]
    save_stories(store, poll, NOW)
    assert kinds(save_stories(store, poll, NOW + timedelta(minutes=5))) == ["unchanged"] * 3
    assert store.count("stories") == 3 and store.count("events") == 3


def test_guids_changing_every_poll_switch_the_feed_to_url_without_duplicates(store: Store) -> None:
    with capture_logs() as logs:
        changes = [save_stories(store, feed_poll(n), NOW + timedelta(minutes=5 * n)) for n in range(3)]
    assert [kinds(c) for c in changes] == [["created"] * 3, ["unchanged"] * 3, ["unchanged"] * 3]
    created = store.db.execute("SELECT COUNT(*) FROM events WHERE type = 'story.created'")
    assert created.fetchone()[0] == 3 and store.count("stories") == 3
    switches = [
        (e["feed_id"], e["from"], e["to"], e["reason"])
        for e in logs
        if e["event"] == "identity policy changed"
    ]
    assert switches == [("f", "guid", "url", "guids change while the text stays the same")]
    assert store.identity_policy("f") == Policy("url", "guids change while the text stays the same")


def test_a_policy_switch_never_creates_stories_again(store: Store) -> None:
    """Stored under guid; then guids and links both break: the text still finds them."""
    save_stories(store, feed_poll(0), NOW)
    broken = [
        story(
            guid="same",
            url="https://example.org/",
            headline=f"Story {i}",
            body=f"The text of story number {i}.",
        )
        for i in range(3)
    ]
    with capture_logs():
        assert kinds(save_stories(store, broken, NOW)) == ["unchanged"] * 3
    assert store.identity_policy("f").name == "content"


def test_a_pinned_policy_does_not_move(store: Store) -> None:
    with capture_logs():
        for n in range(2):
            save_stories(store, feed_poll(n), NOW, identity="guid")
    assert store.identity_policies() == {"f": Policy("guid", "pinned in config", pinned=True)}
    assert store.count("stories") == 3  # guids say so; the links still keep copies out


def test_reset_policy_is_chosen_again(store: Store) -> None:
    with capture_logs():
        save_stories(store, feed_poll(0), NOW, identity="content")
        assert store.reset_identity_policy("f")
        save_stories(store, feed_poll(0), NOW)
    assert store.identity_policy("f").name == "guid"


def test_tracking_parameters_and_reordered_tags_are_no_change(store: Store) -> None:
    [first] = save_stories(store, [story(url="https://example.org/1?utm_source=a", tags=["a", "b"])], NOW)
    assert first.event["data"]["ingest"]["url"] == "https://example.org/1"
    assert kinds(
        save_stories(store, [story(url="https://example.org/1?utm_source=b&fbclid=x", tags=["b", "a"])], NOW)
    ) == ["unchanged"]


def test_a_text_a_version_already_had_is_no_change(store: Store) -> None:
    """Two copies served in turn (a stale cache) do not make a version each time."""
    save_stories(store, [story(body="First text.")], NOW)
    save_stories(store, [story(body="Second text.")], NOW)
    assert kinds(save_stories(store, [story(body="First text.")], NOW)) == ["unchanged"]


def test_whitespace_alone_is_not_a_change(store: Store) -> None:
    save_stories(store, [story(body="A body with words.")], NOW)
    assert kinds(save_stories(store, [story(body="A  body\nwith words. ")], NOW)) == ["unchanged"]


def test_dedupe_by_guid_then_link(store: Store) -> None:
    save_stories(store, [story(guid="g1", url="https://example.org/1")], NOW)
    # new guid, same link (case and fragment aside): the same story
    assert kinds(save_stories(store, [story(guid="other", url="HTTPS://Example.org/1#top")], NOW)) == [
        "unchanged"
    ]


def test_same_text_through_another_feed_is_stored_once(store: Store) -> None:
    save_stories(store, [story(feed_id="a", guid="1", url="https://a.example/1")], NOW)
    assert kinds(save_stories(store, [story(feed_id="b", guid="1", url="https://b.example/x")], NOW)) == [
        "unchanged"
    ]


def test_guids_repeated_within_a_document_identify_nothing(store: Store) -> None:
    batch = [story(guid="same", url=f"https://example.org/{i}", body=f"Body {i}") for i in range(3)]
    assert kinds(save_stories(store, batch, NOW)) == ["created"] * 3


def test_copy_through_another_feed_joins_the_first_story_s_cluster(store: Store) -> None:
    [first] = save_stories(
        store, [story(feed_id="a", guid="1", url="https://a.example/1", body=WIRE, published=NOW)], NOW
    )
    [copy] = save_stories(
        store,
        [
            story(
                feed_id="b",
                guid="x",
                url="https://b.example/x",
                headline="Surplus narrows again",
                body=WIRE + "\n\n(END)",
                published=NOW + timedelta(hours=5),
            )
        ],
        NOW,
    )
    assert copy.kind == "created" and copy.story_id != first.story_id
    assert (
        first.event["data"]["ingest"].items() >= {"cluster": first.story_id, "first_of_cluster": True}.items()
    )
    assert (
        copy.event["data"]["ingest"].items() >= {"cluster": first.story_id, "first_of_cluster": False}.items()
    )
    assert store.get_story(copy.story_id)["cluster_id"] == first.story_id


def test_cluster_stays_with_a_story_s_new_version(store: Store) -> None:
    [first] = save_stories(store, [story(feed_id="a", guid="1", body=WIRE, published=NOW)], NOW)
    [copy] = save_stories(
        store,
        [story(feed_id="b", guid="2", url="https://b.example/2", body=WIRE + " (END)", published=NOW)],
        NOW,
    )
    [update] = save_stories(
        store,
        [
            story(
                feed_id="b",
                guid="2",
                url="https://b.example/2",
                headline="(LEAD) Retitled",
                body=WIRE + " (END)",
                published=NOW,
            )
        ],
        NOW,
    )
    assert update.kind == "updated" and update.story_id == copy.story_id
    assert update.event["data"]["ingest"]["cluster"] == first.story_id
    assert store.count("story_bands") == 32  # the update's bands replaced the old ones


def test_copy_published_outside_the_window_starts_its_own_cluster(store: Store) -> None:
    save_stories(store, [story(feed_id="a", body=WIRE, published=NOW)], NOW)
    [late] = save_stories(
        store,
        [
            story(
                feed_id="b",
                guid="2",
                url="https://b.example/2",
                body=WIRE + " (END)",
                published=NOW + timedelta(days=4),
            )
        ],
        NOW + timedelta(days=4),
    )
    assert late.event["data"]["ingest"]["first_of_cluster"] is True


def test_next_day_s_templated_item_is_not_a_copy(store: Store) -> None:
    save_stories(store, [story(feed_id="a", body=WIRE, published=NOW)], NOW)
    tomorrow = WIRE.replace("Jan. 9", "Jan. 10").replace("5.97", "4.12").replace("6.05", "5.01")
    [other] = save_stories(
        store,
        [
            story(
                feed_id="a",
                guid="2",
                url="https://example.org/2",
                body=tomorrow,
                published=NOW + timedelta(days=1),
            )
        ],
        NOW,
    )
    assert other.event["data"]["ingest"]["first_of_cluster"] is True


def test_purged_story_still_in_its_feed_is_not_ingested_again(store: Store) -> None:
    save_stories(store, [story(body=WIRE, published=NOW)], NOW)
    later = NOW + timedelta(days=91)
    assert store.purge_stories(NOW - timedelta(days=1), later) == 0
    assert store.purge_stories(NOW + timedelta(days=1), later) == 1
    # the version's document stays while its outbox event does: the event refers to it
    assert [store.count(t) for t in ("stories", "story_versions", "story_bands")] == [0, 1, 0]
    assert kinds(save_stories(store, [story(body=WIRE, published=NOW)], later)) == ["unchanged"]
    assert store.count("stories") == 0 and store.count("events") == 1
    assert store.prune_outbox(later) == 1
    assert [store.count(t) for t in ("events", "story_versions")] == [0, 0]


def test_event_is_written_with_its_story(store: Store) -> None:
    [change] = save_stories(store, [story()], NOW)
    row = store.db.execute("SELECT id, story_id, version, type FROM events").fetchone()
    assert row == (change.event["id"], change.story_id, 1, "story.created")


def test_config_sync_keeps_learnt_state_and_sets_aside_removed_feeds(store: Store) -> None:
    feed = FeedConfig(id="f", url="https://example.org/feed", interval=300)
    store.sync_config_feeds([feed], NOW)
    save_poll(
        store,
        PollWrite("f", to_iso(NOW), 5, 200, 10),
        [],
        FeedUpdate.of("f", {"etag": '"x"', "error_count": 0, "state": "ok"}),
        NOW,
    )
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


def test_a_copy_later_in_the_same_batch_finds_the_first(store: Store) -> None:
    batch = [
        story(feed_id="a", guid="1", url="https://a.example/1"),
        story(feed_id="b", guid="1", url="https://b.example/x"),
    ]
    assert kinds(save_stories(store, batch, NOW)) == ["created", "unchanged"]
    assert store.count("stories") == 1


def test_new_stories_cost_one_key_look_up_for_their_batch(store: Store) -> None:
    save_stories(store, [story(guid="old", url="https://example.org/old", body="Stored before.")], NOW)
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    batch = [story(guid=f"n{i}", url=f"https://example.org/n{i}", body=f"New {i}.") for i in range(3)]
    changes = save_stories(
        store, [*batch, story(guid="old", url="https://example.org/old", body="Stored before.")], NOW
    )
    store.db.conn.set_trace_callback(None)
    assert kinds(changes) == ["created"] * 3 + ["unchanged"]
    # the batch's keys in one look-up; only the stored story is looked up further
    # (holder_of_text, find_story), the new ones not at all
    assert sum(s.startswith("SELECT key FROM story_keys WHERE key IN") for s in statements) == 1
    assert sum(s.startswith("SELECT key, story_id FROM story_keys") for s in statements) == 1
    assert sum("FROM story_keys k LEFT JOIN stories" in s for s in statements) == 1
