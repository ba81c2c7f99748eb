"""The retry schedule and the circuit breaker: pure decisions, exact times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingestd.webhooks import Attempt, WebhookSettings, backoff
from ingestd.webhooks._breaker import Breaker, after_attempt
from ingestd.webhooks._retry import decide

NOW = datetime(2020, 1, 9, 0, 0, 0, tzinfo=UTC)
SETTINGS = WebhookSettings()
DOCS = Path(__file__).resolve().parent.parent / "docs" / "webhooks.md"


def failed(status: int | None = 500, retry_after: str | None = None) -> Attempt:
    return Attempt(status, 10, error=f"HTTP {status}", retry_after=retry_after)


def test_only_2xx_is_success() -> None:
    assert decide(Attempt(204, 5), 1, NOW, "d", NOW, SETTINGS).state == "delivered"
    for status in (301, 302, 304, 400, 404, 500, None):
        assert decide(failed(status), 1, NOW, "d", NOW, SETTINGS).state == "pending"


def test_backoff_doubles_from_first_delay_up_to_max_delay() -> None:
    exact = WebhookSettings(jitter=0.0)
    assert [backoff(n, "d", exact) for n in range(1, 6)] == [10, 20, 40, 80, 160]
    assert backoff(12, "d", exact) == 20480
    assert backoff(13, "d", exact) == backoff(40, "d", exact) == 6 * 3600


def test_jitter_stays_within_ten_percent_and_is_repeatable() -> None:
    delays = [backoff(3, f"delivery-{i}", SETTINGS) for i in range(200)]
    assert all(36 <= d < 44 for d in delays)
    assert len(set(delays)) > 100  # spread, not one value
    assert backoff(3, "delivery-1", SETTINGS) == backoff(3, "delivery-1", SETTINGS)


def test_failure_schedules_the_next_attempt() -> None:
    verdict = decide(failed(500), 2, NOW, "d", NOW, SETTINGS)
    assert verdict.next_attempt_at == NOW + timedelta(seconds=backoff(2, "d", SETTINGS))
    assert verdict.hold_until is None and not verdict.gone


def test_delivery_fails_when_the_next_attempt_would_pass_retry_for() -> None:
    queued = NOW - timedelta(days=3) + timedelta(hours=1)
    assert decide(failed(500), 20, queued, "d", NOW, SETTINGS).state == "failed"
    assert decide(failed(500), 2, queued, "d", NOW, SETTINGS).state == "pending"


def test_the_whole_default_schedule_lasts_about_three_days() -> None:
    """Attempts until failed: the last one falls within retry_for, and close to its end."""
    at, number = NOW, 1
    while (verdict := decide(failed(500), number, NOW, "d", at, SETTINGS)).state == "pending":
        at, number = verdict.next_attempt_at, number + 1
    assert timedelta(days=2, hours=12) < at - NOW <= timedelta(days=3)
    assert 20 <= number <= 25


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_honoured_and_holds_the_subscription(status: int) -> None:
    verdict = decide(failed(status, "120"), 1, NOW, "d", NOW, SETTINGS)
    assert verdict.next_attempt_at == verdict.hold_until == NOW + timedelta(seconds=120)


def test_retry_after_as_an_http_date() -> None:
    verdict = decide(failed(503, "Thu, 09 Jan 2020 00:05:00 GMT"), 1, NOW, "d", NOW, SETTINGS)
    assert verdict.next_attempt_at == NOW + timedelta(minutes=5)


def test_retry_after_is_kept_within_bounds() -> None:
    assert decide(failed(429, "0"), 1, NOW, "d", NOW, SETTINGS).next_attempt_at == NOW + timedelta(
        seconds=SETTINGS.first_delay
    )
    assert decide(failed(429, "999999"), 1, NOW, "d", NOW, SETTINGS).next_attempt_at == NOW + timedelta(
        seconds=SETTINGS.retry_after_cap
    )


def test_retry_after_on_other_statuses_or_unreadable_follows_the_schedule() -> None:
    expected = NOW + timedelta(seconds=backoff(1, "d", SETTINGS))
    assert decide(failed(500, "120"), 1, NOW, "d", NOW, SETTINGS).next_attempt_at == expected
    assert decide(failed(429, "soon"), 1, NOW, "d", NOW, SETTINGS).next_attempt_at == expected


def test_410_disables_and_keeps_the_delivery_for_enable() -> None:
    verdict = decide(failed(410), 1, NOW, "d", NOW, SETTINGS)
    assert verdict.gone and verdict.state == "pending" and verdict.next_attempt_at == NOW


def test_breaker_stays_closed_until_failing_for_breaker_after() -> None:
    breaker, change = after_attempt(Breaker("active"), False, NOW, SETTINGS)
    assert breaker == Breaker("active", NOW) and change is None
    later = NOW + timedelta(minutes=59)
    assert after_attempt(breaker, False, later, SETTINGS) == (Breaker("active", NOW), None)


def test_breaker_opens_after_breaker_after_and_probes_every_probe_interval() -> None:
    hour = NOW + timedelta(hours=1)
    breaker, change = after_attempt(Breaker("active", NOW), False, hour, SETTINGS)
    assert change == "paused"
    assert breaker == Breaker("paused", NOW, hour + timedelta(minutes=5))
    probe = hour + timedelta(minutes=5)
    assert after_attempt(breaker, False, probe, SETTINGS) == (
        Breaker("paused", NOW, probe + timedelta(minutes=5)),
        None,
    )


def test_a_success_closes_the_breaker() -> None:
    assert after_attempt(Breaker("paused", NOW, NOW), True, NOW, SETTINGS) == (Breaker("active"), "resumed")
    assert after_attempt(Breaker("active", NOW), True, NOW, SETTINGS) == (Breaker("active"), None)


def test_documented_schedule_is_the_schedule() -> None:
    """docs/webhooks.md's table of waits is what backoff computes (jitter aside)."""
    table = re.findall(r"^\| (\d+) \| ([\d.]+ ?\w+) \|", DOCS.read_text(), re.MULTILINE)
    assert len(table) >= 13
    exact = WebhookSettings(jitter=0.0)
    units = {"s": 1, "min": 60, "h": 3600}
    for number, wait in table:
        value, unit = re.fullmatch(r"([\d.]+) ?(\w+)", wait).groups()
        assert backoff(int(number), "d", exact) == pytest.approx(float(value) * units[unit], rel=0.01), number
