"""What an attempt comes to, for its delivery and its subscription: decided here, from
what the store reads (`AttemptContext`), and handed back as one `AttemptWrite`.

    decide (_retry)          delivered / retry at / failed; Retry-After; 410
    after_attempt (_breaker) the subscription's breaker: paused, probing, resumed

`plan_attempt` is pure; `record_attempt` reads, plans and applies in one
bookkeeping transaction of any store that implements the port.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..models import AttemptContext, AttemptWrite, Claimed
from ..timeutil import to_iso
from ._breaker import Breaker, after_attempt
from ._models import Attempt, Recorded, SubscriptionState, WebhookSettings
from ._retry import decide

__all__ = ["AttemptPort", "Planned", "plan_attempt", "record_attempt"]

# states in which a subscription is sent to (and its breaker counts)
_LIVE = ("active", "paused")


class AttemptPort(Protocol):
    def bookkeeping(self) -> AbstractContextManager[None]: ...
    def attempt_context(self, delivery_id: int, subscription_id: str) -> AttemptContext | None: ...
    def apply_attempt(self, write: AttemptWrite) -> int: ...


@dataclass(frozen=True)
class Planned:
    write: AttemptWrite
    recorded: Recorded  # `expired` is counted when applied


def plan_attempt(
    context: AttemptContext, claimed: Claimed, attempt: Attempt, now: datetime, settings: WebhookSettings
) -> Planned:
    verdict = decide(
        attempt, context.attempts + 1, context.queued_at, str(claimed.delivery_id), now, settings
    )
    # a sender whose lease ran out may find the delivery already delivered
    state = "delivered" if context.delivery_state == "delivered" else verdict.state
    update: dict[str, Any] = (
        {"last_success_at": now} if attempt.ok else {"last_error": attempt.error, "last_error_at": now}
    )
    sub_state: SubscriptionState = context.subscription_state
    change: Any = None
    reason = context.reason
    resume = False
    expire_before: datetime | None = None
    if sub_state in _LIVE and verdict.gone:
        sub_state, change = "disabled", "disabled"
        reason = f"HTTP 410 Gone from {claimed.url}: the receiver wants no more deliveries"
        update |= {"failing_since": None, "next_send_at": None}
    elif sub_state in _LIVE:
        breaker, change = after_attempt(
            Breaker("paused" if sub_state == "paused" else "active", context.failing_since),
            attempt.ok,
            now,
            settings,
        )
        sub_state = breaker.state
        if attempt.ok:
            hold = None
        elif breaker.state == "paused":  # the probe schedule rules, Retry-After aside
            hold = _latest(breaker.probe_at, verdict.hold_until)
        else:  # another sender's Retry-After hold still stands
            hold = _latest(context.next_send_at, verdict.hold_until)
        update |= {"failing_since": breaker.failing_since, "next_send_at": hold}
        if change == "paused":
            reason = f"failing since {to_iso(breaker.failing_since)}, last: {attempt.error}"
        elif change == "resumed":
            reason = None
            resume = True
        if breaker.state == "paused":
            # a paused subscription's deliveries are not attempted, so the retry window
            # that fails a delivery is applied here
            expire_before = now - timedelta(seconds=settings.retry_for)
    if change:
        update |= {"state": sub_state, "reason": reason, "state_since": now}
    update["updated_at"] = now
    write = AttemptWrite(
        delivery_id=claimed.delivery_id,
        subscription_id=claimed.subscription_id,
        state=state,
        next_attempt_at=verdict.next_attempt_at,
        status=attempt.status,
        error=attempt.error,
        at=now,
        subscription=tuple(update.items()),
        resume_pending=resume,
        expire_queued_before=expire_before,
        expire_reason=f"not delivered within {settings.retry_for:g}s; the subscription was paused"
        if expire_before
        else None,
    )
    return Planned(write, Recorded(state, verdict.next_attempt_at, sub_state, change, reason))


def record_attempt(
    store: AttemptPort, claimed: Claimed, attempt: Attempt, now: datetime, settings: WebhookSettings
) -> Recorded:
    """Apply what the attempt decides for the delivery (retry schedule) and for its
    subscription (410, Retry-After hold, circuit breaker), in one transaction. A
    subscription removed meanwhile has nothing left to record."""
    with store.bookkeeping():
        context = store.attempt_context(claimed.delivery_id, claimed.subscription_id)
        if context is None:  # its subscription was removed while the attempt was out
            return Recorded(
                state="delivered" if attempt.ok else "failed",
                next_attempt_at=None,
                subscription_state="removed",
            )
        planned = plan_attempt(context, claimed, attempt, now, settings)
        expired = store.apply_attempt(planned.write)
    recorded = planned.recorded
    return Recorded(
        recorded.state,
        recorded.next_attempt_at,
        recorded.subscription_state,
        recorded.change,
        recorded.reason,
        expired,
    )


def _latest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None
