"""Watch folders: `folder:` feeds consume the files dropped into them.

Unlike a `file:` feed (re-read on each poll, left as it is), a folder feed takes each
file once it is complete, feeds it into the same poll as any other input, and after
that poll's commit moves it to `processed/` or to `error/` beside a `.reason` file.
A crash between the commit and the move loses nothing and duplicates nothing: the
next poll reads the file again, finds its entries stored already (raw-content keys)
and just moves it.

`complete` and `destinations` decide (pure); `look`, `file_away` and `watch` do the I/O.
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import structlog

SCHEME = "folder:"
PROCESSED = "processed"
ERROR = "error"
# names a writer uses while a file is not finished; renamed from one, a file is complete
TEMPORARY = ("*.tmp", ".*", "*.part")
# between the two looks of a poll that found files not seen before
SETTLE_S = 0.25


@dataclass(frozen=True)
class Seen:
    """One look at a file: a file seen twice the same is no longer being written."""

    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Move:
    source: Path
    target: Path
    reason: str | None  # why it went to error/; None: processed


def folder_path(url: str) -> Path:
    """`folder:/abs/path` -> the folder. Raises ValueError naming the URL otherwise."""
    if not url.startswith(SCHEME) or not url[len(SCHEME) :]:
        raise ValueError(f"{url!r} is not a folder: URL (folder:/path/to/folder)")
    return Path(url[len(SCHEME) :])


def is_temporary(name: str) -> bool:
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in TEMPORARY)


def complete(before: Mapping[str, Seen], now: Mapping[str, Seen], renamed: Iterable[str] = ()) -> list[str]:
    """The names to take, in name order: seen the same in both looks, or renamed into
    place from a temporary name (the writer said it is done)."""
    done = set(renamed)
    return sorted(name for name, seen in now.items() if name in done or before.get(name) == seen)


def renamed_into_place(changes: Iterable[tuple[int, str]]) -> frozenset[str]:
    """Names added in the same batch of changes that deleted a temporary name: a rename
    (inotify's pair, as watchfiles reports it). `changes` are (watchfiles.Change, path)."""
    from watchfiles import Change

    batch = [(change, Path(path).name) for change, path in changes]
    if not any(change == Change.deleted and is_temporary(name) for change, name in batch):
        return frozenset()
    return frozenset(name for change, name in batch if change == Change.added and not is_temporary(name))


def destinations(folder: Path, taken: Mapping[str, str | None]) -> list[Move]:
    """Where each taken file goes: `error/` when it has a reason, else `processed/`."""
    return [
        Move(folder / name, folder / (ERROR if reason else PROCESSED) / name, reason)
        for name, reason in sorted(taken.items())
    ]


def look(folder: Path) -> dict[str, Seen]:
    """The folder's regular files (not its sub-folders, not temporary names). Raises
    OSError when the folder cannot be listed."""
    seen = {}
    with os.scandir(folder) as entries:
        for entry in entries:
            if is_temporary(entry.name) or not entry.is_file(follow_symlinks=False):
                continue
            try:
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # taken away between the listing and the look
                continue
            seen[entry.name] = Seen(stat.st_size, stat.st_mtime_ns)
    return seen


def file_away(moves: Iterable[Move]) -> None:
    """Apply the moves; a name taken in the target folder gets a numbered suffix, so an
    earlier file of the same name is never overwritten. The reason is written first:
    a file in error/ always has its `.reason`."""
    for move in moves:
        move.target.parent.mkdir(exist_ok=True)
        target = _free_name(move.target)
        if move.reason is not None:
            target.with_name(target.name + ".reason").write_text(move.reason + "\n", encoding="utf-8")
        os.replace(move.source, target)


def _free_name(target: Path) -> Path:
    candidate, number = target, 0
    while candidate.exists() or candidate.with_name(candidate.name + ".reason").exists():
        number += 1
        candidate = target.with_name(f"{target.stem}.{number}{target.suffix}")
    return candidate


async def watch(
    folder: Path,
    changed: Callable[[frozenset[str]], Awaitable[None]],
    stop: object,
    *,
    force_polling: bool | None = None,
) -> None:
    """Call `changed(renamed)` once at start (files left from before) and after each batch
    of changes in the folder, until `stop` (an asyncio.Event) is set. inotify through
    watchfiles; where it cannot watch (no inotify, watches used up), it polls instead."""
    from watchfiles import Change, awatch

    log = structlog.get_logger().bind(url=SCHEME + str(folder))
    await changed(frozenset())
    polling = force_polling
    while True:
        try:
            async for changes in awatch(
                folder,
                stop_event=stop,
                recursive=False,
                force_polling=polling,
                watch_filter=None,
                debounce=400,
                step=20,
            ):
                if any(change != Change.deleted for change, _ in changes):  # not our own moves
                    await changed(renamed_into_place(changes))
            return
        except OSError as exc:
            if polling:
                raise
            log.warning("watch folder polled instead", error=f"{type(exc).__name__}: {exc}")
            polling = True
