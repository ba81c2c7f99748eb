"""Signals against a real `ingestd run`: SIGHUP reloads the config file (the same
checks as start; a bad file keeps the running config), SIGUSR1 logs a status line,
SIGTERM stops. Feeds and receivers on 127.0.0.1."""

from __future__ import annotations

import json
import signal
import textwrap
from pathlib import Path
from typing import Any

from tests.support import receiving, wait_for
from tests.support.reliability import TOKEN, Daemon, Growing, Server, running
from tests.support.webhooks import SECRET

FAST = """
    [fetch]
    allow_private = ["127.0.0.1"]
    [scheduler]
    tick = "200ms"
    min_interval = "1s"
    max_interval = "2s"
"""


def feed(feed_id: str, url: str) -> str:
    return f'[[feeds]]\nid = "{feed_id}"\nurl = "{url}"\ninterval = "1s"\n'


def subscription(url: str) -> str:
    return f'[[subscriptions]]\nid = "newsroom"\nurl = "{url}"\nsecret = "{SECRET}"\n'


def rewrite(daemon: Daemon, body: str, *, storage: str = "", listen: str = "") -> None:
    """The daemon's config file replaced: its own [storage], [http] and [log], then `body`."""
    daemon.config.write_text(
        f'[storage]\npath = "ingestd.db"\n{storage}[log]\nformat = "json"\n'
        f'[http]\nlisten = "{listen or f"127.0.0.1:{daemon.port}"}"\ntoken = "{TOKEN}"\n'
        + textwrap.dedent(body),
        encoding="utf-8",
    )


def hangup(daemon: Daemon) -> None:
    """SIGHUP, then wait for the reload's verdict (it runs in the background)."""
    verdicts = len(_lines(daemon, "config reloaded", "config not reloaded, the running one kept"))
    daemon.proc.send_signal(signal.SIGHUP)  # type: ignore[union-attr]
    wait_for(
        lambda: (
            len(_lines(daemon, "config reloaded", "config not reloaded, the running one kept")) > verdicts
        ),
        "the reload's log line",
        20,
    )
    assert daemon.alive(), "SIGHUP killed the daemon"


def _lines(daemon: Daemon, *events: str) -> list[dict[str, Any]]:
    lines = []
    for text in daemon.logs().splitlines():
        if text.startswith("{"):
            line = json.loads(text)
            if line.get("event") in events:
                lines.append(line)
    return lines


def _polled(daemon: Daemon, feed_id: str) -> int:
    return sum(1 for line in _lines(daemon, "poll") if line.get("feed_id") == feed_id)


def test_sighup_adds_and_removes_feeds_and_changes_a_subscription(tmp_path: Path) -> None:
    server = Server({"/a.xml": Growing("a"), "/b.xml": Growing("b")})
    try:
        with receiving() as first, receiving() as second:
            start = FAST + feed("a", server.url("/a.xml")) + subscription(first.url)
            with running(tmp_path, start) as daemon:
                wait_for(lambda: first.received, "a delivery to the first receiver", 30)

                rewrite(daemon, FAST + feed("b", server.url("/b.xml")) + subscription(second.url))
                hangup(daemon)
                wait_for(lambda: _polled(daemon, "b") >= 2, "the added feed to be polled", 30)
                wait_for(lambda: daemon.feeds()["a"]["state"] == "removed", "feed a set aside", 10)
                wait_for(lambda: second.received, "a delivery to the changed subscription's URL", 30)
                polls_of_a, delivered_first = _polled(daemon, "a"), len(first.received)
                wait_for(lambda: _polled(daemon, "b") >= 5, "more polls of b", 30)
                assert _polled(daemon, "a") <= polls_of_a + 1  # one may have been in flight
                assert len(first.received) <= delivered_first + 1
                assert second.unverified == 0
                assert daemon.stop() == 0
    finally:
        server.close()


def test_a_bad_file_keeps_the_running_config_and_restart_keys_are_named(tmp_path: Path) -> None:
    server = Server({"/a.xml": Growing("a")})
    try:
        start = FAST + feed("a", server.url("/a.xml"))
        with running(tmp_path, start) as daemon:
            wait_for(lambda: _polled(daemon, "a") >= 1, "the first poll", 30)

            rewrite(daemon, start.replace('min_interval = "1s"', 'min_interval = "2h"'))
            hangup(daemon)
            [refused] = _lines(daemon, "config not reloaded, the running one kept")
            assert any(p.startswith(f"{daemon.config}: scheduler.") for p in refused["problems"]), refused
            polls = _polled(daemon, "a")
            wait_for(lambda: _polled(daemon, "a") >= polls + 2, "polls going on at the old interval", 30)

            rewrite(daemon, start, storage='retention = "2d"\n', listen="127.0.0.1:1")
            hangup(daemon)
            [restart] = _lines(daemon, "config change needs a restart to take effect")
            assert restart["keys"] == ["[storage] retention", "[http] listen"]
            assert daemon.get("/healthz") is not None  # still listening where it was

            daemon.proc.send_signal(signal.SIGUSR1)  # type: ignore[union-attr]
            [status] = wait_for(lambda: _lines(daemon, "status"), "the status line", 20)
            assert status["feeds_by_state"] == {"ok": 1}
            assert status["polls_in_flight"] in (0, 1)
            assert status["outbox_backlog"] == 0
            assert status["last_write_at"] is not None and status["uptime_s"] >= 0
            assert daemon.stop() == 0
    finally:
        server.close()
