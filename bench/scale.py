"""Replicas on one PostgreSQL, beside SQLite: the lease queue's ceiling, and real daemons.

    python bench/scale.py [--url postgresql://postgres@127.0.0.1:5432/test] [--feeds 3000] [--batch 20]
    python bench/scale.py --daemons [--url …] [--feeds 600] [--window 15]

`--daemons`: real `ingestd run` processes (1, 2 and 3 on one PostgreSQL, and one on a
SQLite file) polling feeds served as pre-rendered bytes by one server process on six
loopback hosts (tests/support/newsroom.py). Every feed is due every second, more than the
replicas can poll, so the figure is their capacity: polls per second over a window once
every feed has been polled once (later polls find the same body: claim, host slot, fetch,
history row and feed state, no parse), median of 3 runs, each on a fresh schema or file.
Beside it: the replicas' CPU seconds and the machine's busy share over the window, and
lock waits (sessions of the database waiting on a lock, sampled every 100 ms). Then the
failover: two replicas on 100 of the feeds (time to spare), one killed -9 mid-poll; for
each feed it held, the seconds from its lease's end to its first poll by the other.

Without `--daemons`:
each replica is a process running the store's side of a poll round and nothing else: claim
a batch of due feeds (`claim_due`, FOR UPDATE SKIP LOCKED), then write each feed's fenced
`FeedUpdate` (its next poll an hour on), until no feed is due. That is the coordination a
poll pays to the database, without fetching or parsing, so the figure is the ceiling the
queue sets, not the daemon's polls per second. Median of 3 runs per replica count, each on
a fresh schema (dropped after); the SQLite figure is one process on a file, the single-node
setup. Also: claim latency (p50/p95 of one `claim_due` call), how many claims came back
short while feeds were left (rows skipped because another replica held them: SKIP LOCKED
never waits), CPU seconds of the replicas, and the failover time after a replica dies
holding leases (its lease's end to another replica's claim). Never part of the test run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from ingestd.models import FeedConfig, FeedUpdate  # noqa: E402
from ingestd.store import Store  # noqa: E402
from ingestd.store.pg import PgStore  # noqa: E402
from tests.support.newsroom import Newsroom  # noqa: E402
from tests.support.ports import free_port  # noqa: E402
from tests.support.processes import INGESTD, clean_env  # noqa: E402

LEASE = timedelta(minutes=5)


def _open(url: str) -> Any:
    return Store(url.removeprefix("sqlite:///")) if url.startswith("sqlite:///") else PgStore(url)


def _seed(url: str, feeds: int) -> None:
    store = _open(url)
    at = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(feeds):
        store.add_feed(FeedConfig(f"f{i:05d}", f"https://h{i % 50}.example/{i}"), "api", at)
    store.close()


def _replica(url: str, owner: str, batch: int, out: Any) -> None:
    store = _open(url)  # connected before the clock starts: a replica's start is not the queue's cost
    latencies, short, done = [], 0, 0
    cpu, began = time.process_time(), time.time()
    while True:
        started = time.perf_counter()
        claimed = store.claim_due(datetime.now(UTC), batch, owner=owner, lease=LEASE)
        latencies.append(time.perf_counter() - started)
        if not claimed:
            break
        short += len(claimed) < batch
        later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        for feed in claimed:
            with store.transaction():
                store.apply([FeedUpdate.of(feed.id, {"next_poll_at": later, "error_count": 0}, owner)])
        done += len(claimed)
    ended = time.time()
    store.close()
    # a replica's last batch is short because the work ran out, not because of another replica
    out.put((done, latencies, max(short - 1, 0), time.process_time() - cpu, began, ended))


def _round(url: str, replicas: int, batch: int) -> dict[str, float]:
    out: Any = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_replica, args=(url, f"r{i}", batch, out)) for i in range(replicas)
    ]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=600) for _ in procs]
    elapsed = max(r[5] for r in results) - min(r[4] for r in results)
    for proc in procs:
        proc.join()
    latencies = sorted(x for r in results for x in r[1])
    return {
        "per_s": sum(r[0] for r in results) / elapsed,
        "p50_ms": 1000 * latencies[len(latencies) // 2],
        "p95_ms": 1000 * latencies[int(len(latencies) * 0.95)],
        "short": sum(r[2] for r in results),
        "cpu_s": sum(r[3] for r in results),
        "wall_s": elapsed,
    }


def _fresh_schema(url: str) -> tuple[str, str]:
    schema = f"ingestd_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return schema, f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"


def _drop_schema(url: str, schema: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def _failover(url: str, lease_s: float) -> float:
    """A replica claims a feed and dies (never writes); another claims every 50 ms, as a
    daemon's tick would far less often: the seconds from the lease's end to its claim."""
    schema, scoped = _fresh_schema(url)
    try:
        _seed(scoped, 1)
        store = PgStore(scoped)
        claimed_at = datetime.now(UTC)
        store.claim_due(claimed_at, 1, owner="dead", lease=timedelta(seconds=lease_s))
        expires = claimed_at.timestamp() + lease_s
        while not store.claim_due(datetime.now(UTC), 1, owner="alive", lease=LEASE):
            time.sleep(0.05)
        store.close()
        return time.time() - expires
    finally:
        _drop_schema(url, schema)


# ── real daemons ─────────────────────────────────────────────────────────────

HOSTS = 6
FETCH_TIMEOUT_S = 2  # a lease is 2 x this + 30 s: what the failover waits out
FAILOVER_FEEDS = 100


def _serve(feeds: int, urls: Any, stop: Any) -> None:
    """The server process: every feed's bytes rendered before the first request."""
    room = Newsroom(feeds, hosts=HOSTS, delay=0.0).start()
    room.freeze()  # round 0 for good: after its first poll a feed's body never changes
    for n in range(feeds):
        room.body(n, 0)
    urls.put([room.url(n) for n in range(feeds)])
    stop.wait()
    room.stop()


