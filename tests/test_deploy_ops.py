"""deploy/: the Grafana dashboard and Prometheus alert rules use only metrics the daemon exports."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from ingestd.metrics import Metrics
from ingestd.models import FeedConfig
from ingestd.store import Store
from ingestd.store._reads import StoreGauges
from tests.support.stories import NOW

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
ALERTS = DEPLOY / "prometheus" / "ingestd-alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "ingestd-dashboard.json"
METRIC_NAME = re.compile(r"\bingestd_[a-zA-Z0-9_]+")
# every series a scrape can show: one feed erroring, one that has succeeded
GAUGES = StoreGauges(
    {"ok": 1, "erroring": 1},
    3,
    NOW - timedelta(minutes=20),
    1,
    {"a": ("ok", NOW - timedelta(minutes=5)), "b": ("erroring", NOW - timedelta(hours=2))},
)


def exported() -> dict[str, set[str]]:
    """{sample name: label names} of everything /metrics shows."""
    text = Metrics().render(GAUGES, NOW).decode()
    names: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            names.setdefault(sample.name, set()).update(sample.labels)
    return names


def alert_rules() -> dict[str, str]:
    groups = yaml.safe_load(ALERTS.read_text())["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def test_every_metric_the_artefacts_use_is_exported() -> None:
    names = exported()
    used = {m for expr in [*alert_rules().values(), *dashboard_exprs()] for m in METRIC_NAME.findall(expr)}
    assert used, "no ingestd_ metric found in deploy/"
    assert used - names.keys() == set()


def test_feed_series_carry_the_feed_label_the_rules_join_on() -> None:
    names = exported()
    for name in ("ingestd_feed_erroring", "ingestd_feed_last_success_timestamp_seconds"):
        assert names[name] == {"feed"}
    assert "on (instance, feed)" in alert_rules()["IngestdFeedErroring"]


def test_the_rules_cover_down_erroring_feeds_stuck_outbox_and_quiet_sources() -> None:
    rules = alert_rules()
    assert re.fullmatch(r'up\{job="ingestd"\} == 0', rules["IngestdDown"].strip())
    assert "> 3600" in rules["IngestdFeedErroring"]
    assert rules["IngestdOutboxStuck"].strip() == "ingestd_outbox_oldest_age_seconds > 900"
    assert "ingestd_feeds_quiet" in rules["IngestdQuietSource"]


def test_per_feed_gauges_follow_the_store() -> None:
    text = Metrics().render(GAUGES, NOW).decode()
    values = {
        (s.name, s.labels.get("feed")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert values[("ingestd_feed_erroring", "a")] == 0
    assert values[("ingestd_feed_erroring", "b")] == 1
    assert (
        values[("ingestd_feed_last_success_timestamp_seconds", "b")] == (NOW - timedelta(hours=2)).timestamp()
    )


def test_the_store_reports_each_feed_not_removed(tmp_path: Path) -> None:
    store = Store(tmp_path / "ingestd.db")
    try:
        store.sync_config_feeds([FeedConfig(id="f", url="https://e.example/feed")], datetime.now(UTC))
        assert store.service_gauges().feeds_status == {"f": ("ok", None)}
    finally:
        store.close()
