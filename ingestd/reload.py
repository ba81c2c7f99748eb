"""What a config reload (SIGHUP) can take up while the daemon runs, decided before
anything is applied: the changed settings it cannot are named, so the operator
knows a restart is owed. Feeds and subscriptions are always taken up."""

from __future__ import annotations

import dataclasses

from .config import SECTIONS, Config

# Read afresh by every tick, poll and write, or rebuilt by the reload itself. The
# rest lives in objects made once at start: the database, the listening socket, the
# API's token, the guarded HTTP clients and the webhook senders.
LIVE = frozenset(
    {"log", "scheduler", "dedupe", "normalize", "fetch.max_entries", "fetch.adopt_redirect_after"}
)


def needs_restart(running: Config, new: Config) -> tuple[str, ...]:
    """The settings changed in `new` that only a restart takes up, as `[section] key`."""
    changed = []
    for section in SECTIONS:
        before, after = getattr(running, section), getattr(new, section)
        for setting in dataclasses.fields(before):
            key = setting.name
            live = section in LIVE or f"{section}.{key}" in LIVE
            if not live and getattr(before, key) != getattr(after, key):
                changed.append(f"[{section}] {key}")
    return tuple(changed)
