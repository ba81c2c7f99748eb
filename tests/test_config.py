from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import tomllib
import types
import typing
from pathlib import Path

import pytest

from ingestd.config import (
    FEED_SETTINGS,
    SECTIONS,
    SETTINGS,
    SUBSCRIPTION_SETTINGS,
    Config,
    FetchSettings,
    load_config,
    parse_duration,
    parse_size,
    reference,
)
from ingestd.errors import ConfigError
from tests.support import ROOT, write_config


def problems_of(path: Path, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {})
    return [str(p) for p in info.value.problems]


def test_good_config_loads_with_defaults_and_relative_paths(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """
        [storage]
        path = "db/x.db"
        [[feeds]]
        id = "yonhap-en"
        url = "https://en.yna.co.kr/RSS/news.xml"
        source = "yonhap"
        interval = "5m"
        [[feeds]]
        id = "local"
        url = "seeds"
    """,
    )
    config = load_config(path, env={})
    assert config.storage.path == str((tmp_path / "db/x.db").resolve())
    assert config.fetch.timeout == 20.0
    assert config.fetch.max_body == 15_000_000
    assert [f.id for f in config.feeds] == ["yonhap-en", "local"]
    assert config.feeds[0].interval == 300.0
    assert config.feeds[1].url == (tmp_path / "seeds").resolve().as_uri()
    assert config.feeds[1].interval == 300.0  # [scheduler] default_interval


def test_every_error_is_reported_with_file_key_and_reason(tmp_path: Path) -> None:
    path = write_config(
        tmp_path,
        """
        [fetch]
        timeout = "5 parsecs"
        colour = "blue"
        [[feeds]]
        id = "a"
        [[feeds]]
        id = "b"
        url = "https://example.org/feed"
        interval = "5 parsecs"
        [[feeds]]
        id = "b"
        url = "https://example.org/other"
    """,
    )
    problems = problems_of(path)
    assert len(problems) == 5, problems
    text = "\n".join(problems)
    assert all(p.startswith(f"{path}: ") for p in problems)
    assert "fetch.timeout: '5 parsecs' is not a duration" in text
    assert "fetch.colour: unknown key" in text
    assert "feeds[0] (a).url: missing (required)" in text
    assert "feeds[1] (b).interval: '5 parsecs' is not a duration" in text
    assert "feeds[2] (b).id: duplicate id 'b' (also feeds[1])" in text


def test_unknown_section_and_bad_toml(tmp_path: Path) -> None:
    assert problems_of(write_config(tmp_path, "[nonsense]\nx = 1\n")) == [
        f"{tmp_path / 'ingestd.toml'}: nonsense: unknown section"
    ]
    problems = problems_of(write_config(tmp_path, "[storage\n"))
    assert "not valid TOML" in problems[0]


def test_feed_url_must_be_http_or_local(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[[feeds]]\nid = "x"\nurl = "gopher://example.org/"\n')
    assert "only http, https, file: URLs or paths are feeds" in problems_of(path)[0]


def test_env_overrides_a_key(tmp_path: Path) -> None:
    path = write_config(tmp_path, '[fetch]\ntimeout = "20s"\n')
    config = load_config(
        path,
        env={
            "INGESTD_FETCH_TIMEOUT": "3s",
            "INGESTD_FETCH_ALLOW_PRIVATE": "127.0.0.1, 10.0.0.0/8",
            "INGESTD_LOG_FORMAT": "console",
        },
    )
    assert config.fetch.timeout == 3.0
    assert config.fetch.allow_private == ["127.0.0.1", "10.0.0.0/8"]
    assert config.log.format == "console"


@pytest.mark.parametrize(
    "listen,reason",
    [
        ("8080", "is not host:port"),
        ("localhost:port", "is not host:port"),
        (":8080", "is not host:port"),
        ("1.2.3.4:70000", "port 70000 is above 65535"),
        ("999.1.1.1:80", "'999.1.1.1' is not an IP address"),
        ("10.0.0:80", "'10.0.0' is not an IP address"),
        ("[::zz]:80", "'::zz' is not an IP address"),
        ("bad_host:80", "'bad_host' is not a host name"),
        ("-lead.example:80", "'-lead.example' is not a host name"),
    ],
)
def test_bad_listen_address(tmp_path: Path, listen: str, reason: str) -> None:
    path = write_config(tmp_path, f'[http]\nlisten = "{listen}"\n')
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: http.listen: {listen!r}") and reason in problem


@pytest.mark.parametrize("listen", ["127.0.0.1:0", "0.0.0.0:8080", "[::1]:8080", "[::]:80", "localhost:8080"])
def test_good_listen_address(tmp_path: Path, listen: str) -> None:
    assert load_config(write_config(tmp_path, f'[http]\nlisten = "{listen}"\n'), env={}).http.listen == listen


def test_subscriptions_are_checked_and_secrets_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "secret.txt").write_text("whsec_fromfile\n")
    subscription = """
        [[subscriptions]]
        id = "newsroom"
        url = "https://hooks.example.org/ingestd"
        secret = ["env:HOOK_SECRET", "file:secret.txt"]
        filter = { sources = ["yonhap"], first_of_cluster = true }
    """
    path = write_config(
        tmp_path,
        subscription
        + """
        [[subscriptions]]
        id = "broken"
        url = "ftp://hooks.example.org/"
        secret = "not-a-whsec"
        filter = { colour = ["red"] }
    """,
    )
    text = "\n".join(problems_of(path))
    assert "subscriptions[0] (newsroom).secret: environment variable HOOK_SECRET is not set" in text
    assert "subscriptions[1] (broken).secret: a webhook secret must start with whsec_" in text
    assert "subscriptions[1] (broken).filter: unknown filter key 'colour'" in text
    monkeypatch.setenv("HOOK_SECRET", "whsec_fromenv")
    [sub] = load_config(write_config(tmp_path, subscription), env={}).subscriptions
    assert sub.secrets == ("whsec_fromenv", "whsec_fromfile")
    assert sub.filter.sources == ("yonhap",) and sub.filter.first_of_cluster is True
    assert sub.events == ("story.created", "story.updated")


