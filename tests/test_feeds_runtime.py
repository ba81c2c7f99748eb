"""Feeds managed at run time: `feeds add | remove | disable | enable`, the same checks
as the config, picked up by a running daemon at its next tick, surviving restarts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingestd.compose import save_stories
from ingestd.config import load_config
from ingestd.store import Store
from tests.support import local_feed, rss, wait_for, write_config
from tests.support.reliability import Daemon
from tests.support.store import WIRE, story

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


@pytest.fixture
def config(tmp_path: Path) -> str:
    return str(
        write_config(
            tmp_path,
            '[storage]\npath = "ingestd.db"\n[[feeds]]\nid = "declared"\nurl = "https://d.example/f"\n',
        )
    )


def store_of(config: str) -> Store:
    store = Store(load_config(config, env={}).storage.path)
    store.sync_config_feeds(load_config(config, env={}).feeds, NOW)
    return store


@pytest.mark.parametrize(
    "url, reason",
    [
        (
            "file:///etc/passwd",
            "'file:///etc/passwd' is not an http(s) URL (file: and folder feeds go in the config)",
        ),
        ("inbox", "'inbox' is not an http(s) URL"),
    ],
)
def test_add_refuses_local_feeds(
    config: str, run: Callable[..., tuple[int, str, str]], url: str, reason: str
) -> None:
    code, _, err = run("feeds", "add", "x", "--url", url, "--config", config)
    assert code == 2 and f"feeds add x: url: {reason}" in err


def test_add_checks_like_the_config_and_refuses_a_taken_id(
    config: str, run: Callable[..., tuple[int, str, str]]
) -> None:
    code, _, err = run(
        "feeds", "add", "x", "--url", "https://x.example/f", "--interval", "soon", "--config", config
    )
    assert code == 2 and "feeds add x: interval:" in err
    assert (
        run("feeds", "add", "x", "--url", "https://x.example/f", "--interval", "10m", "--config", config)[0]
        == 0
    )
    code, _, err = run("feeds", "add", "x", "--url", "https://y.example/f", "--config", config)
    assert code == 1 and "feed 'x' exists already" in err
    store = store_of(config)
    feed = store.get_feed("x")
    store.close()
    assert feed is not None and (feed.origin, feed.interval, feed.url) == (
        "cli",
        600.0,
        "https://x.example/f",
    )


def test_a_declared_feed_is_removed_in_its_file(
    config: str, run: Callable[..., tuple[int, str, str]]
) -> None:
    store_of(config).close()
    code, _, err = run("feeds", "remove", "declared", "--config", config)
    assert code == 1 and f"feed declared is declared in {config}; remove it there" in err


def test_remove_keeps_the_stories_and_purge_deletes_them(
    config: str, run: Callable[..., tuple[int, str, str]]
) -> None:
    run("feeds", "add", "x", "--url", "https://x.example/f", "--config", config)
    store = store_of(config)
    save_stories(store, [story("g1", "https://x.example/1", "One", WIRE, feed_id="x")], NOW)
    store.close()
    code, out, _ = run("feeds", "remove", "x", "--config", config)
    assert code == 0 and "its stories stay" in out
    store = store_of(config)
    assert store.get_feed("x").state == "removed"  # type: ignore[union-attr]
    assert len(store.list_stories(feed_id="x")) == 1
    assert all(f.id != "x" for f in store.claim_due(NOW + timedelta(days=1), 10, all_feeds=True))
    store.close()
    code, out, _ = run("feeds", "remove", "x", "--purge", "--config", config)
    assert code == 0 and "with its 1 stories" in out
    store = store_of(config)
    assert store.get_feed("x") is None and store.list_stories(feed_id="x") == []
    store.close()


def test_disable_stops_polling_across_restarts_and_enable_undoes_only_that(
    config: str, run: Callable[..., tuple[int, str, str]]
) -> None:
    store = store_of(config)
    store.db.execute("UPDATE feeds SET state = 'erroring' WHERE id = 'declared'")
    store.close()
    assert run("feeds", "disable", "declared", "--config", config)[0] == 0
    store = store_of(config)  # a restart: config feeds synced again
    later = NOW + timedelta(days=1)
    assert store.claim_due(later, 10, all_feeds=True) == []
    assert store.resume_feed("declared", later)  # resume leaves it disabled
    assert store.claim_due(later, 10, all_feeds=True) == []
    store.db.execute("UPDATE feeds SET state = 'erroring' WHERE id = 'declared'")
    store.close()
    code, listed, _ = run("feeds", "list", "--json", "--config", config)
    assert '"disabled": true' in listed
    assert run("feeds", "enable", "declared", "--config", config)[0] == 0
    store = store_of(config)
    [claimed] = store.claim_due(later, 10, all_feeds=True)
    store.close()
    assert claimed.id == "declared" and claimed.state == "erroring"
    assert run("feeds", "enable", "nope", "--config", config)[0] == 1


def test_a_running_daemon_polls_a_feed_added_at_run_time_and_keeps_it_after_a_restart(tmp_path: Path) -> None:
    with local_feed(rss(("a", "Alpha story"), ("b", "Beta story"))) as feed:
        daemon = Daemon(
            tmp_path, '[fetch]\nallow_private = ["127.0.0.1"]\n[scheduler]\ntick = "1s"\n'
        ).start()
        try:
            wait_for(lambda: daemon.get("/feeds") is not None, "the API answers", timeout=30)
            daemon.cli("feeds", "add", "live", "--url", feed.url)
            wait_for(lambda: len(daemon.stories("live")) == 2, "the added feed's stories", timeout=30)
            daemon.stop()
            daemon.start()
            wait_for(
                lambda: daemon.feeds().get("live", {}).get("state") == "ok",
                "the feed after a restart",
                timeout=30,
            )
        finally:
            daemon.stop()
