"""One validation: every bad config in the table gets the same verdict from
`ingestd check-config` and from `ingestd run` (exit 2, the same `file: key: reason`
lines, no traceback), and `run` refuses it before it opens the database, so before it
binds its port or polls a feed (both come after the database in the daemon's start)."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.processes import clean_env

# A good feed: each case writes what makes the config bad before it.
FEED = '[[feeds]]\nid = "wire"\nurl = "https://example.org/feed.xml"\n'

HOOK = '[[subscriptions]]\nid = "hook"\nurl = "https://hooks.example.org/in"\n'


@dataclass(frozen=True)
class Bad:
    toml: str  # written before FEED
    expect: str  # the start of one stderr line; {path} is the config file, {dir} its folder
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # more files in the config's folder


CASES: dict[str, Bad] = {
    # secrets: decoded at check time, not first by the dispatcher
    "whsec not base64": Bad(
        HOOK + 'secret = "whsec_not*base64!"\n',
        "{path}: subscriptions[0] (hook).secret: what follows whsec_ is not base64",
    ),
    "secret without whsec_": Bad(
        HOOK + 'secret = "hunter2"\n',
        "{path}: subscriptions[0] (hook).secret: a webhook secret must start with whsec_",
    ),
    "whsec with an empty key": Bad(
        HOOK + 'secret = "whsec_"\n', "{path}: subscriptions[0] (hook).secret: the secret's key is empty"
    ),
    "rotating list, one bad": Bad(
        HOOK + 'secret = ["whsec_c2VjcmV0", "whsec_%%%"]\n',
        "{path}: subscriptions[0] (hook).secret: what follows whsec_ is not base64",
    ),
    "secret from an unset variable": Bad(
        HOOK + 'secret = "env:NO_SUCH_HOOK_SECRET"\n',
        "{path}: subscriptions[0] (hook).secret: environment variable NO_SUCH_HOOK_SECRET is not set",
    ),
    "secret file missing": Bad(
        HOOK + 'secret = "file:missing.txt"\n',
        "{path}: subscriptions[0] (hook).secret: cannot read secret file '{dir}/missing.txt'",
    ),
    "empty token from the environment": Bad(
        '[http]\ntoken = "env:EMPTY_TOKEN"\n',
        "{path}: http.token: environment variable EMPTY_TOKEN is empty",
        env={"EMPTY_TOKEN": ""},
    ),
    # ranges
    "min_interval under 1s": Bad(
        '[scheduler]\nmin_interval = "0.5s"\n', "{path}: scheduler.min_interval: '0.5s' is under 1s"
    ),
    "fetch timeout 0s": Bad(
        '[fetch]\ntimeout = "0s"\n', "{path}: fetch.timeout: '0s' must be longer than 0s"
    ),
    "fetch timeout bare 0": Bad("[fetch]\ntimeout = 0\n", "{path}: fetch.timeout: 0 must be longer than 0s"),
    "connect_timeout 0s": Bad(
        '[fetch]\nconnect_timeout = "0s"\n', "{path}: fetch.connect_timeout: '0s' must be longer than 0s"
    ),
    "tick 0s": Bad('[scheduler]\ntick = "0s"\n', "{path}: scheduler.tick: '0s' must be longer than 0s"),
    "probe_interval 0s": Bad(
        '[webhooks]\nprobe_interval = "0s"\n', "{path}: webhooks.probe_interval: '0s' must be longer than 0s"
    ),
    "webhook timeout negative": Bad("[webhooks]\ntimeout = -1\n", "{path}: webhooks.timeout: -1 is negative"),
    "retention 0s": Bad(
        '[storage]\nretention = "0s"\n', "{path}: storage.retention: '0s' must be longer than 0s"
    ),
    "feed interval 0s": Bad(
        '[[feeds]]\nid = "zero"\nurl = "https://example.org/z.xml"\ninterval = "0s"\n',
        "{path}: feeds[0] (zero).interval: '0s' must be longer than 0s",
    ),
    "max_body 0": Bad(
        '[fetch]\nmax_body = "0MB"\n', "{path}: fetch.max_body: '0MB' must be more than 0 bytes"
    ),
    "workers 0": Bad("[scheduler]\nworkers = 0\n", "{path}: scheduler.workers: 0 must be at least 1"),
    # relations between keys
    "min_interval above max_interval": Bad(
        '[scheduler]\nmin_interval = "1h"\nmax_interval = "1m"\n',
        "{path}: scheduler.min_interval: scheduler.min_interval (1h) is above scheduler.max_interval (1m)",
    ),
    "min_interval above the default max_interval": Bad(
        '[scheduler]\nmin_interval = "2d"\n',
        "{path}: scheduler.min_interval: scheduler.min_interval (2d) is above scheduler.max_interval (1d)",
    ),
    "max_interval under the default min_interval": Bad(
        '[scheduler]\nmax_interval = "30s"\n',
        "{path}: scheduler.max_interval: scheduler.min_interval (1m) is above scheduler.max_interval (30s)",
    ),
    "default_interval under min_interval": Bad(
        '[scheduler]\nmin_interval = "10m"\ndefault_interval = "1m"\n',
        "{path}: scheduler.min_interval: scheduler.min_interval (10m) is above scheduler.default_interval (1m)",
    ),
    "tick above min_interval": Bad(
        '[scheduler]\ntick = "5m"\nmin_interval = "1m"\n',
        "{path}: scheduler.tick: scheduler.tick (5m) is above scheduler.min_interval (1m)",
    ),
    "connect_timeout above timeout": Bad(
        '[fetch]\ntimeout = "10s"\nconnect_timeout = "30s"\n',
        "{path}: fetch.connect_timeout: fetch.connect_timeout (30s) is above fetch.timeout (10s)",
    ),
    "per_host_limit above global_limit": Bad(
        "[fetch]\nglobal_limit = 4\nper_host_limit = 8\n",
        "{path}: fetch.per_host_limit: fetch.per_host_limit (8) is above fetch.global_limit (4)",
    ),
    "relation through the environment": Bad(
        '[scheduler]\nmax_interval = "1h"\n',
        "$INGESTD_SCHEDULER_MIN_INTERVAL: scheduler.min_interval: scheduler.min_interval (2h) is above",
        env={"INGESTD_SCHEDULER_MIN_INTERVAL": "2h"},
    ),
    # listen addresses
    "listen on no IP": Bad(
        '[http]\nlisten = "999.1.1.1:80"\n',
        "{path}: http.listen: '999.1.1.1:80': '999.1.1.1' is not an IP address",
    ),
    "listen port too high": Bad(
        '[http]\nlisten = "127.0.0.1:70000"\n',
        "{path}: http.listen: '127.0.0.1:70000': port 70000 is above 65535",
    ),
    "listen on a bad IPv6": Bad(
        '[http]\nlisten = "[::zz]:8080"\n',
        "{path}: http.listen: '[::zz]:8080': '::zz' is not an IP address",
    ),
    "listen from the environment": Bad(
        "",
        "$INGESTD_HTTP_LISTEN: http.listen: '256.0.0.1:8080': '256.0.0.1' is not an IP address",
        env={"INGESTD_HTTP_LISTEN": "256.0.0.1:8080"},
    ),
    # the rest of the file
    "timeout 0s from the environment": Bad(
        "",
        "$INGESTD_FETCH_TIMEOUT: fetch.timeout: '0s' must be longer than 0s",
        env={"INGESTD_FETCH_TIMEOUT": "0s"},
    ),
    "unknown key": Bad('[fetch]\ntimeot = "5s"\n', "{path}: fetch.timeot: unknown key"),
    "unknown log level": Bad('[log]\nlevel = "loud"\n', "{path}: log.level: 'loud' is not one of"),
    "duplicate feed id": Bad(
        '[[feeds]]\nid = "wire"\nurl = "https://example.org/other.xml"\n',
        "{path}: feeds[1] (wire).id: duplicate id 'wire' (also feeds[0])",
    ),
    "subscription to ftp": Bad(
        '[[subscriptions]]\nid = "hook"\nurl = "ftp://hooks.example.org/"\nsecret = "whsec_c2VjcmV0"\n',
        "{path}: subscriptions (hook).url: 'ftp://hooks.example.org/' is not an http(s) URL",
    ),
    "not TOML": Bad("[storage\n", "{path}: -: not valid TOML"),
    "a broken source profile": Bad(
        '[normalize]\nsources_dir = "sources"\n',
        "{dir}/sources/broken.toml: name: 5 is not a non-empty string",
        files={"sources/broken.toml": "name = 5\n"},
    ),
}


def _env(case: Bad) -> dict[str, str]:
    """The case's environment; were a config wrongly let through, its daemon would listen
    on a free port (not 8080), and the test would stop it."""
    env = clean_env()
    if "listen" not in case.toml:
        env["INGESTD_HTTP_LISTEN"] = "127.0.0.1:0"
    return env | case.env


@pytest.mark.parametrize("name", list(CASES))
def test_check_config_and_run_give_one_verdict(tmp_path: Path, name: str) -> None:
    case = CASES[name]
    path = tmp_path / "ingestd.toml"
    path.write_text(case.toml + FEED, encoding="utf-8")
    for relative, text in case.files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text, encoding="utf-8")
    commands = {
        "check-config": ["check-config", str(path)],
        "run": ["run", "--config", str(path)],
    }
    running = {
        command: subprocess.Popen(
            [sys.executable, "-m", "ingestd", *argv],
            cwd=tmp_path,
            env=_env(case),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for command, argv in commands.items()
    }
    try:
        results = {command: proc.communicate(timeout=30) for command, proc in running.items()}
    finally:
        for proc in running.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    expected = case.expect.format(path=path, dir=tmp_path)
    for command, (out, err) in results.items():
        assert running[command].returncode == 2, f"{command}: {out}{err}"
        assert "Traceback" not in err, f"{command}: {err}"
        assert any(line.startswith(expected) for line in err.splitlines()), f"{command}: {err!r}"
    assert results["check-config"][1] == results["run"][1]  # the very same lines
    assert not list(tmp_path.rglob("*.db*"))  # run stopped before it opened the database
