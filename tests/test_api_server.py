"""The app served by uvicorn on 127.0.0.1, as the daemon runs it: on the caller's loop,
without touching signals, logging through our chain, quick while CPU work runs."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog

from ingestd import logs, normalize
from ingestd.api import ServiceState, bind, build_app, serve
from ingestd.metrics import Metrics
from ingestd.pipeline import process
from ingestd.store import Store

TOKEN = "tok-live"


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    Store(tmp_path / "ingestd.db").close()  # migrated, as the daemon's writer leaves it
    return str(tmp_path / "ingestd.db")


def live(
    db_path: str, check: Callable[[httpx.AsyncClient], Awaitable[Any]], state: ServiceState | None = None
) -> Any:
    """Serve on 127.0.0.1:<free port>, run `check` with a client, stop, and return what
    `check` returned; fails if the server does not stop within 3 s."""
    state = state or ServiceState(tick_interval=1.0)
    app = build_app(db_path, state=state, metrics=Metrics(), token=TOKEN)

    async def main() -> Any:
        sock = bind("127.0.0.1:0")
        port = sock.getsockname()[1]
        stop = asyncio.Event()
        server = asyncio.create_task(serve(app, sock, stop))
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
                return await check(client)
        finally:
            stop.set()
            await asyncio.wait_for(server, timeout=3)

    return asyncio.run(main())


def big_feed(size: int = 15_000_000, items: int = 30) -> bytes:
    paragraph = "<p>" + "Officials said the talks would resume next week in Seoul. " * 20 + "</p>"
    body = paragraph * (size // items // len(paragraph) + 1)
    entries = "".join(
        f"<item><guid>g{i}</guid><title>Story {i}</title><link>https://example.org/{i}</link>"
        f"<description><![CDATA[{body}]]></description>"
        f"<pubDate>Thu, 09 Jan 2020 09:25:00 +0900</pubDate></item>"
        for i in range(items)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Big</title>'
        f"<language>en</language>{entries}</channel></rss>"
    ).encode()


def test_healthz_answers_within_a_second_while_a_15mb_feed_parses(db_path: str) -> None:
    feed = big_feed()
    assert len(feed) >= 15_000_000
    profiles = normalize.load_profiles(None)
    parsed: list[Any] = []
    worker = threading.Thread(
        target=lambda: parsed.append(
            process(feed, feed_id="big", source=None, now=datetime.now(UTC), profiles=profiles)
        ),
        daemon=True,
    )
    state = ServiceState(tick_interval=1.0)
    state.ticked()

    async def probe(client: httpx.AsyncClient) -> list[tuple[int, float]]:
        await client.get("/healthz")  # connection up before the clock starts
        worker.start()
        answers = []
        while worker.is_alive():
            started = time.monotonic()
            response = await client.get("/healthz")
            answers.append((response.status_code, time.monotonic() - started))
            await asyncio.sleep(0.05)
        return answers

    answers = live(db_path, probe, state)
    worker.join(timeout=60)
    assert parsed and len(parsed[0].stories) == 30, "the parse should have run to the end"
    assert len(answers) >= 5, "the parse ended before /healthz was asked often enough"
    assert all(status == 200 for status, _ in answers)
    assert max(seconds for _, seconds in answers) < 1.0


def test_serving_leaves_the_signal_handlers_to_the_daemon(db_path: str) -> None:
    def ours(signum: int, frame: Any) -> None:
        pass

    previous = {sig: signal.signal(sig, ours) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:

        async def during(client: httpx.AsyncClient) -> Any:
            assert (await client.get("/healthz")).status_code == 200
            return signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)

        assert live(db_path, during) == (ours, ours)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@pytest.fixture
def json_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:], root.level, structlog.get_config()
    logs.configure("json", "debug", stream)
    yield stream
    root.handlers[:], level, config = saved
    root.setLevel(level)
    structlog.configure(**config)


def test_every_line_the_server_logs_is_one_json_object(db_path: str, json_logs: io.StringIO) -> None:
    async def requests(client: httpx.AsyncClient) -> None:
        await client.get("/healthz")
        await client.get("/stories", params={"q": "x"}, headers={"Authorization": f"Bearer {TOKEN}"})
        await client.get("/feeds")

    live(db_path, requests)
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    for line in lines:
        assert {"timestamp", "level", "event"} <= set(line) and "color_message" not in line
    assert any(line.get("logger", "").startswith("uvicorn") for line in lines)
    request_lines = [line for line in lines if line["event"] == "http request"]
    requests_logged = [(line["url"], line["status"], line["level"]) for line in request_lines]
    assert requests_logged == [
        ("/healthz", 200, "debug"),
        ("/stories?q=x", 200, "info"),
        ("/feeds", 401, "info"),
    ]
    assert all(isinstance(line["duration_ms"], float) for line in request_lines)


def test_a_taken_port_fails_at_bind() -> None:
    with bind("127.0.0.1:0") as taken:
        address = "127.0.0.1:%d" % taken.getsockname()[1]
        with pytest.raises(OSError, match=f"cannot listen on {address}"):
            bind(address)
