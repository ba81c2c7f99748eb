"""Webhook subscriptions, their run-time state, and the deliveries of the outbox.

A delivery is one row per (subscription, event), written in the transaction
that wrote the event (`_event_written`): `pending` when the subscription wants
the event, `filtered` when it does not. A sender claims a pending delivery
(`delivering`, with a lease that a crash lets run out), then records the
attempt: `delivered`, `pending` again with a later `next_attempt_at`, or
`failed`. What to do is decided by the pure functions in ingestd.webhooks (`_outcome`);
this file answers the queries and applies the intents (`DeliveryWrite`,
`AttemptWrite`).

Claims and attempts are bookkeeping: they commit without waiting for the disk
(`bookkeeping`). The outbox rows themselves are written with their story,
synchronous=FULL.

Subscriptions come from the config file (synced at start; their secrets stay in
the config) or are added at run time by the CLI or the API (their secrets are
stored here, in `secrets`). Adding, changing or removing one bumps a version in
`meta`, so that a running dispatcher takes it up without a restart.

Times here carry milliseconds (retries in tests are sub-second), always in
the same fixed-width form, so that they compare as text.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import sqlite_utils

from ..models import (
    AttemptContext,
    AttemptWrite,
    Claimed,
    DeliveryWrite,
    DueSubscription,
    LiveSubscription,
    Origin,
    SubscriptionConfig,
    SubscriptionConflict,
    SubscriptionFilter,
    SubscriptionStatus,
    UnknownSubscription,
    secret_fingerprint,
)
from ..timeutil import from_iso, to_iso
from ._base import Migration, StoreBase, dumps
from ._stories import EVENT_BODY, EVENT_VERSION_JOIN

# Events pruned per transaction, so that the writer is never held for long.
PRUNE_BATCH = 500
# States in which a subscription gets new deliveries and may be sent to.
_LIVE = ("active", "paused")
_LIVE_SQL = "(" + ", ".join(f"'{state}'" for state in _LIVE) + ")"


class LeaseSettings(Protocol):
    @property
    def lease(self) -> float:
        """Seconds a claimed delivery stays claimed."""


# The meta row counting changes to the set of subscriptions and their secrets.
_VERSION_KEY = "subscriptions.version"


def _webhooks_1(db: sqlite_utils.Database) -> None:
    db.table("subscriptions").create(
        {
            "id": str,
            "url": str,
            "events": str,
            "filter": str,
            "origin": str,
            "state": str,
            "reason": str,
            "state_since": str,
            "failing_since": str,
            "next_send_at": str,
            "last_success_at": str,
            "last_error": str,
            "last_error_at": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
        not_null={"url", "state", "origin"},
        defaults={"state": "active"},
    )
    db.table("deliveries").create(
        {
            "id": int,
            "subscription_id": str,
            "event_seq": int,
            "event_id": str,
            "story_id": str,
            "version": int,
            "state": str,
            "attempts": int,
            "queued_at": str,
            "next_attempt_at": str,
            "lease_until": str,
            "last_status": int,
            "last_error": str,
            "last_attempt_at": str,
            "delivered_at": str,
        },
        pk="id",
        not_null={"subscription_id", "event_seq", "event_id", "state"},
        defaults={"attempts": 0},
    )
    db.table("deliveries").create_index(["subscription_id", "event_id"], unique=True)
    db.table("deliveries").create_index(["subscription_id", "state", "event_seq"])
    db.table("deliveries").create_index(["subscription_id", "story_id", "version"])
    db.table("deliveries").create_index(["event_seq"])


def _webhooks_2(db: sqlite_utils.Database) -> None:
    # a run-time subscription's whsec_ secrets, a JSON list; NULL for the config's
    db.table("subscriptions").add_column("secrets", str)


MIGRATIONS: list[Migration] = [("webhooks-1", _webhooks_1), ("webhooks-2", _webhooks_2)]


class WebhooksMixin(StoreBase):
    def outbox_backlog(self) -> tuple[int, str | None]:
        """Deliveries still owed (pending or being sent), and when the oldest was queued."""
        count, oldest = self.db.execute(
            "SELECT count(*), min(queued_at) FROM deliveries WHERE state IN ('pending', 'delivering')"
        ).fetchone()
        return count, oldest

    # ── the outbox: deliveries written with their event ──────────────────────

    def live_subscriptions(self) -> list[LiveSubscription]:
        """The subscriptions that get new deliveries, for the composer to decide which want an event."""
        return [
            LiveSubscription(sub_id, tuple(json.loads(types)), _filter(flt))
            for sub_id, types, flt in self.db.execute(
                f"SELECT id, events, filter FROM subscriptions WHERE state IN {_LIVE_SQL} ORDER BY id"
            )
        ]

    def _write_deliveries(self, writes: list[DeliveryWrite]) -> None:
        self.db.conn.executemany(
            "INSERT INTO deliveries (subscription_id, event_seq, event_id, story_id, version, "
            "state, attempts, queued_at, next_attempt_at) "
            "SELECT ?, seq, id, story_id, version, ?, 0, ?, ? FROM events WHERE id = ? "
            "ON CONFLICT (subscription_id, event_id) DO NOTHING",
            [(w.subscription_id, w.state, w.queued_at, w.queued_at, w.event_id) for w in writes],
        )

    # ── subscriptions: config and run-time state ─────────────────────────────

    def sync_config_subscriptions(self, subscriptions: list[SubscriptionConfig], now: datetime) -> None:
        """Create config subscriptions or update their declared fields (url, events,
        filter); run-time state (disabled, paused) is never undone. One no longer in
        the config is set aside (state 'removed'): no deliveries, none sent. The config
        takes over a run-time subscription it declares (its stored secrets go);
        other run-time subscriptions are left as they are."""
        at = _stamp(now)
        with self.transaction():
            for sub in subscriptions:
                declared = {**_declared(sub), "origin": "config", "secrets": None, "updated_at": at}
                row = self._subscription(sub.id)
                if row is None:
                    self.db.table("subscriptions").insert(
                        {"id": sub.id, "state": "active", "state_since": at, "created_at": at, **declared}
                    )
                    continue
                if row["state"] == "removed":
                    declared |= {"state": "active", "reason": None, "state_since": at}
                self.db.table("subscriptions").update(sub.id, declared)
            ids = [s.id for s in subscriptions]
            self.db.execute(
                f"UPDATE subscriptions SET state = 'removed', reason = 'not in the config', "
                f"state_since = ?, updated_at = ? WHERE origin = 'config' AND state != 'removed' "
                f"AND id NOT IN ({','.join('?' * len(ids))})",
                [at, at, *ids],
            )
            self._subscriptions_changed()

    def add_subscription(self, sub: SubscriptionConfig, origin: Origin, now: datetime) -> None:
        """A run-time subscription, its secrets stored; it gets the events stored from
        now on. SubscriptionConflict if the id is taken."""
        at = _stamp(now)
        with self.transaction():
            row = self._subscription(sub.id)
            if row is not None:
                declared = " (declared in the config)" if row["origin"] == "config" else ""
                raise SubscriptionConflict(f"subscription {sub.id!r} exists already{declared}")
            self.db.table("subscriptions").insert(new_subscription_row(sub, origin, at))
            self._subscriptions_changed()

    def change_subscription(
        self, subscription_id: str, change: Callable[[SubscriptionConfig], SubscriptionConfig], now: datetime
    ) -> None:
        """Replace a run-time subscription's url, secrets, events and filter with
        `change(current)`, read and written in one transaction (whatever `change`
        raises leaves it as it was). Its state, and deliveries already queued, stay.
        UnknownSubscription; SubscriptionConflict for one the config declares."""
        with self.transaction():
            current = self._runtime(subscription_id, "change")
            new = change(current)
            self.db.table("subscriptions").update(
                subscription_id,
                {**_declared(new), "secrets": dumps(list(new.secrets)), "updated_at": _stamp(now)},
            )
            self._subscriptions_changed()

    def remove_subscription(self, subscription_id: str) -> int:
        """Delete a run-time subscription, its secrets and its deliveries (those owed
        are dropped); returns how many deliveries were still owed. A config
        subscription can go only once it has left the config (state 'removed').
        UnknownSubscription; SubscriptionConflict for one the config declares."""
        with self.transaction():
            row = self._subscription(subscription_id)
            if row is None:
                raise UnknownSubscription(f"no subscription {subscription_id!r}")
            if row["origin"] == "config" and row["state"] != "removed":
                raise SubscriptionConflict(_declared_in_config(subscription_id, "remove"))
            owed: int = self.db.execute(
                "SELECT count(*) FROM deliveries WHERE subscription_id = ? "
                "AND state IN ('pending', 'delivering')",
                [subscription_id],
            ).fetchone()[0]
            self.db.execute("DELETE FROM deliveries WHERE subscription_id = ?", [subscription_id])
            self.db.execute("DELETE FROM subscriptions WHERE id = ?", [subscription_id])
            self._subscriptions_changed()
        return owed

    def stored_subscription(self, subscription_id: str) -> SubscriptionConfig | None:
        """A run-time subscription with its secrets; None if there is none by that id."""
        row = self._subscription(subscription_id)
        return None if row is None or row["secrets"] is None else _stored(row)

    def runtime_secrets(self, seen: int | None) -> tuple[int, dict[str, list[str]] | None]:
        """The subscriptions' version and, unless it is `seen`, the stored secrets of
        every run-time subscription: one cheap read when nothing changed."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", [_VERSION_KEY]).fetchone()
        version = int(row[0]) if row else 0
        if version == seen:
            return version, None
        return version, {
            sub_id: json.loads(secrets)
            for sub_id, secrets in self.db.execute(
                "SELECT id, secrets FROM subscriptions WHERE secrets IS NOT NULL"
            )
        }

    def enable_subscription(self, subscription_id: str, now: datetime) -> bool:
        """Back to active from disabled or paused; its backlog is due now, in order."""
        at = _stamp(now)
        with self.transaction():
            cursor = self.db.execute(
                "UPDATE subscriptions SET state = 'active', reason = NULL, state_since = ?, "
                "failing_since = NULL, next_send_at = NULL, updated_at = ? "
                "WHERE id = ? AND state != 'removed'",
                [at, at, subscription_id],
            )
            if cursor.rowcount:
                self.db.execute(
                    "UPDATE deliveries SET next_attempt_at = ? "
                    "WHERE subscription_id = ? AND state = 'pending'",
                    [at, subscription_id],
                )
        return cursor.rowcount > 0

    def disable_subscription(
        self, subscription_id: str, now: datetime, reason: str = "disabled by operator"
    ) -> bool:
        """No new deliveries and no sending until enabled; pending ones wait."""
        at = _stamp(now)
        with self.transaction():
            cursor = self.db.execute(
                "UPDATE subscriptions SET state = 'disabled', reason = ?, state_since = ?, "
                "next_send_at = NULL, updated_at = ? WHERE id = ? AND state != 'removed'",
                [reason, at, at, subscription_id],
            )
        return cursor.rowcount > 0

    def subscription_wants(self, subscription_id: str) -> LiveSubscription | None:
        """What a subscription (in any state) takes; None if there is none by that id."""
        sub = self._subscription(subscription_id)
        if sub is None:
            return None
        return LiveSubscription(subscription_id, tuple(json.loads(sub["events"])), _filter(sub["filter"]))

    def events_since(self, since: datetime) -> list[tuple[str, str]]:
        """(id, body) of every event written at or after `since`, oldest first."""
        return self.db.execute(
            f"SELECT e.id, {EVENT_BODY} FROM events e {EVENT_VERSION_JOIN} "
            f"WHERE e.created_at >= ? ORDER BY e.seq",
            [to_iso(since)],
        ).fetchall()

    def requeue(self, subscription_id: str, event_ids: list[str], now: datetime) -> int:
        """Queue these events again for the subscription (same ids, a fresh retry
        schedule), delivered or not; one being delivered is left to its sender."""
        at = _stamp(now)
        return sum(
            self.db.execute(
                "INSERT INTO deliveries (subscription_id, event_seq, event_id, story_id, "
                "version, state, attempts, queued_at, next_attempt_at) "
                "SELECT ?, seq, id, story_id, version, 'pending', 0, ?, ? FROM events WHERE id = ? "
                "ON CONFLICT (subscription_id, event_id) DO UPDATE SET state = 'pending', "
                "attempts = 0, queued_at = excluded.queued_at, "
                "next_attempt_at = excluded.next_attempt_at, last_error = NULL, "
                "delivered_at = NULL "
                "WHERE state != 'delivering'",
                [subscription_id, at, at, event_id],
            ).rowcount
            for event_id in event_ids
        )

    def list_subscriptions(self) -> list[SubscriptionStatus]:
        return self._statuses("", [])

    def subscription_status(self, subscription_id: str) -> SubscriptionStatus | None:
        statuses = self._statuses("WHERE s.id = ?", [subscription_id])
        return statuses[0] if statuses else None

    def _statuses(self, where: str, params: list[Any]) -> list[SubscriptionStatus]:
        rows = self.db.query(
            "SELECT s.*, "
            "(SELECT count(*) FROM deliveries d WHERE d.subscription_id = s.id "
            " AND d.state IN ('pending', 'delivering')) AS backlog, "
            "(SELECT count(*) FROM deliveries d WHERE d.subscription_id = s.id "
            " AND d.state = 'failed') AS failed, "
            "(SELECT count(*) FROM deliveries d WHERE d.subscription_id = s.id "
            " AND d.state = 'delivered') AS delivered "
            f"FROM subscriptions s {where} ORDER BY s.id",
            params,
        )
        return [
            SubscriptionStatus(
                id=r["id"],
                url=r["url"],
                origin=r["origin"],
                events=tuple(json.loads(r["events"])),
                filter=_filter(r["filter"]),
                secret_fingerprints=None
                if r["secrets"] is None
                else tuple(secret_fingerprint(secret) for secret in json.loads(r["secrets"])),
                state=r["state"],
                reason=r["reason"],
                backlog=r["backlog"],
                failed=r["failed"],
                delivered=r["delivered"],
                last_success_at=from_iso(r["last_success_at"]),
                last_error=r["last_error"],
                last_error_at=from_iso(r["last_error_at"]),
            )
            for r in rows
        ]

    # ── the dispatcher's side: what is due, claims, attempts ─────────────────

    def subscriptions_due(self, now: datetime, ids: list[str], limit: int) -> list[DueSubscription]:
        """Live subscriptions among `ids` with deliveries that may go now (counted up
        to `limit`). A paused one counts its whole backlog: its probe is due."""
        at = _stamp(now)
        due = []
        for sub_id, state in self.db.execute(
            f"SELECT id, state FROM subscriptions WHERE state IN {_LIVE_SQL} "
            f"AND (next_send_at IS NULL OR next_send_at <= ?) "
            f"AND id IN ({','.join('?' * len(ids))}) ORDER BY id",
            [at, *ids],
        ).fetchall():
            count = self.db.execute(
                "SELECT count(*) FROM (SELECT 1 FROM deliveries WHERE subscription_id = ? AND "
                "((state = 'pending' AND (? OR next_attempt_at <= ?) AND NOT EXISTS ("
                "   SELECT 1 FROM events e WHERE e.seq = event_seq AND e.not_before > ?)) "
                " OR (state = 'delivering' AND lease_until <= ?)) LIMIT ?)",
                [sub_id, state == "paused", at, at, at, limit],
            ).fetchone()[0]
            if count:
                due.append(DueSubscription(sub_id, state, count))
        return due

    def claim_delivery(self, subscription_id: str, now: datetime, settings: LeaseSettings) -> Claimed | None:
        """The oldest delivery that may go now, leased to the caller; None if none.

        Never a later version of a story while an earlier one to the same
        subscription is pending or being delivered. A paused subscription gives
        its oldest pending delivery, whatever its next attempt, as the probe.
        """
        at = _stamp(now)
        with self.bookkeeping():
            sub = self._subscription(subscription_id)
            if sub is None or sub["state"] not in _LIVE or (sub["next_send_at"] and sub["next_send_at"] > at):
                return None
            # a sender that crashed left its claims: their leases have run out
            self.db.execute(
                "UPDATE deliveries SET state = 'pending', lease_until = NULL "
                "WHERE subscription_id = ? AND state = 'delivering' "
                "AND lease_until <= ?",
                [subscription_id, at],
            )
            probe = sub["state"] == "paused"
            row = self.db.execute(
                f"SELECT d.id, d.event_id, d.attempts, {EVENT_BODY} FROM deliveries d "
                f"JOIN events e ON e.seq = d.event_seq {EVENT_VERSION_JOIN} "
                "WHERE d.subscription_id = ? AND d.state = 'pending' "
                "AND (? OR d.next_attempt_at <= ?) AND (e.not_before IS NULL OR e.not_before <= ?) "
                "AND NOT EXISTS ("
                " SELECT 1 FROM deliveries p WHERE p.subscription_id = d.subscription_id "
                " AND p.story_id = d.story_id AND p.version < d.version "
                " AND p.state IN ('pending', 'delivering')) "
                "ORDER BY d.event_seq LIMIT 1",
                [subscription_id, probe, at, at],
            ).fetchone()
            if row is None:
                return None
            lease = _stamp(now + timedelta(seconds=settings.lease))
            self.db.execute(
                "UPDATE deliveries SET state = 'delivering', lease_until = ? WHERE id = ?", [lease, row[0]]
            )
            if probe:  # one probe at a time: the next waits for this one's outcome
                self.db.execute(
                    "UPDATE subscriptions SET next_send_at = ? WHERE id = ?", [lease, subscription_id]
                )
        return Claimed(
            delivery_id=row[0],
            subscription_id=subscription_id,
            url=sub["url"],
            event_id=row[1],
            body=row[3].encode(),
            attempt=row[2] + 1,
            probe=probe,
        )

    def attempt_context(self, delivery_id: int, subscription_id: str) -> AttemptContext | None:
        """A claimed delivery and its subscription, as deciding its attempt needs them;
        None when the subscription (and so the delivery) was removed meanwhile."""
        delivery = self.db.execute(
            "SELECT state, attempts, queued_at FROM deliveries WHERE id = ?", [delivery_id]
        ).fetchone()
        if delivery is None:
            return None
        sub = self._subscription(subscription_id)
        assert sub is not None  # deleted only with its deliveries, in one transaction
        queued = from_iso(delivery[2])
        assert queued is not None  # written with every delivery
        return AttemptContext(
            delivery_state=delivery[0],
            attempts=delivery[1],
            queued_at=queued,
            subscription_state=sub["state"],
            reason=sub["reason"],
            failing_since=from_iso(sub["failing_since"]),
            next_send_at=from_iso(sub["next_send_at"]),
        )

    def apply_attempt(self, w: AttemptWrite) -> int:
        """Write an attempt's outcome (inside `bookkeeping`); returns how many pending
        deliveries expired."""
        at = _stamp(w.at)
        self.db.execute(
            "UPDATE deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = ?, "
            "lease_until = NULL, last_status = ?, last_error = ?, last_attempt_at = ?, "
            "delivered_at = CASE WHEN ? = 'delivered' THEN coalesce(delivered_at, ?) END "
            "WHERE id = ?",
            [w.state, _stamp(w.next_attempt_at), w.status, w.error, at, w.state, at, w.delivery_id],
        )
        if w.resume_pending:
            self.db.execute(
                "UPDATE deliveries SET next_attempt_at = ? WHERE subscription_id = ? AND state = 'pending'",
                [at, w.subscription_id],
            )
        expired = 0
        if w.expire_queued_before is not None:
            expired = self.db.execute(
                "UPDATE deliveries SET state = 'failed', next_attempt_at = NULL, last_error = ? "
                "WHERE subscription_id = ? AND state = 'pending' AND queued_at <= ?",
                [w.expire_reason, w.subscription_id, _stamp(w.expire_queued_before)],
            ).rowcount
        update = {k: _stamp(v) if isinstance(v, datetime) else v for k, v in w.subscription}
        self.db.execute(
            f"UPDATE subscriptions SET {', '.join(f'{k} = ?' for k in update)} WHERE id = ?",
            [*update.values(), w.subscription_id],
        )
        return expired

    def release_deliveries(self, delivery_ids: list[int], now: datetime) -> None:
        """Claims whose attempts were cut short by shutdown: due again now."""
        at = _stamp(now)
        with self.bookkeeping():
            self.db.execute(
                f"UPDATE deliveries SET state = 'pending', lease_until = NULL, "
                f"next_attempt_at = ? WHERE state = 'delivering' "
                f"AND id IN ({','.join('?' * len(delivery_ids))})",
                [at, *delivery_ids],
            )

    def prune_outbox(self, cutoff: datetime) -> int:
        """The outbox's share of retention: delete the events written before `cutoff`
        whose deliveries are all final (delivered, failed, filtered), and those
        deliveries. An event still due somewhere stays until it is done. Returns how
        many events went."""
        pruned = 0
        while True:
            with self.transaction():
                seqs = [
                    (seq,)
                    for (seq,) in self.db.execute(
                        "SELECT seq FROM events e WHERE created_at < ? AND NOT EXISTS ("
                        " SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq "
                        " AND d.state IN ('pending', 'delivering')) ORDER BY seq LIMIT ?",
                        [to_iso(cutoff), PRUNE_BATCH],
                    )
                ]
                self.db.conn.executemany("DELETE FROM deliveries WHERE event_seq = ?", seqs)
                self.db.conn.executemany("DELETE FROM events WHERE seq = ?", seqs)
                # versions kept only for these events, their stories purged already
                self.db.execute(
                    "DELETE FROM story_versions WHERE story_id IN (SELECT story_id FROM "
                    "story_tombstones) AND NOT EXISTS (SELECT 1 FROM events e WHERE "
                    "e.story_id = story_versions.story_id AND e.version = story_versions.version)"
                )
            pruned += len(seqs)
            if len(seqs) < PRUNE_BATCH:
                return pruned

    @contextlib.contextmanager
    def bookkeeping(self) -> Iterator[None]:
        """A transaction that commits without an fsync (synchronous=NORMAL; the WAL
        keeps it atomic). A power cut may forget the last claims and attempts, which
        only means sending those deliveries again — at-least-once allows it — and it
        spares two fsyncs per delivery, which otherwise cap a disk at ~200 a second."""
        level = self.db.execute("PRAGMA synchronous").fetchone()[0]
        self.db.execute("PRAGMA synchronous=NORMAL")
        try:
            with self.transaction():
                yield
        finally:
            self.db.execute(f"PRAGMA synchronous={int(level)}")

    def _subscription(self, subscription_id: str) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM subscriptions WHERE id = ?", [subscription_id]))
        return rows[0] if rows else None

    def _runtime(self, subscription_id: str, action: str) -> SubscriptionConfig:
        row = self._subscription(subscription_id)
        if row is None:
            raise UnknownSubscription(f"no subscription {subscription_id!r}")
        if row["origin"] == "config":
            raise SubscriptionConflict(_declared_in_config(subscription_id, action))
        return _stored(row)

    def _subscriptions_changed(self) -> None:
        """Inside the transaction of the change: dispatchers reload on a new version."""
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET value = value + 1",
            [_VERSION_KEY],
        )


