"""The WebSub decisions (pure): what to ask a hub, what a hub's verification and
content distribution are worth, and when the feed is polled while a hub pushes it.

Each takes the stored subscription and `now`, and returns intents for the store
(`WebSubSubscription` to write, `WebSubForget`) and requests for the hub (`HubRequest`).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from ..models import WebSubForget, WebSubSubscription

RENEW_AT = 0.9  # of the granted lease
# a subscription request the hub never verified is asked again after this long
VERIFY_WITHIN = timedelta(minutes=10)
# the algorithms a hub may sign with (W3C WebSub 8: sha1, sha256, sha384, sha512)
ALGORITHMS = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}

Mode = Literal["subscribe", "unsubscribe"]


@dataclass(frozen=True)
class Links:
    """Where a feed says it is pushed from, and its own canonical URL (the topic)."""

    hub: str | None
    topic: str | None


@dataclass(frozen=True)
class HubRequest:
    """A subscription request to send to a hub (`hub.mode` `mode`)."""

    feed_id: str
    hub: str
    topic: str
    mode: Mode
    secret: str


@dataclass(frozen=True)
class Plan:
    """Intents for the store (applied first) and requests for hubs (sent after)."""

    writes: tuple[WebSubSubscription | WebSubForget, ...] = ()
    requests: tuple[HubRequest, ...] = ()


def discover(document_links: Mapping[str, str], header_links: Mapping[str, str], url: str) -> Links:
    """The hub and self links: HTTP `Link` headers first, then the document's own
    (W3C WebSub 4); without a self link, the URL the feed was fetched from is the topic."""
    hub = header_links.get("hub") or document_links.get("hub")
    topic = header_links.get("self") or document_links.get("self") or url
    return Links(hub, topic if hub else None)


def after_poll(
    feed_id: str, links: Links, current: WebSubSubscription | None, now: datetime, secret: str
) -> Plan:
    """A poll saw the feed's links: subscribe when it names a hub the feed is not
    subscribed at (new, moved, lapsed, or a request never verified). `secret` is a
    fresh one, used only for a new request."""
    if links.hub is None or links.topic is None:
        return Plan()
    if (
        current is not None
        and (current.hub, current.topic) == (links.hub, links.topic)
        and (
            current.state == "active"
            or (current.state == "subscribing" and now - current.requested_at < VERIFY_WITHIN)
        )
    ):
        return Plan()
    row = WebSubSubscription(feed_id, links.hub, links.topic, secret, "subscribing", now)
    return Plan((row,), (HubRequest(feed_id, links.hub, links.topic, "subscribe", secret),))


def maintain(subscriptions: Iterable[WebSubSubscription], live_feeds: Iterable[str], now: datetime) -> Plan:
    """The periodic look: renew at RENEW_AT of the lease (the same secret), mark a lease
    that ran out `lapsed` (polling takes over; the next poll subscribes again), and
    unsubscribe the feeds that are gone."""
    live = set(live_feeds)
    writes: list[WebSubSubscription | WebSubForget] = []
    requests: list[HubRequest] = []
    for sub in subscriptions:
        if sub.feed_id not in live:
            if sub.state != "unsubscribing":
                writes.append(replace(sub, state="unsubscribing", requested_at=now))
                requests.append(HubRequest(sub.feed_id, sub.hub, sub.topic, "unsubscribe", sub.secret))
            elif now - sub.requested_at >= VERIFY_WITHIN:  # the hub never confirmed: give up
                writes.append(WebSubForget(sub.feed_id))
            continue
        if sub.state != "active" or sub.lease_until is None:
            continue
        if now >= sub.lease_until:
            writes.append(replace(sub, state="lapsed"))
        elif now >= renew_at(sub) and sub.requested_at < renew_at(sub):
            writes.append(replace(sub, requested_at=now))
            requests.append(HubRequest(sub.feed_id, sub.hub, sub.topic, "subscribe", sub.secret))
    return Plan(tuple(writes), tuple(requests))


def renew_at(sub: WebSubSubscription) -> datetime:
    """When the lease is renewed: at RENEW_AT of what the hub granted."""
    assert sub.lease_until is not None and sub.lease_seconds is not None
    return sub.lease_until - timedelta(seconds=sub.lease_seconds * (1 - RENEW_AT))


def verification(
    current: WebSubSubscription | None,
    mode: str,
    topic: str,
    lease_seconds: int | None,
    now: datetime,
) -> WebSubSubscription | WebSubForget | None:
    """A hub's verification of intent (or its denial): what to write, or None to refuse
    it (not an intent of ours: answered 404, so the hub gives up)."""
    if current is None or topic != current.topic:
        return None
    if mode == "denied":
        return WebSubForget(current.feed_id)
    if mode == "unsubscribe":
        return WebSubForget(current.feed_id) if current.state == "unsubscribing" else None
    if mode != "subscribe" or current.state == "unsubscribing" or not lease_seconds or lease_seconds < 1:
        return None
    return replace(
        current,
        state="active",
        lease_seconds=lease_seconds,
        lease_until=now + timedelta(seconds=lease_seconds),
    )


def signature_valid(header: str | None, body: bytes, secret: str) -> bool:
    """`X-Hub-Signature: <algorithm>=<hex HMAC of the body>`, with the algorithm the hub
    chose among ALGORITHMS; a missing, malformed or unknown one is not valid."""
    if not header:
        return False
    algorithm, _, digest = header.strip().partition("=")
    method = ALGORITHMS.get(algorithm.lower())
    if method is None or not digest:
        return False
    expected = hmac.new(secret.encode(), body, method).hexdigest()
    return hmac.compare_digest(expected, digest.strip().lower())


def accepts_push(current: WebSubSubscription | None) -> bool:
    """Content is taken while subscribed (a renewal pending included), never after the
    feed is gone."""
    return current is not None and current.state in ("subscribing", "active", "lapsed")


def next_poll(
    computed: datetime, current: WebSubSubscription | None, now: datetime, crosscheck: timedelta
) -> datetime:
    """While a lease runs, the feed is polled as a cross-check only (every `crosscheck`),
    and again as the lease ends, so that polling takes over if it is not renewed."""
    if current is None or current.state != "active" or current.lease_until is None:
        return computed
    if current.lease_until <= now:
        return computed
    return max(computed, min(now + crosscheck, current.lease_until))
