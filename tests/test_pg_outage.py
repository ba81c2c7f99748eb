"""A daemon whose PostgreSQL goes away (every connection reset, new ones refused): the
scheduler goes on (/healthz 200), /readyz is 503 saying why, the log has one
`storage error` line per reason (not a traceback a tick), and SIGTERM still ends it within
the 5 s a container's stop allows."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.support import free_port, wait_for
from tests.support.postgres import postgres_schema
from tests.support.processes import INGESTD, clean_env
from tests.support.tcp_proxy import relay

pytestmark = pytest.mark.slow


def _status(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())
    except OSError:  # not listening yet
        return 0, {}


def test_a_database_that_goes_away_is_reported_not_crashed_on(tmp_path: Path) -> None:
    with postgres_schema() as url:
        parts = urlsplit(url)
        with relay(parts.hostname or "127.0.0.1", parts.port or 5432) as db:
            relayed = url.replace(parts.netloc, f"{parts.username}@127.0.0.1:{db.port}")
            port = free_port()
            config = tmp_path / "ingestd.toml"
            config.write_text(
                '[log]\nformat = "json"\n[scheduler]\ntick = "200ms"\n'
                '[[feeds]]\nid = "a"\nurl = "http://127.0.0.1:9/feed"\n'
            )
            log_path = tmp_path / "daemon.log"
            env = clean_env(INGESTD_STORAGE_URL=relayed, INGESTD_HTTP_LISTEN=f"127.0.0.1:{port}")
            with log_path.open("wb") as log:
                daemon = subprocess.Popen(
                    [*INGESTD, "run", "--config", str(config)], cwd=tmp_path, env=env, stdout=log, stderr=log
                )
            try:
                base = f"http://127.0.0.1:{port}"
                wait_for(lambda: _status(f"{base}/readyz")[0] == 200, "the daemon ready", 30)
                db.cut()
                status, ready = wait_for(
                    lambda: (got := _status(f"{base}/readyz"))[0] == 503 and got, "/readyz 503", 30
                )
                # why: the port's own check, the claim's error or the write probe's, whichever came last
                assert re.search(r"PostgreSQL|storage error|write probe", ready["checks"]["database"]), ready
                assert _status(f"{base}/healthz")[0] == 200  # the scheduler is alive: no restart
                # a claim fails once the pool's wait for a connection (5 s) is over; ticks go on
                wait_for(
                    lambda: '"event": "storage error"' in log_path.read_text(), "the storage error line", 30
                )
                assert _status(f"{base}/healthz")[0] == 200
                daemon.send_signal(signal.SIGTERM)
                stopped = time.monotonic()
                assert daemon.wait(30) == 0
                took = time.monotonic() - stopped
                assert took < 5.0, f"{took:.1f} s from SIGTERM to exit"
            finally:
                if daemon.poll() is None:
                    daemon.kill()
    events = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    failures = [e for e in events if e.get("event") == "storage error"]
    assert failures and len(failures) < 10, failures  # one per reason, not one a tick
    ticks = [
        e for e in events if "_tick" in e.get("event", "") and "raised an exception" in e.get("event", "")
    ]
    assert not ticks  # a job cancelled by SIGTERM ends quietly too
