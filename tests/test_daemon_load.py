"""A real `ingestd run` under load, on 127.0.0.1: a 10,000-item feed beside a live one,
SIGTERM in the middle of a big write, and a second `run` on the same database.

No timing is asserted but the documented 5 s of shutdown; how much a big feed slows
a healthy one is measured by bench/bigfeed.py."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import string
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.support import free_port, local_feed, wait_for, write_config
from tests.support.processes import INGESTD, clean_env


def big_feed(items: int) -> bytes:
    """`items` distinct stories, newest first, each with a guid, a date and a body of
    words drawn from a vocabulary (seeded: the same bytes every run)."""
    rng = random.Random(items)
    vocabulary = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9))) for _ in range(3000)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    parts = []
    for n in range(items):
        words = " ".join(rng.choices(vocabulary, k=60))
        parts.append(
            f"<item><guid>big-{n}</guid><title>Report {n}: {vocabulary[n % 3000]}</title>"
            f"<link>https://big.example/{n}</link><description>{words}."
            f"</description><pubDate>{format_datetime(start - timedelta(minutes=n))}</pubDate></item>"
        )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title><language>en</language>'
        + "".join(parts)
        + "</channel></rss>"
    ).encode()


class LiveFeed:
    """A feed on 127.0.0.1 that publishes one new item every `every` seconds."""

    def __init__(self, every: float = 0.5):
        started = time.monotonic()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                count = 1 + int((time.monotonic() - started) / every)
                now = datetime.now(UTC)
                items = "".join(
                    f"<item><guid>live-{n}</guid><title>Live update {n}</title><description>Update "
                    f"number {n} from the live desk with enough words to be a story.</description>"
                    f"<pubDate>{format_datetime(now - timedelta(seconds=(count - n) * every))}</pubDate></item>"
                    for n in range(max(0, count - 20), count)
                )
                body = f'<rss version="2.0"><channel><title>Live</title>{items}</channel></rss>'.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/live.xml"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def live() -> Iterator[LiveFeed]:
    feed = LiveFeed()
    yield feed
    feed.close()


def config(
    tmp_path: Path, port: int, feeds: dict[str, str], max_entries: str = "500", write_batch: str = "200"
) -> Path:
    text = (
        f'[storage]\npath = "data/ingestd.db"\nwrite_batch = {write_batch}\n[log]\nformat = "json"\n'
        f'[fetch]\nallow_private = ["127.0.0.1"]\nmax_entries = {max_entries}\n'
        f'[scheduler]\ntick = "200ms"\nmin_interval = "1s"\n[http]\nlisten = "127.0.0.1:{port}"\n'
    )
    for feed_id, url in feeds.items():
        text += f'[[feeds]]\nid = "{feed_id}"\nurl = "{url}"\ninterval = "1s"\n'
    return write_config(tmp_path, text)


def count(db: Path, feed_id: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM stories WHERE feed_id = ?", [feed_id]).fetchone()[0]
    except sqlite3.Error:
        return 0


def start(tmp_path: Path, path: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*INGESTD, "run", "--config", str(path)],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop(proc: subprocess.Popen[str]) -> tuple[int, float, list[dict]]:
    """SIGTERM; the exit code, the seconds it took, the JSON log lines."""
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=15)
    finally:
        proc.kill()
        _, stderr = proc.communicate()
    return code, time.monotonic() - started, [json.loads(line) for line in stderr.splitlines()]


def test_a_10000_item_feed_never_stalls_the_daemon(tmp_path: Path, live: LiveFeed) -> None:
    """/healthz answers 200 throughout, the live feed keeps arriving while the big one
    is written, and the big poll ends with its `poll` line."""
    db = tmp_path / "data" / "ingestd.db"
    port = free_port()
    with local_feed(big_feed(10_000)) as big:
        path = config(tmp_path, port, {"live": live.url, "big": big.url}, max_entries="10000")
        proc = start(tmp_path, path)
        statuses: list[int] = []
        live_during: list[int] = []
        try:
            wait_for(lambda: count(db, "big") > 0, timeout=60)
            deadline = time.monotonic() + 120
            while 0 < count(db, "big") < 10_000 and time.monotonic() < deadline:
                try:
                    statuses.append(httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code)
                except httpx.HTTPError as exc:  # a refused or timed-out probe is a failed one
                    statuses.append(type(exc).__name__)  # type: ignore[arg-type]
                live_during.append(count(db, "live"))
                time.sleep(0.3)
            wait_for(lambda: count(db, "big") == 10_000, timeout=60)
        finally:
            code, _, lines = stop(proc)
    assert code == 0
    assert statuses and set(statuses) == {200}, statuses
    assert live_during[-1] > live_during[0], "the live feed got nothing while the big one was written"
    [big_poll] = [l for l in lines if l["event"] == "poll" and l.get("feed_id") == "big" and l["new"]]
    assert big_poll["new"] == 10_000 and big_poll["error"] is None


def test_sigterm_during_a_big_write_exits_0_within_5s_and_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "data" / "ingestd.db"
    port = free_port()
    with local_feed(big_feed(6_000)) as big:
        path = config(tmp_path, port, {"big": big.url}, max_entries="0", write_batch="50")
        proc = start(tmp_path, path)
        try:
            wait_for(lambda: count(db, "big") > 0, timeout=60)
        finally:
            code, seconds, lines = stop(proc)
        assert code == 0 and seconds < 5, (code, seconds)
        stored = count(db, "big")
        assert 0 < stored <= 6_000  # usually half-way: the rest is redone next start
        with sqlite3.connect(db) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            # a story and its event commit together
            events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
            assert events == stored
            assert conn.execute("SELECT count(*) FROM feeds WHERE lease_owner IS NOT NULL").fetchone()[0] == 0
        assert any(l["event"] == "daemon stopped" for l in lines)
        proc = start(tmp_path, path)  # the feed is due at once: its etag never ran ahead
        try:
            wait_for(lambda: count(db, "big") == 6_000, timeout=90)
        finally:
            code, _, _ = stop(proc)
        assert code == 0


def test_a_second_run_on_the_same_database_exits_1_naming_it_and_the_holder(tmp_path: Path) -> None:
    db = tmp_path / "data" / "ingestd.db"
    path = config(tmp_path, free_port(), {})
    first = start(tmp_path, path)
    try:
        wait_for(lambda: db.exists() and (tmp_path / "data" / "ingestd.db.lock").exists(), timeout=20)
        time.sleep(0.5)
        second = subprocess.run(
            [*INGESTD, "run", "--config", str(path)],
            cwd=tmp_path,
            env=clean_env(INGESTD_HTTP_LISTEN=f"127.0.0.1:{free_port()}"),
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        code, _, _ = stop(first)
    assert code == 0
    assert second.returncode == 1
    [line] = [json.loads(l) for l in second.stderr.splitlines() if "cannot start" in l]
    assert str(db) in line["error"] and f"pid {first.pid}" in line["error"]
