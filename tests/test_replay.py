"""`ingestd replay` as a user runs it: a subprocess, events on stdout, logs on stderr."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.support import ROOT, SEED
from tests.support.processes import clean_env

NOW = "2020-01-09T00:31:02Z"


def replay(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = clean_env()
    env["INGESTD_LOG_FORMAT"] = "json"
    return subprocess.run(
        [sys.executable, "-m", "ingestd", "replay", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
    )


def events(run: subprocess.CompletedProcess[str]) -> list[dict]:
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_seed_replays_to_one_story_created(tmp_path: Path) -> None:
    run = replay("--now", NOW, str(SEED), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    [event] = events(run)
    assert event["type"] == "story.created"
    assert event["id"].startswith("evt_")
    assert event["timestamp"] == NOW
    story = event["data"]["story"]
    assert story["headlines"][0]["value"] == (
        "U.S. cites progress in defense cost-sharing talks with S. Korea"
    )
    assert set(event["data"]) == {"story", "ingest"}
    assert event["data"]["ingest"]["version"] == 1
    for line in run.stderr.splitlines():  # logs: JSON, on stderr only
        assert "event" in json.loads(line)


def test_replay_twice_into_one_database_prints_nothing_new(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    first = replay("--db", db, "--now", NOW, str(SEED), cwd=tmp_path)
    second = replay("--db", db, "--now", NOW, str(SEED), cwd=tmp_path)
    assert first.returncode == second.returncode == 0
    assert len(events(first)) == 1
    assert second.stdout == ""
    assert "nothing new" in second.stderr


def test_same_inputs_and_now_give_identical_bytes(tmp_path: Path) -> None:
    runs = [replay("--now", NOW, str(ROOT / "seeds"), cwd=tmp_path) for _ in range(2)]
    assert runs[0].returncode == 0, runs[0].stderr
    assert runs[0].stdout and runs[0].stdout == runs[1].stdout


def test_unreadable_input_is_named_and_the_rest_go_on(tmp_path: Path) -> None:
    (tmp_path / "a-empty.xml").write_bytes(b"")
    (tmp_path / "b-story.txt").write_bytes(SEED.read_bytes())
    run = replay("--now", NOW, str(tmp_path), str(tmp_path / "missing.xml"), cwd=tmp_path)
    assert run.returncode == 1
    assert len(events(run)) == 1
    logs = [json.loads(line) for line in run.stderr.splitlines()]
    failures = {(l["url"], l["error"]) for l in logs if l["level"] == "error"}
    assert (str(tmp_path / "a-empty.xml"), "empty body") in failures
    assert any(url.endswith("missing.xml") for url, _ in failures)


def test_json_feed_file_replays_each_item(tmp_path: Path) -> None:
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "J",
        "items": [
            {
                "id": str(i),
                "url": f"https://example.org/{i}",
                "title": f"Item {i}",
                "content_text": f"Text of item {i}, long enough to count.",
            }
            for i in range(3)
        ],
    }
    path = tmp_path / "feed.json"
    path.write_text(json.dumps(feed))
    run = replay("--now", NOW, str(path), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert [e["data"]["ingest"]["url"] for e in events(run)] == [f"https://example.org/{i}" for i in range(3)]
