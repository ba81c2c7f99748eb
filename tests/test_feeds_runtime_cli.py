"""CLI consistency: `run --once` exits 1 when a feed of this run failed (scripts and
cron); `stories list` sorts like the API (newest first by firstCreated); `webhooks show`
with and without --json."""

from __future__ import annotations

import json
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from ingestd.cli import main
from ingestd.compose import save_stories
from ingestd.config import load_config
from ingestd.store import Store
from ingestd.timeutil import to_iso
from tests.support import free_port, local_feed, rss, write_config
from tests.support.processes import INGESTD, clean_env
from tests.support.store import story
from tests.support.stories import NOW
from tests.support.webhooks import SECRET


def test_run_once_exits_1_naming_the_feed_that_failed(tmp_path: Path) -> None:
    with local_feed(rss(("a", "Alpha story"))) as feed:
        config = write_config(
            tmp_path,
            f"""
            [storage]
            path = "once.db"
            [log]
            format = "json"
            [fetch]
            allow_private = ["127.0.0.1"]
            [[feeds]]
            id = "good"
            url = "{feed.url}"
            [[feeds]]
            id = "dead"
            url = "http://127.0.0.1:{free_port()}/feed.xml"
            """,
        )
        run = subprocess.run(
            [*INGESTD, "run", "--once", "--config", str(config)],
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert run.returncode == 1, run.stderr
    [failed] = [line for line in map(json.loads, run.stderr.splitlines()) if line["event"] == "feeds failed"]
    assert failed["feeds"] == ["dead"]


def test_stories_list_is_newest_first_by_first_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, '[storage]\npath = "ingestd.db"\n')
    store = Store(load_config(config, env={}).storage.path)
    # stored oldest-published last, so ingest order and publication order disagree
    for minutes, (guid, hours) in enumerate((("new", 0), ("mid", -1), ("old", -2))):
        stored = story(guid=guid, url=f"https://example.org/{guid}", headline=guid)
        stored.ninjs["firstCreated"] = to_iso(NOW + timedelta(hours=hours))
        save_stories(store, [stored], NOW + timedelta(minutes=minutes))
    store.close()
    capsys.readouterr()
    assert main(["stories", "list", "--json", "--config", str(config)]) == 0
    headlines = [json.loads(line)["headline"] for line in capsys.readouterr().out.splitlines()]
    assert headlines == ["new", "mid", "old"]


def test_webhooks_show_is_one_json_line_with_json_and_indented_without(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(write_config(tmp_path, '[storage]\npath = "ingestd.db"\n'))
    url = "https://hooks.example/in"
    assert main(["webhooks", "add", "hook", "--url", url, "--secret", SECRET, "--config", config]) == 0
    capsys.readouterr()
    assert main(["webhooks", "show", "hook", "--json", "--config", config]) == 0
    line = capsys.readouterr().out
    assert main(["webhooks", "show", "hook", "--config", config]) == 0
    indented = capsys.readouterr().out
    assert len(line.splitlines()) == 1 and len(indented.splitlines()) > 1
    assert json.loads(line) == json.loads(indented)
    assert json.loads(line)["url"] == url and json.loads(line)["origin"] == "cli"
    assert SECRET not in line
    assert main(["webhooks", "show", "nope", "--config", config]) == 1
    assert "no subscription 'nope'" in capsys.readouterr().err
