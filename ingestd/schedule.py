"""When to poll a feed next: one pure function, clock and settings passed in.

    next_poll(feed, outcome, now, settings) -> datetime

After a successful poll (2xx, or 304):

    base     = feed.interval, moved toward the observed publishing gap g
               (geometric mean sqrt(interval * g), when >= 3 dated entries are known)
    hint     = the largest server hint: Cache-Control max-age (less Age) or else
               Expires - Date, RSS <ttl>, sy:updatePeriod / sy:updateFrequency
    interval = clamp(max(base, hint), min_interval, max_interval)

After a failed poll (the n-th in a row, n = feed.error_count, this failure counted):

    interval = min(clamp(feed.interval) * 2**n, max(backoff_cap, clamp(feed.interval)))

Then, either way:

    delay = interval * (1 ± jitter)               jitter <= 10%, a hash of feed id and now
    delay = max(delay, min(hint, max_interval), min_interval)   jitter never undercuts a hint
    delay = max(delay, min(Retry-After, retry_after_cap))        on 429 and 503
    next  = now + delay

Nothing here reads a clock, a file or the network.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

from .models import FeedState

__all__ = ["ScheduleSettings", "PollOutcome", "next_poll", "quiet_threshold"]

# sy:updatePeriod values (RSS 1.0 syndication module), in seconds.
UPDATE_PERIODS = {
    "hourly": 3600,
    "daily": 86400,
    "weekly": 7 * 86400,
    "monthly": 30 * 86400,
    "yearly": 365 * 86400,
}
RATE_WINDOW = 20  # newest entries used to estimate the publishing gap
RATE_MIN_ENTRIES = 3  # fewer dated entries say too little about a rate
_RETRY_AFTER_STATUSES = (429, 503)


@dataclass(frozen=True)
class ScheduleSettings:
    """The knobs of next_poll, in seconds (jitter: a fraction)."""

    min_interval: float = 60.0
    max_interval: float = 24 * 3600.0
    backoff_cap: float = 6 * 3600.0
    retry_after_cap: float = 24 * 3600.0
    jitter: float = 0.10

    def __post_init__(self) -> None:
        if self.min_interval < 1:
            raise ValueError(f"min_interval {self.min_interval}s is under 1s")
        if self.max_interval < self.min_interval:
            raise ValueError(f"max_interval {self.max_interval}s is under min_interval {self.min_interval}s")
        if not 0 <= self.jitter <= 0.10:
            raise ValueError(f"jitter {self.jitter} is outside 0..0.10")


@dataclass
class PollOutcome:
    """What one poll taught about the feed's timing."""

    status: int | None = None  # HTTP status (200 for local files); None if no response
    error: str | None = None  # set when the poll failed
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-case keys
    ttl_minutes: int | None = None  # RSS <ttl>
    update_period: str | None = None  # sy:updatePeriod: hourly, daily, weekly, …
    update_frequency: int | None = None  # sy:updateFrequency: times per period
    # Publish times of the feed's newest entries: from this poll's document, or
    # from the store when the poll was a 304 or an identical body.
    published: Sequence[datetime] = ()

    @classmethod
    def failed(cls, exc: Exception) -> PollOutcome:
        """The outcome of a poll that raised `exc` (status and Retry-After if HTTP)."""
        status = getattr(exc, "status", None)
        retry_after = getattr(exc, "retry_after", None)
        return cls(
            status=status,
            error=str(exc) or type(exc).__name__,
            headers={"retry-after": retry_after} if retry_after else {},
        )


def next_poll(
    feed: FeedState, outcome: PollOutcome, now: datetime, settings: ScheduleSettings = ScheduleSettings()
) -> datetime:
    """When to poll `feed` next, given what the poll at `now` taught.

    `feed` is the state this poll leaves: after a failure its error_count
    counts this failure too (the first failure in a row is 1). `now` is aware.
    """
    if outcome.error is None:
        hint = _server_hint(outcome, now)
        base = feed.interval
        gap = _publishing_gap(outcome.published, now)
        if gap is not None:
            base = math.sqrt(max(base, 1.0) * gap)
        interval = _clamp(max(base, hint), settings)
        floor = min(hint, settings.max_interval)
    else:
        errors = min(max(feed.error_count, 1), 32)  # 2**32 intervals is past any cap
        base = _clamp(feed.interval, settings)
        interval = min(base * 2**errors, max(settings.backoff_cap, base))
        floor = 0.0
    delay = interval * (1 + _jitter(feed.id, now, settings.jitter))
    delay = max(delay, floor, settings.min_interval)
    retry_after = _retry_after(outcome, now)
    if retry_after is not None:
        delay = max(delay, min(retry_after, settings.retry_after_cap))
    return now + timedelta(seconds=delay)


