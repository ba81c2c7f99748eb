"""`ingestd feeds import FILE.opml` and `ingestd feeds export`: thin wrappers over
`ingestd.opml`, added to the `feeds` command of `ingestd.cli`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# opml and the store are imported by the commands that use them: building the
# parser (every `ingestd` run, `--help` included) must stay cheap. `cli.load` too:
# cli imports this module.


def add_feeds_actions(
    feeds_commands: Any, with_config: Callable[[argparse.ArgumentParser], argparse.ArgumentParser]
) -> None:
    """Add `import` and `export` to the `feeds` subparsers."""
    imports = feeds_commands.add_parser(
        "import", help="add the feeds of an OPML file: all of them, or on any error none"
    )
    imports.set_defaults(handler=import_opml_command)
    with_config(imports).add_argument("file", metavar="FILE.opml")
    exports = feeds_commands.add_parser("export", help="write the feeds as OPML 2.0")
    exports.set_defaults(handler=export_opml_command)
    with_config(exports).add_argument(
        "-o", "--output", metavar="FILE", help="write to FILE (default: stdout)"
    )


def import_opml_command(args: argparse.Namespace) -> int:
    from .cli import load
    from .opml import OPMLError, import_opml
    from .progress import progress_bar
    from .store.engine import open_store

    config = load(args)
    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        print(f"{args.file}: cannot read: {exc.strerror}", file=sys.stderr)
        return 1
    store = open_store(config.storage.url)
    try:
        report = import_opml(
            store,
            data,
            interval=config.scheduler.default_interval,
            now=datetime.now(UTC),
            progress=progress_bar("feeds"),
        )
    except OPMLError as exc:
        for problem in exc.problems:
            print(f"{args.file}: {problem}", file=sys.stderr)
        print(f"{args.file}: nothing imported", file=sys.stderr)
        return 1
    finally:
        store.close()
    for feed in report.added:
        print(f"{feed.id}  {feed.url}")
    for feed, existing in report.present:
        print(f"{feed.url}: already there as {existing}", file=sys.stderr)
    print(f"{len(report.added)} feeds imported, {len(report.present)} already there", file=sys.stderr)
    return 0


def export_opml_command(args: argparse.Namespace) -> int:
    from .cli import load
    from .opml import export_opml
    from .store.engine import open_store

    store = open_store(load(args).storage.url)
    try:
        document, left_out = export_opml(store.list_feeds())
    finally:
        store.close()
    for feed in left_out:
        print(f"{feed.id}: left out: {feed.url} is local (file: feeds are config-only)", file=sys.stderr)
    if args.output:
        Path(args.output).write_bytes(document)
    else:
        sys.stdout.buffer.write(document)
        sys.stdout.flush()
    return 0
