"""The outbox side of webhooks in the store: delivery rows, claims, config and run-time state."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingestd.compose import redeliver, save_stories
from ingestd.models import SubscriptionConfig, SubscriptionFilter
from ingestd.store import Store
from ingestd.webhooks import Attempt, record_attempt
from tests.support.webhooks import FAST, SECRET, story

NOW = datetime(2020, 1, 9, 0, 31, 2, tzinfo=UTC)


def sub(
    sub_id: str = "newsroom",
    url: str = "https://hooks.example.org/in",
    events: tuple[str, ...] = ("story.created", "story.updated"),
    **story_filter: object,
) -> SubscriptionConfig:
    return SubscriptionConfig(
        id=sub_id, url=url, secrets=(SECRET,), events=events, filter=SubscriptionFilter(**story_filter)
    )  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "test.db")
    yield s
    s.close()


def deliveries(store: Store, sub_id: str = "newsroom") -> list[tuple[str, int, str]]:
    """(event type, version, state) of a subscription's deliveries, in event order."""
    return [
        tuple(r)
        for r in store.db.execute(
            "SELECT e.type, d.version, d.state FROM deliveries d JOIN events e ON e.seq = d.event_seq "
            "WHERE d.subscription_id = ? ORDER BY d.event_seq",
            [sub_id],
        )
    ]


def subscription_state(store: Store, sub_id: str = "newsroom") -> tuple[str, str | None]:
    [status] = [s for s in store.list_subscriptions() if s.id == sub_id]
    return status.state, status.reason


def test_a_delivery_row_is_written_with_its_event(store: Store) -> None:
    store.sync_config_subscriptions([sub()], NOW)
    [change] = save_stories(store, [story(1)], NOW)
    row = store.db.execute(
        "SELECT event_id, story_id, version, state, next_attempt_at FROM deliveries"
    ).fetchone()
    assert row == (change.event["id"], change.story_id, 1, "pending", "2020-01-09T00:31:02.000Z")


