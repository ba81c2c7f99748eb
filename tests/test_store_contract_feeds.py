"""The storage port's feed part and WebSub rows, the same tests on both engines
(docs/storage.md): config sync, disable and enable, removal with and without purge, poll
history, the removed guard, the feed reads of the API and the OPML import."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ingestd.models import FeedConfig, FeedUpdate, PollWrite, WebSubForget, WebSubSubscription
from tests.support.engines import ENGINES, open_engine
from tests.support.postgres import postgres_schema

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
DAY = 86_400


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    with open_engine(request.param, tmp_path) as engine:
        yield engine


def _sql(store: Any, statement: str, params: Sequence[Any] = ()) -> None:
    """Rows of the story part written by hand (`%s` placeholders): this part's tests
    need stories without depending on how the story part writes them."""
    with store.transaction():
        if hasattr(store, "db"):
            store.db.execute(statement.replace("%s", "?"), list(params))
        else:
            store._execute(statement, params)


def _query(store: Any, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    if hasattr(store, "db"):
        return [tuple(row) for row in store.db.execute(statement.replace("%s", "?"), list(params))]
    return [tuple(row.values()) for row in store._rows(statement, params)]


def _story(
    store: Any, story_id: str, feed_id: str, *, published: str | None, bands: Sequence[int] = ()
) -> None:
    """A story with one version, a key and its band rows."""
    at = 1_767_268_800  # 2026-01-01T12:00:00Z
    fingerprint = json.dumps({"at": at, "bands": list(bands)}) if bands else None
    _sql(
        store,
        "INSERT INTO stories (id, feed_id, url, version, headline, first_created, created_at, "
        "cluster_id, first_of_cluster, fingerprint) VALUES (%s, %s, %s, 1, %s, %s, %s, %s, 1, %s)",
        [
            story_id,
            feed_id,
            f"https://x.example/{story_id}",
            story_id,
            published,
            published or "2026-01-01T12:00:00Z",
            story_id,
            fingerprint,
        ],
    )
    _sql(store, "INSERT INTO story_keys (key, story_id) VALUES (%s, %s)", [f"guid:{story_id}", story_id])
    _sql(
        store,
        "INSERT INTO story_versions (story_id, version, content_hash, ninjs, ingest, created_at) "
        "VALUES (%s, 1, 'h', '{}', '{}', '2026-01-01T12:00:00Z')",
        [story_id],
    )
    for band in bands:
        _sql(
            store,
            "INSERT INTO story_bands (day, band, story_id, at) VALUES (%s, %s, %s, %s)",
            [at // DAY, band, story_id, at],
        )


def _count(store: Any, table: str, where: str = "", params: Sequence[Any] = ()) -> int:
    return int(_query(store, f"SELECT count(*) FROM {table} {where}", params)[0][0])


def _write(store: Any, *intents: Any) -> None:
    with store.transaction():
        store.apply(list(intents))


def _add(store: Any, *ids: str) -> None:
    for i, feed_id in enumerate(ids):
        assert store.add_feed(
            FeedConfig(feed_id, f"https://h.example/{feed_id}"), "api", NOW + timedelta(seconds=i)
        )


# ── config feeds ─────────────────────────────────────────────────────────────


def test_config_sync_creates_updates_sets_aside_and_brings_back(store: Any) -> None:
    store.sync_config_feeds(
        [
            FeedConfig("a", "https://a.example/rss", source="ap", interval=60),
            FeedConfig("b", "https://b.example"),
        ],
        NOW,
    )
    a = store.get_feed("a")
    assert (a.url, a.source, a.interval, a.origin, a.state, a.next_poll_at) == (
        "https://a.example/rss",
        "ap",
        60,
        "config",
        "ok",
        NOW,
    )
    _write(store, FeedUpdate.of("a", {"etag": '"e1"', "body_hash": "h", "error_count": 2}))
    later = NOW + timedelta(hours=1)
    store.sync_config_feeds([FeedConfig("a", "https://a.example/rss", interval=120, quiet_after=900)], later)
    a, b = store.get_feed("a"), store.get_feed("b")
    assert (a.interval, a.quiet_after, a.source, a.etag, a.error_count) == (120, 900, None, '"e1"', 2)
    assert b.state == "removed"  # no longer in the config
    assert [f.id for f in store.claim_due(later, 10, owner="r", lease=LEASE)] == ["a"]  # b is removed
    # the operator's new URL wins and forgets what was learnt from the old one; b comes back due
    store.sync_config_feeds(
        [FeedConfig("a", "https://a.example/new"), FeedConfig("b", "https://b.example")], later
    )
    a, b = store.get_feed("a"), store.get_feed("b")
    assert (a.url, a.etag, a.body_hash) == ("https://a.example/new", None, None)
    assert (b.state, b.next_poll_at) == ("ok", later)


def test_a_run_time_feed_is_added_once_and_listed_in_byte_order(store: Any) -> None:
    _add(store, "b", "a_1", "a-1", "B", "a")
    assert not store.add_feed(FeedConfig("a", "https://elsewhere.example"), "cli", NOW)
    assert [f.id for f in store.list_feeds()] == ["B", "a", "a-1", "a_1", "b"]
    assert store.get_feed("a").url == "https://h.example/a"
    assert store.get_feed("nope") is None


# ── disable, remove, resume ──────────────────────────────────────────────────


def test_a_disabled_feed_is_never_claimed_until_enabled(store: Any) -> None:
    _add(store, "f1", "f2")
    assert store.set_feed_disabled("f1", True, NOW)
    assert not store.set_feed_disabled("nope", True, NOW)
    assert store.disabled_feeds() == {"f1"}
    assert [f.id for f in store.claim_due(NOW + timedelta(hours=1), 10, owner="r", lease=LEASE)] == ["f2"]
    assert [f.id for f in store.claim_due(NOW, 10, all_feeds=True, owner="s", lease=LEASE * 3)] == []
    assert store.set_feed_disabled("f1", False, NOW)
    assert store.disabled_feeds() == set()
    assert [f.id for f in store.claim_due(NOW + timedelta(hours=1), 10, owner="r", lease=LEASE)] == ["f1"]


def test_a_removed_feed_keeps_its_stories_and_cannot_be_disabled_resumed_or_polled(store: Any) -> None:
    _add(store, "f1")
    _story(store, "st_1", "f1", published="2026-01-01T11:00:00Z")
    assert store.remove_feed("f1", NOW) == 0
    assert store.get_feed("f1").state == "removed"
    assert _count(store, "stories") == 1
    assert not store.set_feed_disabled("f1", True, NOW)
    assert not store.resume_feed("f1", NOW)
    assert not store.poll_now("f1", NOW)
    assert store.claim_due(NOW + timedelta(hours=1), 10, owner="r", lease=LEASE) == []


def test_a_purge_deletes_the_feed_its_stories_keys_bands_and_tombstones_but_no_outbox_version(
    store: Any,
) -> None:
    _add(store, "f1", "f2")
    _story(store, "st_1", "f1", published="2026-01-01T11:00:00Z", bands=[11, -12])
    _story(store, "st_2", "f1", published=None, bands=[13])
    _story(store, "st_3", "f2", published="2026-01-01T11:00:00Z", bands=[11])
    _sql(
        store,
        "INSERT INTO story_tombstones (story_id, feed_id, version, purged_at) VALUES "
        "('st_0', 'f1', 2, '2026-01-01T00:00:00Z'), ('st_9', 'f2', 1, '2026-01-01T00:00:00Z')",
    )
    _sql(
        store,
        "INSERT INTO events (id, type, story_id, version, created_at, timestamp) VALUES "
        "('ev_1', 'story.created', 'st_1', 1, '2026-01-01T12:00:00Z', '2026-01-01T12:00:00.000Z')",
    )
    assert store.remove_feed("f1", NOW, purge=True) == 2
    assert store.get_feed("f1") is None and [f.id for f in store.list_feeds()] == ["f2"]
    assert _query(store, "SELECT id FROM stories") == [("st_3",)]
    assert _query(store, "SELECT story_id FROM story_keys") == [("st_3",)]
    assert _query(store, "SELECT story_id, band FROM story_bands") == [("st_3", 11)]
    assert _query(store, "SELECT story_id FROM story_tombstones") == [("st_9",)]
    # the outbox event still refers to st_1's version 1: it stays until the event goes
    assert sorted(_query(store, "SELECT story_id, version FROM story_versions")) == [("st_1", 1), ("st_3", 1)]
    assert store.remove_feed("f2", NOW, purge=True) == 1


def test_a_feed_the_config_declares_is_not_removed_whoever_asks(store: Any) -> None:
    """The store judges it in the removing statement itself: a replica's config sync that
    declared the feed after the caller read it cannot have a declared feed removed or purged."""
    store.sync_config_feeds([FeedConfig("c", "https://c.example"), FeedConfig("d", "https://d.example")], NOW)
    _story(store, "st_1", "c", published="2026-01-01T11:00:00Z")
    assert store.remove_feed("c", NOW) is None
    assert store.remove_feed("c", NOW, purge=True) is None
    assert (store.get_feed("c").state, _count(store, "stories")) == ("ok", 1)
    assert store.remove_feed("nothing", NOW) is None
    store.sync_config_feeds([FeedConfig("d", "https://d.example")], NOW)  # c left the config
    assert store.remove_feed("c", NOW, purge=True) == 1
    assert store.get_feed("c") is None


def test_resume_takes_a_parked_feed_back_and_poll_now_leaves_a_parked_one_alone(store: Any) -> None:
    _add(store, "f1", "f2")
    _write(
        store,
        FeedUpdate.of("f1", {"state": "parked", "error_count": 9, "next_poll_at": NOW + timedelta(days=9)}),
    )
    assert not store.poll_now("f1", NOW)
    assert store.poll_now("f2", NOW + timedelta(minutes=1))
    assert store.get_feed("f2").next_poll_at == NOW + timedelta(minutes=1)
    assert store.resume_feed("f1", NOW + timedelta(minutes=2))
    f1 = store.get_feed("f1")
    assert (f1.state, f1.error_count, f1.next_poll_at) == ("ok", 0, NOW + timedelta(minutes=2))
    assert not store.resume_feed("nope", NOW)


def test_release_all_leases_ends_every_lease_and_counts_them(store: Any) -> None:
    _add(store, "f1", "f2", "f3")
    store.claim_due(NOW + timedelta(seconds=1), 2, owner="r", lease=LEASE)
    assert store.release_all_leases() == 2
    assert store.release_all_leases() == 0
    assert len(store.claim_due(NOW + timedelta(seconds=5), 10, owner="s", lease=LEASE)) == 3


# ── a poll's writes ──────────────────────────────────────────────────────────


def test_a_poll_finishing_after_its_feed_was_removed_does_not_revive_it(store: Any) -> None:
    store.sync_config_feeds([FeedConfig("f", "https://f.example")], NOW)
    [claimed] = store.claim_due(NOW, 1, owner="r", lease=LEASE)
    store.sync_config_feeds([], NOW)  # a reload took it out while the poll ran
    _write(
        store,
        FeedUpdate.of("f", {"state": "ok", "etag": '"new"', "last_poll_at": "2026-01-01T12:00:30Z"}, "r"),
    )
    feed = store.get_feed("f")
    assert (feed.state, feed.etag, feed.last_poll_at) == ("removed", '"new"', NOW + timedelta(seconds=30))


def test_poll_history_is_kept_newest_first_and_failures_are_found_since_a_time(store: Any) -> None:
    _add(store, "f1", "f2")
    polls = [
        PollWrite("f1", "2026-01-01T12:00:00Z", 12, 200, 1000, new=2),
        PollWrite("f2", "2026-01-01T12:00:05Z", 30, None, 0, error="timed out"),
        PollWrite("f1", "2026-01-01T12:05:00Z", 8, 304, 0, unchanged=3),
        PollWrite("f1", "2026-01-01T12:10:00Z", 9, 500, 12, error="HTTP 500"),
        PollWrite("f1", "2026-01-01T12:15:00Z", 9, 503, 12, error="HTTP 503"),
    ]
    _write(store, *polls)
    rows = store.recent_polls("f1", 2)
    assert [{k: v for k, v in row.items() if k != "id"} for row in rows] == [
        {
            "feed_id": "f1",
            "started_at": "2026-01-01T12:15:00Z",
            "duration_ms": 9,
            "status": 503,
            "bytes": 12,
            "new": 0,
            "updated": 0,
            "unchanged": 0,
            "error": "HTTP 503",
        },
        {
            "feed_id": "f1",
            "started_at": "2026-01-01T12:10:00Z",
            "duration_ms": 9,
            "status": 500,
            "bytes": 12,
            "new": 0,
            "updated": 0,
            "unchanged": 0,
            "error": "HTTP 500",
        },
    ]
    assert rows[0]["id"] > rows[1]["id"]
    assert [r["started_at"] for r in store.recent_polls("f1")][-1] == "2026-01-01T12:00:00Z"
    assert store.failed_polls_since(NOW) == {"f1": "HTTP 503", "f2": "timed out"}
    assert store.failed_polls_since(NOW + timedelta(minutes=1)) == {"f1": "HTTP 503"}
    assert store.failed_polls_since(NOW + timedelta(hours=1)) == {}


def test_recent_publish_times_and_known_urls_read_the_feeds_stories(store: Any) -> None:
    _add(store, "f1", "f2")
    for i, hour in enumerate([9, 11, 10]):
        _story(store, f"st_{i}", "f1", published=f"2026-01-01T{hour:02d}:00:00Z")
    _story(store, "st_x", "f1", published=None)
    _story(store, "st_y", "f2", published="2026-01-01T12:00:00Z")
    times = store.recent_publish_times("f1", 2)
    assert times == [NOW - timedelta(hours=1), NOW - timedelta(hours=2)]
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in times)
    assert len(store.recent_publish_times("f1")) == 3
    assert store.recent_publish_times("nope") == []
    urls = ["https://x.example/st_1", "https://x.example/none", "https://x.example/st_y"]
    assert store.known_urls(urls) == {"https://x.example/st_1", "https://x.example/st_y"}
    assert store.known_urls([]) == set()


# ── what the API and the CLI read ────────────────────────────────────────────


def test_the_feeds_overview_has_text_times_and_the_last_story_stored(store: Any) -> None:
    _add(store, "f2", "f1")
    _write(
        store,
        FeedUpdate.of(
            "f1",
            {
                "last_poll_at": "2026-01-01T12:01:00Z",
                "last_success_at": "2026-01-01T12:01:00Z",
                "quiet_since": "2026-01-01T12:02:00Z",
                "error_count": 1,
                "last_error": "HTTP 500",
            },
        ),
    )
    _story(store, "st_1", "f1", published="2026-01-01T10:00:00Z")
    _story(store, "st_2", "f1", published="2026-01-01T11:00:00Z")
    f1, f2 = store.feeds_overview()
    assert f1 == {
        "id": "f1",
        "url": "https://h.example/f1",
        "source": None,
        "origin": "api",
        "state": "ok",
        "interval": 300.0,
        "fetch_article": False,
        "identity": None,
        "quiet_after": None,
        "disabled": False,
        "error_count": 1,
        "last_error": "HTTP 500",
        "last_poll_at": "2026-01-01T12:01:00Z",
        "last_success_at": "2026-01-01T12:01:00Z",
        "next_poll_at": "2026-01-01T12:00:01Z",
        "quiet_since": "2026-01-01T12:02:00Z",
        "last_story_at": "2026-01-01T11:00:00Z",
        "credentials": None,
    }
    assert (f2["id"], f2["last_story_at"], f2["next_poll_at"]) == ("f2", None, "2026-01-01T12:00:00Z")


def test_an_import_adds_new_urls_suffixes_taken_ids_and_is_all_or_nothing(store: Any) -> None:
    _add(store, "news")
    feeds = [
        FeedConfig("news", "https://other.example/rss"),  # id taken: news-2
        FeedConfig("dup", "https://h.example/news"),  # URL known
        FeedConfig("x" * 64, "https://x.example"),
        FeedConfig("x" * 64, "https://y.example"),  # suffixed within 64 characters
    ]
    report = store.import_feeds(feeds, "opml", NOW)
    assert [f.id for f in report.added] == ["news-2", "x" * 64, "x" * 62 + "-2"]
    assert [(f.id, existing) for f, existing in report.present] == [("dup", "news")]
    assert store.get_feed("news-2").origin == "opml"

    def failing(batch: list[FeedConfig]) -> Iterator[FeedConfig]:
        yield batch[0]
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        store.import_feeds(
            [FeedConfig("a", "https://a.example"), FeedConfig("b", "https://b.example")], "opml", NOW, failing
        )
    assert store.get_feed("a") is None


def test_a_reader_sees_what_the_writer_committed(store: Any) -> None:
    _add(store, "f1")
    reader = type(store).open_reader(getattr(store, "url", None) or store.path)
    try:
        assert [f.id for f in reader.list_feeds()] == ["f1"]
        _add(store, "f2")
        assert [row["id"] for row in reader.feeds_overview()] == ["f1", "f2"]
    finally:
        reader.close()


# ── WebSub ───────────────────────────────────────────────────────────────────


def _websub(feed_id: str, state: str = "subscribing", lease: int | None = None) -> WebSubSubscription:
    return WebSubSubscription(
        feed_id,
        "https://hub.example/",
        f"https://h.example/{feed_id}",
        "s3cret",
        state,  # type: ignore[arg-type]
        NOW,
        lease,
        None if lease is None else NOW + timedelta(seconds=lease),
    )


def test_websub_rows_are_replaced_read_in_byte_order_and_forgotten(store: Any) -> None:
    store.write_websub([_websub("b"), _websub("B"), _websub("a")])
    assert store.websub_subscription("a") == _websub("a")
    store.write_websub([_websub("a", "active", 3600), WebSubForget("B")])
    assert store.websub_subscriptions() == [_websub("a", "active", 3600), _websub("b")]
    assert store.websub_subscription("B") is None
    later = replace(_websub("c"), requested_at=NOW + timedelta(microseconds=250_000))
    store.write_websub([later])
    assert store.websub_subscription("c") == _websub("c")  # whole seconds, as every stored time
    store.write_websub([WebSubForget("c")])
    store.write_websub([WebSubForget("a"), WebSubForget("b"), WebSubForget("none")])
    assert store.websub_subscriptions() == []


# ── PostgreSQL only: replicas on one database ────────────────────────────────


def test_replicas_syncing_one_config_at_once_create_each_feed_once() -> None:
    from ingestd.store.pg import PgStore

    feeds = [FeedConfig(f"f{i:02d}", f"https://h{i}.example/rss") for i in range(40)]
    failures: list[BaseException] = []
    barrier = threading.Barrier(3)

    def replica(engine: Any) -> None:
        try:
            barrier.wait(10)
            engine.sync_config_feeds(feeds, NOW)
        except BaseException as exc:  # reported below: a thread's exception is otherwise lost
            failures.append(exc)

    with postgres_schema() as url:
        engines = [PgStore(url) for _ in range(3)]
        threads = [threading.Thread(target=replica, args=(engine,)) for engine in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        try:
            assert failures == []
            assert [f.id for f in engines[0].list_feeds()] == [f.id for f in feeds]
        finally:
            for engine in engines:
                engine.close()


def test_the_postgresql_engine_has_every_call_of_the_sqlite_feed_and_websub_parts() -> None:
    """Same names, parameters and defaults: the daemon, the API and the CLI call either."""
    import inspect

    from ingestd.store import _feeds, _reads, _websub
    from ingestd.store.pg import PgStore

    calls = {n: f for part in (_feeds.FeedsMixin, _websub.WebSubMixin) for n, f in vars(part).items()}
    calls |= {n: vars(_reads.ReadsMixin)[n] for n in ("feeds_overview", "failed_polls_since", "import_feeds")}
    for name, function in calls.items():
        if name.startswith("__") or name == "_feed_row":  # SQLite's own helper
            continue
        ours, theirs = (inspect.signature(f).parameters.values() for f in (function, getattr(PgStore, name)))
        assert [(p.name, p.kind, p.default) for p in ours] == [(p.name, p.kind, p.default) for p in theirs], (
            name
        )
    assert inspect.ismethod(PgStore.open_reader)  # a classmethod, as SQLite's


def test_a_run_time_feeds_credentials_are_kept_and_only_shown_as_set(store: Any) -> None:
    from ingestd.models import FeedCredentials

    credentials = FeedCredentials("https://h.example:443", headers=(("X-Api-Key", "k-123"),), bearer="t-456")
    assert store.add_feed(FeedConfig("paid", "https://h.example/paid", credentials=credentials), "api", NOW)
    feed = store.get_feed("paid")
    assert feed.secrets == credentials
    (row,) = store.feeds_overview()
    assert row["credentials"] == {"headers": {"X-Api-Key": "set"}, "auth": "bearer"}
    assert "k-123" not in repr(row) and "t-456" not in repr(row)


def test_a_change_replaces_declared_fields_and_a_new_url_forgets_what_the_old_one_taught(store: Any) -> None:
    from dataclasses import replace

    assert store.add_feed(FeedConfig("x", "https://h.example/x", identity="guid", interval=600.0), "api", NOW)
    _write(
        store, FeedUpdate.of("x", {"etag": '"e1"', "body_hash": "h1", "next_poll_at": "2026-01-02T00:00:00Z"})
    )
    seen: list[tuple[str, str]] = []

    def change(current: FeedConfig, origin: str) -> FeedConfig:
        seen.append((current.identity or "", origin))
        return replace(current, interval=900.0)

    assert store.change_feed("x", change, NOW).interval == 900.0
    feed = store.get_feed("x")
    assert seen == [("guid", "api")]
    assert (feed.interval, feed.identity, feed.etag) == (900.0, "guid", '"e1"')  # same URL: kept
    store.change_feed("x", lambda current, origin: replace(current, url="https://h.example/y"), NOW)
    feed = store.get_feed("x")
    assert (feed.url, feed.etag, feed.body_hash, feed.next_poll_at) == (
        "https://h.example/y",
        None,
        None,
        NOW,
    )
    shown = store.feed_overview("x")
    assert (shown["fetch_article"], shown["disabled"], shown["identity"], shown["interval"]) == (
        False,
        False,
        "guid",
        900.0,
    )
    assert store.change_feed("nope", change, NOW) is None and store.feed_overview("nope") is None


def test_a_new_url_ends_the_lease_so_a_poll_of_the_old_one_writes_nothing_over_it(store: Any) -> None:
    from dataclasses import replace

    assert store.add_feed(FeedConfig("x", "https://h.example/x"), "api", NOW)
    (claimed,) = store.claim_due(NOW, 10, owner="old-poll", lease=timedelta(minutes=5))
    store.change_feed("x", lambda current, origin: replace(current, url="https://h.example/new"), NOW)
    _write(
        store,
        FeedUpdate.of("x", {"url": "https://h.example/x-moved", "etag": '"old"'}, lease_owner="old-poll"),
    )
    feed = store.get_feed("x")
    assert (feed.url, feed.etag) == ("https://h.example/new", None)
