"""The daemon as ops run it: a real `ingestd run` process, a feed on 127.0.0.1,
SIGTERM, the healthcheck, and the container's exact command line."""

from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import httpx
import pytest

from ingestd.compose import save_stories
from tests.support import ROOT, free_port, local_feed, rss, wait_for, write_config
from tests.support.processes import INGESTD, clean_env


@pytest.fixture
def feed_server() -> Iterator[str]:
    with local_feed(rss(("a", "Alpha"), ("b", "Beta"))) as feed:
        yield feed.url


def _stories(db: Path) -> int:
    try:
        with sqlite3.connect(db) as conn:
            return conn.execute("SELECT count(*) FROM stories").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_run_stores_stories_then_sigterm_exits_0_within_5s(tmp_path: Path, feed_server: str) -> None:
    db = tmp_path / "data" / "ingestd.db"
    port = free_port()
    config = write_config(
        tmp_path,
        f"""
        [storage]
        path = "data/ingestd.db"
        [log]
        format = "json"
        [fetch]
        allow_private = ["127.0.0.1"]
        [scheduler]
        tick = "200ms"
        [http]
        listen = "127.0.0.1:{port}"
        [[feeds]]
        id = "local-http"
        url = "{feed_server}"
        interval = "1m"
    """,
    )
    proc = subprocess.Popen(
        [*INGESTD, "run", "--config", str(config)],
        cwd=tmp_path,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: _stories(db) == 2, timeout=20)
        health = subprocess.run(
            [*INGESTD, "healthcheck", "--config", str(config)],
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert health.returncode == 0, health.stderr
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert 'ingestd_stories_stored_total{change="created"} 2.0' in metrics
        assert httpx.get(f"http://127.0.0.1:{port}/stories", timeout=5).status_code == 401
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=10)
        assert time.monotonic() - started < 5
        assert code == 0
    finally:
        proc.kill()
        _, stderr = proc.communicate()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 2
    assert '"event": "daemon stopped"' in stderr
    # every line the process wrote — ours, APScheduler's, uvicorn's — is one JSON object
    lines = stderr.splitlines()
    assert any('"http request"' in line for line in lines)
    for line in lines:
        record = json.loads(line)
        assert {"timestamp", "level", "event"} <= record.keys(), line


def test_healthcheck_fails_without_a_running_daemon(tmp_path: Path) -> None:
    config = write_config(tmp_path, f'[http]\nlisten = "127.0.0.1:{free_port()}"\n')
    run = subprocess.run(
        [*INGESTD, "healthcheck", "--config", str(config)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 1
    assert "unhealthy" in run.stderr and "ConnectionRefusedError" in run.stderr


def test_run_once_polls_every_feed_then_exits(tmp_path: Path, feed_server: str) -> None:
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "story.txt").write_bytes(
        (ROOT / "seeds" / "yonhap-2020-01-09-defense-cost-sharing.txt").read_bytes()
    )
    config = write_config(
        tmp_path,
        f"""
        [storage]
        path = "once.db"
        [fetch]
        allow_private = ["127.0.0.1"]
        [[feeds]]
        id = "http"
        url = "{feed_server}"
        [[feeds]]
        id = "inbox"
        url = "inbox"
    """,
    )
    run = subprocess.run(
        [*INGESTD, "run", "--once", "--config", str(config)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert _stories(tmp_path / "once.db") == 3
    listing = subprocess.run(
        [*INGESTD, "feeds", "list", "--json", "--config", str(config)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    states = {row["id"]: row["state"] for row in map(__import__("json").loads, listing.stdout.splitlines())}
    assert states == {"http": "ok", "inbox": "ok"}


def test_example_receiver_accepts_ingestd_signatures(tmp_path: Path) -> None:
    """The receiver the compose file runs verifies what the webhook signer produces."""
    from ingestd.webhooks import signature_headers, signing_key

    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "examples" / "receiver.py"), str(port)],
        env=clean_env(WEBHOOK_SECRET=secret),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        body = json.dumps(
            {
                "type": "story.created",
                "id": "evt_1",
                "timestamp": "2020-01-09T00:31:02Z",
                "data": {"story": {"headlines": [{"value": "Hello"}]}},
            }
        ).encode()
        headers = signature_headers([signing_key(secret)], "evt_1", int(time.time()), body)
        deadline = time.monotonic() + 10
        while True:
            try:
                response = httpx.post(f"http://127.0.0.1:{port}/", content=body, headers=headers, timeout=5)
                break
            except httpx.ConnectError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        assert response.status_code == 204
        forged = httpx.post(f"http://127.0.0.1:{port}/", content=body + b" ", headers=headers, timeout=5)
        assert forged.status_code == 401
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=5)
    assert '"headline": "Hello"' in out


def test_identity_reset_takes_a_feed_back_out_of_a_learnt_policy(tmp_path: Path) -> None:
    from datetime import datetime

    from ingestd.config import load_config
    from ingestd.models import Story
    from ingestd.store import Store

    config = write_config(
        tmp_path, '[storage]\npath = "s.db"\n[[feeds]]\nid = "f"\nurl = "https://example.org/feed.xml"\n'
    )
    store = Store(tmp_path / "s.db")
    store.sync_config_feeds(load_config(config).feeds, datetime.now(UTC))
    save_stories(
        store,
        [
            Story(
                feed_id="f",
                source="generic",
                headline=f"H{i}",
                body_text=f"Body {i} of the story.",
                guid="same",
                url=f"https://example.org/{i}",
            )
            for i in range(3)
        ],
        datetime.now(UTC),
    )
    assert store.identity_policy("f").name == "url"  # a repeated guid identifies nothing
    store.close()
    listing = subprocess.run(
        [*INGESTD, "feeds", "list", "--json", "--config", str(config)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert json.loads(listing.stdout.splitlines()[0])["identity"] == "url"
    reset = subprocess.run(
        [*INGESTD, "feeds", "identity-reset", "f", "--config", str(config)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert reset.returncode == 0, reset.stderr
    again = subprocess.run(
        [*INGESTD, "feeds", "identity-reset", "f", "--config", str(config)],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert again.returncode == 1 and "no learnt identity policy" in again.stderr


def test_a_taken_port_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(
            tmp_path,
            f'[storage]\npath = "x.db"\n[log]\nformat = "json"\n[http]\nlisten = "127.0.0.1:{port}"\n',
        )
        run = subprocess.run(
            [*INGESTD, "run", "--config", str(config)],
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    [failure] = [
        json.loads(l) for l in run.stderr.splitlines() if json.loads(l)["event"] == "daemon cannot start"
    ]
    assert str(port) in failure["error"]
