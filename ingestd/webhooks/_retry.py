"""When to try a delivery again: pure, clock and settings passed in.

decide(attempt, number, queued_at, key, now, settings) -> Verdict

2xx                      delivered
410                      the subscription is disabled (the receiver is gone);
                         the delivery stays pending for `webhooks enable`
429 or 503, Retry-After  next = now + Retry-After, kept within
                         [first_delay, retry_after_cap]; the whole
                         subscription holds until then
anything else            next = now + backoff(number); 3xx, timeouts and
                         refused connections included
next past queued_at + retry_for   failed instead (visible, redeliverable)

backoff(n) = min(first_delay * 2**(n-1), max_delay) * (1 + j),
             j in [-jitter, +jitter), a hash of the delivery and n
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal

from ._models import RETRY_AFTER_STATUSES, Attempt, WebhookSettings

__all__ = ["Verdict", "backoff", "decide"]


@dataclass(frozen=True)
class Verdict:
    state: Literal["delivered", "pending", "failed"]
    next_attempt_at: datetime | None = None
    hold_until: datetime | None = None  # Retry-After: no delivery to this subscription before
    gone: bool = False  # 410: disable the subscription


def decide(
    attempt: Attempt, number: int, queued_at: datetime, key: str, now: datetime, settings: WebhookSettings
) -> Verdict:
    """The delivery's fate after its `number`-th attempt (from 1) ended at `now`."""
    if attempt.ok:
        return Verdict("delivered")
    if attempt.status == 410:
        return Verdict("pending", next_attempt_at=now, gone=True)
    retry_after = _retry_after(attempt, now)
    if retry_after is not None:
        wait = min(max(retry_after, settings.first_delay), settings.retry_after_cap)
        hold = now + timedelta(seconds=wait)
    else:
        wait = backoff(number, key, settings)
        hold = None
    following = now + timedelta(seconds=wait)
    if following > queued_at + timedelta(seconds=settings.retry_for):
        return Verdict("failed")
    return Verdict("pending", next_attempt_at=following, hold_until=hold)


def backoff(number: int, key: str, settings: WebhookSettings) -> float:
    """Seconds to wait after the `number`-th failed attempt."""
    nominal = min(settings.first_delay * 2 ** min(number - 1, 64), settings.max_delay)
    digest = hashlib.blake2b(f"{key}|{number}".encode(), digest_size=8).digest()
    fraction = 2 * int.from_bytes(digest, "big") / 2**64 - 1
    return float(nominal * (1 + fraction * settings.jitter))


def _retry_after(attempt: Attempt, now: datetime) -> float | None:
    """Retry-After in seconds: delta-seconds or an HTTP date; None if absent or unreadable."""
    if attempt.status not in RETRY_AFTER_STATUSES or not attempt.retry_after:
        return None
    value = attempt.retry_after.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)  # "-0000": GMT
    return max(0.0, (when - now).total_seconds())
