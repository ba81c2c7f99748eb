"""Standard Webhooks v1 signatures (https://www.standardwebhooks.com/).

    webhook-id:        the event id, the same on every retry and redelivery
    webhook-timestamp: this attempt's time, whole seconds since the epoch
    webhook-signature: "v1,<base64 HMAC-SHA256 of id.timestamp.body>", one per
                       secret, space-separated (several while rotating)

A secret is `whsec_` and the base64 of the key. Byte-identical to the
`standardwebhooks` package, its published test vector included
(tests/test_webhooks_signing.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from ..config import webhook_key


def signing_key(secret: str) -> bytes:
    """`whsec_<base64>` -> the key; ValueError for anything else. The config's own
    decoding, so that a secret is good or bad the same way in the file, the CLI and the API."""
    return webhook_key(secret)


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_headers(keys: Sequence[bytes], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(k, msg_id, timestamp, body) for k in keys),
    }
