"""Polling at scale through the daemon's own poll and store (issues 4 and 12, "Measure").

    python bench/poll.py [--feeds 5000] [--per-kind 1000] [--hosts 100]
                         [--db-stories 0] [--changed 0.01] [--idle 0]
                         [--db PATH] [--workers 200] [--repeat 1]

One server process listens on 127.0.0.1 … 127.0.0.<hosts> (one port), so the
feeds spread over many hosts and the per-host limit (2) works as in real life.
Feed kinds, by URL path:

    /200/N    a new item on every request (new ETag): fetched, parsed; the 19 items
              stored before are skipped by their raw-content key, the new one is
              normalized, deduplicated and stored with its event
    /304/N    same ETag: the conditional GET answers 304
    /same/N   same body, no validators: fetched and hashed, not parsed again
    /slow/N   answers after 1 s
    /fail/N   HTTP 500, or the connection dropped

Every poll is `Daemon.poll_feed` on a real database (claims, the pipeline, the
composer, the writer, the feed's state and history row): nothing stops before the
store. The server runs in a child process, so its CPU is not counted.

Prints: time for a full round, polls/s, CPU per poll for a changed poll (200) vs
304 vs identical body, store included, and their shares; peak RSS (VmHWM). A round's CPU
is counted from its claim to its last poll's end: the claim of the feeds polled (a tick's
share of each poll) is in, claiming and handing back the bench's other feeds is not (the
bench claims every feed and releases those outside the round: 1,400 rows to poll 200).
`--repeat N` runs each kind's measured round N times and keeps the least CPU per poll
(the machine is shared: best of N).
`--db-stories N` first fills the database with N synthetic stories (bench/dedupe.py's
loader: rows, keys, versions, events, band rows, full-text index) and polls every feed
once, in a child process; the measured round then runs in this process on the big
database, with `--changed` of the feeds changed (one new item each) and the rest 304;
`--db PATH` keeps that database for the next run (the daemon loads the normalizer's
language model at start, in its CPU pool: `normalize.warm`). `--idle S` waits S seconds between a kind's two rounds: past the HTTP pool's
5 s keep-alive expiry, every poll connects anew (hosts polled less often than that);
0 (the default), each host's connection is reused. `--workers N` polls N at once (a burst of
200 queues requests in the host's HTTP pool, whose every step scans its connections).
Never part of the test run.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import multiprocessing
import random
import resource
import socket
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from ingestd import dedupe, logs
from ingestd.config import load_config
from ingestd.daemon import Daemon
from ingestd.store import Store
from ingestd.timeutil import utcnow

MIX = [("200", 0.40), ("304", 0.25), ("same", 0.20), ("slow", 0.05), ("fail", 0.10)]
ITEMS = 20


# ── the server (child process) ───────────────────────────────────────────────


def rss(feed: str, serial: int) -> bytes:
    """A ~25 KB RSS 2.0 document of ITEMS items; `serial` adds a newest item (each item's own
    fields, its date included, depend on its number alone: the others come back unchanged)."""
    items = []
    for k in range(ITEMS):
        n = serial - k
        items.append(
            f"<item><title>Story {n} of feed {feed}</title>"
            f"<link>https://news.example/{feed}/{n}</link>"
            f"<guid isPermaLink='false'>{feed}-{n}</guid>"
            f"<pubDate>Thu, 09 Jan 2020 {n // 60 % 24:02d}:{n % 60:02d}:00 +0900</pubDate>"
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
    base = int(time.time())  # a server started again on a kept database still brings new items
    fixed = gzip.compress(rss("fixed", 1000), 6)

    async def answer(path: str, headers: dict[str, str], writer) -> bool:
        kind = path.split("/")[1]
        extra = ""
        if kind == "200":
            serials[path] += 1
            body = gzip.compress(rss(path, base + serials[path]), 1)
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


# ── the client: the daemon itself ────────────────────────────────────────────


def write_config(folder: Path, feeds: list[tuple[str, str]], db: Path | None = None) -> Path:
    lines = [
        f'[storage]\npath = "{db or folder / "bench.db"}"\n[log]\nformat = "json"\nlevel = "warning"\n',
        '[fetch]\nallow_private = ["127.0.0.0/8"]\nmax_body = "15MB"\n',
        '[scheduler]\nworkers = 200\nmin_interval = "1s"\n',
    ]
    for feed_id, url in feeds:
        lines.append(f'[[feeds]]\nid = "{feed_id}"\nurl = "{url}"\ninterval = "1s"\n')
    path = folder / "ingestd.toml"
    path.write_text("".join(lines))
    return path


def make_feeds(
    kinds: list[tuple[str, int]], hosts: list[str], port: int, tag: str = ""
) -> list[tuple[str, str]]:
    feeds = []
    for kind, count in kinds:
        for i in range(count):
            host = hosts[len(feeds) % len(hosts)]
            feeds.append((f"{kind}-{tag}{i}", f"http://{host}:{port}/{kind}/{tag}{i}"))
    return feeds


WORKERS = 200  # polls at once, as [scheduler] workers (--workers)


async def round_of(daemon: Daemon, ids: list[str]) -> tuple[float, float, Counter[str]]:
    """Claim these feeds and poll them all at once; (wall s, CPU s, outcomes by status)."""
    store = daemon.writer.store
    cpu, wall = _cpu(), time.perf_counter()
    wanted = set(ids)
    claimed = await daemon.writer.run(
        store.claim_due, utcnow(), 1_000_000, all_feeds=True, owner=daemon.owner, lease=daemon.lease
    )
    others = [f.id for f in claimed if f.id not in wanted]
    if others:
        # the other feeds' share of the claim, and their release, are the bench's: not counted
        cpu += (_cpu() - cpu) * len(others) / len(claimed)
        skipped = _cpu()
        await daemon.writer.run(store.release_feeds, others, utcnow())
        cpu += _cpu() - skipped
    semaphore = asyncio.Semaphore(WORKERS)

    async def one(feed) -> None:
        async with semaphore:
            await daemon.poll_feed(feed)

    await asyncio.gather(*(one(f) for f in claimed if f.id in wanted))
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    rows = await daemon.writer.run(
        lambda: store.db.execute(
            f"SELECT status, new FROM polls WHERE id IN (SELECT max(id) FROM polls "
            f"WHERE feed_id IN ({','.join('?' * len(ids))}) GROUP BY feed_id)",
            ids,
        ).fetchall()
    )
    outcomes = Counter("200+new" if status == 200 and new else str(status) for status, new in rows)
    return wall, cpu, outcomes


def fill(path: Path, stories: int, feed_ids: list[str]) -> None:
    """N synthetic stories spread over the feeds, loaded straight into the tables by
    bench/dedupe.py's Loader (rows, keys, versions, events, band rows, full-text index).
    Run in a child process: the round's peak RSS is then the daemon's alone."""
    sys.path.insert(0, str(Path(__file__).parent))
    from dedupe import Loader  # bench/dedupe.py

    Store(path).close()  # the schema
    Loader(path, random.Random(1), feed_ids).load(stories)
    store = Store(path)
    store.set_meta("fingerprint.version", dedupe.FINGERPRINT_VERSION)  # nothing to rebuild
    store.close()


def fill_and_warm(config: Any, stories: int, ids: list[str]) -> None:
    if not Path(config.storage.path).exists():
        fill(Path(config.storage.path), stories, ids)

    async def warm() -> None:
        async with Daemon(config).open() as daemon:
            await round_of(daemon, ids)

    asyncio.run(warm())


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)  # all threads, not the server
    return usage.ru_utime + usage.ru_stime


def _memory() -> str:
    """This process's resident memory now: anonymous vs file-backed (the database's mapping)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return ", ".join(f"{k} {int(fields[k].split()[0]) / 1024:.0f} MiB" for k in ("RssAnon", "RssFile"))


