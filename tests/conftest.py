from __future__ import annotations

import os

import pytest

from tests.support.processes import PROXY_VARIABLES


@pytest.fixture(autouse=True)
def _no_ingestd_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their own config; the developer's INGESTD_* and proxy variables (which
    the fetcher honours) must not leak in."""
    for name in list(os.environ):
        if name.startswith("INGESTD_") or name.lower() in PROXY_VARIABLES:
            monkeypatch.delenv(name)
