"""How much one 10,000-item feed slows a healthy feed beside it, in a real `ingestd run`.

    python bench/bigfeed.py [--items 10000] [--seconds 60]

Two runs of the daemon on 127.0.0.1, each `--seconds` long: a live feed alone (one new
item every 0.5 s), then the same live feed beside a feed of `--items` items
(`[fetch] max_entries` raised to take them all). Prints the live feed's stories stored per
minute in each run and their ratio (the issue's target: within 2x), the /healthz answers
seen during the second run, and how long the big poll took. Never part of the test run.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import socket
import sqlite3
import string
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx


def big_feed(items: int) -> bytes:
    rng = random.Random(items)
    vocabulary = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9))) for _ in range(3000)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    parts = [
        f"<item><guid>big-{n}</guid><title>Report {n}</title><link>https://big.example/{n}</link>"
        f"<description>{' '.join(rng.choices(vocabulary, k=60))}.</description>"
        f"<pubDate>{format_datetime(start - timedelta(minutes=n))}</pubDate></item>"
        for n in range(items)
    ]
    return ('<rss version="2.0"><channel><title>Big</title>' + "".join(parts) + "</channel></rss>").encode()


def serve(routes: dict[str, object]) -> tuple[ThreadingHTTPServer, int]:
    """`routes`: path -> bytes, or a function giving the bytes of each request."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            route = routes[self.path]
            body = route() if callable(route) else route
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, server.server_address[1]


def live_feed(every: float = 0.5):
    started = time.monotonic()

    def body() -> bytes:
        count = 1 + int((time.monotonic() - started) / every)
        now = datetime.now(UTC)
        items = "".join(
            f"<item><guid>live-{n}</guid><title>Live update {n}</title><description>Update number "
            f"{n} from the live desk, with enough words to be a story of its own.</description>"
            f"<pubDate>{format_datetime(now - timedelta(seconds=(count - n) * every))}</pubDate></item>"
            for n in range(max(0, count - 20), count)
        )
        return f'<rss version="2.0"><channel><title>Live</title>{items}</channel></rss>'.encode()

    return body


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def count(db: Path, feed_id: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute("SELECT count(*) FROM stories WHERE feed_id = ?", [feed_id]).fetchone()[0]
    except sqlite3.Error:
        return 0


def run(folder: Path, feeds: dict[str, str], seconds: float) -> dict[str, object]:
    port = free_port()
    config = folder / "ingestd.toml"
    text = (
        f'[storage]\npath = "{folder / "db.sqlite"}"\n[log]\nformat = "json"\n'
        f'[fetch]\nallow_private = ["127.0.0.1"]\nmax_entries = 0\n'
        f'[scheduler]\ntick = "200ms"\nmin_interval = "1s"\n[http]\nlisten = "127.0.0.1:{port}"\n'
    )
    text += "".join(f'[[feeds]]\nid = "{i}"\nurl = "{u}"\ninterval = "1s"\n' for i, u in feeds.items())
    config.write_text(text)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ingestd", "run", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    db = folder / "db.sqlite"
    health: dict[object, int] = {}
    deadline = time.monotonic() + 30
    while count(db, "live") == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    first, started = count(db, "live"), time.monotonic()
    while time.monotonic() - started < seconds:
        try:
            status: object = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        health[status] = health.get(status, 0) + 1
        time.sleep(0.5)
    live = count(db, "live") - first
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=30)
    big_polls = [
        line
        for line in map(json.loads, stderr.splitlines())
        if line.get("event") == "poll" and line.get("feed_id") == "big" and line.get("new")
    ]
    return {
        "live_per_minute": live / seconds * 60,
        "health": health,
        "big_stored": count(db, "big"),
        "big_poll_ms": big_polls[0]["duration_ms"] if big_polls else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    options = parser.parse_args()
    server, port = serve({"/live.xml": live_feed(), "/big.xml": big_feed(options.items)})
    try:
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            alone = run(Path(a), {"live": f"http://127.0.0.1:{port}/live.xml"}, options.seconds)
            beside = run(
                Path(b),
                {"live": f"http://127.0.0.1:{port}/live.xml", "big": f"http://127.0.0.1:{port}/big.xml"},
                options.seconds,
            )
    finally:
        server.shutdown()
    ratio = alone["live_per_minute"] / max(beside["live_per_minute"], 1e-9)  # type: ignore[operator]
    print(f"live feed alone:          {alone['live_per_minute']:.0f} stories/min, /healthz {alone['health']}")
    print(
        f"beside a {options.items}-item feed: {beside['live_per_minute']:.0f} stories/min, "
        f"/healthz {beside['health']}; big feed: {beside['big_stored']} stored, "
        f"its poll {beside['big_poll_ms']} ms"
    )
    print(f"slowdown of the live feed: {ratio:.2f}x (target: within 2x)")


if __name__ == "__main__":
    main()
