"""WebSub push (W3C WebSub): feeds whose hub is named are subscribed, and what the hub
pushes goes through the same pipeline as a poll (docs/websub.md). `_decide` holds
the decisions (pure), `_service` the daemon's subscriber."""

from ._decide import (
    HubRequest,
    Links,
    Plan,
    accepts_push,
    after_poll,
    discover,
    maintain,
    next_poll,
    renew_at,
    signature_valid,
    verification,
)
from ._service import WebSub, links_of

__all__ = [
    "HubRequest",
    "Links",
    "Plan",
    "WebSub",
    "accepts_push",
    "after_poll",
    "discover",
    "links_of",
    "maintain",
    "next_poll",
    "renew_at",
    "signature_valid",
    "verification",
]
