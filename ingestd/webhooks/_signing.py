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
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError, Problem

SECRET_PREFIX = "whsec_"


def signing_key(secret: str) -> bytes:
    """`whsec_<base64>` -> the key. Raises ValueError for anything else."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret starts with {SECRET_PREFIX}")
    encoded = secret[len(SECRET_PREFIX) :]
    try:
        # unpadded base64 is common in the wild; the reference library pads it too
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError(f"what follows {SECRET_PREFIX} is not base64") from None
    if not key:
        raise ValueError("the secret's key is empty")
    return key


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


def signing_keys(config: Any) -> dict[str, list[bytes]]:
    """Each config subscription's keys, decoded once. Raises ConfigError naming the bad ones."""
    keys: dict[str, list[bytes]] = {}
    problems = []
    for sub in config.subscriptions:
        try:
            keys[sub.id] = [signing_key(s) for s in sub.secrets]
        except ValueError as exc:
            problems.append(
                Problem(str(config.file or "<defaults>"), f"subscriptions ({sub.id}).secret", str(exc))
            )
    if problems:
        raise ConfigError(problems)
    return keys
