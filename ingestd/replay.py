"""Test mode: the daemon's pipeline on local files, no network.

Files are read in name order (folders recursively), entries in document
order; the events the run produced are written to `out`, one JSON object a
line, exactly as the store's outbox holds them. With the same inputs and
`now`, the output is byte-identical from run to run.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, cast

from . import compose, dedupe
from .config import Config, parse_size
from .errors import FetchError
from .fetch import local_files, read_file
from .library import read
from .logs import get_logger
from .store import Store


@dataclass
class ReplaySummary:
    inputs: int = 0
    failed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    dropped: int = 0

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


def input_files(paths: list[str | os.PathLike[str]]) -> list[Path]:
    """Files given, and the files inside folders given, in name order; hidden ones skipped.
    A path given is kept (missing, or a FIFO), so that it is reported as a failed input."""
    return local_files(paths)


def replay(
    paths: list[str | os.PathLike[str]],
    *,
    config: Config,
    profiles: Any,
    now: datetime,
    out: TextIO,
    db_path: str | None = None,
    source: str | None = None,
    progress: Any = None,
) -> ReplaySummary:
    log = get_logger()
    summary = ReplaySummary()
    with tempfile.TemporaryDirectory(prefix="ingestd-replay-") as scratch:
        store = Store(db_path or os.path.join(scratch, "replay.db"))
        settings = dedupe.Settings.from_config(config.dedupe)
        try:
            compose.rebuild_signatures(store)
            files = input_files(paths)
            for path in progress(files) if progress else files:
                summary.inputs += 1
                _replay_file(
                    path,
                    store=store,
                    config=config,
                    profiles=profiles,
                    now=now,
                    source=source,
                    out=out,
                    summary=summary,
                    settings=settings,
                )
        finally:
            store.close()
    if summary.inputs and summary.created == 0 and summary.updated == 0:
        log.info("replay: nothing new", unchanged=summary.unchanged, reason="every story was already stored")
    log.info(
        "replay done",
        inputs=summary.inputs,
        failed=summary.failed,
        created=summary.created,
        updated=summary.updated,
        unchanged=summary.unchanged,
        dropped=summary.dropped,
    )
    return summary


def _replay_file(
    path: Path,
    *,
    store: Store,
    config: Config,
    profiles: Any,
    now: datetime,
    source: str | None,
    out: TextIO,
    summary: ReplaySummary,
    settings: dedupe.Settings,
) -> None:
    feed_id, feed_source, identity = _feed_for(path, config)
    log = get_logger(feed_id=feed_id, url=str(path))
    try:
        body = read_file(path, parse_size(config.fetch.max_body))
    except FetchError as exc:
        summary.failed += 1
        log.error("input unreadable", error=str(exc))
        return
    result = read(
        body,
        feed_id=feed_id,
        source=feed_source or source,
        now=now,
        profiles=profiles,
        url=path.resolve().as_uri(),
    )
    if result.error:
        summary.failed += 1
        log.error("input not readable", error=result.error)
        return
    for reason in result.dropped:
        log.warning("entry dropped", error=reason)
    summary.dropped += len(result.dropped)
    pinned = cast(dedupe.PolicyName | None, identity)  # the config checked it is one
    changes = compose.save_stories(store, result.stories, now, identity=pinned, settings=settings)
    written = [change.event["id"] for change in changes if change.event is not None]
    bodies = store.event_bodies(written) if written else {}
    for change in changes:
        setattr(summary, change.kind, getattr(summary, change.kind) + 1)
    for event_id in written:  # exactly the outbox's bytes, as a webhook POST carries them
        out.write(bodies[event_id] + "\n")
    out.flush()


def _feed_for(path: Path, config: Config) -> tuple[str, str | None, str | None]:
    """A file inside a configured local feed replays as that feed (its id, source and
    pinned identity policy); others as themselves."""
    resolved = path.resolve()
    for feed in config.feeds:
        if feed.url.startswith("file:"):
            root = Path(feed.url.removeprefix("file://"))
            if resolved == root or root in resolved.parents:
                return feed.id, feed.source, feed.identity
    return f"file:{path.name}", None, None
