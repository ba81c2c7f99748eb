"""One signed POST through the guarded client: the only webhook code that touches the network.

    async with Sender(timeout=15, user_agent=..., allow_private=[...],
                      connections=4) as sender:
        attempt = await sender.send(url, keys, event_id, body)

`send` never raises for the receiver's sake: a refused connection, a
timeout, a blocked address or a 500 all come back as an Attempt. Redirects
are not followed (a 3xx is a failure). httpx types stay in this module.

The dispatcher keeps one Sender per subscription (and `close()`s it when the
subscription is removed): a slow endpoint then holds only its own connections,
and each pool stays as small as its concurrency.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx

from ..errors import BlockedAddress
from ..models import SubscriptionConfig
from ..netguard import outbound_transport
from ..timeutil import to_iso
from ._models import RETRY_AFTER_STATUSES, Attempt
from ._signing import signature_headers, signing_key

__all__ = ["Sender", "send_test"]

# A response body is read up to this much (so the connection can be reused), no more.
_READ_CAP = 64 * 1024
# This much of a failing response's body goes into last_error.
_ERROR_SNIPPET = 200


class Sender:
    def __init__(
        self,
        *,
        timeout: float,
        user_agent: str,
        allow_private: Sequence[str],
        connections: int,
        proxy: str | None = None,
        ca_bundle: str | None = None,
    ):
        self.timeout = timeout
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self._client = httpx.AsyncClient(
            transport=outbound_transport(allow_private, proxy=proxy, ca_bundle=ca_bundle, limits=limits),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
            headers={
                "User-Agent": user_agent,
                "Content-Type": "application/json",
                # a receiver's reply is only ever glanced at: no decoding, no bombs
                "Accept-Encoding": "identity",
            },
        )

    async def __aenter__(self) -> Sender:
        await self._client.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._client.aclose()

    async def send(self, url: str, keys: Sequence[bytes], event_id: str, body: bytes) -> Attempt:
        """POST `body`, signed afresh for this attempt; the whole attempt within `timeout`."""
        headers = signature_headers(keys, event_id, int(time.time()), body)
        started = time.monotonic()

        def took() -> int:
            return round((time.monotonic() - started) * 1000)

        try:
            async with asyncio.timeout(self.timeout):
                async with self._client.stream("POST", url, content=body, headers=headers) as response:
                    status = response.status_code
                    head = await _read_capped(response)
                    if 200 <= status < 300:
                        return Attempt(status, took())
                    return Attempt(
                        status,
                        took(),
                        error=_describe(response, head),
                        retry_after=response.headers.get("retry-after")
                        if status in RETRY_AFTER_STATUSES
                        else None,
                    )
        except TimeoutError:
            return Attempt(None, took(), error=f"timed out after {self.timeout:g}s")
        except (httpx.HTTPError, httpx.InvalidURL, BlockedAddress) as exc:
            return Attempt(None, took(), error=str(exc) or type(exc).__name__)


async def _read_capped(response: httpx.Response) -> bytes:
    body = b""
    async for chunk in response.aiter_raw():
        body += chunk
        if len(body) > _READ_CAP:
            break
    return body


def _describe(response: httpx.Response, body: bytes) -> str:
    what = f"HTTP {response.status_code}"
    if response.is_redirect:
        return f"{what} to {response.headers.get('location', '?')} (redirects are not followed)"
    text = " ".join(body[:_ERROR_SNIPPET].decode("utf-8", "replace").split())
    return f"{what}: {text}" if text else what


async def send_test(config: Any, sub: SubscriptionConfig) -> tuple[str, Attempt]:
    """`ingestd webhooks test`: one signed webhook.test event (never stored) to the
    subscription, through the guarded client of `config`. Returns its event id and
    the attempt. ValueError: a secret is not a whsec_ one."""
    keys = [signing_key(secret) for secret in sub.secrets]
    event_id = f"evt_test_{secrets.token_hex(12)}"
    body = json.dumps(
        {
            "type": "webhook.test",
            "id": event_id,
            "timestamp": to_iso(datetime.now(UTC)),
            "data": {"subscription": sub.id},
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    async with Sender(
        timeout=config.webhooks.timeout,
        user_agent=config.fetch.user_agent,
        allow_private=config.fetch.allow_private,
        connections=1,
        proxy=config.fetch.proxy,
        ca_bundle=config.fetch.ca_bundle,
    ) as sender:
        return event_id, await sender.send(sub.url, keys, event_id, body)
