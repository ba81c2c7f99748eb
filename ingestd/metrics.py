"""Prometheus metrics, every name prefixed `ingestd_`.

Counters and the fetch histogram are counted by the daemon as it works
(`observe_poll`, `observe_stored`, …); gauges that describe the database (feeds
by state, the outbox) are read from the store at scrape time and handed to
`render`. Each `Metrics` has its own registry, so tests can build several.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from .models import StoredChange
from .parse import fallback_counts
from .store._reads import StoreGauges

__all__ = ["Metrics", "CONTENT_TYPE"]

CONTENT_TYPE = CONTENT_TYPE_LATEST
FETCH_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0)
# shown at 0 before anything happened, so dashboards and alerts see the series
POLL_RESULTS = ("ok", "not_modified", "error")
STORED_CHANGES = ("created", "updated")
DEDUPE_KINDS = ("guid", "url", "content", "cluster")
DELIVERY_RESULTS = ("delivered", "retry", "failed")
FEED_STATES = ("ok", "erroring", "parked", "removed")


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._polls = Counter(
            "ingestd_polls", "Polls by result: ok, not_modified, error.", ["result"], registry=self.registry
        )
        self._fetch_seconds = Histogram(
            "ingestd_fetch_duration_seconds",
            "Time from request to last byte of a feed fetch.",
            buckets=FETCH_BUCKETS,
            registry=self.registry,
        )
        self._fetched_bytes = Counter(
            "ingestd_fetched_bytes", "Bytes of feed bodies read.", registry=self.registry
        )
        self._stored = Counter(
            "ingestd_stories_stored",
            "Story versions stored, by change: created, updated.",
            ["change"],
            registry=self.registry,
        )
        self._dedupe_hits = Counter(
            "ingestd_dedupe_hits",
            "Incoming stories recognised as already stored, by what "
            "recognised them: guid, url, content, cluster.",
            ["kind"],
            registry=self.registry,
        )
        self._deliveries = Counter(
            "ingestd_webhook_deliveries",
            "Webhook delivery attempts by result: delivered, retry, failed.",
            ["result"],
            registry=self.registry,
        )
        ProcessCollector(namespace="ingestd", registry=self.registry)
        for counter, values in (
            (self._polls, POLL_RESULTS),
            (self._stored, STORED_CHANGES),
            (self._dedupe_hits, DEDUPE_KINDS),
            (self._deliveries, DELIVERY_RESULTS),
        ):
            for value in values:
                counter.labels(value)
        # each poll's counter looked up once here: labels() validates and locks per call
        self._poll_results = {result: self._polls.labels(result) for result in POLL_RESULTS}

    def observe_poll(
        self, *, status: int | None, error: str | None, fetch_seconds: float | None, fetched_bytes: int
    ) -> None:
        """One finished poll. `fetch_seconds` is None when nothing was fetched over HTTP."""
        result = "error" if error else "not_modified" if status == 304 else "ok"
        self._poll_results[result].inc()
        if fetch_seconds is not None:
            self._fetch_seconds.observe(fetch_seconds)
        self._fetched_bytes.inc(fetched_bytes)

    def observe_stored(self, changes: Iterable[StoredChange]) -> None:
        for change in changes:
            if change.kind in STORED_CHANGES:
                self._stored.labels(change.kind).inc()

    def observe_dedupe_hit(self, kind: str) -> None:
        self._dedupe_hits.labels(kind).inc()

    def observe_delivery(self, result: str) -> None:
        self._deliveries.labels(result).inc()

    def render(self, gauges: StoreGauges, now: datetime) -> bytes:
        """The text exposition: everything counted, plus the gauges read for this scrape."""
        return generate_latest(_Scrape(self.registry, gauges, now))


class _Scrape:
    """A one-off collector: the registry's metrics and this scrape's store gauges."""

    def __init__(self, registry: CollectorRegistry, gauges: StoreGauges, now: datetime):
        self.registry, self.gauges, self.now = registry, gauges, now

    def collect(self) -> Iterator[Metric]:
        for metric in self.registry.collect():
            # `_created` timestamps would read like counts ("stories_stored_created")
            metric.samples = [s for s in metric.samples if not s.name.endswith("_created")]
            yield metric
        feeds = GaugeMetricFamily("ingestd_feeds", "Feeds by state.", labels=["state"])
        counts = {state: 0 for state in FEED_STATES} | self.gauges.feeds_by_state
        for state, count in sorted(counts.items()):
            feeds.add_metric([state], count)
        yield feeds
        # counted by the parser for the whole process (parse is pure; it runs on any worker)
        fallbacks = CounterMetricFamily(
            "ingestd_parse_fallback",
            "XML feeds the lxml fast path handed to feedparser, by reason.",
            labels=["reason"],
        )
        for reason, count in fallback_counts().items():
            fallbacks.add_metric([reason], count)
        yield fallbacks
        yield GaugeMetricFamily(
            "ingestd_feeds_quiet",
            "Feeds with no new story for longer than expected.",
            value=self.gauges.feeds_quiet,
        )
        yield GaugeMetricFamily(
            "ingestd_outbox_backlog", "Webhook deliveries still owed.", value=self.gauges.outbox_backlog
        )
        oldest = self.gauges.outbox_oldest_at
        age = max(0.0, (self.now - oldest).total_seconds()) if oldest else 0.0
        yield GaugeMetricFamily(
            "ingestd_outbox_oldest_age_seconds",
            "Age of the oldest undelivered event; 0 when none is owed.",
            value=age,
        )
        erroring = GaugeMetricFamily(
            "ingestd_feed_erroring", "1 while the feed's last poll failed, else 0.", labels=["feed"]
        )
        success = GaugeMetricFamily(
            "ingestd_feed_last_success_timestamp_seconds",
            "Unix time of the feed's last successful poll; absent until it has one.",
            labels=["feed"],
        )
        for feed_id, (state, last_success) in sorted(self.gauges.feeds_status.items()):
            erroring.add_metric([feed_id], 1 if state == "erroring" else 0)
            if last_success is not None:
                success.add_metric([feed_id], last_success.timestamp())
        yield erroring
        yield success
