from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from tests.support.processes import PROXY_VARIABLES


@pytest.fixture(autouse=True)
def _no_ingestd_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their own config; the developer's INGESTD_* and proxy variables (which
    the fetcher honours) must not leak in."""
    for name in list(os.environ):
        if name.startswith("INGESTD_") or name.lower() in PROXY_VARIABLES:
            monkeypatch.delenv(name)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """`ingestd ARGV…` in this process: (exit code, stdout, stderr)."""
    from ingestd.cli import main

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    return run