def _daemon_config(folder: Path, urls: list[str]) -> Path:
    text = (
        '[log]\nformat = "json"\nlevel = "warning"\n'
        f'[fetch]\nallow_private = ["127.0.0.0/8"]\ntimeout = "{FETCH_TIMEOUT_S}s"\nper_host_limit = 10\n'
        '[scheduler]\ntick = "100ms"\nworkers = 20\nmin_interval = "1s"\nmax_interval = "1s"\n'
    )
    for n, url in enumerate(urls):
        text += f'[[feeds]]\nid = "f{n:04d}"\nurl = "{url}"\ninterval = "1s"\n'
    path = folder / "ingestd.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _start(config: Path, storage: str, folder: Path) -> subprocess.Popen[bytes]:
    env = clean_env(INGESTD_STORAGE_URL=storage, INGESTD_HTTP_LISTEN=f"127.0.0.1:{free_port()}")
    log = (folder / f"replica-{uuid.uuid4().hex[:6]}.log").open("wb")
    return subprocess.Popen([*INGESTD, "run", "--config", str(config)], env=env, stdout=log, stderr=log)


def _query(storage: str, sql: str, params: list[Any]) -> Any:
    """One value, from either engine (SQLite's times are UTC text, to the second)."""
    if storage.startswith("sqlite:///"):
        with sqlite3.connect(storage.removeprefix("sqlite:///"), timeout=30) as conn:
            sql = sql.replace("%s", "?")
            return conn.execute(
                sql, [p.strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(p, datetime) else p for p in params]
            ).fetchone()[0]
    with psycopg.connect(storage, autocommit=True) as conn:
        row = conn.execute(sql, params).fetchone()
        return row[0] if row else None


def _polled_feeds(storage: str) -> int:
    """Feeds polled at least once (0 until the first replica has migrated)."""
    try:
        return int(_query(storage, "SELECT count(DISTINCT feed_id) FROM polls", []) or 0)
    except (sqlite3.OperationalError, psycopg.errors.UndefinedTable):
        return 0