def _hwm_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def bench(args: argparse.Namespace, hosts: list[str], port: int, folder: Path) -> None:
    if args.db_stories:
        kinds = [
            ("200", round(args.feeds * args.changed)),
            ("304", args.feeds - round(args.feeds * args.changed)),
        ]
    else:
        kinds = [(k, round(args.feeds * share)) for k, share in MIX]
    mixed = make_feeds(kinds, hosts, port)
    per_kind = {
        kind: make_feeds([(kind, args.per_kind)], hosts, port, "k") for kind in ("200", "304", "same")
    }
    if args.db_stories:
        per_kind = {}
    feeds = mixed + [f for fs in per_kind.values() for f in fs]
    config = load_config(write_config(folder, feeds, args.db), env={})
    logs.configure(config.log.format, config.log.level)
    ids = [f for f, _ in mixed]
    if args.db_stories:
        # filled and polled once (validators learnt, what the feeds hold stored) in a
        # child process: the measured round's peak RSS is the daemon's alone
        filler = multiprocessing.Process(target=fill_and_warm, args=(config, args.db_stories, ids))
        filler.start()
        filler.join()
    async with Daemon(config).open() as daemon:
        started = _hwm_mib()
        if not args.db_stories:
            await round_of(daemon, ids)  # first polls: learn validators, store what is there
        wall, cpu, outcomes = await round_of(daemon, ids)
        print(f"full round, {len(ids)} feeds due at once ({len(hosts)} hosts):")
        print(
            f"  time {wall:.2f} s, {len(ids) / wall:.0f} polls/s, CPU {cpu:.2f} s ({cpu / len(ids) * 1000:.2f} ms/poll)"
        )
        print(f"  outcomes: {dict(sorted(outcomes.items()))}")
        if args.db_stories:
            peak, now = _hwm_mib(), _memory()  # before counting: a count reads every page
            stories = daemon.writer.store.count("stories")
            size = Path(config.storage.path).stat().st_size / 2**20
            print(
                f"  database: {stories} stories, {size:.0f} MiB; VmHWM {started:.0f} MiB after start, "
                f"{peak:.0f} MiB after the round ({now})"
            )
            return
        per_poll = {}
        for kind, feeds in per_kind.items():
            kind_ids = [f for f, _ in feeds]
            await round_of(daemon, kind_ids)
            per_poll[kind] = float("inf")
            for _ in range(args.repeat):
                await asyncio.sleep(args.idle)  # past the pool's keep-alive expiry: a connect per poll
                wall, cpu, outcomes = await round_of(daemon, kind_ids)
                per_poll[kind] = min(per_poll[kind], cpu / len(kind_ids))
            print(
                f"{kind:>4}: {len(kind_ids)} polls in {wall:.2f} s, CPU {per_poll[kind] * 1000:.2f} ms/poll {dict(outcomes)}"
            )
    for kind in ("304", "same"):
        share = per_poll[kind] / per_poll["200"]
        print(
            f"{kind} costs {share:.1%} of a changed poll, store included ({'under' if share < 0.02 else 'OVER'} the 2% target)"
        )
    print(f"peak RSS (VmHWM) {_hwm_mib():.0f} MiB")


def main() -> None:
    global WORKERS
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=5000)
    parser.add_argument("--per-kind", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--db-stories", type=int, default=0)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument(
        "--idle", type=float, default=0.0, help="seconds between a kind's two rounds (6: connections expired)"
    )
    parser.add_argument(
        "--db", type=Path, help="keep the big database here; reused (not filled again) when it exists"
    )
    parser.add_argument("--workers", type=int, default=WORKERS, help="polls at once")
    parser.add_argument("--repeat", type=int, default=1, help="measured rounds per kind (best kept)")
    args = parser.parse_args()
    WORKERS = args.workers
    hosts = [f"127.0.0.{i}" for i in range(1, args.hosts + 1)]
    port = free_port()
    ready = multiprocessing.Event()
    server = multiprocessing.Process(target=serve, args=(hosts, port, ready), daemon=True)
    server.start()
    try:
        if not ready.wait(30):
            sys.exit("the bench server did not start")
        with tempfile.TemporaryDirectory(prefix="ingestd-bench-") as folder:
            asyncio.run(bench(args, hosts, port, Path(folder)))
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
