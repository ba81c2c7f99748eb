"""`ingestd webhooks list | test ID | redeliver ID --since TIME | enable ID | disable ID`.

Each action parses its arguments and calls the store (or `send_test`) method
that the daemon and the tests call too; no logic lives here. Exit codes: 0
done; 1 no such subscription, or the test event was not accepted; 2 bad usage.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from .. import logs
from ..config import load_config, parse_duration
from ..store import Store
from ..timeutil import parse_now, to_iso
from ._sender import send_test

__all__ = ["register"]

_LIST_COLUMNS = ("id", "state", "backlog", "failed", "delivered", "last_success_at",
                 "last_error_at", "last_error", "reason", "url")


def register(commands: Any, with_config: Callable[[argparse.ArgumentParser],
                                                  argparse.ArgumentParser]) -> None:
    """Add `webhooks` and its actions to the top-level subparsers `commands`."""
    webhooks = commands.add_parser(
        "webhooks", help="Webhook subscriptions: list, test, redeliver, enable, disable.",
        description="Webhook subscriptions: list, test, redeliver, enable, disable.")
    actions = webhooks.add_subparsers(metavar="ACTION", required=True)

    def action(name: str, handler: Callable[[argparse.Namespace], int],
               help: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help, description=help)
        sub.set_defaults(handler=handler)
        return with_config(sub)

    action("list", _list, "each subscription's state, backlog, failed deliveries, last "
           "success and last error").add_argument("--json", action="store_true",
                                                   help="JSON lines")
    action("test", _test, "send a signed webhook.test event to the subscription now "
           "(not stored, not retried)").add_argument("subscription_id", metavar="ID")
    redeliver = action("redeliver", _redeliver,
                       "queue again every event since TIME that the subscription wants, "
                       "delivered or not, with the same event ids")
    redeliver.add_argument("subscription_id", metavar="ID")
    redeliver.add_argument("--since", required=True, metavar="TIME",
                           help="ISO 8601 time (UTC if no zone), or how long ago: 6h, 2d")
    action("enable", _enable, "take a disabled or paused subscription back to delivering; "
           "its backlog goes now, in order").add_argument("subscription_id", metavar="ID")
    action("disable", _disable, "stop delivering to the subscription; pending deliveries "
           "wait, and none are queued until enabled").add_argument("subscription_id",
                                                                   metavar="ID")


def _store(args: argparse.Namespace) -> Store:
    return Store(load_config(args.config).storage.path)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _list(args: argparse.Namespace) -> int:
    store = _store(args)
    subscriptions = store.list_subscriptions()
    store.close()
    rows = [{c: _plain(getattr(s, c)) for c in _LIST_COLUMNS} for s in subscriptions]
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    table = [list(_LIST_COLUMNS)] + [["" if r[c] is None else str(r[c]) for c in _LIST_COLUMNS]
                                     for r in rows]
    widths = [min(max(len(row[i]) for row in table), 60) for i in range(len(_LIST_COLUMNS))]
    for row in table:
        print("  ".join(cell[:60].ljust(w) for cell, w in zip(row, widths)).rstrip())
    return 0


def _test(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    logs.configure(config.log.format, config.log.level)
    try:
        event_id, attempt = asyncio.run(send_test(config, args.subscription_id))
    except KeyError:
        print(f"no subscription {args.subscription_id!r} in the config", file=sys.stderr)
        return 1
    log = logs.get_logger(subscription_id=args.subscription_id)
    (log.info if attempt.ok else log.warning)(
        "webhook test", event_id=event_id, status=attempt.status,
        duration_ms=attempt.duration_ms, attempt=1, error=attempt.error)
    if attempt.ok:
        print(f"{args.subscription_id}: {event_id} accepted (HTTP {attempt.status}, "
              f"{attempt.duration_ms} ms)")
        return 0
    print(f"{args.subscription_id}: {event_id} not accepted: {attempt.error}", file=sys.stderr)
    return 1


def _redeliver(args: argparse.Namespace) -> int:
    now = _now()
    try:
        since = now - timedelta(seconds=parse_duration(args.since))
    except ValueError:
        try:
            since = parse_now(args.since)
        except ValueError:
            print(f"--since: {args.since!r} is neither an ISO 8601 time nor a duration",
                  file=sys.stderr)
            return 2
    store = _store(args)
    queued = store.redeliver(args.subscription_id, since, now)
    store.close()
    if queued is None:
        print(f"no subscription {args.subscription_id!r}", file=sys.stderr)
        return 1
    print(f"{args.subscription_id}: {queued} events since {to_iso(since)} queued again")
    return 0


def _enable(args: argparse.Namespace) -> int:
    store = _store(args)
    done = store.enable_subscription(args.subscription_id, _now())
    store.close()
    return _report(args.subscription_id, done, "enabled; its backlog is due now")


def _disable(args: argparse.Namespace) -> int:
    store = _store(args)
    done = store.disable_subscription(args.subscription_id, _now())
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
