"""schedule.next_poll as a pure function: one test per rule, exact times.

Jitter is set to 0 except in the tests about jitter itself.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from ingestd import schedule
from ingestd.errors import HTTPStatusError
from ingestd.models import FeedState
from ingestd.schedule import PollOutcome, ScheduleSettings, next_poll

NOW = datetime(2020, 1, 9, 0, 0, tzinfo=UTC)
EXACT = ScheduleSettings(jitter=0.0)
OK = PollOutcome(status=200)
HTTP_NOW = "Thu, 09 Jan 2020 00:00:00 GMT"


def feed(interval: float = 300.0, error_count: int = 0, id: str = "f") -> FeedState:
    return FeedState(
        id=id,
        url="https://feeds.example/rss",
        source=None,
        interval=interval,
        fetch_article=False,
        origin="config",
        state="ok",
        error_count=error_count,
    )


def after(seconds: float) -> datetime:
    return NOW + timedelta(seconds=seconds)


def failure(status: int | None = 500, **headers: str) -> PollOutcome:
    return PollOutcome(
        status=status, error="boom", headers={k.replace("_", "-"): v for k, v in headers.items()}
    )


class TestInterval:
    def test_nominal_interval(self):
        """A healthy feed with no hints is polled after its interval."""
        assert next_poll(feed(300), OK, NOW, EXACT) == after(300)

    def test_not_modified_counts_as_success(self):
        """A 304 schedules like a 200."""
        assert next_poll(feed(300), PollOutcome(status=304), NOW, EXACT) == after(300)

    def test_raised_to_min_interval(self):
        """An interval under min_interval is raised to it (default 1 min)."""
        assert next_poll(feed(10), OK, NOW, EXACT) == after(60)

    def test_min_interval_can_go_down_to_one_second(self):
        """Tests may set min_interval to 1 s."""
        settings = ScheduleSettings(min_interval=1, jitter=0.0)
        assert next_poll(feed(2), OK, NOW, settings) == after(2)

    def test_cut_to_max_interval(self):
        """An interval over max_interval is cut to it (default 24 h)."""
        assert next_poll(feed(3 * 86400), OK, NOW, EXACT) == after(86400)

    @pytest.mark.parametrize(
        "settings", [dict(min_interval=0.5), dict(min_interval=600, max_interval=60), dict(jitter=0.2)]
    )
    def test_bad_settings_are_refused(self, settings):
        """min_interval under 1 s, max under min, or jitter over 10% is a ValueError."""
        with pytest.raises(ValueError):
            ScheduleSettings(**settings)


class TestServerHints:
    def test_cache_control_max_age_is_a_lower_bound(self):
        """max-age longer than the interval pushes the poll out."""
        outcome = PollOutcome(status=200, headers={"cache-control": "public, max-age=900"})
        assert next_poll(feed(300), outcome, NOW, EXACT) == after(900)

    def test_age_is_taken_off_max_age(self):
        """A cached response's Age shortens what is left of max-age."""
        outcome = PollOutcome(status=200, headers={"cache-control": "max-age=900", "age": "200"})
        assert next_poll(feed(300), outcome, NOW, EXACT) == after(700)

    def test_short_max_age_does_not_shorten_the_interval(self):
        """Hints only raise: max-age under the interval changes nothing."""
        outcome = PollOutcome(status=200, headers={"cache-control": "max-age=60"})
        assert next_poll(feed(300), outcome, NOW, EXACT) == after(300)

    def test_no_cache_gives_no_hint(self):
        """no-cache / no-store mean no freshness hint, even beside an Expires."""
        outcome = PollOutcome(
            status=200, headers={"cache-control": "no-cache", "expires": "Thu, 09 Jan 2020 02:00:00 GMT"}
        )
        assert next_poll(feed(300), outcome, NOW, EXACT) == after(300)

    def test_expires_is_read_against_the_servers_date(self):
        """Expires minus the server's Date (not our clock) is a lower bound."""
        outcome = PollOutcome(
            status=200,
            headers={
                "date": "Wed, 08 Jan 2020 23:00:00 GMT",  # server clock an hour behind ours
                "expires": "Thu, 09 Jan 2020 00:00:00 GMT",
            },
        )
        assert next_poll(feed(300), outcome, NOW, EXACT) == after(3600)

    def test_max_age_beats_expires(self):
        """With both, max-age wins (RFC 9111)."""
        outcome = PollOutcome(
            status=200,
            headers={
                "cache-control": "max-age=600",
                "date": HTTP_NOW,
                "expires": "Thu, 09 Jan 2020 05:00:00 GMT",
            },
        )
        assert next_poll(feed(300), outcome, NOW, EXACT) == after(600)

    def test_rss_ttl_is_a_lower_bound(self):
        """<ttl>60</ttl> keeps a 5-minute feed away for an hour."""
        assert next_poll(feed(300), PollOutcome(status=200, ttl_minutes=60), NOW, EXACT) == after(3600)

    def test_sy_update_period_and_frequency(self):
        """sy:updatePeriod hourly, sy:updateFrequency 2 -> at least 30 min."""
        outcome = PollOutcome(status=200, update_period="hourly", update_frequency=2)
        assert next_poll(feed(300), outcome, NOW, EXACT) == after(1800)

    def test_hints_are_capped_by_max_interval(self):
        """A max-age of a week still polls within max_interval."""
        outcome = PollOutcome(status=200, headers={"cache-control": "max-age=604800"})
        assert next_poll(feed(300), outcome, NOW, EXACT) == after(86400)

    def test_largest_hint_wins(self):
        """Of several hints the longest counts."""
        outcome = PollOutcome(
            status=200,
            ttl_minutes=30,
            update_period="daily",
            update_frequency=4,
            headers={"cache-control": "max-age=900"},
        )
        assert next_poll(feed(300), outcome, NOW, EXACT) == after(6 * 3600)


