"""A poll cycle through the real pipeline, HTTP faked with respx."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from datetime import UTC
from pathlib import Path

import httpx
import pytest
import respx
from structlog.testing import capture_logs

from ingestd.daemon import Daemon
from ingestd.timeutil import utcnow
from tests.support import daemon_config, rss
from tests.support.daemon import FEED_URL, config_for, poll, poll_lines


@respx.mock
async def _poll_cycle(tmp_path: Path) -> None:
    route = respx.get(FEED_URL)
    route.side_effect = [
        httpx.Response(200, content=rss(("a", "Alpha"), ("b", "Beta")), headers={"ETag": '"v1"'}),
        httpx.Response(304),
        httpx.Response(
            200, content=rss(("a", "Alpha"), ("b", "Beta"), ("c", "Gamma")), headers={"ETag": '"v2"'}
        ),
    ]
    async with Daemon(config_for(tmp_path, ("news", FEED_URL))).open() as daemon:
        with capture_logs() as logs:
            await poll(daemon, "news")
            await poll(daemon, "news")
            await poll(daemon, "news")
        store = daemon.writer.store
        assert route.calls[1].request.headers["If-None-Match"] == '"v1"'
        assert route.calls[2].request.headers["If-None-Match"] == '"v1"'
        lines = poll_lines(logs)
        assert [(l["status"], l["new"], l["unchanged"]) for l in lines] == [
            (200, 2, 0),
            (304, 0, 0),
            (200, 1, 2),
        ]
        for line in lines:
            assert line["feed_id"] == "news" and line["url"] == FEED_URL
            assert line["error"] is None and line["duration_ms"] >= 0 and "bytes" in line
        assert store.count("stories") == 3
        assert store.count("events") == 3
        feed = store.get_feed("news")
        assert feed.etag == '"v2"' and feed.state == "ok" and feed.error_count == 0
        scrape = daemon.metrics.render(store.service_gauges(), feed.last_poll_at).decode()
        assert 'ingestd_dedupe_hits_total{kind="guid"} 2.0' in scrape
        assert 'ingestd_polls_total{result="not_modified"} 1.0' in scrape
        assert 'ingestd_polls_total{result="ok"} 2.0' in scrape


def test_poll_cycle_200_304_200_stores_exactly_one_new_story(tmp_path: Path) -> None:
    asyncio.run(_poll_cycle(tmp_path))


def _refused_url() -> str:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"https://127.0.0.1:{port}/feed.xml"


@pytest.mark.parametrize(
    "response,reason",
    [
        (httpx.Response(500), "500"),
        (
            httpx.Response(
                200,
                content=b"<!doctype html><html><body>Not a feed</body></html>",
                headers={"Content-Type": "text/html"},
            ),
            "an HTML page, not a feed",
        ),
        (httpx.Response(200, content=b""), "empty body"),
        (
            httpx.Response(200, content=b"<?xml version='1.0'?><rss version='2.0'><chan"),
            "not a readable feed",
        ),
    ],
)
def test_bad_feed_is_recorded_and_others_go_on(tmp_path: Path, response: httpx.Response, reason: str) -> None:
    bad_url = "https://bad.example.org/feed.xml"

    async def scenario() -> None:
        with respx.mock:
            respx.get(bad_url).mock(return_value=response)
            respx.get(FEED_URL).mock(return_value=httpx.Response(200, content=rss(("a", "A"))))
            config = config_for(tmp_path, ("bad", bad_url), ("good", FEED_URL))
            async with Daemon(config).open() as daemon:
                with capture_logs() as logs:
                    await poll(daemon, "bad")
                    await poll(daemon, "good")
                    await poll(daemon, "bad")
                store = daemon.writer.store
                bad, good = store.get_feed("bad"), store.get_feed("good")
                assert bad.state == "erroring" and bad.error_count == 2
                assert reason in bad.last_error
                assert good.state == "ok" and store.count("stories") == 1
                failed = [l for l in poll_lines(logs) if l["feed_id"] == "bad"]
                assert all(reason in l["error"] and l["log_level"] == "warning" for l in failed)
                # backed off, but still on the schedule
                assert bad.next_poll_at is not None and good.next_poll_at is not None

    asyncio.run(scenario())


def test_refused_connection_is_a_transport_error(tmp_path: Path) -> None:
    url = _refused_url()

    async def scenario() -> None:
        config = config_for(tmp_path, ("down", url))
        config = replace(config, fetch=replace(config.fetch, allow_private=["127.0.0.1"]))
        async with Daemon(config).open() as daemon:
            with capture_logs() as logs:
                await poll(daemon, "down")
            feed = daemon.writer.store.get_feed("down")
            assert feed.state == "erroring" and feed.error_count == 1
            assert "refused" in feed.last_error.lower()
            assert "refused" in poll_lines(logs)[0]["error"].lower()

    asyncio.run(scenario())


def test_gone_parks_the_feed_and_resume_brings_it_back(tmp_path: Path) -> None:
    async def scenario() -> None:
        with respx.mock:
            respx.get(FEED_URL).mock(return_value=httpx.Response(410))
            async with Daemon(config_for(tmp_path, ("gone", FEED_URL))).open() as daemon:
                await poll(daemon, "gone")
                store = daemon.writer.store
                assert store.get_feed("gone").state == "parked"
                assert store.claim_due(store.get_feed("gone").next_poll_at, 10, all_feeds=True) == []
                from datetime import datetime

                assert store.resume_feed("gone", datetime.now(UTC))
                assert store.get_feed("gone").state == "ok"

    asyncio.run(scenario())


def test_permanent_redirect_is_adopted_after_three_consecutive_polls(tmp_path: Path) -> None:
    new_url = "https://new.example.org/news.xml"

    async def scenario() -> None:
        with respx.mock:
            respx.get(FEED_URL).mock(return_value=httpx.Response(301, headers={"Location": new_url}))
            respx.get(new_url).mock(return_value=httpx.Response(200, content=rss(("a", "A"))))
            async with Daemon(config_for(tmp_path, ("moved", FEED_URL))).open() as daemon:
                store = daemon.writer.store
                with capture_logs() as logs:
                    for expected_count in (1, 2):
                        await poll(daemon, "moved")
                        feed = store.get_feed("moved")
                        assert (feed.url, feed.redirect_count) == (FEED_URL, expected_count)
                    await poll(daemon, "moved")
                assert store.get_feed("moved").url == new_url
                assert any(l["event"] == "permanent redirect adopted" for l in logs)
                # the operator's config still wins on the next start
                store.sync_config_feeds(daemon.config.feeds, store.get_feed("moved").last_poll_at)
                assert store.get_feed("moved").url == new_url

    asyncio.run(scenario())


def test_temporary_redirect_never_changes_the_url(tmp_path: Path) -> None:
    async def scenario() -> None:
        with respx.mock:
            respx.get(FEED_URL).mock(
                return_value=httpx.Response(302, headers={"Location": "https://elsewhere.example.org/x.xml"})
            )
            respx.get("https://elsewhere.example.org/x.xml").mock(
                return_value=httpx.Response(200, content=rss(("a", "A")))
            )
            async with Daemon(config_for(tmp_path, ("temp", FEED_URL))).open() as daemon:
                for _ in range(4):
                    await poll(daemon, "temp")
                feed = daemon.writer.store.get_feed("temp")
                assert (feed.url, feed.redirect_count) == (FEED_URL, 0)

    asyncio.run(scenario())


def test_retry_after_on_503_is_never_shortened(tmp_path: Path) -> None:
    async def scenario() -> None:
        with respx.mock:
            respx.get(FEED_URL).mock(return_value=httpx.Response(503, headers={"Retry-After": "7200"}))
            async with Daemon(config_for(tmp_path, ("busy", FEED_URL))).open() as daemon:
                await poll(daemon, "busy")
                feed = daemon.writer.store.get_feed("busy")
                wait = (feed.next_poll_at - feed.last_poll_at).total_seconds()
                assert feed.state == "erroring" and wait >= 7200

    asyncio.run(scenario())


def test_a_304_keeps_adapting_from_what_the_feed_published_before(tmp_path: Path) -> None:
    """A feed posting every minute moves toward min_interval, and a 304 does not undo that."""
    from datetime import datetime, timedelta

    now = datetime.now(UTC)
    items = "".join(
        f"<item><guid>{i}</guid><title>Story {i}</title><description>Body {i} of a busy feed."
        f"</description><pubDate>{(now - timedelta(minutes=i)).strftime('%a, %d %b %Y %H:%M:%S +0000')}"
        f"</pubDate></item>"
        for i in range(10)
    )
    body = f'<rss version="2.0"><channel><title>Busy</title>{items}</channel></rss>'.encode()

    async def scenario() -> None:
        with respx.mock:
            respx.get(FEED_URL).mock(side_effect=[httpx.Response(200, content=body), httpx.Response(304)])
            async with Daemon(config_for(tmp_path, ("busy", FEED_URL))).open() as daemon:
                for _ in range(2):
                    await poll(daemon, "busy")
                    feed = daemon.writer.store.get_feed("busy")
                    wait = (feed.next_poll_at - feed.last_poll_at).total_seconds()
                    assert wait < 300 * 0.9, wait  # below the nominal 5 min

    asyncio.run(scenario())


ARTICLE = b"""<!doctype html><html><head><title>Alpha in full | Example News</title>
<meta property="og:title" content="Alpha in full"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Alpha in full</h1>
<p>SEOUL, Jan. 9 (Yonhap) -- The full article text is much longer than the feed summary and
says everything the newsroom needs to know about Alpha.</p>
<p>A second paragraph gives the background and the reaction from officials in Seoul.</p>
</article><footer>Copyright Example News</footer></body></html>"""


def test_fetch_article_normalizes_the_page_instead_of_the_summary(tmp_path: Path) -> None:
    async def scenario() -> None:
        with respx.mock:
            respx.get(FEED_URL).mock(
                side_effect=[
                    httpx.Response(200, content=rss(("a", "Alpha"), ("b", "Beta"))),
                    httpx.Response(200, content=rss(("a", "Alpha"), ("c", "Gamma"))),
                ]
            )
            third = respx.get("https://example.org/c").mock(
                return_value=httpx.Response(
                    200, content=ARTICLE.replace(b"Alpha", b"Gamma"), headers={"Content-Type": "text/html"}
                )
            )
            page = respx.get("https://example.org/a").mock(
                return_value=httpx.Response(
                    200, content=ARTICLE, headers={"Content-Type": "text/html; charset=utf-8"}
                )
            )
            respx.get("https://example.org/b").mock(return_value=httpx.Response(500))
            config = config_for(tmp_path, ("news", FEED_URL))
            config.feeds[0] = type(config.feeds[0])(**{**config.feeds[0].__dict__, "fetch_article": True})
            async with Daemon(config).open() as daemon:
                with capture_logs() as logs:
                    await poll(daemon, "news")
                store = daemon.writer.store
                bodies = {
                    r["url"]: r["body_text"] for r in store.db.query("SELECT url, body_text FROM stories")
                }
                assert "full article text" in bodies["https://example.org/a"]
                assert "Body of Beta" in bodies["https://example.org/b"]  # the page failed
                assert [l["article_url"] for l in logs if l["event"] == "article not used"] == [
                    "https://example.org/b"
                ]
                with capture_logs() as logs:
                    await poll(daemon, "news")  # a's page is not fetched again; c's is
                assert (page.call_count, third.call_count) == (1, 1)
                assert [(l["new"], l["updated"]) for l in poll_lines(logs)] == [(1, 0)]
                assert store.count("story_versions") == 3

    asyncio.run(scenario())


def test_a_feed_gone_quiet_is_logged_shown_and_counted(tmp_path: Path) -> None:
    from datetime import datetime, timedelta

    from ingestd.metrics import Metrics

    now = datetime.now(UTC)

    def feed(*ages_minutes: int) -> bytes:
        items = "".join(
            f"<item><guid>{age}</guid><title>Story {age}</title><description>Body {age} of a "
            f"feed.</description><pubDate>"
            f"{(now - timedelta(minutes=age)).strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
            f"</item>"
            for age in ages_minutes
        )
        return f'<rss version="2.0"><channel><title>F</title>{items}</channel></rss>'.encode()

    quiet_for_a_day = feed(*(1440 + 10 * i for i in range(6)))  # every 10 min, until a day ago
    back = feed(0, *(1440 + 10 * i for i in range(6)))

    async def scenario() -> None:
        with respx.mock:
            respx.get(FEED_URL).mock(
                side_effect=[httpx.Response(200, content=quiet_for_a_day), httpx.Response(200, content=back)]
            )
            async with Daemon(config_for(tmp_path, ("f", FEED_URL))).open() as daemon:
                store = daemon.writer.store
                with capture_logs() as logs:
                    await poll(daemon, "f")
                assert [l["event"] for l in logs if "source" in l["event"]] == ["source quiet"]
                assert store.get_feed("f").quiet_since is not None
                [row] = store.feeds_overview()
                assert row["quiet_since"] is not None
                scrape = Metrics().render(store.service_gauges(), now).decode()
                assert "ingestd_feeds_quiet 1.0" in scrape
                with capture_logs() as logs:
                    await poll(daemon, "f")
                assert [l["event"] for l in logs if "source" in l["event"]] == ["source active again"]
                assert store.get_feed("f").quiet_since is None

    asyncio.run(scenario())


def test_retention_purges_old_stories_and_they_do_not_come_back(tmp_path: Path) -> None:
    async def scenario() -> None:
        with respx.mock:
            respx.get(FEED_URL).mock(
                side_effect=[
                    httpx.Response(200, content=rss(("a", "Alpha"))),
                    httpx.Response(200, content=rss(("a", "Alpha"), ("b", "Beta"))),
                ]
            )
            config = config_for(tmp_path, ("news", FEED_URL))
            async with Daemon(config).open() as daemon:
                store = daemon.writer.store
                await poll(daemon, "news")
                daemon.config = replace(config, storage=replace(config.storage, retention=0.0))  # all is old
                await asyncio.sleep(1.1)  # stored times have whole seconds
                with capture_logs() as logs:
                    await daemon.retention()
                assert store.count("stories") == 0
                assert [l["stories_purged"] for l in logs if l["event"] == "retention"] == [1]
                daemon.config = config
                with capture_logs() as logs:
                    await poll(daemon, "news")  # still lists "a": a tombstone, not a new story
                assert [(l["new"]) for l in poll_lines(logs)] == [1]
                assert [r["headline"] for r in store.db.query("SELECT headline FROM stories")] == ["Beta"]

    asyncio.run(scenario())


def test_a_file_feed_is_read_under_the_configured_body_cap(tmp_path: Path) -> None:
    """A config-declared file feed obeys [fetch] max_body as a fetched one does."""
    big = tmp_path / "big.xml"
    big.write_bytes(rss(*((f"g{n}", "A headline long enough to count " * 4) for n in range(40))))
    assert big.stat().st_size > 2048

    async def scenario() -> None:
        config = daemon_config(
            tmp_path, feeds=[("big", big.as_uri())], extra='[fetch]\nmax_body = "2KB"\n', allow_private=False
        )
        async with Daemon(config).open() as daemon:
            await poll(daemon, "big")
            feed = daemon.writer.store.get_feed("big")
            assert feed.state == "erroring" and "limit" in (feed.last_error or ""), feed.last_error
            assert daemon.writer.store.count("stories") == 0

    asyncio.run(scenario())


def test_a_job_cancelled_by_shutdown_ends_without_an_error_line(caplog: pytest.LogCaptureFixture) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from ingestd.daemon import _ends_quietly_if_cancelled

    async def run() -> None:
        started = asyncio.Event()

        async def hangs() -> None:
            started.set()
            await asyncio.sleep(60)

        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(_ends_quietly_if_cancelled(hangs), "interval", seconds=60, next_run_time=utcnow())
        scheduler.start()
        await asyncio.wait_for(started.wait(), 5)
        scheduler.shutdown(wait=False)  # as the daemon's shutdown does: the running job is cancelled
        await asyncio.sleep(0.05)

    with caplog.at_level("DEBUG", logger="apscheduler"):
        asyncio.run(run())
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], caplog.text
    assert "hangs" in caplog.text  # the job ran, under its own name
