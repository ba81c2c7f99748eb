"""The plain data of the webhook modules; what the store also sees lives in ingestd.models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ..models import (
    Claimed,
    DeliveryState,
    DueSubscription,
    Origin,
    SubscriptionConflict,
    SubscriptionState,
    SubscriptionStatus,
    UnknownSubscription,
)

# shared with the store, which imports nothing but ingestd.models
__all__ = [
    "RETRY_AFTER_STATUSES",
    "Attempt",
    "Claimed",
    "DeliveryState",
    "DueSubscription",
    "Origin",
    "Recorded",
    "SubscriptionConflict",
    "SubscriptionState",
    "SubscriptionStatus",
    "UnknownSubscription",
    "WebhookSettings",
]

RETRY_AFTER_STATUSES = (429, 503)


@dataclass(frozen=True)
class WebhookSettings:
    """Delivery knobs, in seconds. The first five come from `[webhooks]`; the
    schedule's shape (first_delay doubling up to max_delay, ±jitter) is fixed
    in production and shrunk by tests."""

    timeout: float = 15.0
    concurrency: int = 4
    retry_for: float = 3 * 86400.0
    breaker_after: float = 3600.0
    probe_interval: float = 300.0
    first_delay: float = 10.0
    max_delay: float = 6 * 3600.0
    jitter: float = 0.10
    retry_after_cap: float = 86400.0

    @classmethod
    def from_config(cls, config: Any) -> WebhookSettings:
        section = config.webhooks
        return cls(
            timeout=section.timeout,
            concurrency=section.concurrency,
            retry_for=section.retry_for,
            breaker_after=section.breaker_after,
            probe_interval=section.probe_interval,
        )

    @property
    def lease(self) -> float:
        """How long a claimed delivery stays claimed: past this its sender is
        presumed dead (a crash) and the delivery is due again."""
        return 2 * self.timeout


@dataclass(frozen=True)
class Attempt:
    """What one POST came to: a status, or an error before any status."""

    status: int | None
    duration_ms: int
    error: str | None = None  # None exactly when the status is 2xx
    retry_after: str | None = None  # the header, on 429 and 503

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass(frozen=True)
class Recorded:
    """What the store made of an attempt: the delivery's and the subscription's new state."""

    state: DeliveryState
    next_attempt_at: datetime | None
    subscription_state: SubscriptionState
    change: Literal["paused", "resumed", "disabled"] | None = None
    reason: str | None = None
    expired: int = 0  # pending deliveries failed because their retry window passed while paused