class TestRetryAfter:
    def test_retry_after_seconds_on_429(self):
        """Retry-After in seconds on a 429 pushes the poll past the error backoff."""
        assert next_poll(feed(300), failure(429, retry_after="7200"), NOW, EXACT) == after(7200)

    def test_retry_after_http_date_on_503(self):
        """Retry-After as an HTTP date is read against the server's Date."""
        outcome = failure(503, retry_after="Thu, 09 Jan 2020 03:00:00 GMT", date=HTTP_NOW)
        assert next_poll(feed(300), outcome, NOW, EXACT) == after(3 * 3600)

    def test_retry_after_is_never_shortened_by_jitter(self):
        """Whatever the jitter, the poll never comes before Retry-After."""
        for i in range(50):
            when = next_poll(feed(300, id=f"f{i}"), failure(429, retry_after="7200"), NOW)
            assert when >= after(7200)

    def test_retry_after_is_capped_at_24_hours(self):
        """A Retry-After of a week waits 24 h."""
        assert next_poll(feed(300), failure(503, retry_after="604800"), NOW, EXACT) == after(86400)

    def test_short_retry_after_does_not_undercut_backoff(self):
        """Retry-After is a floor: a longer error backoff stands."""
        assert next_poll(feed(300, 1), failure(429, retry_after="5"), NOW, EXACT) == after(600)

    def test_retry_after_only_counts_on_429_and_503(self):
        """A 500's Retry-After is ignored; the backoff applies."""
        assert next_poll(feed(300, 1), failure(500, retry_after="7200"), NOW, EXACT) == after(600)

    def test_failed_reads_status_and_retry_after_from_the_exception(self):
        """PollOutcome.failed(HTTPStatusError) carries both to next_poll."""
        outcome = PollOutcome.failed(HTTPStatusError("HTTP 429", 429, retry_after="900"))
        assert (outcome.status, outcome.error) == (429, "HTTP 429")
        assert next_poll(feed(300), outcome, NOW, EXACT) == after(900)


class TestErrorBackoff:
    @pytest.mark.parametrize("errors, seconds", [(1, 600), (2, 1200), (4, 4800)])
    def test_backoff_doubles_per_consecutive_error(self, errors, seconds):
        """The n-th error in a row (error_count n, this one counted) waits interval * 2**n."""
        assert next_poll(feed(300, errors), failure(), NOW, EXACT) == after(seconds)

    def test_backoff_is_capped_at_six_hours(self):
        """However many errors, the wait stops growing at backoff_cap."""
        assert next_poll(feed(300, 40), failure(None), NOW, EXACT) == after(6 * 3600)

    def test_backoff_never_polls_faster_than_the_interval(self):
        """A daily feed that fails is not retried sooner than daily."""
        assert next_poll(feed(86400, 2), failure(), NOW, EXACT) == after(86400)

    def test_success_resets_the_backoff(self):
        """After errors, a success goes straight back to the interval."""
        assert next_poll(feed(300, 7), OK, NOW, EXACT) == after(300)

    def test_server_hints_do_not_apply_to_failures(self):
        """A failed response's Cache-Control says nothing about the feed."""
        outcome = failure(500, cache_control="max-age=86400")
        assert next_poll(feed(300, 1), outcome, NOW, EXACT) == after(600)


