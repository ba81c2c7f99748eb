"""`ingestd webhooks list | add ID … | change ID … | remove ID | test ID |
redeliver ID --since TIME | enable ID | disable ID`.

Each action parses its arguments and calls the store (or `send_test`, or the
composer's `redeliver`) function that the daemon, the API and the tests call too;
no logic lives here. It sits beside `cli.py`, not inside `webhooks/`: nothing in
`webhooks/` imports the store. A running
daemon takes up what `add`, `change` and `remove` wrote within a dispatch pass.
Exit codes: 0 done; 1 no such subscription, one the config declares, or the test
event was not accepted; 2 bad usage or a bad value (one line per problem).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

from . import compose, logs
from .config import load_config, parse_since
from .store import Store
from .store.engine import open_store
from .timeutil import to_iso, utcnow
from .webhooks import (
    SubscriptionConflict,
    UnknownSubscription,
    changed,
    describe,
    runtime_subscription,
    send_test,
)

__all__ = ["register"]

_LIST_COLUMNS = (
    "id",
    "state",
    "backlog",
    "failed",
    "delivered",
    "last_success_at",
    "last_error_at",
    "last_error",
    "reason",
    "origin",
    "url",
)
# option dest -> filter key
_FILTER_OPTIONS = {
    "filter_source": "sources",
    "filter_section": "sections",
    "filter_language": "languages",
    "filter_keyword": "keywords",
}


def register(
    commands: Any, with_config: Callable[[argparse.ArgumentParser], argparse.ArgumentParser]
) -> None:
    """Add `webhooks` and its actions to the top-level subparsers `commands`."""
    what = "Webhook subscriptions: list, show, add, change, remove, test, redeliver, enable, disable."
    webhooks = commands.add_parser("webhooks", help=what, description=what)
    actions = webhooks.add_subparsers(metavar="ACTION", required=True)

    def action(name: str, handler: Callable[[argparse.Namespace], int], help: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return with_config(sub)

    action(
        "list", _list, "each subscription's state, backlog, failed deliveries, last success and last error"
    ).add_argument("--json", action="store_true", help="JSON lines")
    show = action("show", _show, "one subscription as `list --json` describes it, indented")
    show.add_argument("subscription_id", metavar="ID")
    show.add_argument("--json", action="store_true", help="one JSON line (default: indented)")
    add = action(
        "add",
        _add,
        "add a subscription at run time (kept in the database, its "
        "secret too); it gets the events stored from now on",
    )
    add.add_argument("subscription_id", metavar="ID")
    _subscription_options(add, required=True)
    change = action(
        "change",
        _change,
        "change a run-time subscription: the options given "
        "replace those values (events and filter apply to events stored from "
        "now on)",
    )
    change.add_argument("subscription_id", metavar="ID")
    _subscription_options(change, required=False)
    change.add_argument(
        "--clear-filter",
        action="store_true",
        help="drop the whole filter first (then the --filter-* given apply)",
    )
    action(
        "remove",
        _remove,
        "delete a run-time subscription, its secret and its deliveries (those still owed are dropped)",
    ).add_argument("subscription_id", metavar="ID")
    action(
        "test", _test, "send a signed webhook.test event to the subscription now (not stored, not retried)"
    ).add_argument("subscription_id", metavar="ID")
    redeliver = action(
        "redeliver",
        _redeliver,
        "queue again every event since TIME that the subscription wants, "
        "delivered or not, with the same event ids",
    )
    redeliver.add_argument("subscription_id", metavar="ID")
    redeliver.add_argument(
        "--since",
        required=True,
        metavar="TIME",
        help="ISO 8601 time (UTC if no zone), or how long ago: 6h, 2d",
    )
    action(
        "enable",
        _enable,
        "take a disabled or paused subscription back to delivering; its backlog goes now, in order",
    ).add_argument("subscription_id", metavar="ID")
    action(
        "disable",
        _disable,
        "stop delivering to the subscription; pending deliveries wait, and none are queued until enabled",
    ).add_argument("subscription_id", metavar="ID")


def _subscription_options(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--url", required=required, help="http(s) endpoint receiving the POSTs")
    parser.add_argument(
        "--secret",
        action="append",
        required=required,
        metavar="whsec_…|env:NAME|file:PATH",
        help="signing secret, stored in the database; repeat while rotating",
    )
    parser.add_argument(
        "--event",
        action="append",
        metavar="TYPE",
        help="event type sent (repeatable; default: story.created and story.updated)",
    )
    for option, key in _FILTER_OPTIONS.items():
        parser.add_argument(
            "--" + option.replace("_", "-"),
            action="append",
            metavar=key[:-1].upper(),
            help=f"filter: one of these {key} (repeatable)",
        )
    parser.add_argument(
        "--first-of-cluster",
        action=argparse.BooleanOptionalAction,
        help="filter: only the first story of a cluster (--no-: only the others)",
    )


def _patch(args: argparse.Namespace) -> dict[str, Any]:
    """The options given, as the keys of a [[subscriptions]] table."""
    patch: dict[str, Any] = {
        key: value
        for key, value in (("url", args.url), ("secret", args.secret), ("events", args.event))
        if value
    }
    story_filter = {
        key: getattr(args, option) for option, key in _FILTER_OPTIONS.items() if getattr(args, option)
    }
    if args.first_of_cluster is not None:
        story_filter["first_of_cluster"] = args.first_of_cluster
    if story_filter:
        patch["filter"] = story_filter
    return patch


def _store(args: argparse.Namespace) -> Store:
    return open_store(load_config(args.config).storage.url)


def _list(args: argparse.Namespace) -> int:
    store = _store(args)
    subscriptions = store.list_subscriptions()
    store.close()
    if args.json:
        for sub in subscriptions:
            print(json.dumps(describe(sub), ensure_ascii=False))
        return 0
    rows = [{c: _plain(getattr(s, c)) for c in _LIST_COLUMNS} for s in subscriptions]
    table = [list(_LIST_COLUMNS)] + [["" if r[c] is None else str(r[c]) for c in _LIST_COLUMNS] for r in rows]
    widths = [min(max(len(row[i]) for row in table), 60) for i in range(len(_LIST_COLUMNS))]
    for row in table:
        print("  ".join(cell[:60].ljust(w) for cell, w in zip(row, widths)).rstrip())
    return 0


def _show(args: argparse.Namespace) -> int:
    store = _store(args)
    sub = next((s for s in store.list_subscriptions() if s.id == args.subscription_id), None)
    store.close()
    if sub is None:
        print(f"no subscription {args.subscription_id!r}", file=sys.stderr)
        return 1
    print(json.dumps(describe(sub), ensure_ascii=False, indent=None if args.json else 2))
    return 0


def _add(args: argparse.Namespace) -> int:
    sub = runtime_subscription(
        {"id": args.subscription_id, **_patch(args)}, f"webhooks add {args.subscription_id}"
    )
    store = _store(args)
    try:
        store.add_subscription(sub, "cli", utcnow())
    except SubscriptionConflict as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"{sub.id}: added; events stored from now on go to {sub.url}")
    return 0


def _change(args: argparse.Namespace) -> int:
    patches = [{"filter": None}] if args.clear_filter else []
    patches.append(_patch(args))
    label = f"webhooks change {args.subscription_id}"
    store = _store(args)
    try:
        store.change_subscription(
            args.subscription_id, lambda current: changed(current, patches, label), utcnow()
        )
    except (UnknownSubscription, SubscriptionConflict) as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"{args.subscription_id}: changed")
    return 0


def _remove(args: argparse.Namespace) -> int:
    store = _store(args)
    try:
        dropped = store.remove_subscription(args.subscription_id)
    except (UnknownSubscription, SubscriptionConflict) as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        store.close()
    print(f"{args.subscription_id}: removed ({dropped} deliveries still owed were dropped)")
    return 0


def _test(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    logs.configure(config.log.format, config.log.level)
    sub = next((s for s in config.subscriptions if s.id == args.subscription_id), None)
    if sub is None:  # a run-time one
        store = open_store(config.storage.url)
        sub = store.stored_subscription(args.subscription_id)
        store.close()
    if sub is None:
        print(f"no subscription {args.subscription_id!r}", file=sys.stderr)
        return 1
    try:
        event_id, attempt = asyncio.run(send_test(config, sub))
    except ValueError as exc:
        print(f"{args.subscription_id}: secret: {exc}", file=sys.stderr)
        return 2
    log = logs.get_logger(subscription_id=args.subscription_id)
    (log.info if attempt.ok else log.warning)(
        "webhook test",
        event_id=event_id,
        status=attempt.status,
        duration_ms=attempt.duration_ms,
        attempt=1,
        error=attempt.error,
    )
    if attempt.ok:
        print(
            f"{args.subscription_id}: {event_id} accepted (HTTP {attempt.status}, {attempt.duration_ms} ms)"
        )
        return 0
    print(f"{args.subscription_id}: {event_id} not accepted: {attempt.error}", file=sys.stderr)
    return 1


def _redeliver(args: argparse.Namespace) -> int:
    now = utcnow()
    try:
        since = parse_since(args.since, now)
    except ValueError as exc:
        print(f"--since: {exc}", file=sys.stderr)
        return 2
    store = _store(args)
    queued = compose.redeliver(store, args.subscription_id, since, now)
    store.close()
    if queued is None:
        print(f"no subscription {args.subscription_id!r}", file=sys.stderr)
        return 1
    print(f"{args.subscription_id}: {queued} events since {to_iso(since)} queued again")
    return 0


def _enable(args: argparse.Namespace) -> int:
    store = _store(args)
    done = store.enable_subscription(args.subscription_id, utcnow())
    store.close()
    return _report(args.subscription_id, done, "enabled; its backlog is due now")


def _disable(args: argparse.Namespace) -> int:
    store = _store(args)
    done = store.disable_subscription(args.subscription_id, utcnow())
    store.close()
    return _report(args.subscription_id, done, "disabled")


def _report(subscription_id: str, done: bool, what: str) -> int:
    if not done:
        print(f"no subscription {subscription_id!r}", file=sys.stderr)
        return 1
    print(f"{subscription_id}: {what}")
    return 0


def _plain(value: Any) -> Any:
    return to_iso(value) if isinstance(value, datetime) else value
