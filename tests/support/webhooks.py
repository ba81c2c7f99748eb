"""What the webhook tests share: a real receiver on 127.0.0.1 that verifies every
request with the `standardwebhooks` package, stories, a config, and a loop that
drives the dispatcher as the daemon's job does."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

from ingestd.compose import save_stories
from ingestd.config import Config
from ingestd.models import Story
from ingestd.store import Writer
from ingestd.webhooks import Dispatcher, WebhookSettings

from .config import daemon_config
from .ports import free_port

SECRET = "whsec_" + base64.b64encode(b"ingestd-test-key-0123456789abcdef").decode()
OLD_SECRET = "whsec_" + base64.b64encode(b"the-key-being-rotated-out-000000").decode()

# Sub-second schedule: doubling from 50 ms to 400 ms, retried for 5 s.
FAST = WebhookSettings(
    timeout=2.0,
    concurrency=4,
    retry_for=5.0,
    breaker_after=60.0,
    probe_interval=0.3,
    first_delay=0.05,
    max_delay=0.4,
)

Reply = tuple[int, dict[str, str]]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Received:
    webhook_id: str
    timestamp: str
    signature: str
    body: bytes
    path: str
    at: float  # time.monotonic()

    @property
    def event(self) -> dict[str, Any]:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A webhook endpoint. `replies` are answered in order, then 200; a request
    whose signature the standardwebhooks package rejects is counted and refused."""

    secret: str = SECRET
    replies: list[Reply] = field(default_factory=list)
    delay: float = 0.0  # seconds before answering
    port: int = 0
    received: list[Received] = field(default_factory=list)
    unverified: int = 0
    in_flight: int = 0
    max_in_flight: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        if not self.port:
            self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def ids(self) -> list[str]:
        return [r.webhook_id for r in self.received]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if len(body) < length:  # the sender died mid-request (the kill test)
                    return
                status, headers = receiver._take(self, body)
                payload = b"nope" if status >= 300 else b""
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self._server = _Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _take(self, handler: BaseHTTPRequestHandler, body: bytes) -> Reply:
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
            try:
                Webhook(self.secret).verify(body, headers)
            except WebhookVerificationError:
                with self._lock:
                    self.unverified += 1
                return 401, {}
            with self._lock:
                self.received.append(
                    Received(
                        headers["webhook-id"],
                        headers["webhook-timestamp"],
                        headers["webhook-signature"],
                        body,
                        handler.path,
                        time.monotonic(),
                    )
                )
                return self.replies.pop(0) if self.replies else (200, {})
        finally:
            with self._lock:
                self.in_flight -= 1


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A sender killed or timed out mid-request is part of the tests, not news."""


@contextmanager
def receiving(**kwargs: Any) -> Iterator[Receiver]:
    receiver = Receiver(**kwargs).start()
    try:
        yield receiver
    finally:
        receiver.stop()


def config_with(tmp_path: Path, *subscriptions: str, allow_private: bool = True, extra: str = "") -> Config:
    """`subscriptions`: TOML bodies of [[subscriptions]] tables."""
    return daemon_config(tmp_path, subscriptions=subscriptions, allow_private=allow_private, extra=extra)


def subscription(sub_id: str, url: str, *, secret: str | list[str] = SECRET, more: str = "") -> str:
    return f'id = "{sub_id}"\nurl = "{url}"\nsecret = {json.dumps(secret)}\n{more}'


def story(
    n: int | str,
    *,
    headline: str | None = None,
    body: str | None = None,
    source: str = "yonhap",
    section: str | None = None,
    language: str | None = "en",
    first_of_cluster: bool = True,
) -> Story:
    headline = headline or f"Story number {n}"
    body = body or f"The body of story {n}, with a few more words in it."
    ninjs: dict[str, Any] = {
        "type": "text",
        "headlines": [{"role": "main", "value": headline}],
        "bodies": [{"role": "main", "contentType": "text/plain", "value": body}],
    }
    if language:
        ninjs["language"] = language
    if section:
        ninjs["subjects"] = [{"name": section, "rel": "section"}]
    return Story(
        feed_id="f",
        source=source,
        headline=headline,
        body_text=body,
        guid=f"g{n}",
        url=f"https://example.org/{n}",
        section=section,
        language=language,
        ingest={"first_of_cluster": first_of_cluster},
        ninjs=ninjs,
    )


async def deliver_until(
    dispatcher: Dispatcher, done: Callable[[], bool], timeout: float = 10.0, every: float = 0.02
) -> None:
    """Call dispatch_due as the daemon's job would, until `done()`; then let lanes finish."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for deliveries")
        await dispatcher.dispatch_due()
        await asyncio.sleep(every)
    await dispatcher.join()


def attempt_lines(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [line for line in logs if line["event"] == "webhook attempt"]


async def opened(config: Config, settings: WebhookSettings = FAST) -> tuple[Writer, Dispatcher]:
    """What the daemon does at start: the writer, config subscriptions synced, a dispatcher."""
    writer = Writer(config.storage.path)
    await writer.run(writer.store.sync_config_subscriptions, config.subscriptions, utcnow())
    dispatcher = Dispatcher(writer, config, settings=settings)
    await dispatcher.__aenter__()
    return writer, dispatcher


async def closed(writer: Writer, dispatcher: Dispatcher) -> None:
    await dispatcher.__aexit__(None, None, None)
    writer.close()


async def save(writer: Writer, *stories: Any) -> list[Any]:
    return await writer.run(save_stories, writer.store, list(stories), utcnow())
