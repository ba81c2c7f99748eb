"""Run-time subscriptions from the command line: `ingestd webhooks add | change | remove`,
checked by the config's rules, kept in the database across restarts and config syncs."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from ingestd.cli import main
from ingestd.compose import save_stories
from ingestd.config import Config
from ingestd.store import Store
from ingestd.webhooks import fingerprint
from tests.support.webhooks import OLD_SECRET, SECRET, config_with, story, subscription, utcnow

HOOK = "https://hooks.example.org/in"


def cli(capsys: pytest.CaptureFixture[str], config: Config, *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["webhooks", *args, "--config", str(config.file)])
    out, err = capsys.readouterr()
    return code, out, err


def started(tmp_path: Path, *subscriptions: str) -> Config:
    """A database as the daemon leaves it at start: config subscriptions synced."""
    config = config_with(tmp_path, *subscriptions)
    store = Store(config.storage.path)
    store.sync_config_subscriptions(config.subscriptions, utcnow())
    store.close()
    return config


def listed(capsys: pytest.CaptureFixture[str], config: Config) -> dict[str, dict]:
    code, out, _ = cli(capsys, config, "list", "--json")
    assert code == 0
    return {row["id"]: row for row in map(json.loads, out.splitlines())}


def test_add_stores_the_subscription_and_shows_only_a_fingerprint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = started(tmp_path)
    code, out, err = cli(
        capsys,
        config,
        "add",
        "desk",
        "--url",
        HOOK,
        "--secret",
        SECRET,
        "--secret",
        OLD_SECRET,
        "--event",
        "story.created",
        "--filter-source",
        "yonhap",
        "--filter-keyword",
        "alliance",
        "--first-of-cluster",
    )
    assert (code, err) == (0, "")
    assert out == f"desk: added; events stored from now on go to {HOOK}\n"
    row = listed(capsys, config)["desk"]
    assert row == {
        **row,
        "url": HOOK,
        "origin": "cli",
        "state": "active",
        "events": ["story.created"],
        "filter": {"sources": ["yonhap"], "keywords": ["alliance"], "first_of_cluster": True},
        "secret_fingerprints": [fingerprint(SECRET), fingerprint(OLD_SECRET)],
    }
    _, table, _ = cli(capsys, config, "list")
    for text in (json.dumps(row), table):
        for secret in (SECRET, OLD_SECRET):
            assert secret not in text and secret.removeprefix("whsec_") not in text
    assert table.splitlines()[1].split()[:2] == ["desk", "active"]
    assert "cli" in table.splitlines()[1].split()


def test_secrets_from_the_environment_or_a_file_are_resolved_and_stored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = started(tmp_path)
    monkeypatch.setenv("DESK_SECRET", SECRET)
    (tmp_path / "secret.txt").write_text(OLD_SECRET + "\n")
    monkeypatch.chdir(tmp_path)
    assert (
        cli(
            capsys,
            config,
            "add",
            "desk",
            "--url",
            HOOK,
            "--secret",
            "env:DESK_SECRET",
            "--secret",
            "file:secret.txt",
        )[0]
        == 0
    )
    store = Store(config.storage.path)
    assert store.stored_subscription("desk").secrets == (SECRET, OLD_SECRET)  # type: ignore[union-attr]
    store.close()


@pytest.mark.parametrize(
    "args, problem",
    [
        (
            ["--url", "ftp://hooks.example.org/", "--secret", SECRET],
            "webhooks add desk: url: 'ftp://hooks.example.org/' is not an http(s) URL",
        ),
        (
            ["--url", HOOK, "--secret", "not-a-whsec"],
            "webhooks add desk: secret: a webhook secret must start with whsec_",
        ),
        (
            ["--url", HOOK, "--secret", "whsec_%%%"],
            "webhooks add desk: secret: what follows whsec_ is not base64",
        ),
        (
            ["--url", HOOK, "--secret", "env:NOT_SET_ANYWHERE"],
            "webhooks add desk: secret: environment variable NOT_SET_ANYWHERE is not set",
        ),
        (
            ["--url", HOOK, "--secret", SECRET, "--event", "story.deleted"],
            "webhooks add desk: events: unknown event types ['story.deleted']",
        ),
    ],
)
def test_add_checks_every_value_as_the_config_does(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], problem: str
) -> None:
    config = started(tmp_path)
    code, out, err = cli(capsys, config, "add", "desk", *args)
    assert code == 2 and out == ""
    assert err.startswith(problem)
    assert listed(capsys, config) == {}


def test_an_id_is_checked_and_taken_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = started(tmp_path, subscription("newsroom", HOOK))
    code, _, err = cli(capsys, config, "add", "bad id", "--url", HOOK, "--secret", SECRET)
    assert code == 2 and "webhooks add bad id: id: 'bad id' is not an id" in err
    code, _, err = cli(capsys, config, "add", "newsroom", "--url", HOOK, "--secret", SECRET)
    assert (code, err) == (1, "subscription 'newsroom' exists already (declared in the config)\n")
    assert cli(capsys, config, "add", "desk", "--url", HOOK, "--secret", SECRET)[0] == 0
    code, _, err = cli(capsys, config, "add", "desk", "--url", HOOK, "--secret", SECRET)
    assert (code, err) == (1, "subscription 'desk' exists already\n")


def test_change_replaces_what_is_given_and_keeps_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = started(tmp_path)
    cli(
        capsys,
        config,
        "add",
        "desk",
        "--url",
        HOOK,
        "--secret",
        SECRET,
        "--filter-source",
        "yonhap",
        "--filter-section",
        "Defense",
    )
    code, out, _ = cli(
        capsys,
        config,
        "change",
        "desk",
        "--url",
        "https://new.example.org/in",
        "--secret",
        OLD_SECRET,
        "--filter-section",
        "Economy",
    )
    assert (code, out) == (0, "desk: changed\n")
    row = listed(capsys, config)["desk"]
    assert row["url"] == "https://new.example.org/in"
    assert row["filter"] == {"sources": ["yonhap"], "sections": ["Economy"]}
    assert row["secret_fingerprints"] == [fingerprint(OLD_SECRET)]
    assert row["events"] == ["story.created", "story.updated"]
    cli(capsys, config, "change", "desk", "--clear-filter", "--no-first-of-cluster")
    assert listed(capsys, config)["desk"]["filter"] == {"first_of_cluster": False}
    code, _, err = cli(capsys, config, "change", "desk", "--url", "file:///etc/passwd")
    assert code == 2 and "webhooks change desk: url: 'file:///etc/passwd' is not an http(s)" in err
    assert listed(capsys, config)["desk"]["url"] == "https://new.example.org/in"  # unchanged
    code, _, err = cli(capsys, config, "change", "nobody", "--url", HOOK)
    assert (code, err) == (1, "no subscription 'nobody'\n")


def test_remove_deletes_the_subscription_its_secret_and_its_deliveries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = started(tmp_path)
    cli(capsys, config, "add", "desk", "--url", HOOK, "--secret", SECRET)
    store = Store(config.storage.path)
    save_stories(store, [story(1), story(2)], utcnow())
    store.close()
    assert listed(capsys, config)["desk"]["backlog"] == 2
    code, out, _ = cli(capsys, config, "remove", "desk")
    assert (code, out) == (0, "desk: removed (2 deliveries still owed were dropped)\n")
    assert listed(capsys, config) == {}
    store = Store(config.storage.path)
    assert store.count("deliveries") == 0 and store.count("events") == 2
    assert store.db.execute("SELECT count(*) FROM subscriptions").fetchone()[0] == 0
    store.close()
    code, _, err = cli(capsys, config, "remove", "desk")
    assert (code, err) == (1, "no subscription 'desk'\n")
    # the id is free again
    assert cli(capsys, config, "add", "desk", "--url", HOOK, "--secret", SECRET)[0] == 0


def test_a_config_subscription_is_changed_in_the_config_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = started(tmp_path, subscription("newsroom", HOOK))
    for action in (["remove", "newsroom"], ["change", "newsroom", "--url", HOOK + "2"]):
        code, _, err = cli(capsys, config, *action)
        assert code == 1
        assert err == (
            f"subscription 'newsroom' is declared in the config and cannot be "
            f"{action[0]}d at run time: edit the config file; `ingestd webhooks "
            f"disable newsroom` stops its deliveries now\n"
        )
    assert listed(capsys, config)["newsroom"]["url"] == HOOK
    # enable and disable work for both kinds
    cli(capsys, config, "add", "desk", "--url", HOOK, "--secret", SECRET)
    for sub_id in ("newsroom", "desk"):
        assert cli(capsys, config, "disable", sub_id)[0] == 0
        assert listed(capsys, config)[sub_id]["state"] == "disabled"
        assert cli(capsys, config, "enable", sub_id)[0] == 0
        assert listed(capsys, config)[sub_id]["state"] == "active"


def test_once_it_has_left_the_config_a_subscription_can_be_removed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = started(tmp_path, subscription("newsroom", HOOK))
    started(tmp_path)  # restarted without it: set aside
    assert listed(capsys, config)["newsroom"]["state"] == "removed"
    assert cli(capsys, config, "remove", "newsroom")[0] == 0
    assert listed(capsys, config) == {}


def test_a_runtime_subscription_survives_restarts_and_config_syncs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = started(tmp_path, subscription("newsroom", HOOK))
    cli(capsys, config, "add", "desk", "--url", HOOK, "--secret", SECRET, "--filter-language", "en")
    cli(capsys, config, "disable", "desk")
    before = listed(capsys, config)["desk"]
    started(tmp_path, subscription("newsroom", HOOK + "?v=2"))  # a restart, config changed
    started(tmp_path)  # and one with no subscriptions in the config at all
    after = listed(capsys, config)
    assert after["desk"] == before  # state, fields, secret: all as they were
    assert after["newsroom"]["state"] == "removed"
    store = Store(config.storage.path)
    assert store.stored_subscription("desk").secrets == (SECRET,)  # type: ignore[union-attr]
    store.close()


def test_the_config_takes_over_a_runtime_subscription_it_comes_to_declare(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = started(tmp_path)
    cli(capsys, config, "add", "desk", "--url", HOOK, "--secret", SECRET)
    other = "whsec_" + base64.b64encode(b"declared-in-the-config-000000000").decode()
    started(tmp_path, subscription("desk", HOOK + "/config", secret=other))
    row = listed(capsys, config)["desk"]
    assert (row["origin"], row["url"], row["secret_fingerprints"]) == ("config", HOOK + "/config", None)
    store = Store(config.storage.path)
    assert store.stored_subscription("desk") is None  # the stored secret is gone
    store.close()
