"""The wire seeds (seeds/wire/: NITF, NewsML-G2, ninjs) replayed into one database, in
name order, and compared with their golden events in tests/golden/wire/.

The folder is declared as one feed, as a wire delivery is (guids are the feed's).
Replaying in name order puts the NewsML-G2 item's version 1 before its version 2,
so the golden events show the update path. After an intended change, rewrite the
goldens with `UPDATE_GOLDEN=1 pytest tests/test_wire_seeds.py` and review the diff.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingestd import ninjs
from ingestd.config import load_config
from ingestd.normalize import load_profiles
from ingestd.replay import replay
from tests.support import ROOT, write_config
from tests.support.processes import clean_env

WIRE = ROOT / "seeds" / "wire"
GOLDEN = Path(__file__).resolve().parent / "golden" / "wire"
NOW = datetime(2020, 1, 16, 12, 0, tzinfo=UTC)
SEEDS = sorted(p for p in WIRE.iterdir() if p.is_file() and not p.name.startswith("."))
# seeds that hold no text news item: recognised and skipped with a reason
NOT_STORIES = {
    "g2-afp-2020-01-15-rhine-floods-package.xml": "packageItem",
    "g2-concept-2020-01-10-medtop-weather.xml": "conceptItem",
}


@pytest.fixture(scope="module")
def events(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    """Each seed's events, all replayed into one database as `ingestd replay seeds/wire` does."""
    folder = tmp_path_factory.mktemp("wire")
    config = load_config(write_config(folder, f'[[feeds]]\nid = "wire"\nurl = "{WIRE.as_uri()}"\n'))
    profiles = load_profiles(None)
    found = {}
    for path in SEEDS:
        out = io.StringIO()
        summary = replay(
            [path], config=config, profiles=profiles, now=NOW, out=out, db_path=str(folder / "replay.db")
        )
        assert summary.failed == 0, path.name
        found[path.name] = [json.loads(line) for line in out.getvalue().splitlines()]
    return found


def test_there_are_enough_seeds_of_every_kind():
    """At least 12 wire documents: NITF, NewsML-G2 (NITF and XHTML payloads, an update,
    a package) and ninjs 1.x and 2.x."""
    names = [p.name for p in SEEDS]
    assert len(names) >= 12
    for prefix in ("nitf-ap-", "nitf-afp-", "g2-", "ninjs1-", "ninjs2-", "ninjs3-"):
        assert any(n.startswith(prefix) for n in names), prefix
    assert any(n.endswith("-v2.xml") for n in names)
    assert any("package" in n for n in names)


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_seed_replays_to_its_golden_events(path, events):
    """The seed's events are exactly the reviewed golden ones."""
    golden = GOLDEN / f"{path.name}.json"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(
            json.dumps(events[path.name], ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    assert events[path.name] == json.loads(golden.read_text(encoding="utf-8"))


def test_golden_files_have_seeds():
    """No golden file is left over from a seed that is gone."""
    assert {p.name for p in GOLDEN.glob("*.json")} == {f"{p.name}.json" for p in SEEDS}


@pytest.mark.parametrize("path", SEEDS, ids=lambda p: p.name)
def test_one_valid_event_per_news_item_with_the_fields_right(path, events):
    """Every story is ninjs 3.0; every news item has headline, byline, located, subjects
    with URIs, body and firstCreated; packages and concepts give no event."""
    found = events[path.name]
    if path.name in NOT_STORIES:
        assert found == []
        return
    assert len(found) == 1
    story = found[0]["data"]["story"]
    assert ninjs.validate(story) == []
    assert story["headlines"][0]["value"]
    assert story["by"] and story["located"]
    assert story["bodies"][0]["wordCount"] > 20
    assert story["firstCreated"] < "2020-01-16T12:00:00Z"
    assert any(s.get("uri", "").startswith("http://cv.iptc.org/newscodes/") for s in story["subjects"])


def test_version_2_of_a_newsml_item_is_the_story_updated(events):
    """The same guid with version="2" becomes version 2 of the stored story, through dedupe."""
    [first] = events["g2-afp-2020-01-15-rhine-floods-v1.xml"]
    [second] = events["g2-afp-2020-01-15-rhine-floods-v2.xml"]
    assert (first["type"], second["type"]) == ("story.created", "story.updated")
    assert first["data"]["story"]["uri"] == second["data"]["story"]["uri"]
    assert second["data"]["story"]["version"] == "2"
    assert second["data"]["ingest"]["version"] == 2
    assert second["data"]["ingest"]["item_version"] == 2
    assert second["data"]["ingest"]["signals"] == ["sig:update"]
    assert (
        second["data"]["story"]["headlines"][0]["value"]
        == "Hundreds evacuated as Rhine floods Koblenz old town"
    )
    assert second["data"]["story"]["firstCreated"] == first["data"]["story"]["firstCreated"]


@pytest.mark.parametrize(
    "name, until",
    [
        ("nitf-afp-2020-01-15-lyon-metro-embargo.xml", "2020-01-16T05:00:00Z"),
        ("g2-reuters-2020-01-15-chipmaker-results-xhtml.xml", "2020-01-16T13:00:00Z"),
        ("ninjs3-2020-01-16-rail-timetable-embargo.json", "2020-01-17T00:01:00Z"),
    ],
)
def test_embargo_reaches_the_event(name, until, events):
    """NITF date.release, NewsML-G2 embargoed and ninjs embargoedUntil: in data.ingest.embargo
    (for the outbox to hold the event) and in the story's embargoedUntil."""
    [event] = events[name]
    assert event["data"]["ingest"]["embargo"] == until
    assert event["data"]["story"]["embargoedUntil"] == until


def test_ingestd_replay_of_the_folder_prints_one_event_per_news_item(tmp_path):
    """As a user runs it: stdout holds only events, one per text news item, each a valid
    ninjs 3.0 story; the skipped items are logged with their reasons on stderr."""
    env = clean_env()
    env["INGESTD_LOG_FORMAT"] = "json"
    run = subprocess.run(
        [sys.executable, "-m", "ingestd", "replay", "--now", "2020-01-16T12:00:00Z", str(WIRE)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    printed = [json.loads(line) for line in run.stdout.splitlines()]
    goldens = [json.loads((GOLDEN / f"{p.name}.json").read_text(encoding="utf-8")) for p in SEEDS]
    assert len(printed) == sum(map(len, goldens)) == 11
    assert all(ninjs.validate(e["data"]["story"]) == [] for e in printed)
    logs = [json.loads(line) for line in run.stderr.splitlines()]
    skipped = sorted(line["error"].split()[0] for line in logs if line["event"] == "entry dropped")
    assert skipped == ["conceptItem", "newsItem", "packageItem"]
