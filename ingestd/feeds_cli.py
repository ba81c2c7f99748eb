"""`ingestd feeds add | change | remove | disable | enable`: feeds managed at run time, kept
in the database (DESIGN.md "Config and state"), by the operations /feeds uses too
(`runtime_feeds`). The running daemon picks a change up at its next tick: it claims due
feeds from the store. Added to the `feeds` command of `cli`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .runtime_feeds import FeedRules
    from .store import Store

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
    _feed_options(add, "default: ")
    add_credential_options(add)
    add.add_argument("--fetch-article", action="store_true", default=None, help="read each entry's own page")
    change = action(
        "change",
        _change,
        "change a run-time feed: the options given replace those values, checked as `add` checks; "
        "a new URL is polled afresh at the next tick",
    )
    change.add_argument("--url")
    _feed_options(change, "unset: ")
    add_credential_options(change)
    change.add_argument(
        "--fetch-article",
        action=argparse.BooleanOptionalAction,
        help="read each entry's own page, or stop doing so",
    )
    change.add_argument(
        "--unset",
        action="append",
        metavar="KEY",
        choices=UNSETTABLE,
        help=f"drop the value so the default applies again (repeat): {', '.join(UNSETTABLE)}",
    )
    remove = action(
        "remove", _remove, "stop polling a run-time feed and set it aside; its stories and tombstones stay"
    )
    remove.add_argument("--purge", action="store_true", help="delete its stories and tombstones too")
    action("disable", _disable, "stop polling the feed whatever its state, until `enable`; survives restarts")
    action("enable", _enable, "undo `disable` (only that: an erroring or parked feed stays so)")


def _feed_options(parser: argparse.ArgumentParser, unset: str) -> None:
    parser.add_argument("--source", help=f"source profile ({unset}detected)")
    parser.add_argument("--interval", help=f"poll interval, e.g. 5m ({unset}[scheduler] default_interval)")
    parser.add_argument("--identity", help="pin the identity policy: guid, url or content")
    parser.add_argument(
        "--quiet-after", help=f"quiet after this long without a story, e.g. 6h ({unset}learnt)"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the feed as one JSON line, as the API shows it"
    )


# the [[feeds]] keys `feeds change --unset` may drop (a merge patch's null)
UNSETTABLE = (
    "source",
    "interval",
    "identity",
    "quiet_after",
    "headers",
    "query",
    "auth",
    "client_cert",
    "client_key",
)


def _table(args: argparse.Namespace) -> dict[str, Any]:
    """The options given, as [[feeds]] keys; an unset key as None."""
    keys = ("url", "source", "interval", "identity", "quiet_after", "fetch_article")
    table = {key: getattr(args, key) for key in keys if getattr(args, key) is not None}
    table |= credential_table(args)
    for key in getattr(args, "unset", None) or []:
        if key in table:
            from .errors import ConfigError, Problem

            raise ConfigError([Problem(f"feeds change {args.feed_id}", key, "both given and unset")])
        table[key] = None
    return table


def _add(args: argparse.Namespace) -> int:
    from . import runtime_feeds

    return _write(
        args,
        lambda store, rules, now: runtime_feeds.add(
            store, {"id": args.feed_id} | _table(args), rules, "cli", now, f"feeds add {args.feed_id}"
        ),
        "added; the daemon polls it at its next tick",
    )


def _change(args: argparse.Namespace) -> int:
    from . import runtime_feeds

    return _write(
        args,
        lambda store, rules, now: runtime_feeds.change(
            store, args.feed_id, _table(args), rules, now, f"feeds change {args.feed_id}"
        ),
        "changed; the daemon takes it up at its next tick",
    )


def _write(
    args: argparse.Namespace, operation: Callable[[Store, FeedRules, datetime], Any], done: str
) -> int:
    from . import runtime_feeds
    from .cli import load
    from .errors import ConfigError
    from .store.engine import open_store

    config = load(args)
    store = open_store(config.storage.url)
    try:
        operation(
            store, runtime_feeds.FeedRules(config.file, config.scheduler.default_interval), datetime.now(UTC)
        )
        shown = store.feed_overview(args.feed_id)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    except (runtime_feeds.UnknownFeed, runtime_feeds.FeedConflict) as exc:
        print(exc.args[0], file=sys.stderr)
        return 1
    finally:
        store.close()
    print(json.dumps(shown, ensure_ascii=False) if args.json else f"{args.feed_id}: {done}")
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
    from . import runtime_feeds
    from .cli import load
    from .store.engine import open_store

    config = load(args)
    store = open_store(config.storage.url)
    try:
        rules = runtime_feeds.FeedRules(config.file, config.scheduler.default_interval)
        purged = runtime_feeds.remove(store, args.feed_id, rules, datetime.now(UTC), purge=args.purge)
    except (runtime_feeds.UnknownFeed, runtime_feeds.FeedConflict) as exc:
        print(exc.args[0], file=sys.stderr)
        return 1
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
    from . import runtime_feeds
    from .cli import load
    from .store.engine import open_store

    store = open_store(load(args).storage.url)
    try:
        runtime_feeds.set_disabled(store, args.feed_id, disabled, datetime.now(UTC))
    except runtime_feeds.UnknownFeed as exc:
        print(exc.args[0], file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"{args.feed_id}: {'disabled' if disabled else 'enabled'}")
    return 0
