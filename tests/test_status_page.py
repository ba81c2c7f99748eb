"""The status page, `GET /`: rendered from the store, behind either token, and in a real
headless Chromium (Debian's `chromium`) showing a failing feed as failing."""

from __future__ import annotations

import asyncio
import contextlib
import html
import os
import re
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from ingestd.api import ServiceState, build_app
from ingestd.api._status import StatusView, render, sparkline
from ingestd.compose import save_stories
from ingestd.metrics import Metrics
from ingestd.models import FeedConfig, SubscriptionConfig
from ingestd.store import Store
from tests.support import free_port, local_feed, rss, wait_for
from tests.support.reliability import TOKEN, Daemon
from tests.support.webhooks import SECRET
from tests.support.webhooks import story as hook_story

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
CHROMIUM = shutil.which("chromium")
# .ci/run sets it once it has installed chromium: there the browser test may not skip
REQUIRED = os.environ.get("INGESTD_TEST_REQUIRE_CHROMIUM") == "1"


def feed(feed_id: str, state: str, **extra: str | None) -> dict[str, str | None]:
    return {
        "id": feed_id,
        "state": state,
        "last_success_at": None,
        "next_poll_at": None,
        "last_error": None,
        "quiet_since": None,
    } | extra


def test_a_failing_feed_is_marked_failing_and_its_error_escaped() -> None:
    view = StatusView(
        now=NOW,
        feeds=[
            feed("good", "ok", last_success_at="2026-11-30T11:59:00Z"),
            feed("dead", "erroring", last_error="<script>alert(1)</script> connection refused"),
            feed("hush", "ok", quiet_since="2026-11-29T00:00:00Z"),
        ],
        per_day={"good": {"2026-11-30": 4, "2026-11-29": 2}},
        subscriptions=[],
        oldest_undelivered={},
        outbox_backlog=3,
        outbox_oldest_at=NOW - timedelta(minutes=20),
    )
    page = render(view)
    [dead] = re.findall(r"<tr data-feed='dead'>.*?</tr>", page)
    assert "<td class=bad>erroring</td>" in dead
    assert "&lt;script&gt;" in dead and "<script>" not in page
    assert "1 failing" in page and "1 quiet: hush" in page
    assert "oldest undelivered 20m 0s" in page
    assert "<td class=ok>ok</td>" in re.findall(r"<tr data-feed='good'>.*?</tr>", page)[0]


def test_the_sparkline_scales_to_the_busiest_day() -> None:
    svg = sparkline([0, 2, 4], width=10, height=10)
    points = re.search(r'points="([^"]+)"', svg)
    assert points and points.group(1) == "0.0,8.0 5.0,5.0 10.0,2.0"
    assert "<title>6 stories, at most 4 a day</title>" in svg


def status(tmp_path: Path, **request: object) -> httpx.Response:
    store = Store(tmp_path / "ingestd.db")
    store.sync_config_feeds([FeedConfig(id="f", url="https://e.example/feed")], NOW)
    store.close()
    app = build_app(
        tmp_path / "ingestd.db",
        state=ServiceState(tick_interval=1.0),
        metrics=Metrics(),
        token="t",
        status_token="s",
    )

    async def go() -> httpx.Response:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ingestd") as client:
                return await client.request(**request)  # type: ignore[arg-type]

    return asyncio.run(go())


@pytest.mark.parametrize(
    "request_, code",
    [
        ({"method": "GET", "url": "/", "headers": {"Authorization": "Bearer s"}}, 200),
        ({"method": "GET", "url": "/", "headers": {"Authorization": "Bearer t"}}, 200),
        ({"method": "GET", "url": "/?token=s"}, 200),
        ({"method": "GET", "url": "/"}, 401),
        ({"method": "GET", "url": "/?token=wrong"}, 401),
        ({"method": "GET", "url": "/feeds", "headers": {"Authorization": "Bearer s"}}, 401),
        ({"method": "GET", "url": "/feeds?token=s"}, 401),
        # what the page links to opens in a browser with the API token, for reads only
        ({"method": "GET", "url": "/feeds?token=t"}, 200),
        ({"method": "POST", "url": "/feeds?token=t", "json": {"id": "x", "url": "https://x.example/"}}, 401),
    ],
)
def test_the_status_token_opens_the_page_and_nothing_else(
    tmp_path: Path, request_: dict[str, object], code: int
) -> None:
    response = status(tmp_path, **request_)
    assert response.status_code == code
    if code == 200 and str(request_["url"]).partition("?")[0] == "/":
        assert response.headers["content-type"].startswith("text/html")
        assert "<tr data-feed='f'>" in response.text


@pytest.mark.parametrize(
    "opened_with, carried",
    [("/?token=t", "?token=t"), ("/?token=s", None), ("/", None)],
)
def test_the_links_carry_the_token_only_where_it_opens_them(
    tmp_path: Path, opened_with: str, carried: str | None
) -> None:
    headers = {"Authorization": "Bearer t"} if opened_with == "/" else {}
    page = status(tmp_path, method="GET", url=opened_with, headers=headers)
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    links = re.findall(r"<a href='([^']+)'>", page.text)
    assert links and all(link.endswith(carried) if carried else "token" not in link for link in links)


