"""Webhook delivery: throughput and latency to local receivers. Never part of the test run.

    python bench/webhooks.py [--stories 2000] [--seconds 10]

Receivers run in a separate process (asyncio, keep-alive, answer 200 at once,
record when each webhook-id arrived), so they do not share ingestd's GIL. The
dispatcher runs as the daemon runs it: the real Writer, the real store, the
guarded httpx client, `[webhooks]` defaults (concurrency 4 per subscription).

  throughput  a backlog of `--stories` stories, committed in batches of 100 (as
              polls do), then delivered to 1 and to 10 subscriptions: deliveries
              per second from the first dispatch to the last receipt.
  latency     one story committed every 20 ms for `--seconds`, 1 subscription:
              commit (the save returned) to receipt, p50 and p99, with the
              periodic dispatch job alone and with dispatch_due also called after
              each commit (as the daemon does after a poll that stored events).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import textwrap
import time
from datetime import UTC
from pathlib import Path
from typing import Any

from ingestd.compose import save_stories

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "whsec_YmVuY2htYXJrLWtleS0wMTIzNDU2Nzg5YWJjZGVm"


# ── the receivers (child process) ────────────────────────────────────────────


def _receive(ports: list[int], conn: Any) -> None:
    arrivals: list[tuple[str, float]] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = dict(
                    line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:] if ": " in line
                )
                lowered = {k.lower(): v for k, v in headers.items()}
                await reader.readexactly(int(lowered.get("content-length", 0)))
                arrivals.append((lowered["webhook-id"], time.time()))
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def serve() -> None:
        servers = [await asyncio.start_server(handle, "127.0.0.1", port) for port in ports]
        conn.send("ready")
        loop = asyncio.get_running_loop()
        while not await loop.run_in_executor(None, conn.poll, 0.2):
            pass
        conn.recv()
        for server in servers:
            server.close()
        conn.send(arrivals)

    asyncio.run(serve())


class Receivers:
    def __init__(self, count: int):
        import socket

        self.ports = []
        for _ in range(count):
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                self.ports.append(sock.getsockname()[1])
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_receive, args=(self.ports, child), daemon=True)
        self._process.start()
        assert self._conn.recv() == "ready"

    def stop(self) -> list[tuple[str, float]]:
        self._conn.send("stop")
        arrivals = self._conn.recv()
        self._process.join()
        return arrivals


# ── ingestd's side ───────────────────────────────────────────────────────────


def _config(folder: Path, ports: list[int]) -> Any:
    from ingestd.config import load_config

    text = f'[storage]\npath = "{folder / "bench.db"}"\n[fetch]\nallow_private = ["127.0.0.1"]\n'
    for n, port in enumerate(ports):
        text += textwrap.dedent(f"""
            [[subscriptions]]
            id = "sub{n}"
            url = "http://127.0.0.1:{port}/hook"
            secret = "{SECRET}"
        """)
    path = folder / "ingestd.toml"
    path.write_text(text)
    return load_config(path, env={})


def _story(n: int) -> Any:
    from ingestd.models import Story

    body = f"Body of benchmark story {n}, long enough to look like a short wire item. " * 8
    return Story(
        feed_id="bench",
        source="yonhap",
        headline=f"Benchmark story {n}",
        body_text=body,
        guid=f"b{n}",
        url=f"https://example.org/{n}",
        language="en",
        ninjs={
            "type": "text",
            "language": "en",
            "headlines": [{"role": "main", "value": f"Benchmark story {n}"}],
            "bodies": [{"role": "main", "contentType": "text/plain", "value": body}],
        },
    )


async def _with_dispatcher(subscriptions: int, work: Any) -> list[tuple[str, float]]:
    """Run `work(writer, dispatcher, start_job)` against fresh receivers; their arrivals."""
    from ingestd.store import Writer
    from ingestd.webhooks import DISPATCH_EVERY_S, Dispatcher

    receivers = Receivers(subscriptions)
    jobs: list[asyncio.Task[None]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="ingestd-bench-") as folder:
            config = _config(Path(folder), receivers.ports)
            writer = Writer(config.storage.path)
            await writer.run(writer.store.sync_config_subscriptions, config.subscriptions, _utcnow())
            async with Dispatcher(writer, config) as dispatcher:

                async def job() -> None:  # the daemon's periodic job
                    while True:
                        await dispatcher.dispatch_due()
                        await asyncio.sleep(DISPATCH_EVERY_S)

                try:
                    await work(writer, dispatcher, lambda: jobs.append(asyncio.create_task(job())))
                finally:
                    for task in jobs:
                        task.cancel()
            writer.close()
    finally:
        arrivals = receivers.stop()
    return arrivals


def _utcnow() -> Any:
    from datetime import datetime

    return datetime.now(UTC)


async def _undelivered(writer: Any) -> int:
    def count() -> int:
        return writer.store.db.execute(
            "SELECT count(*) FROM deliveries WHERE state != 'delivered'"
        ).fetchone()[0]

    return await writer.run(count)


async def throughput(stories: int, subscriptions: int) -> float:
    """Deliveries per second of a backlog: committed first, then dispatched."""
    started = 0.0

    async def work(writer: Any, dispatcher: Any, start_job: Any) -> None:
        nonlocal started
        for first in range(0, stories, 100):
            await writer.run(
                save_stories,
                writer.store,
                [_story(n) for n in range(first, min(first + 100, stories))],
                _utcnow(),
            )
        started = time.time()
        start_job()
        while await _undelivered(writer):
            await asyncio.sleep(0.05)
        await dispatcher.join()

    arrivals = await _with_dispatcher(subscriptions, work)
    assert len(arrivals) == stories * subscriptions
    return len(arrivals) / (max(t for _, t in arrivals) - started)


async def latency(seconds: float, wake: bool) -> tuple[float, float, int]:
    committed: dict[str, float] = {}

    async def work(writer: Any, dispatcher: Any, start_job: Any) -> None:
        start_job()
        n = 0
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            [change] = await writer.run(save_stories, writer.store, [_story(n)], _utcnow())
            committed[change.event["id"]] = time.time()
            if wake:
                await dispatcher.dispatch_due()
            n += 1
            await asyncio.sleep(0.02)
        while await _undelivered(writer):
            await asyncio.sleep(0.05)
        await dispatcher.join()

    arrivals = await _with_dispatcher(1, work)
    first = {}
    for event_id, at in arrivals:
        first.setdefault(event_id, at)
    waits = sorted((first[e] - c) * 1000 for e, c in committed.items())
    p99 = waits[min(len(waits) - 1, round(0.99 * (len(waits) - 1)))]
    return statistics.median(waits), p99, len(waits)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stories", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3, help="throughput: the median of these")
    args = parser.parse_args()
    from ingestd import logs

    # the daemon's logging, one JSON line per attempt, written to nowhere
    logs.configure("json", "info", stream=open(os.devnull, "w"))
    for subscriptions in (1, 10):
        rate = statistics.median(
            asyncio.run(throughput(args.stories, subscriptions)) for _ in range(args.runs)
        )
        print(
            f"throughput  {subscriptions:>2} subscription(s), {args.stories} stories: "
            f"{rate:,.0f} deliveries/s (median of {args.runs})"
        )
    for wake in (False, True):
        p50, p99, count = asyncio.run(latency(args.seconds, wake))
        how = "job + dispatch after commit" if wake else "periodic job only"
        print(f"latency     commit -> receipt, {how} ({count} stories): p50 {p50:.1f} ms, p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()
