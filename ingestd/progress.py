"""A progress bar for long jobs (replay of a folder, OPML import): on a
terminal only, on stderr, so stdout and piped logs stay clean."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any, TextIO


def progress_bar(unit: str, stream: TextIO | None = None) -> Callable[[list[Any]], Iterator[Any]] | None:
    """An iterator wrapper counting `unit`s, or None when the stream is not a terminal."""
    stream = stream or sys.stderr
    if not stream.isatty():
        return None

    def iterate(items: list[Any]) -> Iterator[Any]:
        for index, item in enumerate(items, start=1):
            yield item
            stream.write(f"\r{index}/{len(items)} {unit}")
            stream.flush()
        stream.write("\n")

    return iterate
