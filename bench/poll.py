"""Polling at scale (issue 4, "Measure"): 5,000 feeds on one local server, all due at once.

    python bench/poll.py [--feeds 5000] [--per-kind 1000] [--hosts 100]

One server process listens on 127.0.0.1 … 127.0.0.<hosts> (one port), so the
feeds spread over many hosts and the per-host limit (2) works as in real life.
Feed kinds, by URL path:

    /200/N    a new item on every request (new ETag): fetched, hashed, parsed, normalized
    /304/N    same ETag: the conditional GET answers 304
    /same/N   same body, no validators: fetched and hashed, not parsed again
    /slow/N   answers after 1 s
    /fail/N   HTTP 500, or the connection dropped

A poll here does what the daemon's poll does up to the store: Fetcher.fetch with
the stored validators, sha256 of the body, and parse + normalize
(ingestd.pipeline.process) in a worker pool when the body changed. Store writes
are not included. The server runs in a child process, so its CPU is not counted.

Prints: time for a full round, polls/s, CPU seconds per poll for 200 vs 304 vs
identical body, and peak RSS. Never part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import multiprocessing
import os
import resource
import socket
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from ingestd import normalize
from ingestd.errors import IngestError
from ingestd.fetch import Fetcher
from ingestd.pipeline import process

MIX = [("200", 0.40), ("304", 0.25), ("same", 0.20), ("slow", 0.05), ("fail", 0.10)]
ITEMS = 20


# ── the server (child process) ───────────────────────────────────────────────


def rss(feed: str, serial: int) -> bytes:
    """A ~25 KB RSS 2.0 document of ITEMS items; `serial` changes the newest item."""
    items = []
    for k in range(ITEMS):
        n = serial - k
        items.append(
            f"<item><title>Story {n} of feed {feed}</title>"
            f"<link>https://news.example/{feed}/{n}</link>"
            f"<guid isPermaLink='false'>{feed}-{n}</guid>"
            f"<pubDate>Thu, 09 Jan 2020 {k % 24:02d}:{n % 60:02d}:00 +0900</pubDate>"
            f"<description>&lt;p&gt;SEOUL, Jan. 9 (Yonhap) -- "
            + "Paragraph of wire copy about the day's events. " * 20
            + "&lt;/p&gt;</description></item>"
        )
    return (
        f"<?xml version='1.0' encoding='UTF-8'?><rss version='2.0'><channel>"
        f"<title>Feed {feed}</title><link>https://news.example/{feed}</link>"
        f"<description>bench</description>{''.join(items)}</channel></rss>"
    ).encode()


def serve(hosts: list[str], port: int, ready) -> None:
    serials: Counter[str] = Counter()
    fixed = gzip.compress(rss("fixed", 1000), 6)

    async def answer(path: str, headers: dict[str, str], writer) -> bool:
        kind = path.split("/")[1]
        extra = ""
        if kind == "200":
            serials[path] += 1
            body = gzip.compress(rss(path, 1000 + serials[path]), 1)
            extra = f'ETag: "{serials[path]}"\r\n'
        elif kind == "304":
            if headers.get("if-none-match") == '"v1"':
                writer.write(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n')
                return True
            body, extra = fixed, 'ETag: "v1"\r\n'
        elif kind == "fail":
            serials[path] += 1
            if serials[path] % 2:
                return False  # drop the connection without a word
            writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
            return True
        else:
            if kind == "slow":
                await asyncio.sleep(1.0)
            body = fixed
        writer.write(
            f"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
            f"Content-Encoding: gzip\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode()
            + body
        )
        return True

    async def handle(reader, writer) -> None:
        try:
            while True:  # keep-alive: one request after another
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                if not await answer(path, headers, writer):
                    break
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(handle, hosts, port, backlog=4096)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(main())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ── the client ───────────────────────────────────────────────────────────────


@dataclass
class FeedRow:
    url: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


async def poll(fetcher: Fetcher, feed: FeedRow, pool: ThreadPoolExecutor, profiles) -> str:
    """One poll, as the daemon does it up to the store; returns what it came to."""
    try:
        result = await fetcher.fetch(feed.url, etag=feed.etag, last_modified=feed.last_modified)
    except IngestError:
        return "error"
    feed.etag = result.etag or feed.etag
    feed.last_modified = result.last_modified or feed.last_modified
    if result.not_modified:
        return "304"
    body_hash = hashlib.sha256(result.body).hexdigest()
    if body_hash == feed.body_hash:
        return "same"
    feed.body_hash = body_hash
    loop = asyncio.get_running_loop()
    processed = await loop.run_in_executor(
        pool,
        partial(
            process,
            result.body,
            feed_id=feed.url,
            source=None,
            now=datetime.now(UTC),
            profiles=profiles,
            url=result.final_url,
            content_type=result.headers.get("content-type"),
        ),
    )
    return "200" if processed.stories else "parse-error"


async def round_of(
    fetcher: Fetcher, feeds: list[FeedRow], pool, profiles
) -> tuple[float, float, Counter[str]]:
    """Poll every feed at once; (wall seconds, CPU seconds, outcomes)."""
    cpu, wall = _cpu(), time.perf_counter()
    outcomes = Counter(await asyncio.gather(*(poll(fetcher, f, pool, profiles) for f in feeds)))
    return time.perf_counter() - wall, _cpu() - cpu, outcomes


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # all threads, not the server
    return usage.ru_utime + usage.ru_stime


def make_feeds(kinds: list[tuple[str, int]], hosts: list[str], port: int) -> list[FeedRow]:
    feeds = []
    for kind, count in kinds:
        for i in range(count):
            feeds.append(FeedRow(f"http://{hosts[len(feeds) % len(hosts)]}:{port}/{kind}/{i}"))
    return feeds


async def bench(args: argparse.Namespace, hosts: list[str], port: int) -> None:
    profiles = normalize.load_profiles(None)
    imported = _peak_rss_mib()
    # The first parse loads models (language detection, …): count them apart from polling.
    process(rss("warm-up", 1), feed_id="warm-up", source=None, now=datetime.now(UTC), profiles=profiles)
    warmed = _peak_rss_mib()
    pool = ThreadPoolExecutor(max_workers=os.cpu_count() or 2)
    fetcher = Fetcher(
        timeout=20.0,
        connect_timeout=10.0,
        user_agent="ingestd-bench/0.1",
        allow_private=["127.0.0.0/8"],
        max_body=15_000_000,
        max_redirects=5,
    )
    async with fetcher:
        mixed = make_feeds([(k, round(args.feeds * share)) for k, share in MIX], hosts, port)
        await round_of(fetcher, mixed, pool, profiles)  # first polls: learn validators
        wall, cpu, outcomes = await round_of(fetcher, mixed, pool, profiles)
        print(
            f"full round, {len(mixed)} feeds due at once ({len(hosts)} hosts, global limit 50, per host 2):"
        )
        print(
            f"  time {wall:.2f} s, {len(mixed) / wall:.0f} polls/s, "
            f"CPU {cpu:.2f} s ({cpu / len(mixed) * 1000:.2f} ms/poll)"
        )
        print(f"  outcomes: {dict(sorted(outcomes.items()))}")

        per_poll = {}
        for kind in ("200", "304", "same"):
            feeds = make_feeds([(kind, args.per_kind)], hosts, port)
            feeds = [FeedRow(f.url.replace(f"/{kind}/", f"/{kind}/k")) for f in feeds]
            await round_of(fetcher, feeds, pool, profiles)
            wall, cpu, outcomes = await round_of(fetcher, feeds, pool, profiles)
            assert outcomes == Counter({kind: len(feeds)}), outcomes
            per_poll[kind] = cpu / len(feeds)
            print(f"{kind:>4}: {len(feeds)} polls in {wall:.2f} s, CPU {per_poll[kind] * 1000:.2f} ms/poll")
    for kind in ("304", "same"):
        share = per_poll[kind] / per_poll["200"]
        verdict = "under" if share < 0.2 else "OVER"
        print(f"{kind} costs {share:.1%} of a 200 ({verdict} the 20% target)")
    print(
        f"peak RSS {_peak_rss_mib():.0f} MiB (client process; {imported:.0f} MiB after "
        f"imports, {warmed:.0f} MiB after the first parse, before any poll)"
    )
    pool.shutdown()


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=5000)
    parser.add_argument("--per-kind", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=100)
    args = parser.parse_args()
    hosts = [f"127.0.0.{i}" for i in range(1, args.hosts + 1)]
    port = free_port()
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(hosts, port, ready), daemon=True)
    server.start()
    try:
        if not ready.wait(30):
            sys.exit("the bench server did not start")
        asyncio.run(bench(args, hosts, port))
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
