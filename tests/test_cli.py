"""CLI consistency: --config before or after the command, a named config that is not
there, unknown INGESTD_* variables, and --json on the list and show commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ingestd.cli import main
from ingestd.compose import save_stories
from ingestd.config import EnvWarning, load_config
from ingestd.store import Store
from tests.support import SEED, write_config
from tests.support.processes import clean_env
from tests.support.stories import NOW, story


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config whose store holds one feed and two stories."""
    path = write_config(
        tmp_path,
        """
        [storage]
        path = "ingestd.db"
        [[feeds]]
        id = "news"
        url = "https://example.org/feed.xml"
        """,
    )
    store = Store(load_config(path, env={}).storage.path)
    store.sync_config_feeds(load_config(path, env={}).feeds, NOW)
    save_stories(store, [story(1), story(2)], NOW)
    store.close()
    return path


# ── --config before or after the command ─────────────────────────────────────


@pytest.mark.parametrize(
    "command", [["feeds", "list", "--json"], ["stories", "list", "--json"], ["webhooks", "list", "--json"]]
)
def test_config_goes_before_or_after_the_command(
    capsys: pytest.CaptureFixture[str], config: Path, command: list[str]
) -> None:
    before = cli(capsys, "--config", str(config), *command)
    after = cli(capsys, *command, "--config", str(config))
    joined = cli(capsys, f"--config={config}", *command)
    assert before[0] == 0, before
    assert before == after == joined


