"""Running the real `ingestd` command in a child process."""

from __future__ import annotations

import os
import sys

INGESTD = [sys.executable, "-m", "ingestd"]


# the fetcher honours these: a developer's proxy must not carry the suite's loopback traffic
PROXY_VARIABLES = frozenset({"http_proxy", "https_proxy", "all_proxy", "no_proxy"})


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any INGESTD_* override or proxy, plus `extra`."""
    return {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("INGESTD_") and k.lower() not in PROXY_VARIABLES
    } | extra