def test_no_delivery_without_its_story_and_event(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The transactional outbox: a transaction that fails leaves no delivery behind."""
    store.sync_config_subscriptions([sub()], NOW)
    apply = store.apply

    def crash_after_the_deliveries(intents: list) -> None:
        apply(intents)
        if store.count("deliveries"):
            raise RuntimeError("crash before commit")

    monkeypatch.setattr(store, "apply", crash_after_the_deliveries)
    with pytest.raises(RuntimeError):
        save_stories(store, [story(1)], NOW)
    assert (store.count("stories"), store.count("events"), store.count("deliveries")) == (0, 0, 0)


def test_unwanted_events_are_kept_as_filtered(store: Store) -> None:
    store.sync_config_subscriptions(
        [sub(sections=("Defense",)), sub("created-only", events=("story.created",))], NOW
    )
    save_stories(store, [story(1, section="Defense"), story(2, section="Economy")], NOW)
    save_stories(store, [story(1, section="Defense", headline="Retitled")], NOW)
    assert deliveries(store) == [
        ("story.created", 1, "pending"),
        ("story.created", 1, "filtered"),
        ("story.updated", 2, "pending"),
    ]
    assert [d[2] for d in deliveries(store, "created-only")] == ["pending", "pending", "filtered"]


def test_a_disabled_subscription_gets_no_deliveries(store: Store) -> None:
    store.sync_config_subscriptions([sub()], NOW)
    assert store.disable_subscription("newsroom", NOW)
    save_stories(store, [story(1)], NOW)
    assert deliveries(store) == []


def test_disabled_stays_disabled_across_a_restart(tmp_path: Path) -> None:
    """Run-time state survives re-opening the store and syncing the config again;
    the declared fields are still updated."""
    path = tmp_path / "restart.db"
    first = Store(path)
    first.sync_config_subscriptions([sub()], NOW)
    first.disable_subscription("newsroom", NOW, "disabled by operator")
    first.close()
    again = Store(path)
    again.sync_config_subscriptions([sub(url="https://hooks.example.org/moved")], NOW)
    [status] = again.list_subscriptions()
    assert (status.state, status.reason, status.url) == (
        "disabled",
        "disabled by operator",
        "https://hooks.example.org/moved",
    )
    again.close()


def test_a_subscription_gone_from_the_config_is_set_aside_and_can_come_back(store: Store) -> None:
    store.sync_config_subscriptions([sub()], NOW)
    store.sync_config_subscriptions([], NOW)
    assert subscription_state(store) == ("removed", "not in the config")
    save_stories(store, [story(1)], NOW)
    assert deliveries(store) == []
    assert not store.enable_subscription("newsroom", NOW)
    store.sync_config_subscriptions([sub()], NOW)
    assert subscription_state(store) == ("active", None)


def test_a_config_filter_change_applies_to_new_events(store: Store) -> None:
    store.sync_config_subscriptions([sub(sources=("ap",))], NOW)
    save_stories(store, [story(1)], NOW)
    store.sync_config_subscriptions([sub(sources=("yonhap",))], NOW)
    save_stories(store, [story(2)], NOW)
    assert [d[2] for d in deliveries(store)] == ["filtered", "pending"]


def claim(store: Store, at: datetime = NOW):
    return store.claim_delivery("newsroom", at, FAST)


def test_claims_go_oldest_first_and_never_v2_before_v1_is_final(store: Store) -> None:
    store.sync_config_subscriptions([sub()], NOW)
    save_stories(store, [story(1)], NOW)
    save_stories(store, [story(1, headline="Retitled"), story(2)], NOW)
    first = claim(store)
    assert first.attempt == 1 and b'"version":1' in first.body
    # v2 of story 1 waits while v1 is being delivered; story 2 does not
    second = claim(store)
    assert b"Story number 2" in second.body
    assert claim(store) is None
    record_attempt(store, first, Attempt(500, 3, error="HTTP 500"), NOW, FAST)
    assert claim(store, NOW + timedelta(seconds=1)).event_id == first.event_id  # v1 again
    assert claim(store, NOW + timedelta(seconds=1)) is None


def test_v2_goes_once_v1_has_failed(store: Store) -> None:
    store.sync_config_subscriptions([sub()], NOW)
    save_stories(store, [story(1)], NOW)
    save_stories(store, [story(1, headline="Retitled")], NOW)
    first = claim(store)
    late = NOW + timedelta(seconds=FAST.retry_for)
    assert record_attempt(store, first, Attempt(500, 3, error="HTTP 500"), late, FAST).state == "failed"
    assert b'"type":"story.updated"' in claim(store, late).body


def test_a_subscriber_first_matching_at_v2_gets_v2_as_updated(store: Store) -> None:
    store.sync_config_subscriptions([sub(keywords=("ceasefire",))], NOW)
    save_stories(store, [story(1, body="Talks go on.")], NOW)
    save_stories(store, [story(1, body="Talks go on. A ceasefire was agreed.")], NOW)
    assert deliveries(store) == [("story.created", 1, "filtered"), ("story.updated", 2, "pending")]
    assert b'"type":"story.updated"' in claim(store).body


def test_a_crashed_senders_claim_is_due_again_after_its_lease(store: Store) -> None:
    store.sync_config_subscriptions([sub()], NOW)
    save_stories(store, [story(1)], NOW)
    taken = claim(store)
    assert claim(store, NOW + timedelta(seconds=FAST.lease - 0.5)) is None
    again = claim(store, NOW + timedelta(seconds=FAST.lease))
    assert again.delivery_id == taken.delivery_id and again.attempt == 1


def test_shutdown_releases_claims_for_the_next_start(store: Store) -> None:
    store.sync_config_subscriptions([sub()], NOW)
    save_stories(store, [story(1)], NOW)
    taken = claim(store)
    store.release_deliveries([taken.delivery_id], NOW)
    assert claim(store).delivery_id == taken.delivery_id


def test_410_disables_with_a_reason_and_enable_makes_the_backlog_due(store: Store) -> None:
    store.sync_config_subscriptions([sub()], NOW)
    save_stories(store, [story(1)], NOW)
    recorded = record_attempt(store, claim(store), Attempt(410, 3, error="HTTP 410"), NOW, FAST)
    assert (recorded.change, recorded.subscription_state) == ("disabled", "disabled")
    state, reason = subscription_state(store)
    assert state == "disabled" and "410" in reason
    assert claim(store) is None and store.subscriptions_due(NOW, ["newsroom"], 4) == []
    assert store.enable_subscription("newsroom", NOW)
    assert subscription_state(store) == ("active", None)
    assert claim(store).attempt == 2


def test_retry_after_holds_the_whole_subscription(store: Store) -> None:
    store.sync_config_subscriptions([sub()], NOW)
    save_stories(store, [story(1), story(2)], NOW)
    record_attempt(store, claim(store), Attempt(429, 3, error="HTTP 429", retry_after="2"), NOW, FAST)
    assert claim(store, NOW + timedelta(seconds=1.9)) is None  # story 2 is held too
    assert claim(store, NOW + timedelta(seconds=2)) is not None


def test_breaker_pauses_then_a_successful_probe_resumes_in_order(store: Store) -> None:
    settings = FAST.__class__(**{**FAST.__dict__, "breaker_after": 10.0, "retry_for": 3600.0})
    store.sync_config_subscriptions([sub()], NOW)
    save_stories(store, [story(n) for n in range(1, 4)], NOW)
    failure = Attempt(500, 3, error="HTTP 500")
    record_attempt(store, claim(store), failure, NOW, settings)
    recorded = record_attempt(
        store, claim(store, NOW + timedelta(seconds=10)), failure, NOW + timedelta(seconds=10), settings
    )
    assert (recorded.change, recorded.subscription_state) == ("paused", "paused")
    assert "HTTP 500" in subscription_state(store)[1]
    paused_at = NOW + timedelta(seconds=10)
    save_stories(store, [story(4)], paused_at)  # paused, not disabled: still queued
    assert deliveries(store)[-1] == ("story.created", 1, "pending")
    assert claim(store, paused_at) is None  # the first probe waits probe_interval
    probe_at = paused_at + timedelta(seconds=settings.probe_interval)
    probe = claim(store, probe_at)
    assert probe.probe and b"Story number 1" in probe.body  # the oldest, not yet due, probes
    assert claim(store, probe_at) is None  # one probe at a time
    recorded = record_attempt(store, probe, Attempt(200, 3), probe_at, settings)
    assert (recorded.change, recorded.subscription_state) == ("resumed", "active")
    backlog = [claim(store, probe_at) for _ in range(3)]
    assert [
        b"Story number 2" in backlog[0].body,
        b"Story number 3" in backlog[1].body,
        b"Story number 4" in backlog[2].body,
    ] == [True, True, True]


def test_a_paused_subscription_fails_what_outlived_retry_for(store: Store) -> None:
    settings = FAST.__class__(**{**FAST.__dict__, "breaker_after": 0.0, "retry_for": 60.0})
    store.sync_config_subscriptions([sub()], NOW)
    save_stories(store, [story(1), story(2)], NOW)
    late = NOW + timedelta(seconds=61)
    save_stories(store, [story(3)], late)
    recorded = record_attempt(store, claim(store), Attempt(None, 3, error="refused"), late, settings)
    assert recorded.state == "failed" and recorded.expired == 1
    assert [d[2] for d in deliveries(store)] == ["failed", "failed", "pending"]
    [status] = store.list_subscriptions()
    assert (status.failed, status.backlog, status.last_error) == (2, 1, "refused")


def test_redeliver_requeues_wanted_events_with_the_same_ids(store: Store) -> None:
    store.sync_config_subscriptions([sub(sections=("Defense",))], NOW)
    save_stories(store, [story(1, section="Defense")], NOW - timedelta(hours=2))
    save_stories(store, [story(2, section="Defense"), story(3, section="Economy")], NOW)
    taken = claim(store)
    record_attempt(store, taken, Attempt(200, 3), NOW, FAST)
    store.disable_subscription("newsroom", NOW)
    save_stories(store, [story(4, section="Defense")], NOW)  # while disabled: nothing queued
    assert redeliver(store, "newsroom", NOW - timedelta(hours=1), NOW) == 2
    rows = store.db.execute(
        "SELECT event_id, state, attempts FROM deliveries "
        "WHERE subscription_id = 'newsroom' ORDER BY event_seq"
    ).fetchall()
    assert [r[1:] for r in rows] == [("delivered", 1), ("pending", 0), ("filtered", 0), ("pending", 0)]
    assert redeliver(store, "nobody", NOW, NOW) is None


def test_list_counts_backlog_failed_delivered_and_last_outcomes(store: Store) -> None:
    store.sync_config_subscriptions([sub()], NOW)
    save_stories(store, [story(1), story(2)], NOW)
    record_attempt(store, claim(store), Attempt(200, 3), NOW, FAST)
    record_attempt(
        store, claim(store), Attempt(500, 3, error="HTTP 500: nope"), NOW + timedelta(seconds=1), FAST
    )
    [status] = store.list_subscriptions()
    assert (status.backlog, status.failed, status.delivered) == (1, 0, 1)
    assert status.last_success_at == NOW
    assert (status.last_error, status.last_error_at) == ("HTTP 500: nope", NOW + timedelta(seconds=1))


def test_pruning_keeps_what_is_still_due(store: Store) -> None:
    store.sync_config_subscriptions([sub(), sub("ap-only", sources=("ap",))], NOW)
    save_stories(store, [story(1), story(2)], NOW)
    save_stories(store, [story(3)], NOW + timedelta(days=2))
    record_attempt(store, claim(store), Attempt(200, 3), NOW, FAST)  # story 1: done everywhere
    assert store.prune_outbox(NOW + timedelta(days=1)) == 1
    left = [
        r[0]
        for r in store.db.execute(
            "SELECT json_extract(v.ninjs, '$.headlines[0].value') FROM events e "
            "JOIN story_versions v ON v.story_id = e.story_id AND v.version = e.version ORDER BY e.seq"
        )
    ]
    assert left == ["Story number 2", "Story number 3"]  # 2 is still pending, 3 is recent
    assert store.count("deliveries") == 4
