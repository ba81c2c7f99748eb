"""Prometheus metrics: names, what the daemon counts, and gauges read from the store."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ingestd.api import ServiceState, build_app
from ingestd.compose import save_poll, save_stories
from ingestd.metrics import DEDUPE_KINDS, DELIVERY_RESULTS, POLL_RESULTS, STORED_CHANGES, Metrics
from ingestd.models import FeedConfig, FeedUpdate, PollWrite
from ingestd.store import Store
from ingestd.store._reads import StoreGauges
from ingestd.timeutil import to_iso
from tests.support.stories import NOW, story

NO_GAUGES = StoreGauges({}, 0, None)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "ingestd.db")
    yield s
    s.close()


def samples(text: bytes | str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """{(sample name, sorted labels): value} from the text exposition."""
    text = text.decode() if isinstance(text, bytes) else text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(text: bytes | str, name: str, **labels: str) -> float:
    return samples(text)[(name, tuple(sorted(labels.items())))]


def test_every_name_is_prefixed_ingestd_and_none_is_a_created_timestamp() -> None:
    metrics = Metrics()
    metrics.observe_poll(status=200, error=None, fetch_seconds=0.2, fetched_bytes=10)
    metrics.observe_dedupe_hit("guid")
    metrics.observe_delivery("delivered")
    names = {name for name, _ in samples(metrics.render(NO_GAUGES, NOW))}
    assert all(name.startswith("ingestd_") for name in names), names
    assert not any(name.endswith("_created") for name in names)
    assert {
        "ingestd_polls_total",
        "ingestd_fetch_duration_seconds_bucket",
        "ingestd_fetched_bytes_total",
        "ingestd_stories_stored_total",
        "ingestd_dedupe_hits_total",
        "ingestd_webhook_deliveries_total",
        "ingestd_feeds",
        "ingestd_outbox_backlog",
        "ingestd_outbox_oldest_age_seconds",
    } <= names


def test_saved_stories_count_as_created_and_updated() -> None:
    metrics = Metrics()
    with_store = Store(":memory:")
    try:
        metrics.observe_stored(save_stories(with_store, [story(1), story(2), story(3)], NOW))
        metrics.observe_stored(
            save_stories(with_store, [story(1, headline="Retitled"), story(2)], NOW + timedelta(minutes=1))
        )
    finally:
        with_store.close()
    text = metrics.render(NO_GAUGES, NOW)
    assert value(text, "ingestd_stories_stored_total", change="created") == 3
    assert value(text, "ingestd_stories_stored_total", change="updated") == 1


def test_polls_by_result_fetch_durations_and_bytes() -> None:
    metrics = Metrics()
    metrics.observe_poll(status=200, error=None, fetch_seconds=0.3, fetched_bytes=1000)
    metrics.observe_poll(status=304, error=None, fetch_seconds=0.04, fetched_bytes=0)
    metrics.observe_poll(status=500, error="HTTP 500", fetch_seconds=None, fetched_bytes=0)
    metrics.observe_poll(status=200, error=None, fetch_seconds=None, fetched_bytes=500)
    text = metrics.render(NO_GAUGES, NOW)
    assert value(text, "ingestd_polls_total", result="ok") == 2
    assert value(text, "ingestd_polls_total", result="not_modified") == 1
    assert value(text, "ingestd_polls_total", result="error") == 1
    assert value(text, "ingestd_fetch_duration_seconds_count") == 2
    assert value(text, "ingestd_fetch_duration_seconds_bucket", le="0.05") == 1
    assert value(text, "ingestd_fetch_duration_seconds_sum") == pytest.approx(0.34)
    assert value(text, "ingestd_fetched_bytes_total") == 1500


def test_dedupe_hits_and_deliveries_by_label() -> None:
    metrics = Metrics()
    for kind in ("guid", "guid", "cluster"):
        metrics.observe_dedupe_hit(kind)
    metrics.observe_delivery("failed")
    text = metrics.render(NO_GAUGES, NOW)
    assert value(text, "ingestd_dedupe_hits_total", kind="guid") == 2
    assert value(text, "ingestd_dedupe_hits_total", kind="cluster") == 1
    assert value(text, "ingestd_webhook_deliveries_total", result="failed") == 1


def test_series_exist_at_zero_before_anything_happens() -> None:
    text = Metrics().render(NO_GAUGES, NOW)
    assert value(text, "ingestd_polls_total", result="error") == 0
    assert value(text, "ingestd_stories_stored_total", change="created") == 0
    assert value(text, "ingestd_feeds", state="parked") == 0


def test_each_metrics_has_its_own_registry() -> None:
    one, other = Metrics(), Metrics()
    one.observe_poll(status=200, error=None, fetch_seconds=None, fetched_bytes=7)
    assert value(one.render(NO_GAUGES, NOW), "ingestd_fetched_bytes_total") == 7
    assert value(other.render(NO_GAUGES, NOW), "ingestd_fetched_bytes_total") == 0


def test_feed_states_are_read_from_the_store(store: Store) -> None:
    store.sync_config_feeds([FeedConfig(id=f"f{n}", url=f"https://e.example/{n}") for n in range(4)], NOW)
    save_poll(
        store,
        PollWrite("f0", to_iso(NOW), 1, 410, 0, error="gone"),
        [],
        FeedUpdate.of("f0", {"state": "parked"}),
        NOW,
    )
    save_poll(
        store,
        PollWrite("f1", to_iso(NOW), 1, 500, 0, error="HTTP 500"),
        [],
        FeedUpdate.of("f1", {"state": "erroring"}),
        NOW,
    )
    text = Metrics().render(store.service_gauges(), NOW)
    assert value(text, "ingestd_feeds", state="ok") == 2
    assert value(text, "ingestd_feeds", state="parked") == 1
    assert value(text, "ingestd_feeds", state="erroring") == 1
    assert value(text, "ingestd_outbox_backlog") == 0
    assert value(text, "ingestd_outbox_oldest_age_seconds") == 0


def test_outbox_age_is_that_of_the_oldest_undelivered_event() -> None:
    gauges = StoreGauges({}, 12, NOW - timedelta(seconds=90))
    text = Metrics().render(gauges, NOW)
    assert value(text, "ingestd_outbox_backlog") == 12
    assert value(text, "ingestd_outbox_oldest_age_seconds") == 90


async def _scrape(store: Store, metrics: Metrics) -> httpx.Response:
    app = build_app(store.path, state=ServiceState(tick_interval=1.0), metrics=metrics, token="t")
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://ingestd"
        ) as client:
            return await client.get("/metrics")


def test_the_endpoint_shows_counters_and_store_gauges_without_a_token(store: Store) -> None:
    store.sync_config_feeds([FeedConfig(id="f", url="https://e.example/feed")], datetime.now(UTC))
    metrics = Metrics()
    metrics.observe_stored(save_stories(store, [story(1)], NOW))
    response = asyncio.run(_scrape(store, metrics))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert value(response.text, "ingestd_feeds", state="ok") == 1
    assert value(response.text, "ingestd_stories_stored_total", change="created") == 1
    assert value(response.text, "ingestd_process_cpu_seconds_total") > 0


def test_a_fresh_app_exports_every_family_the_code_defines_at_zero(store: Store) -> None:
    """Dashboards and alerts see each series from the first scrape, not after its first count."""
    metrics = Metrics()
    scraped = asyncio.run(_scrape(store, metrics)).text
    exported = {f.name: f for f in text_string_to_metric_families(scraped)}
    defined = [f for f in metrics.registry.collect() if not f.name.startswith("ingestd_process")]
    assert len(defined) >= 6
    for family in defined:
        assert exported.get(family.name) and exported[family.name].samples, f"{family.name} is not exported"
    for name, label, values in (
        ("ingestd_polls_total", "result", POLL_RESULTS),
        ("ingestd_stories_stored_total", "change", STORED_CHANGES),
        ("ingestd_dedupe_hits_total", "kind", DEDUPE_KINDS),
        ("ingestd_webhook_deliveries_total", "result", DELIVERY_RESULTS),
    ):
        for v in values:
            assert value(scraped, name, **{label: v}) == 0
    for name in ("ingestd_feeds_quiet", "ingestd_outbox_backlog", "ingestd_outbox_oldest_age_seconds"):
        assert value(scraped, name) == 0
    assert value(scraped, "ingestd_fetch_duration_seconds_count") == 0
