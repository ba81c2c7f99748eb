"""A subscription as the CLI and the API take it in and show it. Pure: no store, no network.

    runtime_subscription(table, label)  -> SubscriptionConfig   checked like [[subscriptions]]
    changed(sub, patches, label)        -> SubscriptionConfig   JSON merge patches applied
    describe(status)                    -> dict                 JSON, without secrets
    fingerprint(secret)                 -> "sha256:…"

One source of truth: a table is checked by `config.parse_subscription`, the very
rules of the config file, and its secrets are decoded by `signing_key`, as the
dispatcher decodes the config's. A table is what a [[subscriptions]] entry holds
(`secret` a list, `filter` a table), so a change is a patch on that form.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..config import parse_subscription
from ..errors import ConfigError, Problem
from ..models import SubscriptionConfig, SubscriptionFilter, secret_fingerprint
from ..timeutil import to_iso
from ._models import SubscriptionStatus
from ._signing import signing_key

__all__ = ["changed", "describe", "fingerprint", "runtime_subscription"]

_FILTER_LISTS = ("sources", "sections", "languages", "keywords")


def runtime_subscription(table: Any, label: str) -> SubscriptionConfig:
    """A subscription added at run time. Raises ConfigError naming each bad field."""
    sub = parse_subscription(table, label)
    problems = []
    for secret in sub.secrets:
        try:
            signing_key(secret)
        except ValueError as exc:
            problems.append(Problem(label, "secret", str(exc)))
    if problems:
        raise ConfigError(problems)
    return sub


def changed(sub: SubscriptionConfig, patches: Sequence[dict[str, Any]], label: str) -> SubscriptionConfig:
    """`sub` with each patch applied in turn (RFC 7396: a key replaces, null removes
    it, so that its default applies), checked as a new one would be."""
    table: Any = _table(sub)
    for patch in patches:
        table = merge_patch(table, patch)
    if not isinstance(table, dict) or table.get("id") != sub.id:
        raise ConfigError(
            [
                Problem(
                    label,
                    "id",
                    f"cannot change ({sub.id!r}); remove the subscription and add it under the new id",
                )
            ]
        )
    return runtime_subscription(table, label)


def merge_patch(target: Any, patch: Any) -> Any:
    """JSON Merge Patch (RFC 7396)."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def describe(status: SubscriptionStatus) -> dict[str, Any]:
    """What `GET /subscriptions` and `ingestd webhooks list --json` show."""
    return {
        "id": status.id,
        "url": status.url,
        "origin": status.origin,
        "events": list(status.events),
        "filter": _filter_table(status.filter),
        "secret_fingerprints": (
            None if status.secret_fingerprints is None else list(status.secret_fingerprints)
        ),
        "state": status.state,
        "reason": status.reason,
        "backlog": status.backlog,
        "failed": status.failed,
        "delivered": status.delivered,
        "last_success_at": to_iso(status.last_success_at),
        "last_error": status.last_error,
        "last_error_at": to_iso(status.last_error_at),
    }


fingerprint = secret_fingerprint


def _table(sub: SubscriptionConfig) -> dict[str, Any]:
    return {
        "id": sub.id,
        "url": sub.url,
        "secret": list(sub.secrets),
        "events": list(sub.events),
        "filter": _filter_table(sub.filter),
    }


def _filter_table(story_filter: SubscriptionFilter) -> dict[str, Any]:
    """Only the keys that place a condition, as the config file writes them."""
    table: dict[str, Any] = {
        k: list(getattr(story_filter, k)) for k in _FILTER_LISTS if getattr(story_filter, k)
    }
    if story_filter.first_of_cluster is not None:
        table["first_of_cluster"] = story_filter.first_of_cluster
    return table
