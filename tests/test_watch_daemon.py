"""Watch folders end to end, on a real `ingestd run`: a file dropped into the folder
reaches a webhook receiver on 127.0.0.1 quickly, and a daemon killed with SIGKILL
between a poll's commit and the file's move neither loses nor duplicates the story."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support import rss, wait_for
from tests.support.processes import clean_env
from tests.support.reliability import LEAN, Daemon, running
from tests.support.webhooks import SECRET, receiving

# The issue asks for 2 s; the bound is generous because the machine is shared, and the
# measured figure is printed (pytest -s) for the report.
DROP_TO_RECEIVER_BOUND_S = 10.0

# `ingestd run` that dies by SIGKILL where it would move the first file: after the commit
KILLED_BEFORE_THE_MOVE = """
import os, signal, sys
from ingestd import watch
watch.file_away = lambda moves: os.kill(os.getpid(), signal.SIGKILL)
from ingestd.cli import main
sys.exit(main(["run", "--config", sys.argv[1]]))
"""


def _body(inbox: Path, hook: str) -> str:
    return f"""
    [fetch]
    allow_private = ["127.0.0.1"]
    [scheduler]
    tick = "200ms"
    [[feeds]]
    id = "drop"
    url = "folder:{inbox}"
    interval = "1h"
    [[subscriptions]]
    id = "hook"
    url = "{hook}"
    secret = "{SECRET}"
    """


def _drop(inbox: Path, name: str, body: bytes) -> float:
    """Written under a temporary name, then renamed into place, as an (S)FTP upload does."""
    (inbox / (name + ".part")).write_bytes(body)
    os.replace(inbox / (name + ".part"), inbox / name)
    return time.monotonic()


def test_a_dropped_file_reaches_a_webhook_receiver_fast(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with receiving() as receiver, running(tmp_path, _body(inbox, receiver.url)) as daemon:
        wait_for(lambda: daemon.feeds().get("drop", {}).get("last_poll_at"), "the folder's first look", 30)
        dropped = _drop(inbox, "one.xml", rss(("g1", "Harbor bridge vote passes")))
        wait_for(lambda: receiver.received, "the event", 30)
        latency = receiver.received[0].at - dropped
        print(f"watch folder: drop -> webhook receiver {latency * 1000:.0f} ms")
        assert latency < DROP_TO_RECEIVER_BOUND_S
        wait_for(lambda: (inbox / "processed" / "one.xml").exists(), "the file moved", 10)
        assert (
            receiver.received[0].event["data"]["story"]["headlines"][0]["value"]
            == "Harbor bridge vote passes"
        )


def test_sigkill_between_commit_and_move_then_restart_moves_the_file_once(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "one.xml").write_bytes(rss(("g1", "Harbor bridge vote passes")))
    daemon = Daemon(tmp_path, _body(inbox, "http://127.0.0.1:9/hook"))
    env = clean_env(**LEAN)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_BEFORE_THE_MOVE, str(daemon.config)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert killed.returncode == -9, killed.stderr.decode(errors="replace")
    assert (inbox / "one.xml").exists()  # committed, not moved
    daemon.start()
    try:
        wait_for(lambda: (inbox / "processed" / "one.xml").exists(), "the file moved by the restart", 30)
        assert len(daemon.stories("drop")) == 1
    finally:
        daemon.stop()
    assert not (inbox / "one.xml").exists()