def every(step: timedelta, count: int, start: datetime = NOW) -> list[datetime]:
    return [start - step * (i + 1) for i in range(count)]


class TestAdaptive:
    def test_busy_feed_moves_toward_min_interval(self):
        """Entries every 2 min: a 5-min feed polls at sqrt(300 * 120) s."""
        outcome = PollOutcome(status=200, published=every(timedelta(minutes=2), 10))
        assert next_poll(feed(300), outcome, NOW, EXACT) == after(math.sqrt(300 * 120))

    def test_weekly_blog_moves_toward_max_interval(self):
        """Weekly entries: an hourly feed polls at sqrt(3600 * 604800) s (~13 h)."""
        outcome = PollOutcome(status=200, published=every(timedelta(weeks=1), 4))
        assert next_poll(feed(3600), outcome, NOW, EXACT) == after(math.sqrt(3600 * 604800))

    def test_a_feed_gone_quiet_slows_down(self):
        """Hourly entries that stopped 30 days ago count the silence too."""
        start = NOW - timedelta(days=30)
        outcome = PollOutcome(status=200, published=every(timedelta(hours=1), 20, start))
        gap = (30 * 86400 + 20 * 3600) / 20
        assert next_poll(feed(300), outcome, NOW, EXACT) == after(math.sqrt(300 * gap))

    def test_adaptive_stays_within_bounds(self):
        """Entries every few seconds still poll no faster than min_interval."""
        outcome = PollOutcome(status=200, published=every(timedelta(seconds=5), 20))
        assert next_poll(feed(60), outcome, NOW, EXACT) == after(60)

    def test_too_few_dated_entries_leave_the_interval(self):
        """Two entries (or future-dated ones) say nothing about a rate."""
        outcome = PollOutcome(
            status=200, published=every(timedelta(minutes=1), 2) + [NOW + timedelta(days=1)] * 5
        )
        assert next_poll(feed(300), outcome, NOW, EXACT) == after(300)

    def test_hints_still_bound_an_adapted_interval(self):
        """A busy feed with <ttl>30</ttl> still waits 30 min."""
        outcome = PollOutcome(status=200, ttl_minutes=30, published=every(timedelta(minutes=2), 10))
        assert next_poll(feed(300), outcome, NOW, EXACT) == after(1800)


class TestJitter:
    def test_jitter_is_within_ten_percent_and_spreads_feeds(self):
        """Default jitter stays within ±10% and gives different feeds different times."""
        times = {next_poll(feed(1000, id=f"feed-{i}"), OK, NOW) for i in range(200)}
        assert len(times) == 200
        assert min(times) >= after(900) and max(times) <= after(1100)
        assert min(times) < after(920) and max(times) > after(1080)  # it does spread

    def test_jitter_is_deterministic(self):
        """The same feed, outcome and time give the same answer."""
        assert next_poll(feed(1000), OK, NOW) == next_poll(feed(1000), OK, NOW)

    def test_jitter_never_undercuts_a_server_hint(self):
        """With max-age over the interval, jitter only lengthens the wait."""
        outcome = PollOutcome(status=200, headers={"cache-control": "max-age=900"})
        for i in range(100):
            assert next_poll(feed(300, id=f"f{i}"), outcome, NOW) >= after(900)

    def test_jitter_never_undercuts_min_interval(self):
        """A feed at min_interval is not polled sooner by jitter."""
        for i in range(100):
            assert next_poll(feed(60, id=f"f{i}"), OK, NOW) >= after(60)


class TestQuietThreshold:
    def test_pinned_value_wins(self) -> None:
        """A configured quiet_after is used as it is."""
        assert schedule.quiet_threshold([], 7200.0) == 7200.0

    def test_unknown_until_enough_dated_stories(self) -> None:
        """Four stories say too little about what is usual."""
        base = datetime(2026, 1, 1, tzinfo=UTC)
        assert schedule.quiet_threshold([base - timedelta(minutes=i) for i in range(4)], None) is None

    def test_eight_median_gaps_at_least_an_hour(self) -> None:
        """Every 30 min -> quiet after 4 h; every minute -> the 1 h floor."""
        base = datetime(2026, 1, 1, tzinfo=UTC)
        half_hourly = [base - timedelta(minutes=30 * i) for i in range(10)]
        assert schedule.quiet_threshold(half_hourly, None) == 4 * 3600
        minutely = [base - timedelta(minutes=i) for i in range(10)]
        assert schedule.quiet_threshold(minutely, None) == 3600
