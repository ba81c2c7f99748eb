"""What an unchanged poll writes: no more than it changed (cost per poll: docs/performance.md)."""

from __future__ import annotations

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