def test_the_access_log_never_shows_a_token(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for url in ("/?token=t", "/feeds?token=t&x=1", "/stories?tok%65n=t"):
        status(tmp_path, method="GET", url=url)
    logged = capsys.readouterr()
    lines = [line for line in (logged.out + logged.err).splitlines() if "http request" in line]
    assert len(lines) == 3 and "token=-" in lines[1] and "x=1" in lines[1]
    assert not any(re.search(r"(token|tok%65n)=t\b", line) for line in lines)


def test_each_subscription_shows_its_oldest_undelivered_age(tmp_path: Path) -> None:
    store = Store(tmp_path / "ingestd.db")
    store.add_subscription(SubscriptionConfig("late", "https://hooks.example/late", (SECRET,)), "api", NOW)
    save_stories(store, [hook_story(1)], NOW - timedelta(hours=2, minutes=5))
    store.add_subscription(SubscriptionConfig("new", "https://hooks.example/new", (SECRET,)), "api", NOW)
    save_stories(store, [hook_story(2)], NOW - timedelta(minutes=3))
    store.add_subscription(SubscriptionConfig("idle", "https://hooks.example/idle", (SECRET,)), "api", NOW)
    oldest = store.oldest_undelivered()
    view = StatusView(
        now=NOW,
        feeds=[],
        per_day={},
        subscriptions=store.list_subscriptions(),
        oldest_undelivered=oldest,
        outbox_backlog=3,
        outbox_oldest_at=min(oldest.values()),
    )
    store.close()
    page = render(view)
    rows = {m[0]: m[1] for m in re.findall(r"<tr data-subscription='(\w+)'>(.*?)</tr>", page)}
    assert "<td>2h 5m</td>" in rows["late"] and "<td>3m 0s</td>" in rows["new"]
    assert "<td>-</td>" in rows["idle"]


def test_chromium_renders_the_page_and_shows_the_failing_feed(tmp_path: Path) -> None:
    if CHROMIUM is None:
        if REQUIRED:
            pytest.fail("INGESTD_TEST_REQUIRE_CHROMIUM=1 but no chromium on PATH")
        pytest.skip("no chromium on PATH (Debian: apt-get install chromium; `make chromium` as root)")
    with local_feed(rss(("a", "Alpha story"), ("b", "Beta story"))) as good:
        daemon = Daemon(
            tmp_path,
            f"""
            [fetch]
            allow_private = ["127.0.0.1"]
            [[feeds]]
            id = "good"
            url = "{good.url}"
            [[feeds]]
            id = "dead"
            url = "http://127.0.0.1:{free_port()}/feed.xml"
            """,
        )
        # the runner writes the [http] table: the read-only token joins it
        daemon.config.write_text(
            daemon.config.read_text().replace("token = ", 'status_token = "look"\ntoken = ', 1)
        )
        with contextlib.closing(_Stopping(daemon.start())):
            wait_for(
                lambda: (
                    {k: f["state"] for k, f in daemon.feeds().items()} == {"good": "ok", "dead": "erroring"}
                ),
                "both feeds polled",
                timeout=30,
            )
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "status-page.png"
            with tempfile.TemporaryDirectory(prefix="ingestd-chromium-") as profile:
                run = subprocess.run(
                    [
                        CHROMIUM,
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--no-first-run",
                        "--disable-sync",
                        f"--user-data-dir={profile}",
                        "--window-size=1280,800",
                        f"--screenshot={shot}",
                        "--dump-dom",
                        f"{daemon.url}/?token=look",
                    ],
                    capture_output=True,
                    text=True,
                    timeout=90,
                )
            # opened with the API token instead, its links open the JSON in a browser too
            page = httpx.get(f"{daemon.url}/?token={TOKEN}", timeout=10).text
            [feeds_link] = re.findall(r"<a href='(/feeds[^']*)'>", page)
            linked = httpx.get(daemon.url + html.unescape(feeds_link), timeout=10)
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    assert "<h1>ingestd status</h1>" in dom
    [dead] = re.findall(r'<tr data-feed="dead">.*?</tr>', dom, re.S)
    assert '<td class="bad">erroring</td>' in dead
    [good_row] = re.findall(r'<tr data-feed="good">.*?</tr>', dom, re.S)
    assert '<td class="ok">ok</td>' in good_row and "<svg" in good_row
    assert shot.stat().st_size > 0
    assert re.findall(r'<a href="(/[^"]*)">', dom)[0] == "/feeds"  # the status token opens no JSON
    assert linked.status_code == 200 and set(linked.json()["feeds"][0]) >= {"id", "state"}


class _Stopping:
    def __init__(self, daemon: Daemon):
        self.daemon = daemon

    def close(self) -> None:
        self.daemon.stop()
