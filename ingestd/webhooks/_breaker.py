"""The circuit breaker: pure decisions about a subscription's endpoint.

after_attempt(breaker, ok, now, settings) -> (breaker, change)

success                  closed: failing_since cleared; a paused
                         subscription resumes ("resumed")
failure                  failing_since kept from the first failure in a row;
                         failing for breaker_after or longer -> paused ("paused")
paused                   no deliveries but one probe every probe_interval,
                         with the oldest pending delivery (a real one, so a
                         probe that succeeds has also delivered it)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from ._models import WebhookSettings

__all__ = ["Breaker", "after_attempt"]


@dataclass(frozen=True)
class Breaker:
    state: Literal["active", "paused"]
    failing_since: datetime | None = None
    probe_at: datetime | None = None  # paused: when the next probe may go


def after_attempt(
    breaker: Breaker, ok: bool, now: datetime, settings: WebhookSettings
) -> tuple[Breaker, Literal["paused", "resumed"] | None]:
    if ok:
        return Breaker("active"), ("resumed" if breaker.state == "paused" else None)
    since = breaker.failing_since or now
    if breaker.state == "paused" or now - since >= timedelta(seconds=settings.breaker_after):
        probe_at = now + timedelta(seconds=settings.probe_interval)
        return Breaker("paused", since, probe_at), (None if breaker.state == "paused" else "paused")
    return Breaker("active", since), None
