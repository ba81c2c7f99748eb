"""A feed a reload sets aside stays removed when a poll that was running writes its state."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from ingestd.models import FeedUpdate
from ingestd.store import Store
from ingestd.timeutil import utcnow
from tests.support import daemon_config


def test_a_poll_finishing_after_the_removal_does_not_bring_its_feed_back(tmp_path: Path) -> None:
    config = daemon_config(tmp_path, feeds=[("a", "https://example.org/a.xml")])
    store = Store(config.storage.path)
    store.sync_config_feeds(config.feeds, utcnow())
    [claimed] = store.claim_due(utcnow(), 1, owner="me", lease=timedelta(minutes=1))
    store.sync_config_feeds([], utcnow())  # the reload: "a" is no longer in the file
    store.apply([FeedUpdate.of("a", {"state": "ok", "error_count": 0, "last_poll_at": utcnow()}, "me")])
    feed = store.get_feed("a")
    assert feed.state == "removed"
    assert feed.last_poll_at is not None  # the rest of the poll's write stands, its lease ended
    assert store.db.execute("SELECT lease_owner FROM feeds WHERE id = 'a'").fetchone() == (None,)
    assert claimed.id == "a" and store.claim_due(utcnow(), 1, owner="me", lease=timedelta(minutes=1)) == []
