"""[storage] url: sqlite:///PATH or postgresql://, `path` as its shorthand, never both."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingestd.config import ConfigError, _redact_url, load_config
from tests.support import write_config


def _load(tmp_path: Path, body: str, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return load_config(write_config(tmp_path, body), env=env or {})


def test_default_is_path_as_sqlite_url(tmp_path: Path) -> None:
    config = _load(tmp_path, "")
    assert config.storage.url == "sqlite:///" + config.storage.path
    assert config.storage.path == str((tmp_path / "data/ingestd.db").resolve())


def test_relative_sqlite_url_resolves_against_the_config_folder(tmp_path: Path) -> None:
    config = _load(tmp_path, '[storage]\nurl = "sqlite:///db/x.db"\n')
    assert config.storage.path == str((tmp_path / "db/x.db").resolve())
    assert config.storage.url == "sqlite:///" + config.storage.path


def test_absolute_sqlite_url_and_env_variable(tmp_path: Path) -> None:
    target = tmp_path / "abs" / "y.db"
    config = _load(tmp_path, "", env={"INGESTD_STORAGE_URL": f"sqlite:///{target}"})
    assert config.storage.path == str(target)


def test_url_from_a_secret_file(tmp_path: Path) -> None:
    (tmp_path / "db-url").write_text("sqlite:///from-file.db\n")
    config = _load(tmp_path, '[storage]\nurl = "file:db-url"\n')
    assert config.storage.path == str((tmp_path / "from-file.db").resolve())


def test_path_and_url_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="set url or path, not both"):
        _load(tmp_path, '[storage]\npath = "a.db"\nurl = "sqlite:///b.db"\n')


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://h/db", "a storage URL is sqlite:///PATH or postgresql://"),
        ("sqlite:///", "needs the database file's path"),
        ("data/x.db", "a storage URL is sqlite:///PATH"),
    ],
)
def test_bad_urls_are_named_with_the_reason(tmp_path: Path, url: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        _load(tmp_path, f'[storage]\nurl = "{url}"\n')


def test_a_postgresql_url_is_taken_as_is_and_no_sqlite_file_is_named(tmp_path: Path) -> None:
    config = _load(tmp_path, "", env={"INGESTD_STORAGE_URL": "postgresql://app:s3cret@db/ingestd"})
    assert config.storage.url == "postgresql://app:s3cret@db/ingestd"
    assert config.storage.path == ""


def test_a_refused_url_is_named_without_its_password(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        _load(tmp_path, '[storage]\nurl = "mysql://app:s3cret@db/ingestd"\n')
    assert "app:***@db" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_redact_url_hides_only_the_password() -> None:
    assert _redact_url("postgresql://app:s3cret@db:5432/x") == "postgresql://app:***@db:5432/x"
    assert _redact_url("postgresql://app@db/x") == "postgresql://app@db/x"
