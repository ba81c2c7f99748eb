"""Honest readiness: /readyz turns 503 while another process holds the database's
write lock (the write probe cannot commit) and 200 again once it is released; a
database that cannot be opened for writing stops `run` with one clear line."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import httpx
import pytest

from tests.support import wait_for
from tests.support.processes import INGESTD, clean_env
from tests.support.reliability import running

# Three write probes (one every 10 s) fall inside it.
LOCK_S = 30

HOLD_LOCK = textwrap.dedent(
    """
    import sqlite3, sys, time
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    db.rollback()
    """
)


def readyz(url: str) -> tuple[int, dict[str, object]] | None:
    try:
        response = httpx.get(url + "/readyz", timeout=5)
    except httpx.HTTPError:
        return None
    return response.status_code, response.json()


@pytest.mark.slow
def test_readyz_is_503_while_another_process_holds_the_write_lock(tmp_path: Path) -> None:
    with running(tmp_path, "") as daemon:
        wait_for(lambda: (readyz(daemon.url) or (0,))[0] == 200, "ready", 30)
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_LOCK, str(daemon.db), str(LOCK_S)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
            status, body = wait_for(
                lambda: (answer := readyz(daemon.url)) and answer[0] == 503 and answer,
                "/readyz to turn 503",
                LOCK_S - 5,
            )
            assert "write probe" in body["checks"]["database"], body  # type: ignore[index]
            assert holder.poll() is None, "the lock was released before /readyz said so"
            assert holder.wait(timeout=LOCK_S + 10) == 0
        finally:
            if holder.poll() is None:
                holder.kill()
                holder.wait(timeout=10)
        wait_for(lambda: (readyz(daemon.url) or (0,))[0] == 200, "/readyz back to 200", 40)
        assert daemon.alive()
        assert daemon.stop() == 0


def _unprivileged() -> list[str]:
    """A prefix that makes file permissions bind: root ignores them, but not inside a
    user namespace of its own (files owned by root are judged by their owner bits)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("unshare") is None:
        pytest.skip("running as root without unshare: read-only files would be writable")
    return ["unshare", "--user"]


def _read_only_file(folder: Path) -> Path:
    path = folder / "ingestd.db"
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.execute("CREATE TABLE earlier (x)")
    path.chmod(0o444)
    return path


def _read_only_folder(folder: Path) -> Path:
    locked = folder / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    return locked / "ingestd.db"


def _a_folder(folder: Path) -> Path:
    path = folder / "ingestd.db"
    path.mkdir()
    return path


def _config(folder: Path, db: Path) -> Path:
    config = folder / "ingestd.toml"
    config.write_text(f"[storage]\npath = {json.dumps(str(db))}\n[log]\nformat = 'json'\n", encoding="utf-8")
    return config


@pytest.mark.parametrize(
    "make,reason",
    [
        (_read_only_file, "the file is read-only"),
        (_read_only_folder, "its folder is read-only"),
        (_a_folder, "it is a folder, not a file"),
    ],
)
def test_a_database_that_cannot_be_written_stops_the_start_in_one_line(
    tmp_path: Path, make: object, reason: str
) -> None:
    db = make(tmp_path)  # type: ignore[operator]
    done = subprocess.run(
        [*_unprivileged(), *INGESTD, "run", "--config", str(_config(tmp_path, db))],
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode in (1, 2), done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    [line] = [json.loads(t) for t in done.stderr.splitlines() if '"daemon cannot start"' in t]
    assert line["error"] == f"database {db} cannot be opened for writing: {reason}"