def test_check_config_takes_the_file_every_way(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    ok = f"{config}: ok (1 feeds)\n"
    assert cli(capsys, "check-config", str(config)) == (0, ok, "")
    assert cli(capsys, "check-config", "--config", str(config)) == (0, ok, "")
    assert cli(capsys, "--config", str(config), "check-config") == (0, ok, "")


def test_the_config_after_the_command_wins(
    capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere.toml"
    code, _, err = cli(capsys, "--config", str(config), "feeds", "list", "--config", str(missing))
    assert code == 2 and err == f"{missing}: -: file not found\n"


# ── a named config must exist; the default one only where documented ──────────


@pytest.mark.parametrize(
    "command",
    [
        ["run"],
        ["check-config"],
        ["feeds", "list"],
        ["stories", "list"],
        ["healthcheck"],
        ["replay", str(SEED)],
    ],
)
def test_a_config_named_by_option_or_variable_must_exist(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    missing = tmp_path / "missing.toml"
    assert cli(capsys, *command, "--config", str(missing)) == (2, "", f"{missing}: -: file not found\n")
    monkeypatch.setenv("INGESTD_CONFIG", str(missing))
    assert cli(capsys, *command) == (2, "", f"{missing}: -: file not found (named by $INGESTD_CONFIG)\n")
    assert not list(tmp_path.iterdir())  # nothing created in its place


@pytest.mark.parametrize(
    "command", [["run"], ["check-config"], ["feeds", "list"], ["healthcheck"], ["webhooks", "list"]]
)
def test_no_config_at_all_is_an_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """No --config, no $INGESTD_CONFIG, no ./config/ingestd.toml: no silent defaults."""
    monkeypatch.chdir(tmp_path)
    code, out, err = cli(capsys, *command)
    assert (code, out) == (2, "")
    assert err == (
        f"{tmp_path / 'config' / 'ingestd.toml'}: -: file not found; "
        "name the config with --config PATH or $INGESTD_CONFIG\n"
    )
    assert not list(tmp_path.iterdir())


def test_the_default_file_is_read_when_present(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "config").mkdir()
    path = write_config(tmp_path / "config", '[[feeds]]\nid = "a"\nurl = "https://example.org/a.xml"\n')
    monkeypatch.chdir(tmp_path)
    assert cli(capsys, "check-config") == (0, f"{path.resolve()}: ok (1 feeds)\n", "")


def test_replay_needs_no_config(tmp_path: Path) -> None:
    """Test mode on local files: the built-in defaults when there is no config."""
    run = subprocess.run(
        [sys.executable, "-m", "ingestd", "replay", "--now", "2020-01-09T00:31:02Z", str(SEED)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(),
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert [json.loads(line)["type"] for line in run.stdout.splitlines()] == ["story.created"]


# ── unknown INGESTD_* variables ──────────────────────────────────────────────


def test_unknown_variables_come_with_the_closest_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path, '[http]\ntoken = "env:INGESTD_API_TOKEN"\n')
    for name in ("INGESTD_API_TOKEN", "INGESTD_DESK_TOKEN"):  # secrets are read from the process
        monkeypatch.setenv(name, "s3cret")
    env = {
        "INGESTD_FETCH_TIMEOT": "5s",
        "INGESTD_STORAGE_PAHT": "x.db",
        "INGESTD_COMPLETELY_DIFFERENT_THING": "1",
        "INGESTD_API_TOKEN": "s3cret",  # read by the config as a secret: known
        "INGESTD_CONFIG": str(path),
        "INGESTD_LOG_LEVEL": "debug",
        "OTHER_FETCH_TIMEOT": "5s",  # not ours
        "INGESTD_HTTP_TOKEN": "env:INGESTD_DESK_TOKEN",  # an override reads it: known
        "INGESTD_DESK_TOKEN": "t0ken",
        "OTHER_SETTING": "env:INGESTD_WEBHOOK_SECRET",  # not an ingestd setting: names nothing
        "INGESTD_WEBHOOK_SECRET": "whsec_c2VjcmV0",
    }
    assert load_config(path, env=env).warnings == (
        EnvWarning("INGESTD_COMPLETELY_DIFFERENT_THING", None),
        EnvWarning("INGESTD_FETCH_TIMEOT", "INGESTD_FETCH_TIMEOUT"),
        EnvWarning("INGESTD_STORAGE_PAHT", "INGESTD_STORAGE_PATH"),
        EnvWarning("INGESTD_WEBHOOK_SECRET", None),
    )
    assert str(EnvWarning("INGESTD_FETCH_TIMEOT", "INGESTD_FETCH_TIMEOUT")) == (
        "$INGESTD_FETCH_TIMEOT: unknown variable, ignored; did you mean INGESTD_FETCH_TIMEOUT?"
    )


@pytest.mark.parametrize(
    "command", [["check-config"], ["feeds", "list"], ["stories", "list"], ["feeds", "export"]]
)
def test_commands_warn_once_on_stderr(
    capsys: pytest.CaptureFixture[str], config: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    monkeypatch.setenv("INGESTD_FETCH_TIMEOT", "5s")
    code, _, err = cli(capsys, *command, "--config", str(config))
    assert code == 0
    warning = "warning: $INGESTD_FETCH_TIMEOT: unknown variable, ignored; did you mean INGESTD_FETCH_TIMEOUT?"
    assert err.splitlines().count(warning) == 1, err


def test_run_warns_once_in_its_json_log(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[storage]\npath = "ingestd.db"\n[log]\nformat = "json"\n')
    env = clean_env()
    run = subprocess.run(
        [sys.executable, "-m", "ingestd", "run", "--once", "--config", str(path)],
        capture_output=True,
        text=True,
        env=env | {"INGESTD_SCHEDULER_WROKERS": "4"},
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    lines = [json.loads(line) for line in run.stderr.splitlines()]  # every line one JSON object
    warnings = [line for line in lines if line.get("variable") == "INGESTD_SCHEDULER_WROKERS"]
    assert len(warnings) == 1
    assert warnings[0]["level"] == "warning"
    assert warnings[0]["did_you_mean"] == "INGESTD_SCHEDULER_WORKERS"


# ── --json on every list and show command ────────────────────────────────────


def test_feeds_list_json(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out, _ = cli(capsys, "feeds", "list", "--json", "--config", str(config))
    [feed] = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and feed["id"] == "news" and feed["url"] == "https://example.org/feed.xml"


def test_stories_list_json_has_one_object_a_line(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    code, out, _ = cli(capsys, "stories", "list", "--json", "--config", str(config))
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0
    assert sorted(r["headline"] for r in rows) == ["Story number 1", "Story number 2"]
    assert all(r["feed_id"] == "news" and r["version"] == 1 for r in rows)
    code, table, _ = cli(capsys, "stories", "list", "--config", str(config))
    assert table.splitlines()[0].split() == ["id", "version", "first_created", "feed_id", "headline"]


def test_stories_show_json_is_one_line(capsys: pytest.CaptureFixture[str], config: Path) -> None:
    _, out, _ = cli(capsys, "stories", "list", "--json", "--config", str(config))
    story_id = json.loads(out.splitlines()[0])["id"]
    code, line, _ = cli(capsys, "stories", "show", story_id, "--json", "--config", str(config))
    code_indented, indented, _ = cli(capsys, "stories", "show", story_id, "--config", str(config))
    assert code == code_indented == 0
    assert len(line.splitlines()) == 1 and len(indented.splitlines()) > 1
    assert json.loads(line) == json.loads(indented)
    assert json.loads(line)["ingest"]["feed"] == "news"
