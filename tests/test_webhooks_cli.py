"""`ingestd webhooks …`: each action over the same store methods the daemon uses."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from ingestd.cli import main
from ingestd.compose import save_stories
from ingestd.config import Config
from ingestd.store import Store
from tests.support import ROOT
from tests.support.webhooks import config_with, receiving, story, subscription, utcnow


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()  # what the setup printed is not the command's
    code = main(["webhooks", *args])
    out, err = capsys.readouterr()
    return code, out, err


def started(tmp_path: Path, *subscriptions: str) -> tuple[Config, Store]:
    """A store as the daemon leaves it: config subscriptions synced."""
    config = config_with(tmp_path, *subscriptions)
    store = Store(config.storage.path)
    store.sync_config_subscriptions(config.subscriptions, utcnow())
    return config, store


def test_list_shows_state_backlog_and_last_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, store = started(tmp_path, subscription("newsroom", "https://hooks.example.org/in"))
    save_stories(store, [story(1), story(2)], utcnow())
    store.close()
    code, out, _ = cli(capsys, "list", "--config", str(config.file), "--json")
    [row] = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert (row["id"], row["state"], row["backlog"], row["failed"]) == ("newsroom", "active", 2, 0)
    code, out, _ = cli(capsys, "list", "--config", str(config.file))
    assert out.splitlines()[0].split()[:5] == ["id", "state", "backlog", "failed", "delivered"]
    assert out.splitlines()[1].split()[:3] == ["newsroom", "active", "2"]


def test_disable_then_enable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, store = started(tmp_path, subscription("newsroom", "https://hooks.example.org/in"))
    store.close()
    path = str(config.file)
    assert cli(capsys, "disable", "newsroom", "--config", path)[:2] == (0, "newsroom: disabled\n")
    [status] = Store(config.storage.path).list_subscriptions()
    assert (status.state, status.reason) == ("disabled", "disabled by operator")
    assert cli(capsys, "enable", "newsroom", "--config", path)[0] == 0
    assert Store(config.storage.path).list_subscriptions()[0].state == "active"
    code, _, err = cli(capsys, "enable", "nobody", "--config", path)
    assert code == 1 and "no subscription 'nobody'" in err


def test_redeliver_since_a_time_or_a_duration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config, store = started(tmp_path, subscription("newsroom", "https://hooks.example.org/in"))
    save_stories(store, [story(1)], utcnow() - timedelta(hours=3))
    save_stories(store, [story(2)], utcnow())
    store.db.execute("UPDATE deliveries SET state = 'failed'")
    store.close()
    path = str(config.file)
    code, out, _ = cli(capsys, "redeliver", "newsroom", "--since", "1h", "--config", path)
    assert code == 0 and out.startswith("newsroom: 1 events since ")
    since = (utcnow() - timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%S")
    assert cli(capsys, "redeliver", "newsroom", "--since", since, "--config", path)[0] == 0
    assert Store(config.storage.path).list_subscriptions()[0].backlog == 2
    code, _, err = cli(capsys, "redeliver", "newsroom", "--since", "soon", "--config", path)
    assert code == 2 and "--since" in err


def test_test_sends_a_signed_webhook_test_event(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with receiving(replies=[(200, {}), (500, {})]) as receiver:
        config = config_with(tmp_path, subscription("newsroom", receiver.url))
        code, out, _ = cli(capsys, "test", "newsroom", "--config", str(config.file))
        assert code == 0 and "accepted (HTTP 200" in out
        [request] = receiver.received
        assert request.event["type"] == "webhook.test"
        assert request.event["data"] == {"subscription": "newsroom"}
        assert request.webhook_id == request.event["id"] and request.webhook_id in out
        code, _, err = cli(capsys, "test", "newsroom", "--config", str(config.file))
        assert code == 1 and "not accepted: HTTP 500" in err
        assert receiver.unverified == 0
    code, _, err = cli(capsys, "test", "nobody", "--config", str(config.file))
    assert code == 1 and "no subscription 'nobody'" in err


def test_every_action_has_help_and_docs() -> None:
    docs = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")
    from ingestd.cli import _parser

    parser = _parser()
    webhooks = parser._subparsers._group_actions[0].choices["webhooks"]  # type: ignore[union-attr]
    actions = webhooks._subparsers._group_actions[0]  # type: ignore[union-attr]
    assert set(actions.choices) == {
        "list",
        "show",
        "add",
        "change",
        "remove",
        "test",
        "redeliver",
        "enable",
        "disable",
    }
    for name, sub in actions.choices.items():
        assert sub.description, name
        assert re.search(rf"`ingestd webhooks {name}\b", docs), name
