"""A synthetic news corpus: N feeds of M items (40 x 50 by default), written as RSS 2.0 files.

    python bench/corpus.py OUT_DIR [--feeds 40] [--items 50] [--seed 1]

Each item is a wire-like story: a dateline, a few paragraphs of words drawn from a
vocabulary, numbers in place (figures, dates), an author, a category and a
publication time. A fifth of the items are copies of another feed's item (another
headline, a trimmed or extended body: what agencies and their clients publish), so
the corpus exercises near-duplicate clusters as real wires do. Seeded: the same
bytes on every run. bench/pipeline.py uses it.
"""

from __future__ import annotations

import argparse
import random
import string
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

PLACES = ["SEOUL", "TOKYO", "WASHINGTON", "BRUSSELS", "NAIROBI", "LIMA", "CANBERRA", "OSLO"]
SECTIONS = ["Politics", "Economy", "World", "Sports", "Science", "Culture"]
START = datetime(2026, 1, 1, tzinfo=UTC)


def vocabulary(rng: random.Random, size: int = 5000) -> list[str]:
    return ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(2, 10))) for _ in range(size)]


def story_text(rng: random.Random, words: list[str]) -> list[str]:
    """Paragraphs of 30-60 words, with numbers where wire copy has them."""
    paragraphs = []
    for _ in range(rng.randint(3, 6)):
        sentence = []
        for _ in range(rng.randint(30, 60)):
            sentence.append(
                f"{rng.randint(1, 999)}.{rng.randint(0, 99):02d}"
                if rng.random() < 0.04
                else rng.choice(words)
            )
        paragraphs.append(" ".join(sentence).capitalize() + ".")
    return paragraphs


def corpus(feeds: int, items: int, seed: int = 1) -> dict[str, bytes]:
    """File name -> RSS bytes."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    stories: list[list[tuple[str, list[str], datetime, str, str]]] = []
    for _ in range(feeds):
        feed_items = []
        for _ in range(items):
            published = START - timedelta(minutes=rng.randint(0, 3 * 24 * 60))
            if stories and rng.random() < 0.2:  # a wire copy of another feed's story
                headline, body, published, place, section = rng.choice(rng.choice(stories))
                headline = " ".join(rng.choices(words, k=rng.randint(5, 10))).capitalize()
                body = body[:-1] if len(body) > 3 and rng.random() < 0.5 else [*body, "(END)"]
            else:
                headline = " ".join(rng.choices(words, k=rng.randint(5, 10))).capitalize()
                body = story_text(rng, words)
                place, section = rng.choice(PLACES), rng.choice(SECTIONS)
            feed_items.append((headline, body, published, place, section))
        stories.append(feed_items)
    files = {}
    for f, feed_items in enumerate(stories):
        xml = [
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>Synthetic wire {f}</title><link>https://wire{f}.example/</link>"
            "<description>bench corpus</description><language>en</language>"
        ]
        for i, (headline, body, published, place, section) in enumerate(feed_items):
            html = "".join(f"<p>{escape(p)}</p>" for p in [f"{place}, (Wire) -- {body[0]}", *body[1:]])
            xml.append(
                f'<item><guid isPermaLink="false">wire{f}-{i}</guid>'
                f"<title>{escape(headline)}</title><link>https://wire{f}.example/{i}</link>"
                f"<dc:creator>Reporter {rng.randint(1, 40)}</dc:creator><category>{section}</category>"
                f"<pubDate>{format_datetime(published)}</pubDate>"
                f"<description>{escape(html)}</description></item>"
            )
        xml.append("</channel></rss>")
        files[f"wire{f:02d}.xml"] = "".join(xml).encode()
    return files


def write(folder: Path, feeds: int = 40, items: int = 50, seed: int = 1) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, body in corpus(feeds, items, seed).items():
        (folder / name).write_bytes(body)
        paths.append(folder / name)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--feeds", type=int, default=40)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    paths = write(options.out, options.feeds, options.items, options.seed)
    print(f"{len(paths)} feeds of {options.items} items in {options.out}")


if __name__ == "__main__":
    main()
