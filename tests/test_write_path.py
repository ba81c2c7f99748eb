"""The write path: intents applied by a store that decides nothing, leases that end,
one daemon per database, bounded polls, storage errors as the feed's state."""

from __future__ import annotations

import ast
import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx
from structlog.testing import capture_logs

from ingestd import pipeline, schedule
from ingestd.compose import rebuild_signatures, save_poll, save_stories
from ingestd.daemon import Daemon
from ingestd.models import Entry, FeedConfig, FeedUpdate, PollWrite, StoryWrite
from ingestd.store import DatabaseInUse, InstanceLock, Store
from tests.support import ROOT, rss, write_config
from tests.support.daemon import FEED_URL, config_for, poll, poll_lines
from tests.support.store import WIRE, story

NOW = datetime(2020, 1, 9, 0, 31, 2, tzinfo=UTC)
LEASE = timedelta(seconds=70)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "db" / "test.db")
    s.sync_config_feeds([FeedConfig(id="f", url="https://example.org/feed")], NOW)
    yield s
    s.close()


def _imports(path: Path) -> set[str]:
    """The ingestd modules a file imports, as absolute names."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            found |= {f"{module}.{alias.name}" if not node.module else module for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
    return {name for name in found if name.startswith("ingestd")}


def test_the_store_imports_nothing_but_models() -> None:
    """Decisions live in compose, dedupe and webhooks: a second engine copies none."""
    for path in sorted((ROOT / "ingestd" / "store").glob("*.py")):
        outside = {m for m in _imports(path) if not m.startswith("ingestd.store")}
        assert outside <= {"ingestd.models", "ingestd.timeutil"}, (path.name, outside)


def test_nothing_in_webhooks_or_dedupe_imports_the_store() -> None:
    for folder in ("webhooks", "dedupe"):
        for path in sorted((ROOT / "ingestd" / folder).glob("*.py")):
            assert not any(m.startswith("ingestd.store") for m in _imports(path)), path.name


# ── leases ───────────────────────────────────────────────────────────────────


def lease_of(store: Store, feed_id: str = "f") -> tuple[str | None, str | None]:
    return store.db.execute("SELECT lease_owner, lease_until FROM feeds WHERE id = ?", [feed_id]).fetchone()


def test_a_claim_records_its_owner_and_end_and_leaves_the_next_poll_alone(store: Store) -> None:
    due = store.get_feed("f").next_poll_at
    [claimed] = store.claim_due(NOW, 10, owner="a", lease=LEASE)
    assert claimed.id == "f"
    assert lease_of(store) == ("a", "2020-01-09T00:32:12Z")
    assert store.get_feed("f").next_poll_at == due


def test_an_expired_lease_is_due_again_for_any_owner(store: Store) -> None:
    store.claim_due(NOW, 10, owner="a", lease=LEASE)
    assert store.claim_due(NOW + LEASE - timedelta(seconds=1), 10, owner="b", lease=LEASE) == []
    assert [f.id for f in store.claim_due(NOW + LEASE, 10, owner="b", lease=LEASE)] == ["f"]
    assert lease_of(store)[0] == "b"


def test_start_releases_every_lease(store: Store) -> None:
    store.claim_due(NOW, 10, owner="crashed", lease=LEASE)
    assert store.release_all_leases() == 1
    assert lease_of(store) == (None, None)
    assert [f.id for f in store.claim_due(NOW, 10, owner="new", lease=LEASE)] == ["f"]


def test_the_polls_feed_update_ends_the_lease(store: Store) -> None:
    store.claim_due(NOW, 10, owner="a", lease=LEASE)
    save_poll(
        store, PollWrite("f", "2020-01-09T00:31:02Z", 5, 304, 0), [], FeedUpdate.of("f", {"state": "ok"}), NOW
    )
    assert lease_of(store) == (None, None)


def test_a_feed_update_from_a_lease_lost_meanwhile_is_dropped(store: Store) -> None:
    store.claim_due(NOW, 10, owner="a", lease=LEASE)
    store.claim_due(NOW + LEASE, 10, owner="b", lease=LEASE)
    late = FeedUpdate.of("f", {"etag": '"stale"'}, lease_owner="a")
    save_poll(store, PollWrite("f", "2020-01-09T00:31:02Z", 5, 200, 0), [], late, NOW)
    assert store.get_feed("f").etag is None and lease_of(store)[0] == "b"


# ── one daemon per database ──────────────────────────────────────────────────


def test_a_second_instance_lock_names_the_database_and_the_holder(tmp_path: Path) -> None:
    import os

    first = InstanceLock(tmp_path / "x.db")
    first.acquire()
    try:
        with pytest.raises(
            DatabaseInUse, match=rf"database {tmp_path / 'x.db'} is in use .*pid {os.getpid()}"
        ):
            InstanceLock(tmp_path / "x.db").acquire()
    finally:
        first.release()
    again = InstanceLock(tmp_path / "x.db")
    again.acquire()  # free once released
    again.release()


# ── bounded polls ────────────────────────────────────────────────────────────


def entry(n: int, hours: int | None) -> Entry:
    published = None if hours is None else NOW + timedelta(hours=hours)
    return Entry(kind="feed-entry", guid=str(n), published=published)


def test_max_entries_keeps_the_newest_in_document_order() -> None:
    entries = [entry(0, 1), entry(1, 5), entry(2, 3), entry(3, 4)]
    assert [e.guid for e in pipeline.bounded(entries, 2)] == ["1", "3"]


def test_max_entries_keeps_the_first_when_some_have_no_date() -> None:
    entries = [entry(0, 1), entry(1, None), entry(2, 9)]
    assert [e.guid for e in pipeline.bounded(entries, 2)] == ["0", "1"]


def test_max_entries_zero_keeps_everything() -> None:
    entries = [entry(n, n) for n in range(5)]
    assert pipeline.bounded(entries, 0) == entries


def test_a_big_poll_is_cut_and_written_in_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INGESTD_FETCH_MAX_ENTRIES", "7")
    monkeypatch.setenv("INGESTD_STORAGE_WRITE_BATCH", "3")
    from ingestd.config import load_config

    text = f'[storage]\npath = "{tmp_path / "db.sqlite"}"\n[[feeds]]\nid = "big"\nurl = "{FEED_URL}"\n'
    config = load_config(write_config(tmp_path, text))
    items = [(f"g{n}", f"Story {n}") for n in range(10)]

    async def scenario() -> None:
        with respx.mock:
            respx.get(FEED_URL).mock(return_value=httpx.Response(200, content=rss(*items)))
            async with Daemon(config).open() as daemon:
                commits = []
                apply = daemon.writer.store.apply
                monkeypatch.setattr(
                    daemon.writer.store,
                    "apply",
                    lambda intents: (commits.append(len(intents)), apply(intents)),
                )
                with capture_logs() as logs:
                    await poll(daemon, "big")
                store = daemon.writer.store
                assert store.count("stories") == 7 and store.count("events") == 7
                assert [l["left_out"] for l in logs if l["event"] == "entries cut"] == [3]
                assert [l["new"] for l in poll_lines(logs)] == [7]
                assert store.count("polls") == 1

    asyncio.run(scenario())


def test_entries_stored_with_the_same_raw_content_are_not_normalized_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    normalized = []
    real = pipeline.normalize.normalize_entry
    monkeypatch.setattr(
        pipeline.normalize,
        "normalize_entry",
        lambda entry, **kw: (normalized.append(entry.guid), real(entry, **kw))[1],
    )
    twenty = [(f"g{n}", f"Story {n}") for n in range(20)]

    async def scenario() -> None:
        with respx.mock:
            respx.get(FEED_URL).mock(
                side_effect=[
                    httpx.Response(200, content=rss(*twenty)),
                    httpx.Response(200, content=rss(("new", "Fresh"), *twenty)),
                ]
            )
            async with Daemon(config_for(tmp_path, ("news", FEED_URL))).open() as daemon:
                await poll(daemon, "news")
                normalized.clear()
                seen = []
                next_poll = schedule.next_poll
                monkeypatch.setattr(
                    schedule,
                    "next_poll",
                    lambda f, outcome, *a: (seen.append(outcome), next_poll(f, outcome, *a))[1],
                )
                with capture_logs() as logs:
                    await poll(daemon, "news")
                assert [guid.rsplit("/", 1)[-1] for guid in normalized] == ["new"]
                assert len(seen[0].published) == 21  # the skipped entries' dates still count
                assert [(l["new"], l["unchanged"]) for l in poll_lines(logs)] == [(1, 20)]
                assert daemon.writer.store.identity_policy("news").name == "guid"

    asyncio.run(scenario())


# ── storage errors ───────────────────────────────────────────────────────────


def test_a_full_disk_is_the_polls_error_and_readyz_says_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ingestd.api import build_app

    async def scenario() -> None:
        with respx.mock:
            respx.get(FEED_URL).mock(return_value=httpx.Response(200, content=rss(("a", "Alpha"))))
            async with Daemon(config_for(tmp_path, ("news", FEED_URL))).open() as daemon:
                store = daemon.writer.store
                apply = store.apply

                def disk_full(intents: list) -> list[str]:
                    if any(isinstance(i, StoryWrite) for i in intents):
                        raise sqlite3.OperationalError("database or disk is full")
                    return apply(intents)

                monkeypatch.setattr(store, "apply", disk_full)
                with capture_logs() as logs:
                    await poll(daemon, "news")
                [line] = poll_lines(logs)
                assert line["log_level"] == "warning" and line["feed_id"] == "news"
                assert "storage error" in line["error"] and "full" in line["error"]
                assert line["state"] == "erroring"
                feed = store.get_feed("news")
                assert feed.state == "erroring" and "full" in feed.last_error and feed.error_count == 1
                app = build_app(
                    daemon.config.storage.path,
                    state=daemon.service,
                    metrics=daemon.metrics,
                    token=None,
                    writer=daemon.writer,
                )
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                    ready = await client.get("/readyz")
                assert ready.status_code == 503
                assert "full" in ready.json()["checks"]["database"]
                monkeypatch.setattr(store, "apply", apply)
                await poll(daemon, "news")
                assert daemon.service.database_error is None and store.count("stories") == 1

    asyncio.run(scenario())


def test_a_failing_write_probe_makes_readyz_503(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Daemon(config_for(tmp_path)).open() as daemon:
            await daemon.probe()
            assert daemon.service.database_error is None
            daemon.writer.store.db.execute("PRAGMA query_only = ON")
            with capture_logs() as logs:
                await daemon.probe()
            assert daemon.service.database_error.startswith("write probe failed")
            assert [l["event"] for l in logs] == ["storage error"]
            daemon.writer.store.db.execute("PRAGMA query_only = OFF")
            await daemon.probe()
            assert daemon.service.database_error is None

    asyncio.run(scenario())


def test_a_poll_task_that_dies_releases_its_feed_with_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        async with Daemon(config_for(tmp_path, ("news", FEED_URL))).open() as daemon:
            store = daemon.writer.store

            async def broken(feed: object) -> None:
                raise RuntimeError("a bug past the poll's own guard")

            monkeypatch.setattr(daemon, "poll_feed", broken)
            [feed] = await daemon.writer.run(
                store.claim_due, datetime.now(UTC), 10, owner=daemon.owner, lease=LEASE
            )
            with capture_logs() as logs:
                daemon._start(feed, daemon.poll_feed(feed))
                while daemon._in_flight or daemon._background:
                    await asyncio.sleep(0.01)
            assert [l["event"] for l in logs if l["log_level"] == "error"] == ["poll task failed"]
            state = store.get_feed("news")
            assert state.state == "erroring" and "a bug past" in state.last_error
            assert lease_of(store, "news") == (None, None)

    asyncio.run(scenario())


# ── signatures ───────────────────────────────────────────────────────────────


def test_a_new_fingerprint_version_rebuilds_the_stored_bands(store: Store) -> None:
    save_stories(store, [story(body=WIRE, published=NOW)], NOW)
    bands = sorted(store.db.execute("SELECT band FROM story_bands"))
    store.db.execute("DELETE FROM story_bands")
    store.db.execute("UPDATE stories SET shingles = NULL")
    store.set_meta("fingerprint.version", "an older hash")
    assert rebuild_signatures(store) == 1
    assert sorted(store.db.execute("SELECT band FROM story_bands")) == bands
    assert rebuild_signatures(store) == 0  # once
    copy = story(guid="other", url="https://example.org/copy", body=WIRE + " (END)", published=NOW)
    [change] = save_stories(store, [copy], NOW)
    assert change.matched == "cluster"  # found through the rebuilt signature


def test_one_copy_of_each_document_and_the_event_rebuilt_byte_for_byte(store: Store) -> None:
    import json

    [change] = save_stories(store, [story()], NOW)
    columns = {r[1] for r in store.db.execute("PRAGMA table_info(stories)")}
    assert "ninjs" not in columns
    assert {r[1] for r in store.db.execute("PRAGMA table_info(events)")} & {"payload"} == set()
    body = store.event_bodies([change.event["id"]])[change.event["id"]]
    assert body == json.dumps(change.event, ensure_ascii=False, separators=(",", ":"))
    with pytest.raises(sqlite3.OperationalError):
        store.db.execute("SELECT payload FROM events")


def test_a_304_reads_its_recent_publish_times_from_the_feed_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No story rows are read for a poll that brought no document (peak memory on a big
    database: docs/performance.md)."""

    async def scenario() -> None:
        with respx.mock:
            respx.get(FEED_URL).mock(
                side_effect=[
                    httpx.Response(200, content=rss(("a", "Alpha"), ("b", "Beta"))),
                    httpx.Response(304),
                ]
            )
            async with Daemon(config_for(tmp_path, ("news", FEED_URL))).open() as daemon:
                await poll(daemon, "news")
                assert len(daemon.writer.store.get_feed("news").recent_published) == 2

                def no_story_reads(*args: object) -> None:
                    raise AssertionError("story rows read for a 304")

                monkeypatch.setattr(daemon.writer.store, "recent_publish_times", no_story_reads)
                with capture_logs() as logs:
                    await poll(daemon, "news")
                assert [l["status"] for l in poll_lines(logs)] == [304]

    asyncio.run(scenario())


def test_a_tick_leaves_a_feed_whose_poll_is_finishing_unleased(tmp_path: Path) -> None:
    """Claimed again while its poll still logs and dispatches: not polled twice, and not
    held by a lease nobody will end."""

    async def scenario() -> None:
        async with Daemon(config_for(tmp_path, ("news", FEED_URL))).open() as daemon:
            finishing = asyncio.get_running_loop().create_future()
            daemon._in_flight["news"] = finishing  # type: ignore[assignment]
            await daemon._tick()
            assert daemon._in_flight == {"news": finishing}
            assert lease_of(daemon.writer.store, "news") == (None, None)
            finishing.cancel()

    asyncio.run(scenario())
