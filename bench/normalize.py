"""How fast is the normalizer, measured against bare feedparser.parse on the same files?

    python bench/normalize.py [--data tests/data/corpus] [--repeat 3]

Prints, for seeds/ and for the feed corpus (--data: a folder of feed files, by default
the suite's own tests/data/corpus): files, entries, feedparser files/s, normalizer
stories/s, and the normalizer's time as a multiple of feedparser's. Then what each
step of the chain costs per entry (intake first, then CHAIN's order). Then how often
the language a feed declares agrees with the one detected from the text, over the
corpus' real-feeds/ (or the --data folder itself when it has none). Figures go in
docs/normalize.md and docs/performance.md.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import feedparser

from ingestd.errors import DropStory
from ingestd.models import Entry
from ingestd.normalize import load_profiles, normalize_entry
from ingestd.normalize._chain import CHAIN  # the steps, timed one by one
from ingestd.normalize._intake import intake
from ingestd.normalize._language import detect, normalize_tag  # the detector the chain uses
from ingestd.pipeline import parse_input

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2020, 1, 10, 12, 0, tzinfo=UTC)
FEED_SUFFIXES = {".xml", ".rss", ".atom", ".rdf"}


def entries_of(data: bytes) -> list[Entry]:
    """The entries the parse stage hands the normalizer (an unreadable file: none), each with
    its feed's declared language where it declares none itself, as the pipeline gives them:
    the language step detects only where neither declares one."""
    parsed = parse_input(data, feed_id="bench", allow_pages=True)
    return [] if parsed.error else parsed.entries


def load(files: list[Path]) -> tuple[list[bytes], list[Entry]]:
    blobs, entries = [], []
    for path in files:
        data = path.read_bytes()
        blobs.append(data)
        entries += entries_of(data)
    return blobs, entries


def best_of(repeat: int, work) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def normalize_all(entries: list[Entry], profiles) -> Counter:
    outcome: Counter = Counter()
    for entry in entries:
        try:
            normalize_entry(entry, feed_id="bench", source=None, now=NOW, profiles=profiles)
            outcome["stories"] += 1
        except DropStory:
            outcome["dropped"] += 1
    return outcome


def measure(name: str, files: list[Path], profiles, repeat: int) -> None:
    blobs, entries = load(files)
    parse_time = best_of(repeat, lambda: [feedparser.parse(b) for b in blobs])
    outcome = normalize_all(entries, profiles)
    normalize_time = best_of(repeat, lambda: normalize_all(entries, profiles))
    print(
        f"{name:<8} {len(files):>6} {len(entries):>8} {outcome['dropped']:>8} "
        f"{len(files) / parse_time:>14,.0f} {len(entries) / parse_time:>14,.0f} "
        f"{outcome['stories'] / normalize_time:>14,.0f} {normalize_time / parse_time:>8.2f}x"
    )


def step_costs(name: str, files: list[Path], profiles) -> None:
    """CPU per entry of intake and each step, run as normalize_entry runs them."""
    _, entries = load(files)
    cost: Counter = Counter()
    for entry in entries:
        started = time.process_time()
        try:
            draft = intake(entry, feed_id="bench", source=None, now=NOW, profiles=profiles)
        except DropStory:
            continue
        cost["intake"] += time.process_time() - started
        for step in CHAIN:
            started = time.process_time()
            try:
                draft = step(draft)
            except DropStory:
                break
            except Exception:  # noqa: BLE001 - normalize_entry flags and goes on; so does the bench
                pass
            finally:
                cost[step.__name__] += time.process_time() - started
    total = sum(cost.values())
    print(
        f"\nper step, {name} ({len(entries)} entries, {total / max(len(entries), 1) * 1e6:,.0f} µs CPU/entry):"
    )
    for step, seconds in cost.most_common():
        print(f"  {step:<22} {seconds / max(len(entries), 1) * 1e6:>9,.1f} µs {seconds / total:>7.1%}")


def language_agreement(folder: Path, profiles) -> None:
    by_feed: dict[str, Counter] = {}
    for path in sorted(p for p in folder.iterdir() if p.suffix in FEED_SUFFIXES):
        for entry in entries_of(path.read_bytes()):
            declared = normalize_tag(entry.language) if entry.language else None
            if not declared:
                continue
            try:
                story = normalize_entry(entry, feed_id="bench", source=None, now=NOW, profiles=profiles)
            except DropStory:
                continue
            detected = detect(f"{story.headline}\n{story.body_text}")
            tally = by_feed.setdefault(path.name, Counter())
            tally["entries"] += 1
            tally["agree" if detected == declared.split("-")[0] else f"detected {detected}"] += 1
            tally[f"declared {declared.split('-')[0]}"] += 1
    total = sum(t["entries"] for t in by_feed.values())
    agree = sum(t["agree"] for t in by_feed.values())
    print(f"\nlanguage: declared vs detected over {folder} ({len(by_feed)} feeds declaring a language)")
    print(
        f"  agree on {agree} of {total} entries ({agree / max(total, 1):.1%}); "
        f"feeds with every entry agreeing: {sum(t['agree'] == t['entries'] for t in by_feed.values())}"
    )
    for name, tally in sorted(by_feed.items()):
        if tally["agree"] < tally["entries"]:
            misses = ", ".join(
                f"{k} x{v}" for k, v in sorted(tally.items()) if k.startswith(("detected", "declared"))
            )
            print(f"  {name}: {tally['agree']}/{tally['entries']} agree ({misses})")


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--data", type=Path, default=ROOT / "tests" / "data" / "corpus", metavar="PATH")
    args.add_argument("--repeat", type=int, default=3)
    options = args.parse_args()
    corpus = options.data
    if not corpus.is_dir():
        sys.exit(f"bench/normalize.py: no corpus at {corpus} (give a folder of feeds with --data PATH)")
    warnings.simplefilter("ignore")  # feedparser and dateutil warn on the corpus' broken inputs
    profiles = load_profiles(None)
    seeds = sorted(p for p in (ROOT / "seeds").iterdir() if p.suffix in {".txt", ".html", *FEED_SUFFIXES})
    feeds = sorted(p for p in corpus.rglob("*") if p.suffix in FEED_SUFFIXES)
    detect("warm the language model up before timing")
    print(
        f"{'set':<8} {'files':>6} {'entries':>8} {'dropped':>8} {'parse file/s':>14} "
        f"{'parse entry/s':>14} {'normalize/s':>14} {'ratio':>9}"
    )
    measure("seeds", seeds, profiles, options.repeat)
    measure("corpus", feeds, profiles, options.repeat)
    print("ratio: normalizer time / feedparser.parse time for the same files")
    step_costs("seeds", seeds, profiles)
    step_costs("corpus", feeds, profiles)
    # the suite's corpus holds real-feeds/; --data may name such a folder itself
    real_feeds = corpus / "real-feeds"
    language_agreement(real_feeds if real_feeds.is_dir() else corpus, profiles)


if __name__ == "__main__":
    main()
