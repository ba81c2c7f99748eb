"""The pipeline's cost per entry, by stage, against bare feedparser and lemon24/reader.

    python bench/pipeline.py [--real DIR] [--reader-python PATH] [--repeat 3]

Two corpora, each replayed on the same files by all three, CPU time per entry:

    real       the shared corpus' real feeds (../shared/corpus/real-feeds)
    synthetic  40 feeds x 50 items from bench/corpus.py (a fifth are wire copies)

ingestd's stages, as the daemon runs them:

    parse      pipeline.parse_input: the lxml fast path (feedparser where it declines) or
               the JSON Feed reader, into Entry; beside it, the same with feedparser alone
    normalize  pipeline.normalize_parsed: the processor chain, into Story and ninjs
    prepare    compose.prepare: identity keys, fingerprint, the event drafted and checked (CPU pool)
    store      compose.write_batch: lookups, decisions, intents applied, COMMIT (writer)

"dedupe + store" (the issue's target, per new story) is dedupe's share of prepare (the
fingerprint and the signature encoded for the store) plus store. feedparser: `feedparser.parse(bytes)` alone. reader: a fresh
`make_reader` database, every file added as a local feed, `update_feeds()`, timed
inside its own process; reader 3.x is installed in a venv of the bench's own, never
a project dependency:

    python -m venv /tmp/reader-venv && /tmp/reader-venv/bin/pip install "reader>=3,<4" fastfeedparser sgmllib3k

(sgmllib3k: reader vendors a feedparser that imports sgmllib and does not declare it.)

fastfeedparser (`fastfeedparser.parse(bytes)` alone) runs in that interpreter too, when it has it.
Then the share of real feeds the fast path hands to feedparser, by reason.

Prints one table per corpus and the ratios; figures go in docs/performance.md.

    python bench/pipeline.py --statements [--repeat 3]

instead splits the store stage of each corpus statement by statement: the writer's
connection wrapped, CPU per new story for each statement (by its first words), and what
is left of the stage, the Python around them (best of the repeats).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import feedparser

sys.path.insert(0, str(Path(__file__).parent))
import corpus  # noqa: E402  (bench/corpus.py, beside this file)

from ingestd import compose, dedupe, normalize  # noqa: E402
from ingestd.errors import ParseError  # noqa: E402
from ingestd.parse import fallback_counts, parse  # noqa: E402
from ingestd.pipeline import normalize_parsed, parse_input  # noqa: E402
from ingestd.store import Store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".json"}
NOW = datetime(2026, 1, 2, tzinfo=UTC)

READER_SCRIPT = """
import json, sys, time
from reader import make_reader
db, root, names = sys.argv[1], sys.argv[2], sys.argv[3:]
reader = make_reader(db, feed_root=root)
for name in names:
    reader.add_feed(name)
started = time.process_time()
reader.update_feeds()
cpu = time.process_time() - started
print(json.dumps({"cpu": cpu, "entries": reader.get_entry_counts().total}))
"""


FASTFEEDPARSER_SCRIPT = """
import json, sys, time
from fastfeedparser import parse
bodies = [open(name, "rb").read() for name in sys.argv[1:]]
started = time.process_time()
entries = 0
for body in bodies:
    try:
        entries += len(parse(body).get("entries", []))
    except Exception:
        pass
print(json.dumps({"cpu": time.process_time() - started, "entries": entries}))
"""


def ingestd_stages(files: list[Path], profiles: object) -> dict[str, float]:
    """CPU seconds per stage over every file, one fresh database; and the counts."""
    spent = {"parse": 0.0, "normalize": 0.0, "prepare": 0.0, "fingerprint": 0.0, "store": 0.0}
    entries = new = 0
    with tempfile.TemporaryDirectory() as scratch:
        store = Store(Path(scratch) / "bench.db")
        for path in files:
            body, feed_id = path.read_bytes(), path.stem
            clock = time.process_time()
            parsed = parse_input(body, feed_id=feed_id, url=path.as_uri())
            spent["parse"] += time.process_time() - clock
            if parsed.error:
                continue
            clock = time.process_time()
            processed = normalize_parsed(parsed, feed_id=feed_id, source=None, now=NOW, profiles=profiles)
            spent["normalize"] += time.process_time() - clock
            entries += len(parsed.entries)
            clock = time.process_time()
            for story in processed.stories:  # dedupe's share of prepare, timed alone
                if found := dedupe.fingerprint(story.headline, story.body_text):
                    dedupe.encode(found)  # the signature the store keeps, encoded in prepare
            spent["fingerprint"] += time.process_time() - clock
            clock = time.process_time()
            prepared = compose.prepare(processed.stories, dedupe.DEFAULT_SETTINGS, NOW, processed.entry_keys)
            spent["prepare"] += time.process_time() - clock
            clock = time.process_time()
            changes = compose.write_batch(store, prepared, NOW)
            spent["store"] += time.process_time() - clock
            new += sum(1 for c in changes if c.kind == "created")
        store.close()
    return spent | {"entries": entries, "new": new}


def feedparser_path(files: list[Path]) -> float:
    """CPU seconds of ingestd's parse stage with the fast path off (feedparser reads every XML feed)."""
    clock = time.process_time()
    for path in files:
        try:
            parse(path.read_bytes(), url=path.as_uri(), fast=False)
        except ParseError:
            pass
    return time.process_time() - clock


