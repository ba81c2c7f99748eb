"""The library API: `ingestd.normalize` and the event builder give what `replay` emits,
typed and importable without loading the pipeline."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import ingestd
from ingestd import ninjs
from ingestd.config import load_config
from ingestd.errors import ParseError
from ingestd.library import build_events
from ingestd.normalize import load_profiles
from ingestd.replay import replay
from tests.support import write_config

DATA = Path(__file__).resolve().parent / "data" / "library"
NOW = datetime(2020, 1, 16, 12, tzinfo=UTC)
INPUTS = sorted(DATA.iterdir())


@pytest.mark.parametrize("path", INPUTS, ids=[p.name for p in INPUTS])
def test_the_events_are_those_replay_prints(tmp_path: Path, path: Path) -> None:
    out = io.StringIO()
    config = load_config(write_config(tmp_path, ""), env={})
    replay([path], config=config, profiles=load_profiles(None), now=NOW, out=out)
    replayed = [json.loads(line) for line in out.getvalue().splitlines()]
    built = build_events(path.read_bytes(), feed_id=f"file:{path.name}", url=path.resolve().as_uri(), now=NOW)
    assert replayed, "replay printed no event"
    assert built == replayed


def test_normalize_gives_the_valid_ninjs_documents_of_the_events() -> None:
    data = (DATA / "g2-newsmessage-2020-01-16-two-items.xml").read_bytes()
    documents = ingestd.normalize(data, now=NOW)
    # the message's second item is a picture, which ingestd does not take
    assert len(documents) == 1 and ninjs.check_story(documents[0]) == []
    assert documents == [event["data"]["story"] for event in ingestd.build_events(data, now=NOW)]


def test_source_names_the_profile_and_lands_in_ingest() -> None:
    data = (DATA / "yonhap-2020-01-09-defense-cost-sharing.txt").read_bytes()
    [event] = ingestd.build_events(data, source="yonhap", now=NOW)
    assert event["type"] == "story.created" and event["data"]["ingest"]["source"] == "yonhap"
    assert event["data"]["story"]["firstCreated"].startswith("2020-01-0")


def test_unreadable_input_is_a_parse_error() -> None:
    with pytest.raises(ParseError):
        ingestd.normalize(b"\x00\x01 not a feed", now=NOW)


def test_import_ingestd_loads_no_pipeline_and_the_names_resolve_lazily() -> None:
    probe = (
        "import sys, ingestd\n"
        "heavy = [m for m in ('ingestd.library', 'ingestd.pipeline', 'trafilatura') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert callable(ingestd.normalize) and callable(ingestd.build_event) and ingestd.read\n"
        "from ingestd import normalize\n"
        "assert normalize.load_profiles  # still the package the daemon imports\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