def _cpu_s(pid: int) -> float:
    """A process's user + system CPU seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of all CPUs since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


class _LockWaits(threading.Thread):
    """Samples, every 100 ms, how many sessions of the database wait on a lock."""

    def __init__(self, storage: str):
        super().__init__(daemon=True)
        self.storage, self.samples, self.stop = storage, [], threading.Event()

    def run(self) -> None:
        if not self.storage.startswith("postgres"):
            return
        with psycopg.connect(self.storage, autocommit=True) as conn:
            while not self.stop.wait(0.1):
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                ).fetchone()
                self.samples.append(row[0] if row else 0)


def _daemon_run(storage: str, urls: list[str], replicas: int, window: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        config = _daemon_config(folder, urls)
        procs = [_start(config, storage, folder) for _ in range(replicas)]
        try:
            deadline = time.monotonic() + 600
            # the first pass parses and stores every feed's items; the window starts after it
            while _polled_feeds(storage) < len(urls):
                if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
                    raise SystemExit("replicas did not poll every feed (see their logs)")
                time.sleep(0.5)
            time.sleep(2)
            waits = _LockWaits(storage)
            waits.start()
            cpu0, busy0 = [_cpu_s(p.pid) for p in procs], _machine_busy()
            # whole seconds: SQLite's history rows keep a poll's start to the second
            time.sleep(1 - time.time() % 1)
            began = datetime.now(UTC).replace(microsecond=0)
            time.sleep(window)
            ended = began + timedelta(seconds=window)
            cpu1, busy1 = [_cpu_s(p.pid) for p in procs], _machine_busy()
            waits.stop.set()
            waits.join()
            polls = _query(
                storage,
                "SELECT count(*) FROM polls WHERE started_at >= %s AND started_at < %s",
                [began, ended],
            )
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                proc.wait(30)
    seconds = (ended - began).total_seconds()
    return {
        "per_s": polls / seconds,
        "cpu_s": sum(cpu1) - sum(cpu0),
        "busy": (busy1[0] - busy0[0]) / (busy1[1] - busy0[1]),
        "lock_waits": statistics.mean(waits.samples) if waits.samples else 0.0,
        "waiting": sum(1 for n in waits.samples if n) / len(waits.samples) if waits.samples else 0.0,
    }


def _daemon_failover(url: str, urls: list[str]) -> list[float]:
    """Two replicas; one killed -9. For each feed it held then: its lease's end to its first
    poll by the other."""
    schema, scoped = _fresh_schema(url)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            config = _daemon_config(folder, urls)
            victim, survivor = _start(config, scoped, folder), _start(config, scoped, folder)
            try:
                while _polled_feeds(scoped) < len(urls):
                    time.sleep(0.5)
                with psycopg.connect(scoped, autocommit=True) as conn:
                    holding = "SELECT count(*) FROM feeds WHERE lease_owner LIKE %s"
                    while not conn.execute(holding, [f"%:{victim.pid}:%"]).fetchone()[0]:  # type: ignore[index]
                        time.sleep(0.01)
                    victim.send_signal(signal.SIGKILL)  # mid-poll: it dies holding leases
                    victim.wait(10)
                    held = conn.execute(
                        "SELECT id, lease_until FROM feeds WHERE lease_owner LIKE %s", [f"%:{victim.pid}:%"]
                    ).fetchall()
                    ends = dict(held)
                    delays: dict[str, float] = {}
                    deadline = time.monotonic() + 120
                    # last_poll_at is the poll's start (history rows keep whole seconds); sampled
                    # more often than a feed's 1 s interval, so the first poll after is seen
                    while len(delays) < len(ends) and time.monotonic() < deadline:
                        time.sleep(0.1)
                        for feed_id, polled in conn.execute(
                            "SELECT id, last_poll_at FROM feeds WHERE id = ANY(%s)", [list(ends)]
                        ):
                            if feed_id not in delays and polled is not None and polled >= ends[feed_id]:
                                delays[feed_id] = (polled - ends[feed_id]).total_seconds()
            finally:
                for proc in (victim, survivor):
                    if proc.poll() is None:
                        proc.send_signal(signal.SIGTERM)
                        proc.wait(30)
        return sorted(delays.values())
    finally:
        _drop_schema(url, schema)


def daemons(url: str, feeds: int, window: int, runs: int) -> None:
    urls_queue: Any = multiprocessing.Queue()
    stop: Any = multiprocessing.Event()
    server = multiprocessing.Process(target=_serve, args=(feeds, urls_queue, stop), daemon=True)
    server.start()
    urls = urls_queue.get(timeout=120)
    print(
        f"{feeds} feeds on {HOSTS} loopback hosts, every one due every second; {window} s windows, "
        f"median of {runs}; "
        f"{os.cpu_count()} CPUs shared with PostgreSQL and the feed server; load {os.getloadavg()[0]:.1f}"
    )
    rows: dict[str, dict[str, float]] = {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            rows["sqlite, 1 process"] = _median(
                [_daemon_run(f"sqlite:///{folder}/run-{n}.db", urls, 1, window) for n in range(runs)]
            )
        for replicas in (1, 2, 3):
            measured = []
            for _ in range(runs):
                schema, scoped = _fresh_schema(url)
                try:
                    measured.append(_daemon_run(scoped, urls, replicas, window))
                finally:
                    _drop_schema(url, schema)
            rows[f"postgresql, {replicas} replica{'s' if replicas > 1 else ''}"] = _median(measured)
        one = rows["postgresql, 1 replica"]["per_s"]
        print(
            f"{'setup':<24}{'polls/s':>9}{'vs 1':>7}{'cpu s':>8}{'busy':>7}{'lock waits':>12}{'waiting':>9}"
        )
        for name, row in rows.items():
            print(
                f"{name:<24}{row['per_s']:>9.1f}{row['per_s'] / one:>6.2f}x{row['cpu_s']:>8.1f}"
                f"{row['busy']:>6.0%}{row['lock_waits']:>12.2f}{row['waiting']:>8.0%}"
            )
        # failover on 100 of the feeds: replicas with time to spare, as a deployment has
        delays = [d for _ in range(runs) for d in _daemon_failover(url, urls[:FAILOVER_FEEDS])]
        if delays:
            print(
                f"failover after kill -9, {FAILOVER_FEEDS} feeds, {runs} kills ({len(delays)} feeds held): "
                f"lease end to polled again median {statistics.median(delays):.2f}s, max {max(delays):.2f}s"
            )
    finally:
        stop.set()
        server.join(10)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--feeds", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--daemons", action="store_true", help="real `ingestd run` replicas")
    parser.add_argument("--window", type=int, default=15, help="seconds measured per run (--daemons)")
    parser.add_argument("--runs", type=int, default=3, help="runs per setup, the median shown (--daemons)")
    args = parser.parse_args()
    if args.daemons:
        daemons(args.url, args.feeds if args.feeds != 3000 else 600, args.window, args.runs)
        return
    print(f"{args.feeds} feeds, batches of {args.batch}, {os.cpu_count()} CPUs (shared with PostgreSQL)")
    rows: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as folder:
        runs = []
        for n in range(3):
            url = f"sqlite:///{folder}/bench-{n}.db"
            _seed(url, args.feeds)
            runs.append(_round(url, 1, args.batch))
        rows["sqlite, 1 process"] = _median(runs)
    for replicas in (1, 2, 3):
        runs = []
        for _ in range(3):
            schema, scoped = _fresh_schema(args.url)
            try:
                _seed(scoped, args.feeds)
                runs.append(_round(scoped, replicas, args.batch))
            finally:
                _drop_schema(args.url, schema)
        rows[f"postgresql, {replicas} replica{'s' if replicas > 1 else ''}"] = _median(runs)
    one = rows["postgresql, 1 replica"]["per_s"]
    print(
        f"{'setup':<24}{'feeds/s':>9}{'vs 1':>7}{'claim p50':>11}{'p95':>8}{'short':>7}{'cpu s':>7}{'wall s':>8}"
    )
    for name, row in rows.items():
        print(
            f"{name:<24}{row['per_s']:>9.0f}{row['per_s'] / one:>6.2f}x{row['p50_ms']:>9.1f}ms"
            f"{row['p95_ms']:>6.1f}ms{row['short']:>7.0f}{row['cpu_s']:>7.1f}{row['wall_s']:>8.1f}"
        )
    delays = [_failover(args.url, 1.0) for _ in range(3)]
    print(
        f"failover (lease end to the feed claimed again, 50 ms claim loop): median {statistics.median(delays):.3f}s"
    )


def _median(runs: list[dict[str, float]]) -> dict[str, float]:
    ordered = sorted(runs, key=lambda r: r["per_s"])
    return ordered[len(ordered) // 2]


if __name__ == "__main__":
    main()