def fastfeedparser(files: list[Path], python: Path) -> tuple[float, int] | None:
    if not python.exists():
        return None
    run = subprocess.run(
        [str(python), "-c", FASTFEEDPARSER_SCRIPT, *map(str, files)], capture_output=True, text=True
    )
    if run.returncode:  # that interpreter has no fastfeedparser
        return None
    result = json.loads(run.stdout.splitlines()[-1])
    return result["cpu"], result["entries"]


def fallback_rate(files: list[Path]) -> None:
    before = fallback_counts()
    xml = 0
    for path in files:
        xml += path.suffix != ".json"
        try:
            parse(path.read_bytes(), url=path.as_uri())
        except ParseError:
            pass
    grown = {
        reason: count - before[reason]
        for reason, count in fallback_counts().items()
        if count > before[reason]
    }
    print(f"  fast path fallback: {sum(grown.values())} of {xml} XML files to feedparser {grown}")


def bare_feedparser(files: list[Path]) -> tuple[float, int]:
    clock = time.process_time()
    entries = sum(len(feedparser.parse(path.read_bytes()).entries) for path in files)
    return time.process_time() - clock, entries


def lemon24_reader(files: list[Path], python: Path) -> tuple[float, int] | None:
    if not python.exists():
        return None
    with tempfile.TemporaryDirectory() as scratch:
        run = subprocess.run(
            [
                str(python),
                "-c",
                READER_SCRIPT,
                str(Path(scratch) / "reader.sqlite"),
                str(files[0].parent),
                *(f.name for f in files),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    result = json.loads(run.stdout.splitlines()[-1])
    return result["cpu"], result["entries"]


class TimedConnection:
    """The writer's connection, each statement's CPU time added up under its first words."""

    def __init__(self, conn: object, spent: dict[str, float], calls: dict[str, int]):
        self._conn, self._spent, self._calls = conn, spent, calls

    def __getattr__(self, name: str) -> object:
        return getattr(self._conn, name)

    def _timed(self, method: str, sql: str, *args: object) -> object:
        clock = time.process_time()
        result = getattr(self._conn, method)(sql, *args)
        label = " ".join(sql.split())[:60]
        self._spent[label] = self._spent.get(label, 0.0) + time.process_time() - clock
        self._calls[label] = self._calls.get(label, 0) + 1
        return result

    def execute(self, sql: str, *args: object) -> object:
        return self._timed("execute", sql, *args)

    def executemany(self, sql: str, *args: object) -> object:
        return self._timed("executemany", sql, *args)


def statements(name: str, files: list[Path], profiles: object, repeat: int) -> None:
    """The store stage of one corpus, statement by statement, CPU per new story."""
    batches = []
    for path in files:
        parsed = parse_input(path.read_bytes(), feed_id=path.stem, url=path.as_uri())
        if parsed.error:
            continue
        processed = normalize_parsed(parsed, feed_id=path.stem, source=None, now=NOW, profiles=profiles)
        batches.append(compose.prepare(processed.stories, dedupe.DEFAULT_SETTINGS, NOW, processed.entry_keys))
    runs = []
    for _ in range(repeat):
        spent: dict[str, float] = {}
        calls: dict[str, int] = {}
        with tempfile.TemporaryDirectory() as scratch:
            store = Store(Path(scratch) / "bench.db")
            store.db.conn = TimedConnection(store.db.conn, spent, calls)  # type: ignore[assignment]
            clock, new = time.process_time(), 0
            for prepared in batches:
                changes = compose.write_batch(store, prepared, NOW)
                new += sum(1 for c in changes if c.kind == "created")
            runs.append((time.process_time() - clock, new, spent, calls))
            store.close()
    total, new, spent, calls = min(runs, key=lambda run: run[0])
    per = 1000 / max(new, 1)
    print(f"\n{name}: store stage {total * per:.3f} ms per new story ({new} new), statement by statement:")
    for label, cpu in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"  {cpu * per:7.4f} ms  {calls[label]:6d} calls  {label}")
    print(f"  {(total - sum(spent.values())) * per:7.4f} ms  Python around them (the rest)")


def best(runs: list[dict[str, float]]) -> dict[str, float]:
    """Per stage, the fastest of the repeats (the least disturbed by other load)."""
    return {key: min(run[key] for run in runs) for key in runs[0]}


def measure(name: str, files: list[Path], profiles: object, reader_python: Path, repeat: int) -> None:
    stages = best([ingestd_stages(files, profiles) for _ in range(repeat)])
    fp_cpu, fp_entries = min(bare_feedparser(files) for _ in range(repeat))
    readers = [r for r in (lemon24_reader(files, reader_python) for _ in range(repeat)) if r]
    without_fast_path = min(feedparser_path(files) for _ in range(repeat))
    fast_peers = [r for r in (fastfeedparser(files, reader_python) for _ in range(repeat)) if r]
    entries, new = int(stages["entries"]), int(stages["new"])
    ms = {k: stages[k] / entries * 1000 for k in ("parse", "normalize", "prepare", "store")}
    total = sum(ms.values())
    print(f"\n{name}: {len(files)} files, {entries} entries, {new} new stories")
    for stage, value in ms.items():
        print(f"  ingestd {stage:<10} {value:7.3f} ms/entry")
    print(f"  ingestd {'total':<10} {total:7.3f} ms/entry")
    dedupe_store = (stages["fingerprint"] + stages["store"]) / max(new, 1) * 1000
    print(f"  dedupe + store     {dedupe_store:7.3f} ms/new story (fingerprint + store)")
    feedparser_ms = fp_cpu / fp_entries * 1000
    print(f"  feedparser.parse   {feedparser_ms:7.3f} ms/entry ({fp_entries} entries)")
    print(f"  ratio ingestd / feedparser: {total / feedparser_ms:.2f}")
    slow_parse_ms = without_fast_path / entries * 1000
    print(
        f"  ingestd parse, feedparser alone {slow_parse_ms:7.3f} ms/entry (the fast path: {ms['parse']:.3f})"
    )
    print(
        f"  ratio ingestd / feedparser without the fast path: {(total - ms['parse'] + slow_parse_ms) / feedparser_ms:.2f}"
    )
    if fast_peers:
        cpu, count = min(fast_peers)
        print(f"  fastfeedparser     {cpu / max(count, 1) * 1000:7.3f} ms/entry ({count} entries)")
    if readers:
        cpu, count = min(readers)
        reader_ms = cpu / max(count, 1) * 1000
        print(f"  reader 3.x         {reader_ms:7.3f} ms/entry ({count} entries)")
        print(f"  ratio ingestd / reader:     {total / reader_ms:.2f}")
    else:
        print(f"  reader: no interpreter at {reader_python} (see the docstring)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", type=Path, default=ROOT.parent / "shared" / "corpus" / "real-feeds")
    parser.add_argument("--reader-python", type=Path, default=Path("/tmp/reader-venv/bin/python"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--statements", action="store_true", help="the store stage, statement by statement")
    options = parser.parse_args()
    warnings.simplefilter("ignore")  # feedparser warns on the corpus' broken inputs
    profiles = normalize.load_profiles(None)
    if options.statements:
        real = sorted(p for p in options.real.iterdir() if p.suffix in FEED_SUFFIXES)
        statements("real", real, profiles, options.repeat)
        with tempfile.TemporaryDirectory() as scratch:
            statements("synthetic", corpus.write(Path(scratch)), profiles, options.repeat)
        return
    # warm up once: imports, the language model, the schema validator
    real = sorted(p for p in options.real.iterdir() if p.suffix in FEED_SUFFIXES)
    ingestd_stages(real[:2], profiles)
    measure("real", real, profiles, options.reader_python, options.repeat)
    fallback_rate(real)
    with tempfile.TemporaryDirectory() as scratch:
        files = corpus.write(Path(scratch))
        measure("synthetic", files, profiles, options.reader_python, options.repeat)


if __name__ == "__main__":
    main()