def new_subscription_row(sub: SubscriptionConfig, origin: str, at: Any) -> dict[str, Any]:
    """A run-time subscription's first row (`at`: the engine's form of now)."""
    return {
        "id": sub.id,
        **_declared(sub),
        "origin": origin,
        "secrets": dumps(list(sub.secrets)),
        "state": "active",
        "state_since": at,
        "created_at": at,
        "updated_at": at,
    }


def _declared(sub: SubscriptionConfig) -> dict[str, Any]:
    return {
        "url": sub.url,
        "events": dumps(list(sub.events)),
        "filter": dumps(dataclasses.asdict(sub.filter)),
    }


def _stored(row: dict[str, Any]) -> SubscriptionConfig:
    return SubscriptionConfig(
        id=row["id"],
        url=row["url"],
        secrets=tuple(json.loads(row["secrets"])),
        events=tuple(json.loads(row["events"])),
        filter=_filter(row["filter"]),
    )


def _declared_in_config(subscription_id: str, action: str) -> str:
    return (
        f"subscription {subscription_id!r} is declared in the config and cannot be "
        f"{action}d at run time: edit the config file; `ingestd webhooks disable "
        f"{subscription_id}` stops its deliveries now"
    )


def _filter(text: str) -> SubscriptionFilter:
    raw: dict[str, Any] = json.loads(text)
    fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    return SubscriptionFilter(**fields)


def _stamp(moment: datetime | None) -> str | None:
    """Aware datetime -> '2020-01-09T00:31:02.250Z': UTC, milliseconds, fixed width."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
