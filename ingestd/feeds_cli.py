"""`ingestd feeds add | remove | disable | enable`: feeds managed at run time, kept in the
database (DESIGN.md "Config and state"). The running daemon picks a change up at its
next tick: it claims due feeds from the store. Added to the `feeds` command of `cli`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

# the config, the store and cli.load are imported by the commands: building the parser
# (every `ingestd` run) must stay cheap, and cli imports this module


def add_runtime_actions(
    feeds_commands: Any, with_config: Callable[[argparse.ArgumentParser], argparse.ArgumentParser]
) -> None:
    def action(name: str, handler: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = feeds_commands.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        with_config(sub).add_argument("feed_id", metavar="ID")
        return sub

    add = action(
        "add", _add, "add an http(s) feed at run time (kept in the database); polled at the next tick"
    )
    add.add_argument("--url", required=True)
    add.add_argument("--source", help="source profile (default: detected)")
    add.add_argument("--interval", help="poll interval, e.g. 5m (default: [scheduler] default_interval)")
    add.add_argument("--fetch-article", action="store_true", help="read each entry's own page")
    add.add_argument("--identity", help="pin the identity policy: guid, url or content")
    add_credential_options(add)
    remove = action(
        "remove", _remove, "stop polling a run-time feed and set it aside; its stories and tombstones stay"
    )
    remove.add_argument("--purge", action="store_true", help="delete its stories and tombstones too")
    action("disable", _disable, "stop polling the feed whatever its state, until `enable`; survives restarts")
    action("enable", _enable, "undo `disable` (only that: an erroring or parked feed stays so)")


def _add(args: argparse.Namespace) -> int:
    from .cli import load
    from .config import parse_feed
    from .errors import ConfigError
    from .store import Store

    config = load(args)
    table: dict[str, Any] = {"id": args.feed_id, "url": args.url}
    for key in ("source", "interval", "identity"):
        if getattr(args, key) is not None:
            table[key] = getattr(args, key)
    if args.fetch_article:
        table["fetch_article"] = True
    table |= credential_table(args)
    try:
        feed = parse_feed(table, f"feeds add {args.feed_id}", config.scheduler.default_interval)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    store = Store(config.storage.path)
    try:
        added = store.add_feed(feed, "cli", datetime.now(UTC))
    finally:
        store.close()
    if not added:
        print(f"feed {feed.id!r} exists already", file=sys.stderr)
        return 1
    print(f"{feed.id}: added; the daemon polls it at its next tick")
    return 0


def add_credential_options(parser: argparse.ArgumentParser) -> None:
    """What [[feeds]] headers, auth, query, client_cert and client_key say, as options.
    Secrets may be env:NAME or file:PATH, read here: the value is what is stored."""
    parser.add_argument(
        "--header",
        action="append",
        metavar="NAME=VALUE",
        help="request header for the feed's origin (repeat)",
    )
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument("--basic", metavar="USER:PASSWORD", help="HTTP basic auth")
    auth.add_argument("--bearer", metavar="TOKEN", help="Authorization: Bearer TOKEN")
    parser.add_argument(
        "--query", action="append", metavar="NAME=VALUE", help="token query parameter (repeat)"
    )
    parser.add_argument("--client-cert", metavar="PEM", help="client certificate (and key) file")
    parser.add_argument("--client-key", metavar="PEM", help="client key file, if apart from the certificate")


def credential_table(args: argparse.Namespace) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for option, key in (("header", "headers"), ("query", "query")):
        pairs = [item.partition("=") for item in getattr(args, option) or []]
        if pairs:
            # a pair without "=" is left for parse_feed to refuse, naming it
            table[key] = {name: value if sep else None for name, sep, value in pairs}
    if args.basic is not None:
        table["auth"] = {"basic": args.basic}
    elif args.bearer is not None:
        table["auth"] = {"bearer": args.bearer}
    if args.client_cert is not None:
        table["client_cert"] = args.client_cert
    if args.client_key is not None:
        table["client_key"] = args.client_key
    return table


def _remove(args: argparse.Namespace) -> int:
    from .cli import load
    from .store import Store

    config = load(args)
    store = Store(config.storage.path)
    try:
        feed = store.get_feed(args.feed_id)
        if feed is None:
            print(f"no feed {args.feed_id!r}", file=sys.stderr)
            return 1
        if feed.origin == "config" and feed.state != "removed":
            print(f"feed {feed.id} is declared in {config.file}; remove it there", file=sys.stderr)
            return 1
        purged = store.remove_feed(feed.id, datetime.now(UTC), purge=args.purge)
    finally:
        store.close()
    print(
        f"{args.feed_id}: removed" + (f" with its {purged} stories" if args.purge else "; its stories stay")
    )
    return 0


def _disable(args: argparse.Namespace) -> int:
    return _set_disabled(args, True)


def _enable(args: argparse.Namespace) -> int:
    return _set_disabled(args, False)


def _set_disabled(args: argparse.Namespace, disabled: bool) -> int:
    from .cli import load
    from .store import Store

    store = Store(load(args).storage.path)
    try:
        done = store.set_feed_disabled(args.feed_id, disabled, datetime.now(UTC))
    finally:
        store.close()
    if not done:
        print(f"no feed {args.feed_id!r}", file=sys.stderr)
        return 1
    print(f"{args.feed_id}: {'disabled' if disabled else 'enabled'}")
    return 0
