"""The WebSub decisions, called directly: discovery, subscribing, verification,
renewal at 90% of the lease, lapse, unsubscription, signatures and the poll pace."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ingestd import websub
from ingestd.models import WebSubForget, WebSubSubscription
from ingestd.parse import parse

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
HUB = "https://hub.example/"
TOPIC = "https://news.example/feed.xml"
LINKS = websub.Links(HUB, TOPIC)


def active(lease: int = 1000, granted: datetime = NOW) -> WebSubSubscription:
    return WebSubSubscription(
        "news", HUB, TOPIC, "s3cret", "active", granted, lease, granted + timedelta(seconds=lease)
    )


class TestDiscover:
    def test_link_headers_come_before_the_document(self) -> None:
        links = websub.discover({"hub": "https://a/", "self": "https://t/a"}, {"hub": "https://b/"}, TOPIC)
        assert links == websub.Links("https://b/", "https://t/a")

    def test_without_a_self_link_the_fetched_url_is_the_topic(self) -> None:
        assert websub.discover({"hub": HUB}, {}, TOPIC) == LINKS

    def test_no_hub_no_topic(self) -> None:
        assert websub.discover({"self": TOPIC}, {}, TOPIC) == websub.Links(None, None)

    def test_links_of_reads_the_link_header_and_the_documents_hints(self) -> None:
        headers = {"link": f'<{HUB}>; rel="hub", <{TOPIC}>; rel="self"'}
        assert websub.links_of({}, headers, "https://other/") == LINKS
        assert websub.links_of({"websub_hub": HUB}, {}, TOPIC) == LINKS


class TestAfterPoll:
    def test_a_hub_new_to_the_feed_is_asked_with_a_fresh_secret(self) -> None:
        plan = websub.after_poll("news", LINKS, None, NOW, "fresh")
        assert plan.requests == (websub.HubRequest("news", HUB, TOPIC, "subscribe", "fresh"),)
        assert plan.writes[0] == WebSubSubscription("news", HUB, TOPIC, "fresh", "subscribing", NOW)

    def test_an_active_subscription_at_the_same_hub_is_left(self) -> None:
        assert websub.after_poll("news", LINKS, active(), NOW, "fresh") == websub.Plan()

    def test_a_hub_that_moved_is_subscribed_anew(self) -> None:
        plan = websub.after_poll("news", websub.Links("https://hub2/", TOPIC), active(), NOW, "fresh")
        assert plan.requests[0].hub == "https://hub2/"

    def test_a_request_never_verified_is_asked_again_after_a_while(self) -> None:
        pending = WebSubSubscription("news", HUB, TOPIC, "old", "subscribing", NOW)
        assert websub.after_poll("news", LINKS, pending, NOW + timedelta(minutes=1), "x") == websub.Plan()
        assert websub.after_poll("news", LINKS, pending, NOW + timedelta(minutes=11), "x").requests

    def test_a_lapsed_subscription_is_asked_again(self) -> None:
        assert websub.after_poll("news", LINKS, replace(active(), state="lapsed"), NOW, "x").requests

    def test_no_hub_nothing_to_do(self) -> None:
        assert websub.after_poll("news", websub.Links(None, None), None, NOW, "x") == websub.Plan()


class TestVerification:
    def test_our_subscribe_request_is_verified_and_its_lease_starts(self) -> None:
        pending = WebSubSubscription("news", HUB, TOPIC, "s", "subscribing", NOW)
        written = websub.verification(pending, "subscribe", TOPIC, 600, NOW)
        assert written == replace(
            pending, state="active", lease_seconds=600, lease_until=NOW + timedelta(seconds=600)
        )

    @pytest.mark.parametrize(
        "mode, topic, lease",
        [("subscribe", "https://other/", 600), ("unsubscribe", TOPIC, None), ("subscribe", TOPIC, None)],
    )
    def test_what_we_did_not_ask_is_refused(self, mode: str, topic: str, lease: int | None) -> None:
        pending = WebSubSubscription("news", HUB, TOPIC, "s", "subscribing", NOW)
        assert websub.verification(pending, mode, topic, lease, NOW) is None

    def test_no_subscription_refused(self) -> None:
        assert websub.verification(None, "subscribe", TOPIC, 600, NOW) is None

    def test_our_unsubscribe_and_a_denial_forget_the_subscription(self) -> None:
        leaving = replace(active(), state="unsubscribing")
        assert websub.verification(leaving, "unsubscribe", TOPIC, None, NOW) == WebSubForget("news")
        assert websub.verification(active(), "denied", TOPIC, None, NOW) == WebSubForget("news")


class TestMaintain:
    def test_renewed_at_90_percent_of_the_lease_with_the_same_secret(self) -> None:
        sub = active(lease=1000)
        assert websub.renew_at(sub) == NOW + timedelta(seconds=900)
        assert websub.maintain([sub], ["news"], NOW + timedelta(seconds=899)) == websub.Plan()
        plan = websub.maintain([sub], ["news"], NOW + timedelta(seconds=900))
        assert plan.requests == (websub.HubRequest("news", HUB, TOPIC, "subscribe", "s3cret"),)

    def test_a_renewal_is_asked_once(self) -> None:
        asked = websub.maintain([active()], ["news"], NOW + timedelta(seconds=900)).writes[0]
        assert isinstance(asked, WebSubSubscription)
        assert websub.maintain([asked], ["news"], NOW + timedelta(seconds=950)) == websub.Plan()

    def test_a_lease_that_ran_out_lapses(self) -> None:
        plan = websub.maintain([active()], ["news"], NOW + timedelta(seconds=1000))
        assert plan.writes == (replace(active(), state="lapsed"),) and not plan.requests

    def test_a_removed_feed_is_unsubscribed_then_forgotten_if_the_hub_never_confirms(self) -> None:
        plan = websub.maintain([active()], [], NOW)
        assert plan.requests == (websub.HubRequest("news", HUB, TOPIC, "unsubscribe", "s3cret"),)
        leaving = plan.writes[0]
        assert isinstance(leaving, WebSubSubscription) and leaving.state == "unsubscribing"
        assert websub.maintain([leaving], [], NOW + timedelta(minutes=1)) == websub.Plan()
        assert websub.maintain([leaving], [], NOW + timedelta(minutes=10)).writes == (WebSubForget("news"),)


class TestSignature:
    @pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
    def test_the_hubs_algorithm_is_checked(self, algorithm: str) -> None:
        body = b"<feed/>"
        digest = hmac.new(b"s3cret", body, getattr(hashlib, algorithm)).hexdigest()
        assert websub.signature_valid(f"{algorithm}={digest}", body, "s3cret")
        assert not websub.signature_valid(f"{algorithm}={digest}", body + b" ", "s3cret")
        assert not websub.signature_valid(f"{algorithm}={digest}", body, "other")

    @pytest.mark.parametrize("header", [None, "", "sha256", "md5=abcd", "sha256="])
    def test_missing_malformed_or_unknown_is_not_valid(self, header: str | None) -> None:
        assert not websub.signature_valid(header, b"x", "s3cret")

    def test_a_push_is_taken_only_while_subscribed(self) -> None:
        assert websub.accepts_push(active())
        assert not websub.accepts_push(None)
        assert not websub.accepts_push(replace(active(), state="unsubscribing"))


class TestNextPoll:
    HOUR = timedelta(hours=1)

    def test_while_the_lease_runs_polls_are_a_cross_check(self) -> None:
        sub = active(lease=86400)
        assert websub.next_poll(NOW + timedelta(minutes=5), sub, NOW, self.HOUR) == NOW + self.HOUR

    def test_polled_again_as_the_lease_ends(self) -> None:
        sub = active(lease=600)
        assert websub.next_poll(NOW + timedelta(minutes=5), sub, NOW, self.HOUR) == sub.lease_until

    def test_without_a_running_lease_the_schedule_stands(self) -> None:
        computed = NOW + timedelta(minutes=5)
        assert websub.next_poll(computed, None, NOW, self.HOUR) == computed
        assert websub.next_poll(computed, replace(active(), state="lapsed"), NOW, self.HOUR) == computed
        assert (
            websub.next_poll(computed, active(lease=10), NOW + timedelta(seconds=11), self.HOUR) == computed
        )


@pytest.mark.parametrize(
    "feed",
    [
        "<feed xmlns='http://www.w3.org/2005/Atom'><title>N</title><id>urn:n</id>"
        f"<link rel='hub' href='{HUB}'/><link rel='self' href='{TOPIC}'/>"
        "<entry><id>urn:1</id><title>T</title></entry></feed>",
        "<rss version='2.0' xmlns:atom='http://www.w3.org/2005/Atom'><channel><title>N</title>"
        f"<atom:link rel='hub' href='{HUB}'/><atom:link rel='self' href='{TOPIC}'/>"
        "<item><guid>1</guid><title>T</title></item></channel></rss>",
    ],
    ids=["atom", "rss-atom-link"],
)
def test_parse_hands_on_the_documents_hub_and_self_links(feed: str) -> None:
    hints = parse(feed.encode(), url="https://elsewhere.example/feed").hints
    assert websub.links_of(hints, {}, "https://elsewhere.example/feed") == LINKS


def test_a_hub_that_trickles_its_answer_is_given_up_at_the_fetch_deadline(tmp_path: Path) -> None:
    """httpx's timeouts are per read: a byte every 0.2 s kept a request open for as long
    as the hub liked. The whole request now has [fetch] timeout, as a feed fetch has."""
    from structlog.testing import capture_logs

    from ingestd.websub import WebSub
    from ingestd.websub._decide import HubRequest
    from tests.support import daemon_config

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 202 Accepted\r\nContent-Length: 100\r\n\r\n")
        with contextlib.suppress(ConnectionError):
            for _ in range(100):  # 20 s in all
                writer.write(b".")
                await writer.drain()
                await asyncio.sleep(0.2)
        writer.close()

    async def scenario() -> list[dict[str, Any]]:
        server = await asyncio.start_server(trickle, "127.0.0.1", 0)
        hub = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hub"
        config = daemon_config(
            tmp_path,
            allow_private=False,
            extra='[fetch]\nallow_private = ["127.0.0.1"]\ntimeout = "1s"\n'
            '[websub]\ncallback_base = "http://127.0.0.1:9/websub/"\n',
        )
        service = WebSub(config, writer=None, ingest=None)  # type: ignore[arg-type]
        try:
            with capture_logs() as logs:
                await asyncio.wait_for(
                    service._ask(HubRequest("f", hub, "https://x.example/f", "subscribe", "s")), 10
                )
        finally:
            await service.close()
            server.close()
        return logs

    logs = asyncio.run(scenario())
    (failed,) = [line for line in logs if line["event"] == "websub request failed"]
    assert failed["error"] == "timed out: total deadline of 1s passed"
