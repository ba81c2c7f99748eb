"""Deliveries to a real receiver on 127.0.0.1 that verifies each request with the
`standardwebhooks` package; the dispatcher driven as the daemon's job drives it."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from structlog.testing import capture_logs

from ingestd.compose import redeliver
from ingestd.store import Store
from tests.support import async_wait_for
from tests.support.webhooks import (
    FAST,
    OLD_SECRET,
    SECRET,
    Receiver,
    attempt_lines,
    closed,
    config_with,
    deliver_until,
    opened,
    receiving,
    save,
    story,
    subscription,
    utcnow,
)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(scenario())


def delivery_states(store: Store, sub_id: str = "newsroom") -> list[str]:
    return [
        r[0]
        for r in store.db.execute(
            "SELECT state FROM deliveries WHERE subscription_id = ? ORDER BY event_seq", [sub_id]
        )
    ]


def test_every_event_arrives_signed_and_exactly_as_stored(tmp_path: Path) -> None:
    with receiving() as receiver:
        config = config_with(tmp_path, subscription("newsroom", receiver.url))

        async def scenario() -> None:
            writer, dispatcher = await opened(config)
            with capture_logs() as logs:
                await save(writer, *(story(n) for n in range(5)))
                await deliver_until(dispatcher, lambda: len(receiver.received) >= 5)
            ids = [i for (i,) in writer.store.db.execute("SELECT id FROM events")]
            payloads = writer.store.event_bodies(ids)
            assert sorted(r.webhook_id for r in receiver.received) == sorted(payloads)
            for request in receiver.received:
                assert request.body == payloads[request.webhook_id].encode()  # replay's bytes
                assert request.event["id"] == request.webhook_id
            assert receiver.unverified == 0
            assert delivery_states(writer.store) == ["delivered"] * 5
            lines = attempt_lines(logs)
            assert len(lines) == 5
            for line in lines:
                assert line["subscription_id"] == "newsroom" and line["status"] == 200
                assert line["event_id"] in payloads and line["attempt"] == 1
                assert line["duration_ms"] >= 0 and line["outcome"] == "delivered"
                assert "next_attempt_at" in line and line["log_level"] == "info"
            await closed(writer, dispatcher)

        run(scenario)


def test_receiver_down_then_up_gets_everything(tmp_path: Path) -> None:
    receiver = Receiver()  # not listening yet: connections are refused
    config = config_with(tmp_path, subscription("newsroom", receiver.url))

    async def scenario() -> None:
        writer, dispatcher = await opened(config)
        with capture_logs() as logs:
            await save(writer, *(story(n) for n in range(6)))
            await deliver_until(dispatcher, lambda: len(attempt_lines(logs)) >= 6)
            failures = attempt_lines(logs)
            assert all(l["status"] is None and "refused" in l["error"].lower() for l in failures)
            assert all(l["outcome"] == "pending" and l["next_attempt_at"] for l in failures)
            receiver.start()
            try:
                await deliver_until(dispatcher, lambda: len(set(receiver.ids)) >= 6)
            finally:
                receiver.stop()
        ids = {r[0] for r in writer.store.db.execute("SELECT id FROM events")}
        assert set(receiver.ids) == ids
        assert delivery_states(writer.store) == ["delivered"] * 6
        await closed(writer, dispatcher)

    run(scenario)


def test_500_500_200_is_one_success_and_two_logged_failures(tmp_path: Path) -> None:
    with receiving(replies=[(500, {}), (500, {})]) as receiver:
        config = config_with(tmp_path, subscription("newsroom", receiver.url))

        async def scenario() -> None:
            writer, dispatcher = await opened(config)
            with capture_logs() as logs:
                [change] = await save(writer, story(1))
                await deliver_until(dispatcher, lambda: len(receiver.received) >= 3)
            lines = attempt_lines(logs)
            assert [(l["status"], l["attempt"], l["outcome"]) for l in lines] == [
                (500, 1, "pending"),
                (500, 2, "pending"),
                (200, 3, "delivered"),
            ]
            assert [l["log_level"] for l in lines] == ["warning", "warning", "info"]
            assert lines[0]["error"] == "HTTP 500: nope" and lines[0]["next_attempt_at"]
            assert {l["event_id"] for l in lines} == {change.event["id"]}
            # the same webhook-id each time, each attempt signed (and verified) afresh
            assert receiver.ids == [change.event["id"]] * 3 and receiver.unverified == 0
            status = writer.store.list_subscriptions()[0]
            assert (status.delivered, status.backlog, status.failed) == (1, 0, 0)
            await closed(writer, dispatcher)

        run(scenario)


def test_410_disables_the_subscription_and_enable_brings_it_back(tmp_path: Path) -> None:
    with receiving(replies=[(410, {})]) as receiver:
        config = config_with(tmp_path, subscription("newsroom", receiver.url))

        async def scenario() -> None:
            writer, dispatcher = await opened(config)
            with capture_logs() as logs:
                await save(writer, story(1))
                await deliver_until(dispatcher, lambda: len(receiver.received) >= 1)
                await save(writer, story(2))  # disabled: not queued
                for _ in range(5):
                    await dispatcher.dispatch_due()
                    await asyncio.sleep(0.05)
            [disabled] = [l for l in logs if l["event"] == "subscription disabled"]
            assert disabled["subscription_id"] == "newsroom" and "410" in disabled["reason"]
            assert len(receiver.received) == 1
            status = writer.store.list_subscriptions()[0]
            assert status.state == "disabled" and "410" in status.reason
            await writer.run(writer.store.enable_subscription, "newsroom", utcnow())
            await deliver_until(dispatcher, lambda: len(receiver.received) >= 2)
            assert receiver.ids == [receiver.ids[0]] * 2  # the 410'd event, and only it
            assert delivery_states(writer.store) == ["delivered"]
            await closed(writer, dispatcher)

        run(scenario)


def test_filters_select_the_right_stories(tmp_path: Path) -> None:
    with receiving() as defense, receiving() as korean_alliance:
        config = config_with(
            tmp_path,
            subscription(
                "defense", defense.url, more='filter = { sections = ["Defense"], sources = ["yonhap", "ap"] }'
            ),
            subscription(
                "alliance",
                korean_alliance.url,
                more='events = ["story.created"]\n'
                'filter = { languages = ["ko", "en"], keywords = ["alliance"] }',
            ),
        )

        async def scenario() -> None:
            writer, dispatcher = await opened(config)
            changes = await save(
                writer,
                story("d-yonhap", section="Defense", body="The alliance holds."),
                story("d-reuters", section="Defense", source="reuters"),
                story("e-ap", section="Economy", source="ap", body="Alliances shift."),
                story("ko", section="Politics", language="ko", body="ALLIANCE talks"),
                story("fr", language="fr", body="alliance"),
            )
            ids = {c.story_id: c.event["id"] for c in changes}
            by_headline = dict(zip(["d-yonhap", "d-reuters", "e-ap", "ko", "fr"], ids.values()))
            await deliver_until(
                dispatcher, lambda: len(defense.received) >= 1 and len(korean_alliance.received) >= 2
            )
            await save(writer, story("d-yonhap", section="Defense", body="The alliance broke."))
            await deliver_until(dispatcher, lambda: len(defense.received) >= 2)
            for _ in range(3):  # give a wrong delivery every chance to show up
                await dispatcher.dispatch_due()
                await asyncio.sleep(0.05)
            await dispatcher.join()
            assert [r.event["type"] for r in defense.received] == ["story.created", "story.updated"]
            assert defense.received[0].webhook_id == by_headline["d-yonhap"]
            assert sorted(korean_alliance.ids) == sorted([by_headline["d-yonhap"], by_headline["ko"]])
            await closed(writer, dispatcher)

        run(scenario)


def test_version_1_is_accepted_before_version_2_is_sent(tmp_path: Path) -> None:
    with receiving(replies=[(500, {}), (503, {})]) as receiver:
        config = config_with(tmp_path, subscription("newsroom", receiver.url))

        async def scenario() -> None:
            writer, dispatcher = await opened(config)
            await save(writer, story(1))
            await save(writer, story(1, headline="Retitled once"))
            await save(writer, story(1, headline="Retitled twice"))
            await deliver_until(dispatcher, lambda: len(receiver.received) >= 5)
            versions = [r.event["data"]["ingest"]["version"] for r in receiver.received]
            assert versions == [1, 1, 1, 2, 3]
            await closed(writer, dispatcher)

        run(scenario)


def test_redirect_is_a_failure_and_is_not_followed(tmp_path: Path) -> None:
    with receiving(replies=[(302, {"Location": "/elsewhere"})]) as receiver:
        config = config_with(tmp_path, subscription("newsroom", receiver.url))

        async def scenario() -> None:
            writer, dispatcher = await opened(config)
            with capture_logs() as logs:
                await save(writer, story(1))
                await deliver_until(dispatcher, lambda: len(receiver.received) >= 2)
            assert [r.path for r in receiver.received] == ["/hook", "/hook"]
            first = attempt_lines(logs)[0]
            assert first["status"] == 302 and first["outcome"] == "pending"
            assert "/elsewhere (redirects are not followed)" in first["error"]
            await closed(writer, dispatcher)

        run(scenario)


def test_retry_after_on_429_is_honoured(tmp_path: Path) -> None:
    with receiving(replies=[(429, {"Retry-After": "1"})]) as receiver:
        config = config_with(tmp_path, subscription("newsroom", receiver.url))

        async def scenario() -> None:
            # one at a time, so that story 2 is sent after the 429 came back
            writer, dispatcher = await opened(config, dataclasses.replace(FAST, concurrency=1))
            await save(writer, story(1), story(2))
            await deliver_until(dispatcher, lambda: len(set(receiver.ids)) >= 2)
            first, *later = receiver.received
            # nothing to this subscription until Retry-After has passed, the other story included
            assert all(r.at - first.at >= 0.95 for r in later)
            await closed(writer, dispatcher)

        run(scenario)


def test_a_slow_receiver_times_out(tmp_path: Path) -> None:
    with receiving(delay=1.5) as receiver:
        config = config_with(tmp_path, subscription("newsroom", receiver.url))

        async def scenario() -> None:
            settings = dataclasses.replace(FAST, timeout=0.2)
            writer, dispatcher = await opened(config, settings)
            with capture_logs() as logs:
                await save(writer, story(1))
                await deliver_until(dispatcher, lambda: len(attempt_lines(logs)) >= 1)
            [line] = attempt_lines(logs)[:1]
            assert line["status"] is None and line["error"] == "timed out after 0.2s"
            assert 150 <= line["duration_ms"] < 1000  # cut short, not waited out
            await closed(writer, dispatcher)

        run(scenario)


def test_concurrency_is_limited_per_subscription(tmp_path: Path) -> None:
    with receiving(delay=0.1) as receiver:
        config = config_with(tmp_path, subscription("newsroom", receiver.url))

        async def scenario() -> None:
            settings = dataclasses.replace(FAST, concurrency=3)
            writer, dispatcher = await opened(config, settings)
            await save(writer, *(story(n) for n in range(12)))
            await deliver_until(dispatcher, lambda: len(receiver.received) >= 12)
            assert receiver.max_in_flight == 3
            await closed(writer, dispatcher)

        run(scenario)


def test_failing_endpoint_is_paused_probed_and_resumes_with_its_backlog_in_order(tmp_path: Path) -> None:
    with receiving(replies=[(500, {})] * 100) as receiver:
        config = config_with(tmp_path, subscription("newsroom", receiver.url))

        async def scenario() -> None:
            # one at a time, so that arrival order is claim order
            settings = dataclasses.replace(
                FAST, concurrency=1, breaker_after=0.3, probe_interval=0.25, max_delay=0.1
            )
            writer, dispatcher = await opened(config, settings)
            with capture_logs() as logs:
                changes = await save(writer, *(story(n) for n in range(4)))
                await deliver_until(
                    dispatcher, lambda: any(l["event"] == "subscription paused" for l in logs)
                )
                paused_at = time.monotonic()
                await deliver_until(dispatcher, lambda: time.monotonic() - paused_at > 1.0)
                probes = [l for l in attempt_lines(logs) if l["probe"]]
                assert {p["event_id"] for p in probes} == {changes[0].event["id"]}  # the oldest
                probed_at = [r.at for r in receiver.received if r.at > paused_at]
                assert len(probed_at) >= 2 and len(probed_at) == len(probes)
                # one request per probe_interval, not a retry storm
                assert all(b - a >= 0.2 for a, b in zip(probed_at, probed_at[1:]))
                assert writer.store.list_subscriptions()[0].state == "paused"
                receiver.replies.clear()  # the endpoint is back
                count = len(receiver.received)
                await deliver_until(dispatcher, lambda: len(receiver.received) >= count + 4)
            [paused] = [l for l in logs if l["event"] == "subscription paused"]
            assert "HTTP 500" in paused["reason"]
            assert any(l["event"] == "subscription resumed" for l in logs)
            resumed = [r.webhook_id for r in receiver.received[count:]]
            assert resumed == [c.event["id"] for c in changes]  # the backlog, in order
            assert writer.store.list_subscriptions()[0].state == "active"
            await closed(writer, dispatcher)

        run(scenario)


def test_delivery_fails_after_retry_for_and_redeliver_sends_it_again(tmp_path: Path) -> None:
    with receiving(replies=[(500, {})] * 100) as receiver:
        config = config_with(tmp_path, subscription("newsroom", receiver.url))

        async def scenario() -> None:
            settings = dataclasses.replace(FAST, retry_for=0.4)
            writer, dispatcher = await opened(config, settings)
            started = utcnow()
            with capture_logs() as logs:
                [change] = await save(writer, story(1))
                await deliver_until(
                    dispatcher, lambda: any(l["outcome"] == "failed" for l in attempt_lines(logs))
                )
            assert attempt_lines(logs)[-1]["next_attempt_at"] is None
            assert writer.store.list_subscriptions()[0].failed == 1
            receiver.replies.clear()
            count = len(receiver.received)
            assert await writer.run(redeliver, writer.store, "newsroom", started, utcnow()) == 1
            await deliver_until(dispatcher, lambda: len(receiver.received) > count)
            assert receiver.ids[-1] == change.event["id"]
            assert delivery_states(writer.store) == ["delivered"]
            await closed(writer, dispatcher)

        run(scenario)


def test_rotating_secrets_sign_for_both(tmp_path: Path) -> None:
    with receiving(secret=OLD_SECRET) as old, receiving(secret=SECRET) as new:
        config = config_with(
            tmp_path,
            subscription("old", old.url, secret=[SECRET, OLD_SECRET]),
            subscription("new", new.url, secret=[SECRET, OLD_SECRET]),
        )

        async def scenario() -> None:
            writer, dispatcher = await opened(config)
            await save(writer, story(1))
            await deliver_until(dispatcher, lambda: old.received and new.received)
            assert old.unverified == new.unverified == 0
            assert len(old.received[0].signature.split(" ")) == 2
            await closed(writer, dispatcher)

        run(scenario)


def test_private_address_is_refused_without_allow_private(tmp_path: Path) -> None:
    with receiving() as receiver:
        config = config_with(tmp_path, subscription("newsroom", receiver.url), allow_private=False)

        async def scenario() -> None:
            writer, dispatcher = await opened(config)
            with capture_logs() as logs:
                await save(writer, story(1))
                await deliver_until(dispatcher, lambda: len(attempt_lines(logs)) >= 1)
            line = attempt_lines(logs)[0]
            assert line["status"] is None and "blocked address 127.0.0.1" in line["error"]
            assert receiver.received == [] and receiver.unverified == 0
            await closed(writer, dispatcher)

        run(scenario)


def test_shutdown_releases_attempts_in_flight(tmp_path: Path) -> None:
    with receiving(delay=1.0) as receiver:
        config = config_with(tmp_path, subscription("newsroom", receiver.url))

        async def scenario() -> None:
            writer, dispatcher = await opened(config)
            await save(writer, story(1))
            assert await dispatcher.dispatch_due() == 1
            await async_wait_for(lambda: receiver.in_flight == 1, "the attempt to reach the receiver")
            await dispatcher.drain(grace=0.1)
            assert await dispatcher.dispatch_due() == 0  # drained: starts nothing
            row = writer.store.db.execute("SELECT state, attempts FROM deliveries").fetchone()
            assert row == ("pending", 0)
            await closed(writer, dispatcher)

        run(scenario)
