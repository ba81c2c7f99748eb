"""The Fetcher the fetch tests build: settings a test against loopback servers or a mock
transport needs, any of them overridden by the test."""

from __future__ import annotations

from typing import Any

from ingestd.fetch import Fetcher


def loopback_fetcher(**overrides: Any) -> Fetcher:
    """A 5 s deadline, 1 MB bodies, 5 redirects, 127.0.0.1 reachable, and no proxy from
    the machine's environment."""
    settings: dict[str, Any] = dict(
        timeout=5.0,
        connect_timeout=2.0,
        user_agent="ingestd-test/1",
        allow_private=["127.0.0.1"],
        max_body=1_000_000,
        max_redirects=5,
        environ={},
    )
    return Fetcher(**(settings | overrides))
