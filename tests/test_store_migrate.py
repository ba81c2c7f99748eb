"""`ingestd migrate`: the schema created or upgraded without running the daemon."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ingestd.cli import main
from ingestd.store import Store
from tests.support import write_config


def test_migrate_applies_every_migration_once_then_is_up_to_date(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, '[storage]\nurl = "sqlite:///db/ingestd.db"\n')
    assert main(["migrate", "--config", str(config)]) == 0
    first = capsys.readouterr().out
    database = tmp_path / "db" / "ingestd.db"
    assert first.startswith(f"sqlite:///{database.resolve()}: applied core-1, ")
    names = {row[0] for row in sqlite3.connect(database).execute("SELECT name FROM schema_migrations")}
    assert names == {name for name, _ in Store.migrations}
    assert main(["migrate", "--config", str(config)]) == 0
    assert capsys.readouterr().out.endswith(": up to date\n")
