"""Waiting on a condition instead of sleeping a fixed time: fast when things are
quick, patient when the machine is busy, and a clear failure when they never happen."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(condition: Callable[[], T], what: str = "", timeout: float = 30.0, every: float = 0.02) -> T:
    """Poll `condition()` until it returns something truthy; return that. AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        time.sleep(every)


async def async_wait_for(
    condition: Callable[[], T], what: str = "", timeout: float = 30.0, every: float = 0.02
) -> T:
    """wait_for inside an event loop: the loop keeps running between checks."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")
        await asyncio.sleep(every)
