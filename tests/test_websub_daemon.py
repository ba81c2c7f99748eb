"""WebSub end to end: a real `ingestd run` against a small hub the test runs on
127.0.0.1: verification of intent, a signed push reaching a webhook receiver fast,
forged and unsigned pushes refused, lease renewal, polling taking over when the
lease lapses, and unsubscription when the feed is removed."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

from tests.support import free_port, local_feed, wait_for
from tests.support.reliability import Daemon
from tests.support.webhooks import SECRET, receiving

# The issue asks for 1 s from the hub's POST to the receiver; the bound is generous
# because the machine is shared, and the measured figure is printed (pytest -s).
PUSH_TO_RECEIVER_BOUND_S = 5.0


class Hub:
    """A WebSub hub: accepts subscription requests (202), then verifies them at the
    callback with a challenge, granting `lease` seconds; `refuse_after` requests, it
    answers 400 (a hub that stopped renewing)."""

    def __init__(self, lease: int = 600, refuse_after: int | None = None):
        self.lease, self.refuse_after = lease, refuse_after
        self.requests: list[dict[str, str]] = []
        self.verified: list[tuple[float, dict[str, str]]] = []  # (when, the request)
        self._lock = threading.Lock()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                with hub._lock:
                    hub.requests.append(form)
                    refused = hub.refuse_after is not None and len(hub.requests) > hub.refuse_after
                self.send_response(400 if refused else 202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if not refused:
                    threading.Thread(target=hub._verify, args=(form,), daemon=True).start()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def _verify(self, form: dict[str, str]) -> None:
        challenge = uuid.uuid4().hex
        params = {"hub.mode": form["hub.mode"], "hub.topic": form["hub.topic"], "hub.challenge": challenge}
        if form["hub.mode"] == "subscribe":
            params["hub.lease_seconds"] = str(self.lease)
        answer = httpx.get(form["hub.callback"], params=params, timeout=5)
        if answer.status_code == 200 and answer.text == challenge:
            with self._lock:
                self.verified.append((time.monotonic(), form))

    def publish(self, body: bytes, *, secret: str | None = None, signature: str | None = None) -> int:
        """A content distribution to the verified subscriber, signed with its secret
        (or `secret`), or with the `signature` header given ("" sends none)."""
        form = self.verified[-1][1]
        key = (secret or form["hub.secret"]).encode()
        header = (
            f"sha256={hmac.new(key, body, hashlib.sha256).hexdigest()}" if signature is None else signature
        )
        headers = {"Content-Type": "application/atom+xml", **({"X-Hub-Signature": header} if header else {})}
        return httpx.post(form["hub.callback"], content=body, headers=headers, timeout=5).status_code

    def modes(self) -> list[str]:
        return [form["hub.mode"] for _, form in self.verified]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def atom(hub: str, topic: str, *guids: str) -> bytes:
    entries = "".join(
        f"<entry><id>urn:{g}</id><title>Story {g} headline</title><link href='https://example.org/{g}'/>"
        f"<updated>2020-01-09T00:00:00Z</updated><content type='html'>&lt;p&gt;Body of story {g}, "
        f"with enough words in it to be a story.&lt;/p&gt;</content></entry>"
        for g in guids
    )
    return (
        f"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><title>News</title>"
        f"<id>urn:news</id><updated>2020-01-09T00:00:00Z</updated>"
        f"<link rel='hub' href='{hub}'/><link rel='self' href='{topic}'/>{entries}</feed>"
    ).encode()


def _config(hook: str, feed: str | None, interval: str = "1h", lease: str = "10d") -> str:
    text = f"""
    [fetch]
    allow_private = ["127.0.0.1"]
    [scheduler]
    tick = "200ms"
    min_interval = "1s"
    [websub]
    callback_base = "@CALLBACK@"
    lease = "{lease}"
    [[subscriptions]]
    id = "hook"
    url = "{hook}"
    secret = "{SECRET}"
    """
    if feed:
        text += f'[[feeds]]\nid = "news"\nurl = "{feed}"\ninterval = "{interval}"\n'
    return text


@contextmanager
def daemon(folder: Path, body: str) -> Iterator[Daemon]:
    """A daemon whose [websub] callback_base is its own HTTP server."""
    started = Daemon(folder, body)
    started.config.write_text(started.config.read_text().replace("@CALLBACK@", started.url))
    started.start()
    try:
        yield started
    finally:
        started.stop()


@contextmanager
def hub_and_feed(**hub_options: Any) -> Iterator[tuple[Hub, Any]]:
    hub = Hub(**hub_options)
    try:
        with local_feed(b"") as feed:
            feed.body = atom(hub.url, feed.url, "g1")
            yield hub, feed
    finally:
        hub.close()


def headlines(receiver: Any) -> list[str]:
    return [r.event["data"]["story"]["headlines"][0]["value"] for r in receiver.received]


def test_verified_then_a_signed_push_reaches_a_receiver_and_forged_ones_are_refused(tmp_path: Path) -> None:
    with hub_and_feed() as (hub, feed), receiving() as receiver:
        with daemon(tmp_path, _config(receiver.url, feed.url)) as running:
            wait_for(lambda: hub.modes() == ["subscribe"], "the hub's verification", 30)
            form = hub.verified[0][1]
            assert form["hub.topic"] == feed.url
            assert form["hub.callback"] == f"{running.url}/websub/news"
            assert len(form["hub.secret"]) >= 32
            wait_for(lambda: len(receiver.received) == 1, "the first poll's story", 30)

            pushed = time.monotonic()
            assert hub.publish(atom(hub.url, feed.url, "g1", "g2")) == 202
            wait_for(lambda: len(receiver.received) == 2, "the pushed story", 30)
            latency = receiver.received[1].at - pushed
            print(f"websub: hub POST -> webhook receiver {latency * 1000:.0f} ms")
            assert latency < PUSH_TO_RECEIVER_BOUND_S
            assert headlines(receiver)[1] == "Story g2 headline"

            forged = atom(hub.url, feed.url, "g3")
            assert hub.publish(forged, secret="not-the-feeds-secret") == 403
            assert hub.publish(forged, signature="") == 403
            assert hub.publish(forged, signature="md5=00") == 403
            assert hub.publish(atom(hub.url, feed.url, "g4")) == 202  # after them, a real one
            wait_for(lambda: len(receiver.received) == 3, "the last pushed story", 30)
            assert headlines(receiver)[2] == "Story g4 headline"
            assert "Story g3 headline" not in headlines(receiver)
            assert len(running.stories("news")) == 3


def test_the_lease_is_renewed_before_it_ends_with_the_same_secret(tmp_path: Path) -> None:
    """Renewed at 90% of a 15 s lease: the store keeps whole seconds and looks once a
    second, so the last 10% must span more than one look."""
    with hub_and_feed(lease=15) as (hub, feed), receiving() as receiver:
        with daemon(tmp_path, _config(receiver.url, feed.url)):
            wait_for(lambda: len(hub.verified) >= 1, "the hub's verification", 30)
            wait_for(lambda: len(hub.verified) >= 2, "the renewal", 30)
            (first_at, first), (renewed_at, renewal) = hub.verified[:2]
            assert renewal["hub.mode"] == "subscribe" and renewal["hub.secret"] == first["hub.secret"]
            assert 12 < renewed_at - first_at < 15  # at 90%, before the lease ran out


def test_polling_takes_over_when_the_lease_lapses(tmp_path: Path) -> None:
    """The hub stops renewing: the feed, polled only as a cross-check (every hour)
    while the lease ran, is polled again as it ends and brings the story unpushed."""
    with hub_and_feed(lease=4, refuse_after=1) as (hub, feed), receiving() as receiver:
        with daemon(tmp_path, _config(receiver.url, feed.url, interval="1s")) as running:
            wait_for(lambda: len(hub.verified) == 1, "the hub's verification", 30)
            wait_for(lambda: len(receiver.received) == 1, "the first poll's story", 30)
            verified_at = hub.verified[0][0]
            # the first poll ran before the verification; the next one is paced by the lease
            wait_for(lambda: running.logs().count('"event": "poll"') >= 2, "a poll under the lease", 30)
            # a poll scheduled (1 s interval) before the verification landed may still run
            # once: change the feed only after it, so only a poll at the lease's end finds it
            time.sleep(max(0.0, verified_at + 2.0 - time.monotonic()))
            feed.body = atom(hub.url, feed.url, "g1", "g2")  # never pushed
            wait_for(lambda: len(receiver.received) == 2, "the story a poll found", 30)
            # not polled while the lease ran (it ends 4 s after, less the store's rounding)
            assert receiver.received[1].at - verified_at >= 2.9
            assert headlines(receiver)[1] == "Story g2 headline"


def test_a_removed_feed_is_unsubscribed(tmp_path: Path) -> None:
    with hub_and_feed() as (hub, feed), receiving() as receiver:
        with daemon(tmp_path, _config(receiver.url, feed.url)):
            wait_for(lambda: hub.modes() == ["subscribe"], "the hub's verification", 30)
        (tmp_path / "ingestd.toml").unlink()
        with daemon(tmp_path, _config(receiver.url, None)):
            wait_for(lambda: hub.modes() == ["subscribe", "unsubscribe"], "the unsubscription", 30)
            assert hub.verified[1][1]["hub.topic"] == feed.url
