"""Local inputs under hostile conditions: devices, FIFOs and huge files never block
replay or the daemon's file feeds, and never make them read without bound."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from ingestd.errors import BodyTooLarge, FetchError
from ingestd.fetch import read_file, read_local
from tests.support import ROOT, SEED
from tests.support.processes import clean_env
from tests.support.reliability import LEAN

NOW = "2020-01-09T00:31:02Z"
# The replay's whole address space: a few hundred MB of libraries, and far less than
# the 4 GB file below, or than what /dev/zero would give if read to its end.
ADDRESS_SPACE = 1024 * 2**20
TINY_FEED = (
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
    b"<item><guid>g1</guid><title>Parliament passes the budget</title><link>https://example.org/1</link>"
    b"<pubDate>Thu, 09 Jan 2020 00:00:00 GMT</pubDate>"
    b"<description>The parliament passed the budget on Thursday after a long debate.</description>"
    b"</item></channel></rss>"
)

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")


def replay(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`ingestd replay` with its memory capped; the timeout bounds a hang, it times nothing."""

    def cap_memory() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))

    environ = clean_env()
    return subprocess.run(
        [sys.executable, "-m", "ingestd", "replay", "--now", NOW, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**environ, **LEAN, "INGESTD_LOG_FORMAT": "json", "PYTHONPATH": str(ROOT), **env},
        preexec_fn=cap_memory,
        timeout=90,
    )


def logs(run: subprocess.CompletedProcess[str]) -> list[dict]:
    return [json.loads(line) for line in run.stderr.splitlines() if line.startswith("{")]


def test_replay_of_dev_zero_ends_with_a_clear_error(tmp_path: Path) -> None:
    run = replay("/dev/zero", cwd=tmp_path)
    assert run.returncode == 1, run.stderr[-2000:]
    errors = [l for l in logs(run) if l["level"] == "error"]
    assert [(l["url"], l["error"]) for l in errors] == [
        ("/dev/zero", "/dev/zero: a character device, not a regular file")
    ]
    assert "Traceback" not in run.stderr


def test_a_file_over_max_body_is_refused_having_read_only_the_limit(tmp_path: Path) -> None:
    """A 4 GB (sparse) file under a 1 GB address space: reading it whole would fail."""
    huge = tmp_path / "huge.xml"
    with huge.open("wb") as f:
        f.truncate(4 * 2**30)
    small = tmp_path / "small.xml"
    small.write_bytes(b"x" * 1001)
    fits = tmp_path / "fits.xml"
    fits.write_bytes(TINY_FEED)
    assert len(TINY_FEED) <= 1000
    run = replay(str(huge), str(small), str(fits), cwd=tmp_path, INGESTD_FETCH_MAX_BODY="1KB")
    assert run.returncode == 1, run.stderr[-2000:]
    assert len(run.stdout.splitlines()) == 1
    errors = {l["url"]: l["error"] for l in logs(run) if l["level"] == "error"}
    assert errors == {
        str(huge): f"{huge}: larger than the 1000-byte limit ([fetch] max_body)",
        str(small): f"{small}: larger than the 1000-byte limit ([fetch] max_body)",
    }
    assert "Traceback" not in run.stderr


def test_a_fifo_named_on_the_command_line_fails_alone_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.xml"
    os.mkfifo(fifo)  # no writer ever comes: opening it the usual way would wait forever
    run = replay(str(fifo), str(SEED), cwd=tmp_path)
    assert run.returncode == 1
    assert len(run.stdout.splitlines()) == 1  # the seed's story went on
    errors = [(l["url"], l["error"]) for l in logs(run) if l["level"] == "error"]
    assert errors == [(str(fifo), f"{fifo}: a FIFO, not a regular file")]


def test_a_fifo_inside_a_folder_is_skipped_with_a_log_line(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    os.mkfifo(inputs / "a-pipe.xml")
    (inputs / "b-story.txt").write_bytes(SEED.read_bytes())
    run = replay(str(inputs), cwd=tmp_path)
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.stdout.splitlines()) == 1
    skipped = [(l["level"], l["url"], l["error"]) for l in logs(run) if l["event"] == "input skipped"]
    assert skipped == [("warning", str(inputs / "a-pipe.xml"), "a FIFO, not a regular file")]


def _finishes(fn: object, *args: object) -> object:
    """fn(*args) on a daemon thread: a call that blocks fails the test instead of hanging it."""
    outcome: list[object] = []

    def run() -> None:
        try:
            outcome.append(fn(*args))  # type: ignore[operator]
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=20)
    assert outcome, f"{fn} blocked"
    return outcome[0]


def test_read_local_skips_a_fifo_in_a_feed_folder(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.xml")
    (tmp_path / "feed.xml").write_bytes(b"<rss/>")
    assert _finishes(read_local, str(tmp_path)) == [(str(tmp_path / "feed.xml"), b"<rss/>")]


def test_read_local_refuses_a_fifo_or_device_feed(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.xml")
    for path, kind in [(tmp_path / "pipe.xml", "a FIFO"), (Path("/dev/zero"), "a character device")]:
        error = _finishes(read_local, path.as_uri())
        assert isinstance(error, FetchError) and str(error) == f"{path}: {kind}, not a regular file"


def test_read_file_takes_up_to_the_limit_and_refuses_one_byte_more(tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(b"a" * 100)
    assert read_file(feed, 100) == b"a" * 100
    with pytest.raises(BodyTooLarge, match="larger than the 99-byte limit"):
        read_file(feed, 99)
