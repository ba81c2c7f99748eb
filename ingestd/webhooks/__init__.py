"""Webhooks: subscriptions get every story they asked for, once per version, signed.

    store ══ event + one delivery row per live subscription (same transaction)
       │
    Dispatcher.dispatch_due()  claim due deliveries (oldest first; never v2 of a
       │                       story before v1 is final), up to `concurrency`
       │                       per subscription
    Sender.send()              one signed POST through the network guard
       │
    record_attempt()           decide (pure, `_outcome`) and have the store apply it:
                               delivered, retry later, failed; 410 disables; the
                               breaker pauses and resumes

Pure decisions, each in its own module: `_filter` (which events a subscription
wants), `_retry` (when next, or failed), `_breaker` (pause, probe, resume),
`_signing` (Standard Webhooks v1), `_subscriptions` (a subscription added or
changed at run time, checked by the config's rules; shown without secrets).
See docs/webhooks.md.
"""

from ._dispatcher import DISPATCH_EVERY_S, Dispatcher
from ._filter import matches, wants
from ._models import (
    Attempt,
    SubscriptionConflict,
    SubscriptionStatus,
    UnknownSubscription,
    WebhookSettings,
)
from ._outcome import record_attempt
from ._retry import backoff
from ._sender import send_test
from ._signing import sign, signature_headers, signing_key
from ._subscriptions import changed, describe, fingerprint, runtime_subscription

__all__ = [
    "DISPATCH_EVERY_S",
    "Attempt",
    "Dispatcher",
    "SubscriptionConflict",
    "SubscriptionStatus",
    "UnknownSubscription",
    "WebhookSettings",
    "backoff",
    "changed",
    "describe",
    "fingerprint",
    "matches",
    "record_attempt",
    "runtime_subscription",
    "send_test",
    "sign",
    "signature_headers",
    "signing_key",
    "wants",
]
