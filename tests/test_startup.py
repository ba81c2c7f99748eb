"""Cheap commands stay cheap: `--help`, `healthcheck` and `check-config` import none of
the pipeline's heavy stages (a container runs the healthcheck every 30 s)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import local_feed, write_config

HEAVY = [
    "trafilatura",
    "numpy",
    "py3langid",
    "lxml",
    "feedparser",
    "jsonschema",
    "starlette",
    "uvicorn",
    "apscheduler",
    "sqlite_utils",
    "httpx",
    "structlog",
    "nh3",
    "prometheus_client",
    "ingestd.store",
    "ingestd.normalize._chain",
]

# Runs one command in a fresh interpreter, then reports what it imported.
PROBE = """
import json, sys
from ingestd.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print("\\n" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def imported(*argv: str) -> tuple[int, set[str]]:
    run = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True, timeout=60)
    report = json.loads(run.stdout.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def heavy_in(modules: set[str]) -> list[str]:
    return [h for h in HEAVY if h in modules]


def test_help_imports_no_heavy_stage() -> None:
    code, modules = imported("--help")
    assert code == 0
    assert heavy_in(modules) == []


def test_check_config_imports_no_heavy_stage(tmp_path: Path) -> None:
    config = write_config(tmp_path, '[[feeds]]\nid = "wire"\nurl = "https://example.org/feed.xml"\n')
    code, modules = imported("check-config", str(config))
    assert code == 0
    assert "ingestd.normalize._profiles" in modules  # the profiles were checked
    assert heavy_in(modules) == []


def test_healthcheck_imports_no_heavy_stage(tmp_path: Path) -> None:
    with local_feed(b'{"status": "ok"}') as daemon:
        listen = daemon.url.split("/")[2]
        config = write_config(tmp_path, f'[http]\nlisten = "{listen}"\n')
        code, modules = imported("healthcheck", "--config", str(config))
    assert code == 0
    assert heavy_in(modules) == []


@pytest.mark.parametrize("command", ["--help", "webhooks --help", "feeds --help"])
def test_the_probe_sees_heavy_imports_where_they_happen(command: str) -> None:
    """The webhooks command does load its stack: the probe is not blind."""
    code, modules = imported(*command.split())
    assert code == 0
    if command.startswith("webhooks"):
        assert "ingestd.store" in modules
    else:
        assert "ingestd.store" not in modules


def test_the_listed_webhooks_command_says_what_the_real_one_says() -> None:
    """`ingestd --help` lists webhooks without importing it: the two help texts agree."""
    from ingestd.cli import _parser

    def webhooks_help(parser: argparse.ArgumentParser) -> str | None:
        [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        return {c.dest: c.help for c in commands._choices_actions}["webhooks"]

    assert webhooks_help(_parser("")) == webhooks_help(_parser(None))
    assert webhooks_help(_parser("")) is not None