def _clamp(seconds: float, settings: ScheduleSettings) -> float:
    return min(max(seconds, settings.min_interval), settings.max_interval)


def _jitter(feed_id: str, now: datetime, amount: float) -> float:
    """A fraction in [-amount, amount), fixed by feed id and time: spread, yet testable."""
    digest = hashlib.blake2b(f"{feed_id}|{now.isoformat()}".encode(), digest_size=8).digest()
    return (2 * int.from_bytes(digest, "big") / 2**64 - 1) * amount


def _server_hint(outcome: PollOutcome, now: datetime) -> float:
    """The longest "don't come back before" the server or the feed gave, in seconds."""
    hints = [_freshness(outcome.headers, now)]
    if outcome.ttl_minutes and outcome.ttl_minutes > 0:
        hints.append(outcome.ttl_minutes * 60.0)
    period = UPDATE_PERIODS.get((outcome.update_period or "").strip().lower())
    if period:
        hints.append(period / max(outcome.update_frequency or 1, 1))
    return max(hints)


def _freshness(headers: Mapping[str, str], now: datetime) -> float:
    """HTTP freshness lifetime left: max-age less Age, else Expires less Date."""
    directives = [d.strip().lower() for d in headers.get("cache-control", "").split(",")]
    if "no-store" in directives or "no-cache" in directives:
        return 0.0
    for directive in directives:
        name, _, value = directive.partition("=")
        if name == "max-age" and value.strip().strip('"').isdigit():
            age = headers.get("age", "").strip()
            return max(0.0, int(value.strip().strip('"')) - (int(age) if age.isdigit() else 0))
    expires = _http_date(headers.get("expires"))
    if expires is None:
        return 0.0
    return max(0.0, (expires - _server_now(headers, now)).total_seconds())


def _retry_after(outcome: PollOutcome, now: datetime) -> float | None:
    if outcome.status not in _RETRY_AFTER_STATUSES:
        return None
    value = (outcome.headers.get("retry-after") or "").strip()
    if value.isdigit():
        return float(value)
    when = _http_date(value)
    if when is None:
        return None
    return max(0.0, (when - _server_now(outcome.headers, now)).total_seconds())


def _server_now(headers: Mapping[str, str], now: datetime) -> datetime:
    """The server's Date, so its own dates are read against its own clock."""
    return _http_date(headers.get("date")) or now


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    # "-0000" gives a naive datetime; HTTP dates are always GMT.
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _publishing_gap(published: Sequence[datetime], now: datetime) -> float | None:
    """Mean seconds between entries: the window from the oldest recent entry to now,
    shared by the entries in it — so a feed gone quiet looks slower every poll."""
    recent = sorted((t for t in published if t <= now), reverse=True)[:RATE_WINDOW]
    if len(recent) < RATE_MIN_ENTRIES:
        return None
    return max((now - recent[-1]).total_seconds() / len(recent), 1.0)


QUIET_GAPS = 8  # a feed is quiet after this many of its usual gaps without a story
QUIET_MIN_S = 3600.0
QUIET_MIN_ENTRIES = 5


def quiet_threshold(published: Sequence[datetime], pinned: float | None) -> float | None:
    """How long without a new story before a feed counts as quiet, in seconds: the
    pinned value, else QUIET_GAPS times the median gap between its newest stories
    (at least an hour); None while too few dated stories say what is usual."""
    if pinned is not None:
        return pinned
    times = sorted(published, reverse=True)[:RATE_WINDOW]
    if len(times) < QUIET_MIN_ENTRIES:
        return None
    gaps = sorted((a - b).total_seconds() for a, b in zip(times, times[1:]))
    return max(QUIET_GAPS * gaps[len(gaps) // 2], QUIET_MIN_S)


# A claim outlives a poll's slowest fetch twice over, plus time to write what it brought.
LEASE_MARGIN_S = 30.0


def lease_length(fetch_timeout: float) -> timedelta:
    """How long a claimed feed stays claimed: past this its poller is presumed dead (a
    crash, another replica gone) and the feed is due again."""
    return timedelta(seconds=2 * fetch_timeout + LEASE_MARGIN_S)
