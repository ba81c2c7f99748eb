"""Dedupe at scale (issue 5, "Measure"): ingest cost per story with 10k, 100k and 1M stored.

    python bench/dedupe.py [--sizes 10000,100000,1000000] [--measure N] [--rounds N] [--db PATH]

One database grows in steps. Before each measurement it is bulk-loaded up to the
next size with synthetic stories, straight SQL in one transaction with rows in key
order: stories, their identity keys, versions, outbox events and band-index rows
(random bands: unrelated texts share none). The deployment ingests RATE stories a
day, so a bigger database is one with a longer past: 10k stored is a day of
stories, 1M a hundred days, and a 3-day cluster window holds 10k stories at the
first size and 30k at the others. Among them, 2,000 stories with real text and
fingerprints, published in the last two days, for the measured stories to be
copies of.

A measurement is `--measure` stories through `compose.save_stories`, in polls of 50
(one transaction each, as the daemon writes a poll), each poll from one feed:
40 new stories, 5 copies of another feed's stored stories with a line added (the
cluster path: band lookups, candidates fetched and compared), 5 of the feed's own
stored stories seen again (unchanged). They run in rounds and the median round
counts, so that other work on the machine does not decide the figure. Prints the
cost per story (wall clock, and CPU) at each size and the ratio of the largest to
the smallest. Never part of the test run.

`--mmap 0,4294967296` measures each size once per `PRAGMA mmap_size` given, each in
a fresh process on the same database (the store's own setting overridden), and
prints its peak RSS (VmHWM) beside the cost: pages read through the mapping count
in RSS, pages read into the page cache are bounded by `cache_size`.

    python bench/dedupe.py --cpu [--baseline DIR] [--rounds 3] [--repeat 5]

instead measures what prepare spends on dedupe, CPU per story, on bench/pipeline.py's two
corpora (the real feeds, the synthetic 40 x 50): the fingerprint with the signature the
store keeps (`fingerprint` + `encode`) and the identity keys (`canonical_url` + `identify`).
Each round is a fresh process: its first pass over the stories (a cold vocabulary of word
hashes) and the best of `--repeat` passes after it. `--baseline DIR` is older code's tree
(`git archive BASE ingestd | tar -x -C DIR`): its rounds alternate with the current code's
(best of the rounds), and the ratios are printed, with whether both made the same
fingerprints and keys.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from structlog.testing import capture_logs

from ingestd import dedupe
from ingestd.compose import save_stories
from ingestd.models import Story
from ingestd.store import Store

NOW = datetime(2020, 3, 1, tzinfo=UTC)
POLL = 50
RATE = 10_000  # stories a day: story n of the synthetic past was published n / RATE days ago
DAY = 86_400
CHUNK = 100_000  # stories generated, sorted and inserted at a time: bounds the loader's memory
REAL_FEEDS, REAL_PER_FEED = 40, 50
WORDS = [
    f"{a}{b}"
    for a in ("ka", "lo", "mi", "ne", "po", "ru", "sa", "te", "vu", "zo", "bi", "de", "fa", "gu", "ho", "ji")
    for b in (
        "ran",
        "tel",
        "mos",
        "dik",
        "pun",
        "lar",
        "ves",
        "gom",
        "fit",
        "nob",
        "sul",
        "wep",
        "cas",
        "ror",
        "min",
        "tak",
        "bel",
        "dor",
        "gis",
        "hup",
    )
]


def story_id(n: int) -> str:
    return "st_" + hashlib.sha256(f"bench:{n}".encode()).hexdigest()[:20]


def text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(words)).capitalize() + "."


class Loader:
    """Synthetic stored stories, appended straight into the tables."""

    def __init__(self, path: Path, rng: random.Random, feeds: list[str] | None = None):
        self.path, self.rng, self.count = path, rng, 0
        self.feeds = feeds or [f"feed-{n}" for n in range(1000)]  # the stories' feeds, in turn
        self.np_rng = np.random.default_rng(rng.getrandbits(32))
        self.bodies = [text(rng, 25) for _ in range(1000)]
        # stored signatures, as the store keeps them beside each story
        self.signatures = [dedupe.encode(dedupe.fingerprint("", body)) for body in self.bodies]  # type: ignore[arg-type]
        self.real: list[tuple[str, str, str, str]] = []  # (feed, guid, headline, body)

    def load(self, target: int) -> float:
        """Up to `target` stories, the last REAL_FEEDS * REAL_PER_FEED of them real."""
        started = time.perf_counter()
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA cache_size=-2000000")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        first, self.count = self.count, target
        real = range(target - REAL_FEEDS * REAL_PER_FEED, target)
        for chunk in range(first, target, CHUNK):
            self._chunk(conn, range(chunk, min(chunk + CHUNK, target)), real)
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        return time.perf_counter() - started

    def _chunk(self, conn: sqlite3.Connection, numbers: range, real: range) -> None:
        stories, keys, versions, events, band_rows = [], [], [], [], []
        random_bands = self.np_rng.integers(
            -(2**63), 2**63 - 1, size=(len(numbers), dedupe.BANDS), dtype=np.int64, endpoint=True
        ).tolist()
        for n, bands in zip(numbers, random_bands):
            sid, feed, guid = story_id(n), self.feeds[n % len(self.feeds)], f"item-{n}"
            if n in real:
                feed = f"real-{(n - real.start) // REAL_PER_FEED}"
                headline, body = text(self.rng, 8), text(self.rng, 60)
                at = int((NOW - timedelta(hours=self.rng.uniform(1, 48))).timestamp())
                found = dedupe.fingerprint(headline, body)
                bands = list(found.bands)
                shingles, numbers = dedupe.encode(found)
                self.real.append((feed, guid, headline, body))
            else:  # never looked at: a body from a pool, a headline of its own
                headline, body = f"Story {n} of {feed}", self.bodies[n % len(self.bodies)]
                at = int(NOW.timestamp()) - n * DAY // RATE - 1
                shingles, numbers = self.signatures[n % len(self.bodies)]
            content = dedupe.content_hash(
                Story(feed_id=feed, source="bench", headline=headline, body_text=body)
            )
            written = datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            stories.append(
                (
                    sid,
                    feed,
                    "bench",
                    f"https://{feed}.example/{guid}",
                    guid,
                    1,
                    content,
                    headline,
                    body,
                    written,
                    written,
                    written,
                    sid,
                    1,
                    json.dumps({"at": at, "bands": bands}),
                    shingles,
                    numbers,
                )
            )
            keys += [
                (f"guid:{feed}:{guid}", sid),
                (f"url:https://{feed}.example/{guid}", sid),
                (f"content:{content}", sid),
            ]
            versions.append((sid, 1, content, "{}", "{}", written))
            events.append((f"evt_{sid}", "story.created", sid, 1, written, written))
            band_rows += [(at // DAY, band, sid, at) for band in bands]
        conn.executemany(
            "INSERT INTO stories (id, feed_id, source, url, guid, version, content_hash, headline, "
            "body_text, first_created, version_created, created_at, cluster_id, "
            "first_of_cluster, fingerprint, shingles, numbers) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            sorted(stories),
        )
        conn.executemany("INSERT INTO story_keys (key, story_id) VALUES (?, ?)", sorted(keys))
        conn.executemany(
            "INSERT INTO story_versions (story_id, version, content_hash, ninjs, "
            "ingest, created_at) VALUES (?,?,?,?,?,?)",
            sorted(versions),
        )
        conn.executemany(
            "INSERT INTO events (id, type, story_id, version, timestamp, created_at) VALUES (?,?,?,?,?,?)",
            events,
        )
        conn.executemany(
            "INSERT INTO story_bands (day, band, story_id, at) VALUES (?, ?, ?, ?)", sorted(band_rows)
        )


def polls(loader: Loader, rng: random.Random, stories: int, tag: str) -> list[list[Story]]:
    """Polls of one real feed each: new stories, copies of the next feed's, its own again."""
    by_feed: dict[str, list[tuple[str, str, str, str]]] = {}
    for item in loader.real[-REAL_FEEDS * REAL_PER_FEED :]:
        by_feed.setdefault(item[0], []).append(item)
    feeds = list(by_feed)
    batches = []
    for p in range(stories // POLL):
        feed = feeds[p % len(feeds)]
        own, other = by_feed[feed], by_feed[feeds[(p + 1) % len(feeds)]]
        batch = [
            Story(
                feed_id=feed,
                source="bench",
                headline=text(rng, 8),
                body_text=text(rng, 60),
                guid=f"{tag}-{p}-{i}",
                url=f"https://{feed}.example/{tag}-{p}-{i}",
                first_created=NOW,
            )
            for i in range(POLL - 10)
        ]
        batch += [
            Story(
                feed_id=feed,
                source="bench",
                headline=h,
                body_text=b + " Reporting by staff.",
                guid=f"{tag}-{p}-copy-{i}",
                url=f"https://{feed}.example/{tag}-{p}-copy-{i}",
                first_created=NOW,
            )
            for i, (_, _, h, b) in enumerate(rng.sample(other, 5))
        ]
        batch += [
            Story(
                feed_id=feed,
                source="bench",
                headline=h,
                body_text=b,
                guid=g,
                url=f"https://{feed}.example/{g}",
                first_created=NOW,
            )
            for (_, g, h, b) in rng.sample(own, 5)
        ]
        rng.shuffle(batch)
        batches.append(batch)
    return batches


def measure(path: Path, rounds: list[list[list[Story]]]) -> tuple[list[float], list[float], dict[str, int]]:
    """Wall and CPU seconds per story for each round of polls, and what the store did."""
    store = Store(path)
    kinds: dict[str, int] = {}
    wall, cpu = [], []
    try:
        with capture_logs():
            for batches in rounds:
                started, started_cpu = time.perf_counter(), time.process_time()
                for batch in batches:
                    for change in save_stories(store, batch, NOW):
                        kind = change.kind
                        if change.event and not change.event["data"]["ingest"]["first_of_cluster"]:
                            kind = "clustered"
                        kinds[kind] = kinds.get(kind, 0) + 1
                stories = sum(len(b) for b in batches)
                wall.append((time.perf_counter() - started) / stories)
                cpu.append((time.process_time() - started_cpu) / stories)
    finally:
        store.close()
    return wall, cpu, kinds


def _measure_mapped(path: Path, mmap: int, rounds: list[list[list[Story]]], out: Any) -> None:
    """In a fresh process: `measure` with the store's mmap_size set to `mmap`; puts the
    median wall and CPU per story and this process's peak RSS in MiB."""
    opened = Store.__init__

    def init(self: Store, where: str | Path) -> None:
        opened(self, where)
        self.db.conn.execute(f"PRAGMA mmap_size={int(mmap)}")

    Store.__init__ = init  # type: ignore[method-assign]
    wall, cpu, _ = measure(path, rounds)
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    out.put((statistics.median(wall), statistics.median(cpu), int(status["VmHWM"].split()[0]) / 1024))


def compare_mmap(path: Path, loader: Loader, rng: random.Random, args: argparse.Namespace) -> None:
    spawn = multiprocessing.get_context("spawn")  # fresh: its peak RSS is its own
    for mmap in [int(m) for m in args.mmap.split(",")]:
        batches = polls(loader, rng, args.measure, f"mmap{mmap}")
        per_round = len(batches) // args.rounds
        rounds = [batches[i * per_round : (i + 1) * per_round] for i in range(args.rounds)]
        out = spawn.Queue()
        child = spawn.Process(target=_measure_mapped, args=(path, mmap, rounds, out))
        child.start()
        wall, cpu, peak = out.get()
        child.join()
        print(
            f"  mmap_size {mmap >> 20:>5} MiB: {wall * 1000:.2f} ms per story, CPU {cpu * 1000:.2f} ms, "
            f"VmHWM {peak:.0f} MiB",
            flush=True,
        )


def corpus_stories() -> dict[str, list[list[Story]]]:
    """bench/pipeline.py's corpora as normalized stories, a list per feed."""
    sys.path.insert(0, str(Path(__file__).parent))
    import corpus  # noqa: PLC0415  (bench/corpus.py, beside this file)

    from ingestd.normalize import load_profiles  # noqa: PLC0415
    from ingestd.pipeline import normalize_parsed, parse_input  # noqa: PLC0415

    profiles = load_profiles(None)

    def stories(files: list[Path]) -> list[list[Story]]:
        feeds = []
        for path in files:
            parsed = parse_input(path.read_bytes(), feed_id=path.stem, url=path.as_uri())
            if not parsed.error:
                processed = normalize_parsed(
                    parsed, feed_id=path.stem, source=None, now=NOW, profiles=profiles
                )
                feeds.append(list(processed.stories))
        return feeds

    real = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "real-feeds"
    with capture_logs(), tempfile.TemporaryDirectory() as scratch:
        return {
            "real": stories(
                sorted(p for p in real.iterdir() if p.suffix in {".xml", ".rss", ".atom", ".json"})
            ),
            "synthetic": stories(corpus.write(Path(scratch))),
        }


def signatures(stories: list[Story]) -> list[Any]:
    """Each story's fingerprint as prepare makes it: bands and the encoded signature."""
    found = [dedupe.fingerprint(s.headline, s.body_text) for s in stories]
    return [(f.bands, dedupe.encode(f)) if f else None for f in found]


def identity_keys(feeds: list[list[Story]]) -> list[Any]:
    """Each story's keys as prepare makes them, a feed's stories as one batch."""
    tracking = dedupe.DEFAULT_SETTINGS.tracking_params
    made = []
    for feed in feeds:
        urls = [dedupe.canonical_url(s.url, tracking) if s.url else None for s in feed]
        made += [(i.guid, i.url, i.content) for i in dedupe.identify(feed, tracking, urls)]
    return made


def cpu_round(repeat: int) -> dict[str, Any]:
    """One process's figures (microseconds of CPU per story): the first pass and the best of
    `repeat` more, for the fingerprint and for the keys; and a digest of what they made."""
    figures: dict[str, Any] = {}
    for name, feeds in corpus_stories().items():
        stories = [story for feed in feeds for story in feed]
        for part, work in (
            ("fingerprint", partial(signatures, stories)),
            ("keys", partial(identity_keys, feeds)),
        ):
            passes = []
            for _ in range(repeat + 1):
                started = time.process_time()
                made = work()
                passes.append((time.process_time() - started) / len(stories) * 1e6)
            figures[f"{name} {part}"] = (passes[0], min(passes[1:]))
            figures[f"{name} {part} digest"] = hashlib.sha256(repr(made).encode()).hexdigest()
    return figures


def compare_cpu(args: argparse.Namespace) -> None:
    """Rounds in fresh processes, the baseline's (if any) alternating with the current code's."""
    sides = {"current": Path(__file__).resolve().parents[1]}
    if args.baseline:
        sides["baseline"] = Path(args.baseline).resolve()
    results: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    for _ in range(args.rounds):
        for side, tree in sides.items():
            env = {**os.environ, "PYTHONPATH": str(tree)}  # ahead of the installed ingestd
            command = [sys.executable, __file__, "--cpu-round", str(args.repeat)]
            out = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
            results[side].append(json.loads(out.splitlines()[-1]))
    best = {
        side: {
            key: (min(r[key][0] for r in rounds), min(r[key][1] for r in rounds))
            for key in rounds[0]
            if not key.endswith("digest")
        }
        for side, rounds in results.items()
    }
    print("CPU per story, microseconds (first pass: cold vocabulary; then the best pass)")
    for key, (first, warm) in best["current"].items():
        line = f"  {key:<22} first {first:7.1f}  best {warm:7.1f}"
        if "baseline" in best:
            old_first, old_warm = best["baseline"][key]
            same = results["baseline"][0][f"{key} digest"] == results["current"][0][f"{key} digest"]
            line += (
                f"   baseline first {old_first:7.1f}  best {old_warm:7.1f}   "
                f"{old_first / first:.2f}x / {old_warm / warm:.2f}x  same output: {'yes' if same else 'NO'}"
            )
        print(line)


def main() -> None:
    if sys.argv[1:2] == ["--cpu-round"]:  # a child of --cpu: one round, as JSON
        print(json.dumps(cpu_round(int(sys.argv[2]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument(
        "--measure",
        type=int,
        default=1000,
        help="stories ingested per size (10 %% of the smallest: the measured "
        "stories must not change the size much)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        help="the measured stories in this many rounds (default 10); the median counts "
        "(the machine may be busy with other work); with --cpu, processes per side (default 3)",
    )
    parser.add_argument("--db", help="a new database file, kept after the run (default: a temporary one)")
    parser.add_argument("--mmap", help="mmap_size values (bytes, comma-separated) to compare at each size")
    parser.add_argument("--cpu", action="store_true", help="CPU per story of the fingerprint and the keys")
    parser.add_argument("--baseline", help="with --cpu: an older ingestd tree to compare with")
    parser.add_argument("--repeat", type=int, default=5, help="with --cpu: passes per round after the first")
    args = parser.parse_args()
    args.rounds = args.rounds or (3 if args.cpu else 10)
    if args.cpu:
        compare_cpu(args)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = random.Random(5)
    with tempfile.TemporaryDirectory(prefix="ingestd-bench-") as scratch:
        path = Path(args.db or Path(scratch) / "dedupe.db")
        Store(path).close()  # the schema, every part's migrations
        loader = Loader(path, rng)
        typical, typical_cpu = [], []
        for size in sizes:
            loaded = loader.load(size)
            if not typical:  # imports, first fingerprints, caches: not part of any figure
                measure(path, [polls(loader, rng, POLL, "warm-up")])
            batches = polls(loader, rng, args.measure, f"m{size}")
            per_round = len(batches) // args.rounds
            wall, cpu, kinds = measure(
                path, [batches[i * per_round : (i + 1) * per_round] for i in range(args.rounds)]
            )
            if args.mmap:
                compare_mmap(path, loader, rng, args)
            typical.append(statistics.median(wall))
            typical_cpu.append(statistics.median(cpu))
            print(
                f"{size:>9,} stored ({path.stat().st_size / 1e6:,.0f} MB, loaded in "
                f"{loaded:.0f} s): {typical[-1] * 1000:.2f} ms per story, CPU "
                f"{typical_cpu[-1] * 1000:.2f} ms (median of rounds; rounds "
                f"{', '.join(f'{w * 1000:.2f}' for w in wall)})  {kinds}",
                flush=True,
            )
        print(
            f"{sizes[-1]:,} / {sizes[0]:,} stored: {typical[-1] / typical[0]:.2f}x the cost per "
            f"story (CPU {typical_cpu[-1] / typical_cpu[0]:.2f}x)"
        )


if __name__ == "__main__":
    main()
