"""Standard Webhooks v1 signatures: byte-identical to the `standardwebhooks` package."""

from __future__ import annotations

import base64
import os
import random
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from ingestd.webhooks import sign, signature_headers, signing_key

# The specification's published test vector (standard-webhooks spec, "Verifying webhooks").
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_published_test_vector() -> None:
    """Our signature of the spec's vector is the spec's signature."""
    key = signing_key(VECTOR_SECRET)
    assert sign(key, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_package_reproduces_the_vector_too() -> None:
    """The reference package agrees with the vector, so comparing against it means something."""
    moment = datetime.fromtimestamp(VECTOR_TIMESTAMP, tz=UTC)
    assert Webhook(VECTOR_SECRET).sign(VECTOR_ID, moment, VECTOR_BODY.decode()) == VECTOR_SIGNATURE


def test_byte_identical_to_the_package_on_varied_input() -> None:
    """Random keys, ids, times and bodies (non-ASCII included) sign the same both ways."""
    rng = random.Random(7)
    for _ in range(200):
        secret = "whsec_" + base64.b64encode(os.urandom(rng.randint(1, 64))).decode()
        msg_id = f"evt_{rng.getrandbits(96):024x}"
        timestamp = rng.randint(0, 2**33)
        body = "".join(rng.choice('ab "{}\\é한글\n') for _ in range(rng.randint(0, 300)))
        moment = datetime.fromtimestamp(timestamp, tz=UTC)
        assert sign(signing_key(secret), msg_id, timestamp, body.encode()) == Webhook(secret).sign(
            msg_id, moment, body
        )


def test_unpadded_secret_is_read_like_the_package_reads_it() -> None:
    padded = "whsec_" + base64.b64encode(b"0123456789").decode()
    assert padded.endswith("=")
    unpadded = padded.rstrip("=")
    assert signing_key(unpadded) == signing_key(padded)
    moment = datetime.fromtimestamp(1, tz=UTC)
    assert sign(signing_key(unpadded), "m", 1, b"x") == Webhook(unpadded).sign("m", moment, "x")


def test_each_secret_gives_a_signature_while_rotating() -> None:
    """Two secrets, two space-separated v1 signatures; a receiver with either verifies."""
    new, old = ("whsec_" + base64.b64encode(k).decode() for k in (b"new-key-1", b"old-key-2"))
    now = int(datetime.now(UTC).timestamp())
    headers = signature_headers([signing_key(new), signing_key(old)], "evt_1", now, b'{"a":1}')
    assert headers["webhook-id"] == "evt_1" and headers["webhook-timestamp"] == str(now)
    assert [s[:3] for s in headers["webhook-signature"].split(" ")] == ["v1,", "v1,"]
    for secret in (new, old):
        assert Webhook(secret).verify(b'{"a":1}', headers) == {"a": 1}


@pytest.mark.parametrize(
    "secret,reason",
    [
        ("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "start with whsec_"),
        ("whsec_not base64!", "not base64"),
        ("whsec_", "empty"),
    ],
)
def test_bad_secrets_are_refused(secret: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        signing_key(secret)
