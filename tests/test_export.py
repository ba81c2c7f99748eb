"""`stories export` / `stories import`: events out, one a line, and into another instance
with the same ids and versions; importing twice changes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ingestd.compose import save_stories
from ingestd.config import load_config
from ingestd.exchange import BadEvent, import_intents
from ingestd.store import Store
from tests.support import write_config
from tests.support.store import WIRE, story
from tests.support.stories import NOW

SINCE = "2019-01-01T00:00:00Z"


def instance(folder: Path) -> str:
    folder.mkdir()
    return str(write_config(folder, '[storage]\npath = "ingestd.db"\n'))


def store_of(config: str) -> Store:
    return Store(load_config(config, env={}).storage.path)


@pytest.fixture
def source(tmp_path: Path) -> str:
    """An instance holding a story in two versions and one from another feed."""
    config = instance(tmp_path / "a")
    store = store_of(config)
    save_stories(store, [story("g1", "https://example.org/1", "Surplus narrows", WIRE)], NOW)
    save_stories(store, [story("g1", "https://example.org/1", "Surplus narrows again", WIRE)], NOW)
    save_stories(
        store, [story("g2", "https://example.org/2", "Other feed", WIRE + " More.", feed_id="o")], NOW
    )
    store.close()
    return config


def test_export_then_import_gives_the_same_events(
    tmp_path: Path, source: str, run: Callable[..., tuple[int, str, str]]
) -> None:
    code, exported, _ = run("stories", "export", "--since", SINCE, "--config", source)
    lines = exported.splitlines()
    assert code == 0 and [json.loads(line)["type"] for line in lines] == [
        "story.created",
        "story.updated",
        "story.created",
    ]
    (tmp_path / "stories.ndjson").write_text(exported)
    target = instance(tmp_path / "b")
    code, _, err = run("stories", "import", str(tmp_path / "stories.ndjson"), "--config", target)
    assert code == 0 and "3 imported, 0 already stored, 0 not imported" in err
    code, again, _ = run("stories", "export", "--since", SINCE, "--config", target)
    assert again == exported  # same ids, versions and bytes
    code, _, err = run("stories", "import", str(tmp_path / "stories.ndjson"), "--config", target)
    assert code == 0 and "0 imported, 3 already stored" in err
    code, listed, _ = run("stories", "list", "--json", "--config", target)
    assert sorted((r["headline"], r["version"]) for r in map(json.loads, listed.splitlines())) == [
        ("Other feed", 1),
        ("Surplus narrows again", 2),
    ]


def test_the_receiving_store_knows_an_imported_story_when_a_feed_brings_it_again(
    tmp_path: Path, source: str, run: Callable[..., tuple[int, str, str]]
) -> None:
    _, exported, _ = run("stories", "export", "--since", SINCE, "--feed", "o", "--config", source)
    assert [json.loads(line)["data"]["ingest"]["feed"] for line in exported.splitlines()] == ["o"]
    (tmp_path / "o.ndjson").write_text(exported)
    target = instance(tmp_path / "b")
    assert run("stories", "import", str(tmp_path / "o.ndjson"), "--config", target)[0] == 0
    store = store_of(target)
    try:
        [change] = save_stories(
            store, [story("g2", "https://example.org/2", "Other feed", WIRE + " More.", feed_id="o")], NOW
        )
    finally:
        store.close()
    assert change.kind == "unchanged"


def test_a_bad_line_is_named_and_the_others_still_go_in(
    tmp_path: Path, source: str, run: Callable[..., tuple[int, str, str]]
) -> None:
    _, exported, _ = run("stories", "export", "--since", SINCE, "--config", source)
    first = exported.splitlines()[0]
    path = tmp_path / "mixed.ndjson"
    path.write_text(first + '\n{"type": "webhook.test"}\nnot json\n')
    code, _, err = run("stories", "import", str(path), "--config", instance(tmp_path / "b"))
    assert code == 1
    assert f"{path}:2: type 'webhook.test'" in err and f"{path}:3: not JSON" in err
    assert "1 imported, 0 already stored, 2 not imported" in err


def test_a_version_that_disagrees_with_ingest_is_refused(
    source: str, run: Callable[..., tuple[int, str, str]]
) -> None:
    _, exported, _ = run("stories", "export", "--since", SINCE, "--config", source)
    event = json.loads(exported.splitlines()[0])
    event["data"]["ingest"]["version"] = 7
    with pytest.raises(BadEvent, match="data.ingest.version 7 differs from the story's 1"):
        import_intents(event, None)


def test_export_since_must_be_a_time_or_a_duration(
    source: str, run: Callable[..., tuple[int, str, str]]
) -> None:
    code, _, err = run("stories", "export", "--since", "yesterday", "--config", source)
    assert code == 2 and "neither an ISO 8601 time nor a duration" in err


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda e: e["data"]["story"].update(headlines=[{"role": "main"}]), "headlines or bodies malformed"),
        (lambda e: e["data"]["story"].update(versionCreated="yesterday"), "not an ISO 8601 time"),
        (lambda e: e["data"]["story"].update(uri="urn:other:1"), "is not an ingestd story URI"),
    ],
)
def test_a_malformed_story_is_a_bad_event_naming_the_part(
    source: str, run: Callable[..., tuple[int, str, str]], damage: Callable[[dict], None], reason: str
) -> None:
    _, exported, _ = run("stories", "export", "--since", SINCE, "--config", source)
    event = json.loads(exported.splitlines()[0])
    event["data"]["story"].pop("firstCreated")
    damage(event)
    with pytest.raises(BadEvent, match=reason):
        import_intents(event, None)
