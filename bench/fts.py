"""What the full-text index costs a stored story, and what FTS5's options change (issue 12).

    python bench/fts.py [--stories 3000] [--words 300] [--repeat 5] [--queries 300]

The store's shape (ingestd/store/_reads.py): a text-keyed `stories` table, a map of
integer ids, a contentless FTS5 table over headline, body and byline filled by an
insert trigger; polls of 50 stories, one transaction each, `synchronous=FULL` in WAL.
Variants, each on a fresh database in the same run (median of --repeat):

    shipped            as the store has it
    columnsize=0       no per-row column sizes (only bm25 ranking reads them)
    last_insert_rowid  the trigger takes the map's new id without a look-up
    automerge=8, =16   segments merged 8 or 16 at a time instead of 4 (reads see more segments)
    no index           the row and the map alone: the floor without full-text search

Random words of 3-9 letters; CPU time per story. The read side, on the index each variant
built: CPU per query for the forms `q` takes (api/_query.py: a word, two words, a quoted
phrase, a prefix), each counting every match (what a newest-first page reads), and the
index's segments. Never part of the test run.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

LOOKUP = "(SELECT rowid FROM stories_fts_ids WHERE story_id = new.id)"
VARIANTS = {
    "shipped": ("", LOOKUP, None),
    "columnsize=0": (", columnsize=0", LOOKUP, None),
    "last_insert_rowid": ("", "last_insert_rowid()", None),
    "automerge=8": ("", LOOKUP, 8),
    "automerge=16": ("", LOOKUP, 16),
    "no index": None,
}


def run(
    folder: Path,
    docs: list[tuple[str, str, str, str]],
    variant: tuple[str, str, int | None] | None,
    queries: list[str],
) -> tuple[float, float, int]:
    conn = sqlite3.connect(tempfile.mkdtemp(dir=folder) + "/fts.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE stories (id TEXT PRIMARY KEY, headline TEXT, body_text TEXT, byline TEXT)")
    conn.execute("CREATE TABLE stories_fts_ids (rowid INTEGER PRIMARY KEY, story_id TEXT NOT NULL UNIQUE)")
    if variant is None:
        conn.execute(
            "CREATE TRIGGER ids AFTER INSERT ON stories BEGIN "
            "INSERT INTO stories_fts_ids (story_id) VALUES (new.id); END"
        )
    else:
        options, rowid, automerge = variant
        conn.execute(
            "CREATE VIRTUAL TABLE stories_fts USING fts5(headline, body_text, byline, content='', "
            f"tokenize='unicode61 remove_diacritics 2'{options})"
        )
        if automerge is not None:
            conn.execute("INSERT INTO stories_fts (stories_fts, rank) VALUES ('automerge', ?)", [automerge])
        conn.execute(
            f"""CREATE TRIGGER fts AFTER INSERT ON stories BEGIN
                  INSERT INTO stories_fts_ids (story_id) VALUES (new.id);
                  INSERT INTO stories_fts (rowid, headline, body_text, byline)
                  VALUES ({rowid}, new.headline, new.body_text, new.byline);
                END"""
        )
    started = time.process_time()
    for i in range(0, len(docs), 50):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO stories VALUES (?, ?, ?, ?)", docs[i : i + 50])
        conn.execute("COMMIT")
    spent = time.process_time() - started
    read, segments = float("nan"), 0
    if variant is not None:
        started = time.process_time()
        for query in queries:
            conn.execute("SELECT count(*) FROM stories_fts WHERE stories_fts MATCH ?", [query]).fetchone()
        read = (time.process_time() - started) / len(queries)
        structure = conn.execute("SELECT block FROM stories_fts_data WHERE id = 10").fetchone()
        segments = _segments(structure[0]) if structure else 0
    conn.close()
    return spent / len(docs), read, segments


def _segments(block: bytes) -> int:
    """The segment count in FTS5's structure record: a 4-byte cookie, (in newer versions)
    a 0xFFFFFFFF marker, then varints nLevel and nSegment."""
    at = 8 if block[4:8] == b"\xff\xff\xff\xff" else 4
    values = []
    while len(values) < 2:
        value = 0
        while True:
            byte = block[at]
            at += 1
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        values.append(value)
    return values[1]


def queries_of(docs: list[tuple[str, str, str, str]], count: int, rng: random.Random) -> list[str]:
    """The forms `q` becomes (api/_query.fts_query): "word", "a" "b", "a b" (phrase), "pre"*."""
    out = []
    for n in range(count):
        words = rng.choice(docs)[2].split()
        at = rng.randrange(len(words) - 1)
        one, two = words[at], words[at + 1]
        out.append([f'"{one}"', f'"{one}" "{rng.choice(words)}"', f'"{one} {two}"', f'"{one[:3]}"*'][n % 4])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=3000)
    parser.add_argument("--words", type=int, default=300, help="words in a body")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(1)
    letters = "abcdefghijklmnopqrstu"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(30_000)]
    docs = [
        (
            f"s{n:08d}",
            " ".join(rng.choices(words, k=10)),
            " ".join(rng.choices(words, k=args.words)),
            " ".join(rng.choices(words, k=2)),
        )
        for n in range(args.stories)
    ]
    queries = queries_of(docs, args.queries, rng)
    costs: dict[str, list[tuple[float, float, int]]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="ingestd-bench-") as folder:
        for _ in range(args.repeat):  # interleaved: load on the machine hits every variant alike
            for name, variant in VARIANTS.items():
                costs[name].append(run(Path(folder), docs, variant, queries))
    write = {name: statistics.median(c[0] for c in runs) for name, runs in costs.items()}
    read = {name: statistics.median(c[1] for c in runs) for name, runs in costs.items()}
    print(
        f"{args.stories} stories of {args.words} words, CPU per story written and per query "
        f"read (median of {args.repeat}):"
    )
    for name, runs in costs.items():
        reading = (
            f"read {read[name] * 1000:.3f} ms ({read[name] / read['shipped']:.2f}x), {runs[-1][2]} segments"
            if VARIANTS[name] is not None
            else ""
        )
        print(
            f"  {name:<18} write {write[name] * 1000:.3f} ms ({write[name] / write['shipped']:.2f}x)  {reading}"
        )


if __name__ == "__main__":
    main()
