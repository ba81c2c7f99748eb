"""Where the suite's inputs live: everything it reads is inside the repository."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
SEED = ROOT / "seeds" / "yonhap-2020-01-09-defense-cost-sharing.txt"
