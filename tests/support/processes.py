"""Running the real `ingestd` command in a child process."""

from __future__ import annotations

import os
import sys

INGESTD = [sys.executable, "-m", "ingestd"]


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any INGESTD_* override, plus `extra`."""
    return {k: v for k, v in os.environ.items() if not k.startswith("INGESTD_")} | extra
