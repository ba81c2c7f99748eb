"""Both storage engines behind one call, for tests that run the same contract on each."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .postgres import postgres_schema

ENGINES = ["sqlite", "postgresql"]


@contextlib.contextmanager
def open_engine(kind: str, tmp_path: Path) -> Iterator[Any]:
    """A fresh, migrated store of `kind` ("sqlite" or "postgresql"), closed afterwards.
    Use as a fixture: `@pytest.fixture(params=ENGINES)` … `with open_engine(request.param, tmp_path)`."""
    if kind == "sqlite":
        from ingestd.store import Store

        engine: Any = Store(tmp_path / "engine.db")
        try:
            yield engine
        finally:
            engine.close()
        return
    from ingestd.store.pg import PgStore

    with postgres_schema() as url:
        engine = PgStore(url)
        try:
            yield engine
        finally:
            engine.close()
