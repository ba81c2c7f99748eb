"""The lease queue's ceiling with 1, 2 and 3 replicas on one PostgreSQL, beside SQLite.

    python bench/scale.py [--url postgresql://postgres@127.0.0.1:5432/test] [--feeds 3000] [--batch 20]

Each replica is a process running the store's side of a poll round and nothing else: claim
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
import statistics
import sys
import tempfile
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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--feeds", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=20)
    args = parser.parse_args()
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
