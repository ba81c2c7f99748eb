"""A newsroom of feeds on several loopback hosts (127.0.0.2, 127.0.0.3, …: distinct hosts
to the fetcher's per-host budget), for replicas to poll together.

Each feed publishes one new story every round, and each round one story is carried by
several feeds at once (its own guid and link in each, the same text: a cluster). Bodies
are rendered once per feed and round, so serving them costs next to nothing. Every
request is logged (feed, the poller's User-Agent, start and end), and requests in flight
are counted per host, so a test can tell which replica polled what when, and whether a
host's limit held across replicas."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# feeds carrying each round's shared story: those whose number is the round's, modulo this
SHARE_EVERY = 25
_VOCABULARY = [
    "".join(random.Random(i).choices("abcdefghijklmnopqrstuvwxyz", k=3 + i % 7)) for i in range(2000)
]


@dataclass(frozen=True)
class Request:
    feed: str
    agent: str  # the poller's User-Agent: which replica
    host: str
    started: float  # time.time()
    ended: float


@dataclass
class Newsroom:
    feeds: int
    hosts: int = 5
    round_s: float = 2.0
    delay: float = 0.02  # seconds each response takes: a fetch is a window, not an instant
    requests: list[Request] = field(default_factory=list)
    max_in_flight: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.addresses = [f"127.0.0.{2 + i}" for i in range(self.hosts)]
        self._lock = threading.Lock()
        self._in_flight = dict.fromkeys(self.addresses, 0)
        self._bodies: dict[tuple[int, int], bytes] = {}
        self._servers: dict[str, ThreadingHTTPServer] = {}
        self._frozen: int | None = None
        self.started = time.time()

    # ── what is published ────────────────────────────────────────────────────

    def host_of(self, n: int) -> str:
        return self.addresses[n % self.hosts]

    def url(self, n: int) -> str:
        host = self.host_of(n)
        return f"http://{host}:{self._servers[host].server_address[1]}/f{n:03d}.xml"

    def round(self) -> int:
        """The round being published: the clock's, or the one publishing stopped at."""
        if self._frozen is not None:
            return self._frozen
        return int((time.time() - self.started) / self.round_s)

    def freeze(self) -> int:
        """Publish nothing new from now on; returns the last round published."""
        self._frozen = self.round()
        return self._frozen

    @staticmethod
    def own_link(n: int, k: int) -> str:
        return f"https://newsroom.example/f{n:03d}/r{k}"

    @staticmethod
    def shared_headline(k: int) -> str:
        return f"Shared report {k}: " + " ".join(random.Random(-k).choices(_VOCABULARY, k=4))

    def carries_shared(self, n: int, k: int) -> bool:
        return n % SHARE_EVERY == k % SHARE_EVERY

    def body(self, n: int, k: int) -> bytes:
        """Feed n as published in round k (rendered once)."""
        key = (n, k)
        if key not in self._bodies:
            self._bodies[key] = self._render(n, k)
        return self._bodies[key]

    def _render(self, n: int, k: int) -> bytes:
        base = datetime(2026, 12, 1, tzinfo=UTC)
        items = []
        for r in range(k, -1, -1):
            words = " ".join(random.Random(n * 10_000 + r).choices(_VOCABULARY, k=60))
            at = format_datetime(base + timedelta(minutes=r, seconds=n))
            items.append(
                f"<item><guid>f{n:03d}-r{r}</guid><title>Feed {n} report {r}: {_VOCABULARY[(n + r) % 2000]}"
                f"</title><link>{self.own_link(n, r)}</link><description>{words}.</description>"
                f"<pubDate>{at}</pubDate></item>"
            )
            if self.carries_shared(n, r):
                shared = " ".join(random.Random(-r).choices(_VOCABULARY, k=80))
                items.append(
                    f"<item><guid>shared-r{r}-f{n:03d}</guid><title>{self.shared_headline(r)}</title>"
                    f"<link>https://newsroom.example/shared/r{r}/f{n:03d}</link>"
                    f"<description>{shared}.</description><pubDate>{at}</pubDate></item>"
                )
        return (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
            f"<language>en</language>{''.join(items)}</channel></rss>"
        ).encode()

    # ── serving ──────────────────────────────────────────────────────────────

    def start(self) -> Newsroom:
        newsroom = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                newsroom._serve(self)

            def log_message(self, *args: object) -> None:
                pass

        for address in self.addresses:
            server = _Server((address, 0), Handler)
            self._servers[address] = server
            threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        host = handler.server.server_address[0]  # type: ignore[index]
        began = time.time()
        with self._lock:
            self._in_flight[host] += 1
            self.max_in_flight[host] = max(self.max_in_flight.get(host, 0), self._in_flight[host])
        try:
            name = handler.path.strip("/").removesuffix(".xml")
            if not name.startswith("f") or not name[1:].isdigit():
                handler.send_error(404)
                return
            body = self.body(int(name[1:]), self.round())
            time.sleep(self.delay)
            handler.send_response(200)
            handler.send_header("Content-Type", "application/rss+xml")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            handler.wfile.flush()
        finally:
            with self._lock:
                self._in_flight[host] -= 1
                self.requests.append(
                    Request(name, handler.headers.get("User-Agent", ""), host, began, time.time())
                )

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A replica killed mid-request is part of the test, not news."""
