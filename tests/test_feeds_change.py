"""`ingestd feeds change`: the options given replace a run-time feed's values, the merged
table checked by the config's rules; a new URL forgets the old one's conditional-GET
state; config feeds, `file:` URLs and unknown ids are refused in words that say why."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingestd.config import load_config
from ingestd.models import FeedUpdate
from ingestd.store import Store
from tests.support import write_config

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def config(tmp_path: Path) -> str:
    return str(
        write_config(
            tmp_path,
            '[storage]\npath = "ingestd.db"\n[scheduler]\ndefault_interval = "7m"\n'
            '[[feeds]]\nid = "declared"\nurl = "https://d.example/f"\n',
        )
    )


def opened(config: str) -> Store:
    loaded = load_config(config, env={})
    store = Store(loaded.storage.path)
    store.sync_config_feeds(loaded.feeds, NOW)
    return store


def test_change_replaces_the_values_given_and_keeps_the_rest(config: str, run: Run) -> None:
    assert (
        run("feeds", "add", "x", "--url", "https://x.example/f", "--source", "ap", "--config", config)[0] == 0
    )
    code, out, err = run(
        "feeds",
        "change",
        "x",
        "--interval",
        "10m",
        "--quiet-after",
        "2h",
        "--fetch-article",
        "--identity",
        "url",
        "--json",
        "--config",
        config,
    )
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["source"], shown["interval"], shown["quiet_after"]) == ("ap", 600.0, 7200.0)
    assert (shown["fetch_article"], shown["identity"], shown["origin"]) == (True, "url", "cli")
    code, out, _ = run("feeds", "change", "x", "--no-fetch-article", "--config", config)
    assert code == 0 and out == "x: changed; the daemon takes it up at its next tick\n"
    store = opened(config)
    feed = store.get_feed("x")
    store.close()
    assert feed is not None and (feed.fetch_article, feed.interval, feed.identity) == (False, 600.0, "url")


def test_change_checks_the_merged_table_like_the_config(config: str, run: Run) -> None:
    run("feeds", "add", "x", "--url", "https://x.example/f", "--config", config)
    code, _, err = run("feeds", "change", "x", "--interval", "soon", "--identity", "who", "--config", config)
    assert code == 2
    assert "feeds change x: interval: 'soon' is not a duration" in err
    assert "feeds change x: identity: 'who' is not one of guid, url, content" in err
    code, _, err = run("feeds", "change", "x", "--url", "file:///etc/passwd", "--config", config)
    assert code == 2
    assert (
        "feeds change x: url: 'file:///etc/passwd' is not an http(s) URL "
        "(file: and folder feeds go in the config)" in err
    )
    store = opened(config)
    feed = store.get_feed("x")
    store.close()
    assert feed is not None and (feed.url, feed.interval) == ("https://x.example/f", 420.0)


def test_a_new_url_forgets_the_old_ones_conditional_get_state(config: str, run: Run) -> None:
    run("feeds", "add", "x", "--url", "https://x.example/f", "--config", config)
    store = opened(config)
    learnt = {"etag": '"v1"', "last_modified": "Mon, 30 Nov 2026 11:00:00 GMT", "body_hash": "abc"}
    with store.transaction():
        store.apply([FeedUpdate.of("x", {**learnt, "next_poll_at": datetime(2027, 1, 1, tzinfo=UTC)})])
    store.close()
    assert run("feeds", "change", "x", "--interval", "9m", "--config", config)[0] == 0
    store = opened(config)
    kept = store.get_feed("x")
    waiting = {f.id for f in store.claim_due(datetime.now(UTC), 10)}
    store.close()
    assert kept is not None and (kept.etag, kept.last_modified, kept.body_hash) == tuple(learnt.values())
    assert "x" not in waiting
    assert run("feeds", "change", "x", "--url", "https://y.example/f", "--config", config)[0] == 0
    store = opened(config)
    moved = store.get_feed("x")
    due = {f.id for f in store.claim_due(datetime.now(UTC), 10)}
    store.close()
    assert moved is not None and moved.url == "https://y.example/f"
    assert (moved.etag, moved.last_modified, moved.body_hash) == (None, None, None)
    assert "x" in due  # polled afresh at the next tick


def test_a_declared_feed_is_changed_in_its_file_and_unknown_ids_are_named(config: str, run: Run) -> None:
    opened(config).close()
    code, _, err = run("feeds", "change", "declared", "--interval", "1h", "--config", config)
    assert code == 1 and err == f"feed declared is declared in {config}; change it there\n"
    code, _, err = run("feeds", "change", "nope", "--interval", "1h", "--config", config)
    assert code == 1 and err == "no feed 'nope'\n"
    run("feeds", "add", "gone", "--url", "https://g.example/f", "--config", config)
    run("feeds", "remove", "gone", "--config", config)
    code, _, err = run("feeds", "change", "gone", "--interval", "1h", "--config", config)
    assert code == 1 and err == "no feed 'gone'\n"


def test_change_sets_credentials_and_keeps_them_through_other_changes(config: str, run: Run) -> None:
    assert run("feeds", "add", "paid", "--url", "https://paid.example/rss", "--config", config)[0] == 0
    code, out, err = run("feeds", "change", "paid", "--bearer", "t-31c", "--json", "--config", config)
    assert code == 0, err
    assert json.loads(out)["credentials"] == {"auth": "bearer"} and "t-31c" not in out
    assert run("feeds", "change", "paid", "--interval", "15m", "--config", config)[0] == 0
    store = opened(config)
    feed = store.get_feed("paid")
    store.close()
    assert feed is not None and feed.interval == 900.0
    assert feed.secrets is not None and feed.secrets.bearer == "t-31c"


def test_feeds_list_says_in_words_which_credentials_are_set(config: str, run: Run) -> None:
    assert (
        run(
            "feeds",
            "add",
            "paid",
            "--url",
            "https://paid.example/rss",
            "--header",
            "X-Key=k-77e",
            "--bearer",
            "t-19a",
            "--config",
            config,
        )[0]
        == 0
    )
    code, out, _ = run("feeds", "list", "--config", config)
    (line,) = [line for line in out.splitlines() if line.startswith("paid ")]
    assert code == 0 and "X-Key, bearer auth" in line
    assert "k-77e" not in out and "t-19a" not in out and "{" not in line


def test_unset_drops_values_so_the_defaults_apply_again(config: str, run: Run) -> None:
    run(
        "feeds", "add", "x", "--url", "https://x.example/f", "--source", "ap", "--interval", "10m",
        "--bearer", "t-1", "--header", "X-Team=news", "--config", config,
    )  # fmt: skip
    code, out, err = run(
        "feeds", "change", "x", "--unset", "interval", "--unset", "source", "--unset", "auth",
        "--json", "--config", config,
    )  # fmt: skip
    assert code == 0, err
    shown = json.loads(out)
    assert (shown["interval"], shown["source"]) == (420.0, None)  # [scheduler] default_interval
    store = opened(config)
    feed = store.get_feed("x")
    store.close()
    assert feed is not None and feed.secrets is not None
    assert (feed.secrets.bearer, dict(feed.secrets.headers)) == (None, {"X-Team": "news"})


def test_unset_refuses_a_key_also_given_and_a_key_it_does_not_know(config: str, run: Run) -> None:
    run("feeds", "add", "x", "--url", "https://x.example/f", "--config", config)
    code, _, err = run("feeds", "change", "x", "--interval", "5m", "--unset", "interval", "--config", config)
    assert code == 2 and err == "feeds change x: interval: both given and unset\n"
    with pytest.raises(SystemExit) as exited:
        run("feeds", "change", "x", "--unset", "url", "--config", config)
    assert exited.value.code == 2  # argparse: url is not among the choices
