"""How fast are the wire readers, measured against bare lxml on the same documents?

    python bench/wire.py [--repeat 200]

For each seed in seeds/wire/: reads per second of the wire reader (bytes -> entries,
ingestd.parse.parse) and of the whole parse + normalize path, each as a multiple of
bare lxml (XML) or json (ninjs) parsing the same bytes. Figures go in docs/wire-formats.md.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from lxml import etree

from ingestd.normalize import load_profiles
from ingestd.parse import parse
from ingestd.pipeline import process

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2020, 1, 16, 12, 0, tzinfo=UTC)


def rate(work: Callable[[], object], repeat: int) -> float:
    """Calls per second, best of three runs of `repeat` calls."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(repeat):
            work()
        best = min(best, time.perf_counter() - start)
    return repeat / best


def measure(path: Path, repeat: int, profiles: object, safe: etree.XMLParser) -> tuple[float, float, float]:
    """Bare parses, wire reads and whole parse + normalize runs per second, for one seed."""
    data = path.read_bytes()
    bare: Callable[[], object] = (
        (lambda: json.loads(data)) if path.suffix == ".json" else (lambda: etree.fromstring(data, safe))
    )
    return (
        rate(bare, repeat),
        rate(lambda: parse(data), repeat),
        rate(
            lambda: process(data, feed_id="bench", source=None, now=NOW, profiles=profiles),
            max(1, repeat // 10),
        ),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    profiles = load_profiles(None)
    safe = etree.XMLParser(resolve_entities=False, no_network=True)  # as the readers parse
    print(f"{'seed':52} {'baseline/s':>10} {'read/s':>8} {'x base':>7} {'normalize/s':>11} {'x base':>7}")
    for path in sorted((ROOT / "seeds" / "wire").iterdir()):
        base, read, whole = measure(path, args.repeat, profiles, safe)
        print(
            f"{path.name[:52]:52} {base:10.0f} {read:8.0f} {base / read:7.1f} {whole:11.0f} {base / whole:7.1f}"
        )


if __name__ == "__main__":
    main()
