"""Feeds managed at run time, one function per operation, shared by `ingestd feeds …` and
the /feeds routes, so that the two check the same things and refuse in the same words.

    add(store, table, rules, origin, now, label)      -> FeedConfig
    change(store, feed_id, patch, rules, now, label)  -> FeedConfig
    remove(store, feed_id, rules, now, purge=)        -> stories purged
    set_disabled(store, feed_id, disabled, now)

A table is what a [[feeds]] entry holds, checked by `config.parse_feed`; a change is a JSON
merge patch (RFC 7396) on the feed's table, checked as a whole once merged. Feeds the
config declares change there (DESIGN.md "Config and state"); only disable and enable
reach them. The daemon takes each change up at its next tick: it claims due feeds from
the store. Refusals: UnknownFeed, FeedConflict, or ConfigError naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from .config import CREDENTIAL_KEYS, literal_secret_problems, parse_feed
from .credentials import origin_of
from .errors import ConfigError, Problem
from .models import FeedConfig, FeedCredentials
from .store import Store
from .webhooks._subscriptions import merge_patch

__all__ = ["FeedConflict", "FeedRules", "UnknownFeed", "add", "change", "remove", "set_disabled"]


class UnknownFeed(LookupError):
    """No feed by that id (or one removed); the message names it."""


class FeedConflict(Exception):
    """The id is taken, or the config declares the feed; the message says what to do."""


@dataclass(frozen=True)
class FeedRules:
    """What the checks need from the config: its file (named in refusals) and the
    interval a feed without one gets."""

    config_file: Path | None
    default_interval: float


def add(
    store: Store,
    table: Any,
    rules: FeedRules,
    origin: str,
    now: datetime,
    label: str,
    *,
    also: Callable[[], None] = lambda: None,
    literal_secrets: bool = False,
) -> FeedConfig:
    """`table` checked (then by `also`, the API's schema) and added, due at once.
    `literal_secrets` (the API): credentials are the values, never env:/file:."""
    feed = parse_feed(table, label, rules.default_interval, literal_secrets=literal_secrets)
    also()
    if not store.add_feed(feed, origin, now):
        raise FeedConflict(f"feed {feed.id!r} exists already")
    return feed


def change(
    store: Store,
    feed_id: str,
    patch: dict[str, Any],
    rules: FeedRules,
    now: datetime,
    label: str,
    *,
    also: Callable[[], None] = lambda: None,
    literal_secrets: bool = False,
) -> FeedConfig:
    """The feed's table with `patch` merged in, checked whole, then by `also` (the API's
    schema: what it raises leaves the feed as it was); a new URL also forgets what its
    conditional GETs learnt (the store does that), and a new origin its credentials. With `literal_secrets` (the API) the
    patch's credentials are values; the stored ones it keeps are values already."""
    if literal_secrets and (problems := literal_secret_problems(patch, label)):
        raise ConfigError(problems)

    def apply(current: FeedConfig, origin: str) -> FeedConfig:
        if origin == "config":
            raise FeedConflict(_declared(feed_id, rules, "change"))
        table = feed_table(current)
        if isinstance(patch.get("url"), str) and origin_of(patch["url"]) != origin_of(current.url):
            # credentials belong to their origin: a feed moved elsewhere keeps only those
            # the same change gives anew
            table = {key: value for key, value in table.items() if key not in CREDENTIAL_KEYS}
        table = merge_patch(table, patch)
        if not isinstance(table, dict) or table.get("id") != feed_id:
            raise ConfigError(
                [Problem(label, "id", f"cannot change ({feed_id!r}); remove the feed and add it anew")]
            )
        new = parse_feed(table, label, rules.default_interval)
        also()
        return new

    new = store.change_feed(feed_id, apply, now)
    if new is None:
        raise UnknownFeed(f"no feed {feed_id!r}")
    return new


def remove(store: Store, feed_id: str, rules: FeedRules, now: datetime, *, purge: bool) -> int:
    """Set a run-time feed aside (its stories stay), or with `purge` delete it and its
    stories; returns how many stories went. A config feed goes once it left the config."""
    removed = store.remove_feed(feed_id, now, purge=purge)
    if removed is not None:
        return removed
    if store.get_feed(feed_id) is None:
        raise UnknownFeed(f"no feed {feed_id!r}")
    raise FeedConflict(_declared(feed_id, rules, "remove"))


def set_disabled(store: Store, feed_id: str, disabled: bool, now: datetime) -> None:
    if not store.set_feed_disabled(feed_id, disabled, now):
        raise UnknownFeed(f"no feed {feed_id!r}")


def feed_table(feed: FeedConfig) -> dict[str, Any]:
    """The [[feeds]] table that parses back to `feed`: every field that is set, by name."""
    table: dict[str, Any] = {}
    for field in fields(feed):
        value = getattr(feed, field.name)
        if isinstance(value, FeedCredentials):
            table |= _credentials_table(value)
        elif value is not None:
            table[field.name] = list(value) if isinstance(value, tuple) else value
    return table


def _credentials_table(credentials: FeedCredentials) -> dict[str, Any]:
    """The [[feeds]] keys that parse back to `credentials` (values, never env:/file:)."""
    table: dict[str, Any] = {}
    if credentials.headers:
        table["headers"] = dict(credentials.headers)
    if credentials.basic:
        username, password = credentials.basic
        table["auth"] = {"basic": {"username": username, "password": password}}
    elif credentials.bearer:
        table["auth"] = {"bearer": credentials.bearer}
    if credentials.query:
        table["query"] = dict(credentials.query)
    if credentials.client_cert:
        table["client_cert"] = credentials.client_cert
    if credentials.client_key:
        table["client_key"] = credentials.client_key
    return table


def _declared(feed_id: str, rules: FeedRules, action: str) -> str:
    where = rules.config_file or "the config"
    return f"feed {feed_id} is declared in {where}; {action} it there"
