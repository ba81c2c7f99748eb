from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("INGESTD_SHARED", ROOT.parent / "shared"))
SEED = ROOT / "seeds" / "yonhap-2020-01-09-defense-cost-sharing.txt"


def write_config(folder: Path, body: str) -> Path:
    path = folder / "ingestd.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


@pytest.fixture
def shared() -> Path:
    if not (SHARED / "corpus").is_dir():
        pytest.skip(f"shared corpus not found at {SHARED} (set INGESTD_SHARED)")
    return SHARED


@pytest.fixture(autouse=True)
def _no_ingestd_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their own config; the developer's INGESTD_* must not leak in."""
    for name in list(os.environ):
        if name.startswith("INGESTD_") and name != "INGESTD_SHARED":
            monkeypatch.delenv(name)
