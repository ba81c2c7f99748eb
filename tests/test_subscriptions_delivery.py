"""A running dispatcher takes up subscriptions added, changed and removed at run time,
without a restart: in-process, and in a real `ingestd run` driven by the CLI and the API.
Every receiver verifies signatures with the `standardwebhooks` package."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from structlog.testing import capture_logs

from ingestd.cli import main
from tests.support import ROOT, LocalFeed, async_wait_for, local_feed, rss, wait_for, write_config
from tests.support.processes import clean_env
from tests.support.webhooks import (
    OLD_SECRET,
    SECRET,
    attempt_lines,
    closed,
    config_with,
    deliver_until,
    free_port,
    opened,
    receiving,
    save,
    story,
)

TOKEN = "tok-daemon"


def webhooks(config: Path, *args: str) -> None:
    assert main(["webhooks", *args, "--config", str(config)]) == 0


def test_subscriptions_added_changed_and_removed_are_taken_up_at_once(tmp_path: Path) -> None:
    with receiving() as first, receiving(secret=OLD_SECRET) as second:
        config = config_with(tmp_path)  # no subscription in the config

        async def scenario() -> None:
            writer, dispatcher = await opened(config)
            await save(writer, story(0))
            webhooks(config.file, "add", "desk", "--url", first.url, "--secret", SECRET)
            await save(writer, story(1), story(2))
            await deliver_until(dispatcher, lambda: len(first.received) >= 2)
            # from when it was added; two stories' order is not promised ([webhooks] concurrency
            # lanes), only a story's versions in order
            assert sorted(r.event["data"]["story"]["headlines"][0]["value"] for r in first.received) == [
                "Story number 1",
                "Story number 2",
            ]

            webhooks(config.file, "change", "desk", "--url", second.url, "--secret", OLD_SECRET)
            await save(writer, story(3))
            await deliver_until(dispatcher, lambda: len(second.received) >= 1)

            webhooks(config.file, "remove", "desk")
            await save(writer, story(4))
            assert await dispatcher.dispatch_due() == 0
            await closed(writer, dispatcher)

        asyncio.run(scenario())
        assert (len(first.received), len(second.received)) == (2, 1)
        assert first.unverified == second.unverified == 0  # each signed with its stored secret


def test_a_subscription_removed_while_an_attempt_is_out_ends_cleanly(tmp_path: Path) -> None:
    with receiving(delay=0.3) as receiver:
        config = config_with(tmp_path)
        webhooks(config.file, "add", "desk", "--url", receiver.url, "--secret", SECRET)

        async def scenario() -> None:
            writer, dispatcher = await opened(config)
            with capture_logs() as logs:
                await save(writer, story(1), story(2))
                assert await dispatcher.dispatch_due() == 2
                await async_wait_for(lambda: receiver.in_flight == 2, "both attempts to be out")
                webhooks(config.file, "remove", "desk")
                await dispatcher.join()
                assert await dispatcher.dispatch_due() == 0
            assert [line["outcome"] for line in attempt_lines(logs)] == ["delivered"] * 2
            assert not [line for line in logs if line["event"] == "webhook lane failed"]
            await closed(writer, dispatcher)

        asyncio.run(scenario())


# ── a real daemon ────────────────────────────────────────────────────────────


@pytest.fixture
def feed() -> Iterator[LocalFeed]:
    with local_feed(rss()) as served:
        yield served


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


class Daemon:
    """`ingestd run` in a subprocess, its log in a file."""

    def __init__(self, config: Path, port: int, log: Path):
        env = clean_env()
        self.log = log.open("a")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ingestd", "run", "--config", str(config)],
            cwd=ROOT,
            env=env,
            stderr=self.log,
        )
        self.api = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", timeout=5, headers={"Authorization": f"Bearer {TOKEN}"}
        )
        wait_for(lambda: answers(f"http://127.0.0.1:{port}/readyz"), "the daemon to be ready")

    def stop(self) -> None:
        try:
            self.process.send_signal(signal.SIGTERM)
            assert self.process.wait(timeout=10) == 0
        finally:
            self.process.kill()
            self.api.close()
            self.log.close()


def test_a_running_daemon_delivers_to_subscriptions_added_by_the_cli_and_the_api(
    tmp_path: Path, feed: LocalFeed
) -> None:
    port = free_port()
    config = write_config(
        tmp_path,
        f"""
        [storage]
        path = "ingestd.db"
        [log]
        format = "json"
        [fetch]
        allow_private = ["127.0.0.1"]
        [scheduler]
        tick = "200ms"
        [http]
        listen = "127.0.0.1:{port}"
        token = "{TOKEN}"
        [[feeds]]
        id = "wire"
        url = "{feed.url}"
        interval = "1h"
    """,
    )
    with receiving() as by_cli, receiving(secret=OLD_SECRET) as by_api:
        daemon = Daemon(config, port, tmp_path / "daemon.log")
        try:
            webhooks(config, "add", "by-cli", "--url", by_cli.url, "--secret", SECRET)
            response = daemon.api.post(
                "/subscriptions", json={"id": "by-api", "url": by_api.url, "secret": OLD_SECRET}
            )
            assert response.status_code == 201, response.text
            feed.body = rss(("s1", "Story 1"), ("s2", "Story 2"))
            assert main(["feeds", "resume", "wire", "--config", str(config)]) == 0  # poll now
            wait_for(
                lambda: len(by_cli.received) >= 2 and len(by_api.received) >= 2,
                "deliveries to both run-time subscriptions",
            )
        finally:
            daemon.stop()

        daemon = Daemon(config, port, tmp_path / "daemon.log")  # both survive a restart
        try:
            listing = daemon.api.get("/subscriptions").json()["subscriptions"]
            assert [(s["id"], s["origin"], s["state"]) for s in listing] == [
                ("by-api", "api", "active"),
                ("by-cli", "cli", "active"),
            ]
            assert daemon.api.delete("/subscriptions/by-cli").status_code == 204
            feed.body = rss(("s1", "Story 1"), ("s2", "Story 2"), ("s3", "Story 3"))
            assert main(["feeds", "resume", "wire", "--config", str(config)]) == 0
            wait_for(lambda: len(by_api.received) >= 3, "the third story")
        finally:
            daemon.stop()
        assert len(by_cli.received) == 2  # removed before the third
        assert {r.event["type"] for r in by_api.received} == {"story.created"}
        assert by_cli.unverified == by_api.unverified == 0