def test_a_token_file_is_relative_to_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "token.txt").write_text("s3cret\n")
    path = write_config(tmp_path, '[http]\ntoken = "file:token.txt"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert load_config(path, env={}).http.token == "s3cret"


def test_bad_env_override_names_the_variable(tmp_path: Path) -> None:
    path = write_config(tmp_path, "")
    assert problems_of(path, {"INGESTD_SCHEDULER_WORKERS": "many"}) == [
        "$INGESTD_SCHEDULER_WORKERS: scheduler.workers: 'many' is not a whole number"
    ]


def test_ingestd_config_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(tmp_path, '[log]\nlevel = "debug"\n')
    monkeypatch.setenv("INGESTD_CONFIG", str(path))
    assert load_config().log.level == "debug"


@pytest.mark.parametrize(
    "text,seconds", [("5m", 300), ("1h30m", 5400), ("20s", 20), ("2d", 172800), (90, 90), ("500ms", 0.5)]
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["5 parsecs", "", "m5", "-3s", True])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_a_bare_number_is_still_seconds(tmp_path: Path) -> None:
    """Durations that must be longer than 0s take numbers as before; only 0 is refused."""
    path = write_config(tmp_path, "[fetch]\ntimeout = 7\n[webhooks]\nprobe_interval = 0.5\n")
    config = load_config(path, env={})
    assert (config.fetch.timeout, config.webhooks.probe_interval) == (7.0, 0.5)
    assert problems_of(write_config(tmp_path, "[scheduler]\ntick = 0\n")) == [
        f"{tmp_path / 'ingestd.toml'}: scheduler.tick: 0 must be longer than 0s"
    ]


def test_sizes() -> None:
    assert parse_size("15MB") == 15_000_000
    assert parse_size("512 KiB") == 524288
    with pytest.raises(ValueError):
        parse_size("big")


def test_check_config_cli_exit_codes(tmp_path: Path) -> None:
    bad = write_config(tmp_path, '[[feeds]]\nid = "a"\n')
    run = subprocess.run(
        [sys.executable, "-m", "ingestd", "check-config", str(bad)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 2
    assert run.stderr.strip() == f"{bad}: feeds[0] (a).url: missing (required)"
    good = ROOT / "config" / "ingestd.toml"
    run = subprocess.run(
        [sys.executable, "-m", "ingestd", "check-config", str(good)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "ok" in run.stdout


def test_example_config_documents_every_setting_with_its_default() -> None:
    path = ROOT / "config" / "ingestd.toml"
    text = path.read_text()
    written = tomllib.loads(text)
    load_config(path, env={})
    for setting in SETTINGS:
        if setting.default is None:  # no value to show: a commented example instead
            assert re.search(rf"^# {setting.key} = ", text, re.M), setting.key
        elif (setting.section, setting.key) == ("storage", "path"):
            assert 'Default "data/ingestd.db"' in text
        elif (setting.section, setting.key) == ("storage", "url"):  # path's alternative: never both
            assert re.search(r"^# url = ", text, re.M)
        else:
            assert written[setting.section][setting.key] == setting.default, (
                f"[{setting.section}] {setting.key} differs from its default"
            )
    for setting in FEED_SETTINGS + SUBSCRIPTION_SETTINGS:
        assert re.search(rf"\b{setting.key}\b", text), setting.key


def test_reference_doc_is_generated_from_the_settings_table() -> None:
    """docs/config.md must be exactly what `ingestd config-reference` prints."""
    assert (ROOT / "docs" / "config.md").read_text() == reference()


def test_every_setting_has_its_typed_field_and_every_field_its_setting() -> None:
    """SETTINGS and the section dataclasses say the same thing: a row without a field
    (or a field without a row) fails here, not at load time in production."""
    declared = {(s.section, s.key) for s in SETTINGS}
    typed = {(name, f.name) for name, cls in SECTIONS.items() for f in dataclasses.fields(cls)}
    assert declared == typed
    hints = typing.get_type_hints(Config)
    for name, cls in SECTIONS.items():
        assert hints[name] is cls, f"Config.{name} is not a {cls.__name__}"


def test_each_default_has_its_fields_type() -> None:
    for setting in SETTINGS:
        hint = typing.get_type_hints(SECTIONS[setting.section])[setting.key]
        value = None if setting.default is None else setting.parse(setting.default)
        allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        kinds = tuple(typing.get_origin(a) or a for a in allowed)
        assert isinstance(value, kinds), f"{setting.section}.{setting.key}: {value!r} is no {hint}"


def test_sections_are_typed_and_frozen(tmp_path: Path) -> None:
    config = load_config(write_config(tmp_path, '[fetch]\ntimeout = "5s"\n'), env={})
    assert isinstance(config.fetch, FetchSettings) and config.fetch.timeout == 5.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.fetch.timeout = 1.0  # type: ignore[misc]
