"""How fast is parsing, and the whole replay pipeline, against bare feedparser and its peers?

    python bench/parse.py [--repeat 3] [--memory-mb 15]

Run it with a Python that also has fastfeedparser and reader (lemon24/reader) to get
their columns; they are never project dependencies, so use a throwaway venv, e.g.:

    python -m venv /tmp/bv && echo "$PWD/.venv/lib/python3.11/site-packages" \\
        > /tmp/bv/lib/python3.11/site-packages/project.pth && /tmp/bv/bin/pip install fastfeedparser reader
    /tmp/bv/bin/python bench/parse.py

Prints, for a synthetic news corpus (plain RSS 2.0, 50 items a feed) and the real feeds
of tests/data/corpus: microseconds of CPU per entry for each parser; then new stories
per second of CPU through the whole replay pipeline (parse -> normalize -> dedupe ->
store -> outbox), with the fast path and with feedparser alone, and each as a multiple
of bare `feedparser.parse`; then the fallback rate on the real feeds; then the peak-RSS
rise (VmHWM of a child process) for one large feed read by each path. Every figure of
one run is measured on the same machine state, so compare them as ratios.
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import random
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

import feedparser

from ingestd import normalize, pipeline
from ingestd.config import load_config
from ingestd.parse import FALLBACK_REASONS, fallback_counts, parse
from ingestd.replay import replay

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2020, 1, 10, 12, 0, tzinfo=UTC)
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}
# a vocabulary of pseudo-words, so that stories differ as real ones do (dedupe sees no near-copies)
VOCABULARY = [
    "".join(rng.choice("bcdfghklmnprstvwaeiouaeiou") for _ in range(3 + k % 7))
    for k, rng in enumerate(random.Random(k) for k in range(3000))
]


def synthetic_feed(feed: int, items: int = 50) -> bytes:
    """A plain RSS 2.0 news feed (50 items: about 125 KB): distinct stories, HTML descriptions."""
    out = [
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    ]
    out.append(
        f"<channel><title>Wire {feed}</title><link>https://news.example.com/</link><language>en</language>"
    )
    for item in range(items):
        n = feed * items + item
        pick = random.Random(n)
        title = f"Story {n}: " + " ".join(pick.choices(VOCABULARY, k=9))
        paragraphs = "".join(f"<p>{' '.join(pick.choices(VOCABULARY, k=70))}.</p>" for _ in range(5))
        out.append(
            f"<item><title>{escape(title)}</title><link>https://news.example.com/{feed}/{n}.html</link>"
            f'<guid isPermaLink="false">story-{n}</guid><dc:creator>Reporter {n % 17}</dc:creator>'
            f"<pubDate>Wed, 08 Jan 2020 {n % 24:02d}:{n % 60:02d}:00 GMT</pubDate><category>World</category>"
            f"<description>{escape(paragraphs)}</description></item>"
        )
    out.append("</channel></rss>")
    return "".join(out).encode()


def cpu(work: Callable[[], Any], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def parsers() -> dict[str, Callable[[bytes], int]]:
    """Each parser as bytes -> number of entries read."""
    found: dict[str, Callable[[bytes], int]] = {
        "feedparser.parse": lambda b: len(feedparser.parse(b).entries),
        "ingestd feedparser path": lambda b: len(_entries(b, fast=False)),
        "ingestd fast path": lambda b: len(_entries(b, fast=True)),
    }
    try:
        import fastfeedparser

        found["fastfeedparser"] = lambda b: len(_quiet(fastfeedparser.parse, b).get("entries", []))
    except ImportError:
        print("(fastfeedparser not installed: no column)")
    return found


def _entries(body: bytes, *, fast: bool) -> list[Any]:
    try:
        return parse(body, fast=fast).entries
    except Exception:  # noqa: BLE001 - a file no reader takes counts as no entries
        return []


def _quiet(function: Callable[[bytes], Any], body: bytes) -> Any:
    try:
        return function(body)
    except Exception:  # noqa: BLE001
        return {}


def reader_seconds(folder: Path, repeat: int) -> tuple[float, int] | None:
    """CPU time for lemon24/reader to take every feed of `folder` into its own store."""
    try:
        from reader import make_reader
    except ImportError:
        print("(reader not installed: no column)")
        return None
    files = _feed_files(folder)

    def run() -> int:
        with tempfile.TemporaryDirectory() as scratch:
            r = make_reader(os.path.join(scratch, "r.sqlite"), feed_root=str(folder))
            for path in files:
                r.add_feed(f"file:{path.relative_to(folder)}")
            r.update_feeds()
            count = r.get_entry_counts().total
            r.close()
            return int(count)

    entries = run()
    return cpu(run, repeat), entries


def pipeline_seconds(folder: Path, repeat: int, *, fast: bool) -> tuple[float, int]:
    """CPU time of `ingestd replay` over the folder, and the stories it created."""
    config = load_config(_config(), env={})
    profiles = normalize.load_profiles(None)
    original = pipeline.parse
    pipeline.parse = functools.partial(parse, fast=fast)  # type: ignore[assignment]
    created = 0

    def run() -> None:
        nonlocal created
        with tempfile.TemporaryDirectory() as scratch:
            summary = replay(
                [folder],
                config=config,
                profiles=profiles,
                now=NOW,
                out=io.StringIO(),
                db_path=f"{scratch}/r.db",
            )
            created = summary.created

    try:
        return cpu(run, repeat), created
    finally:
        pipeline.parse = original  # type: ignore[assignment]


def _config() -> Path:
    path = Path(tempfile.mkdtemp()) / "ingestd.toml"
    path.write_text('[log]\nformat = "json"\nlevel = "error"\n')
    return path


def _feed_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in FEED_SUFFIXES)


def measure(name: str, folder: Path, repeat: int) -> None:
    blobs = [p.read_bytes() for p in _feed_files(folder)]
    reference_entries = sum(len(feedparser.parse(b).entries) for b in blobs)
    print(f"\n{name}: {len(blobs)} feeds, {reference_entries} entries (as feedparser counts them)")
    print(f"  {'parser':<28} {'entries':>8} {'µs CPU/entry':>14} {'× feedparser':>13}")
    base = None
    for label, read in parsers().items():
        entries = sum(read(b) for b in blobs)
        seconds = cpu(lambda read=read: [read(b) for b in blobs], repeat)
        per_entry = seconds / max(entries, 1)
        base = base or per_entry
        print(f"  {label:<28} {entries:>8} {per_entry * 1e6:>14,.1f} {per_entry / base:>12.2f}×")
    if (measured := reader_seconds(folder, repeat)) is not None:
        seconds, entries = measured
        per_entry = seconds / max(entries, 1)
        print(
            f"  {'reader (parse + store)':<28} {entries:>8} {per_entry * 1e6:>14,.1f} {per_entry / base:>12.2f}×"
        )
    print(f"  {'whole replay pipeline':<28} {'stories':>8} {'stories/s CPU':>14} {'µs/entry ×':>13}")
    for fast in (True, False):
        seconds, created = pipeline_seconds(folder, max(1, repeat - 1), fast=fast)
        per_entry = seconds / max(reference_entries, 1)
        label = "replay, fast path" if fast else "replay, feedparser only"
        print(f"  {label:<28} {created:>8} {created / seconds:>14,.0f} {per_entry / base:>12.2f}×")


def fallback_rate(folder: Path) -> None:
    before = fallback_counts()
    files = _feed_files(folder)
    for path in files:
        _entries(path.read_bytes(), fast=True)
    after = fallback_counts()
    by_reason = {r: after[r] - before[r] for r in FALLBACK_REASONS if after[r] - before[r]}
    total = sum(by_reason.values())
    print(
        f"\nfallback to feedparser on {folder.name}: {total} of {len(files)} documents ({total / len(files):.1%}) {by_reason}"
    )


_CHILD = """
import sys
from ingestd.parse import parse
def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
body = open(sys.argv[1], "rb").read()
before = hwm()
document = parse(body, fast=sys.argv[2] == "fast")
print(len(document.entries), (hwm() - before) // 1024)
"""


def memory(megabytes: int) -> None:
    """Peak-RSS rise of a child process reading one large feed by each path."""
    items = megabytes * 1_000_000 // (len(synthetic_feed(0)) // 50)
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "large.xml"
        path.write_bytes(synthetic_feed(0, items=items))
        size = path.stat().st_size / 1e6
        print(f"\nmemory: one {size:.1f} MB feed of {items} items, peak RSS rise of a child process")
        _rises(path)
        # one item of the same size: a text node past libxml2's 10 MB limit
        head, _, tail = synthetic_feed(0, items=1).partition(b"<description>")
        description, _, tail = tail.partition(b"</description>")
        path.write_bytes(b"".join((head, b"<description>", description * items, b"</description>", tail)))
        print(f"memory: one {path.stat().st_size / 1e6:.1f} MB feed of one item")
        _rises(path)


def _rises(path: Path) -> None:
    for mode in ("fast", "feedparser"):
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, str(path), mode], capture_output=True, text=True, check=True
        ).stdout.split()
        print(f"  {mode:<12} {out[0]:>7} entries  +{out[1]:>5} MB")


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--repeat", type=int, default=3)
    args.add_argument("--memory-mb", type=int, default=15)
    options = args.parse_args()
    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as scratch:
        synthetic = Path(scratch)
        for feed in range(20):
            (synthetic / f"wire-{feed:02d}.xml").write_bytes(synthetic_feed(feed))
        measure("synthetic news corpus", synthetic, options.repeat)
    real = ROOT / "tests" / "data" / "corpus" / "real-feeds"
    measure("real feeds", real, options.repeat)
    fallback_rate(real)
    memory(options.memory_mb)


if __name__ == "__main__":
    main()
