from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def _no_ingestd_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their own config; the developer's INGESTD_* must not leak in."""
    for name in list(os.environ):
        if name.startswith("INGESTD_"):
            monkeypatch.delenv(name)
