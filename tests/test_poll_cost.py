"""What an unchanged poll writes: no more than it changed (cost per poll: docs/performance.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingestd import schedule
from ingestd.daemon import Daemon, Fetched, plan
from ingestd.models import FeedState
from tests.support.config import daemon_config

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
RECENT = tuple(NOW - timedelta(hours=h) for h in range(3))


def _plan(tmp_path: Path, fetched: Fetched, recent: tuple[datetime, ...] | None) -> dict[str, object]:
    config = daemon_config(tmp_path)
    feed = FeedState(
        id="news",
        url="https://example.com/feed",
        source=None,
        interval=300.0,
        fetch_article=False,
        origin="config",
        state="ok",
        etag='"v1"',
        recent_published=recent,
    )
    settings = Daemon(config).schedule_settings
    assert isinstance(settings, schedule.ScheduleSettings)
    return dict(plan(feed, fetched, list(recent or ()), NOW, config, settings).fields)


def test_a_304_leaves_the_recent_publish_times_as_they_are(tmp_path: Path) -> None:
    fields = _plan(tmp_path, Fetched(status=304), RECENT)
    assert "recent_published" not in fields
    assert fields["state"] == "ok" and fields["next_poll_at"] > NOW


def test_a_304_on_a_feed_without_them_stores_what_it_read(tmp_path: Path) -> None:
    fields = _plan(tmp_path, Fetched(status=304), None)
    assert fields["recent_published"] == "[]"


def test_a_claimed_feed_reads_its_recent_publish_times_as_they_were_written(tmp_path: Path) -> None:
    from ingestd.models import FeedConfig
    from ingestd.store import Store
    from ingestd.timeutil import from_iso

    store = Store(tmp_path / "x.db")
    store.sync_config_feeds([FeedConfig(id="news", url="https://example.com/feed")], NOW)
    written = ["2026-03-01T11:00:00Z", "2026-03-01T10:00:00+00:00", "2026-03-01T09:00:00", ""]
    with store.transaction():
        store.db.execute("UPDATE feeds SET recent_published = ?", [json.dumps(written)])
    (feed,) = store.claim_due(NOW, 10, owner="o")
    assert feed.recent_published == tuple(t for t in map(from_iso, written) if t is not None)
    assert all(t.tzinfo is not None for t in feed.recent_published)
    store.close()
