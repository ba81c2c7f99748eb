"""A hop sent straight to our per-host pools (httpcore) is the hop httpx's transport sent:
the same request bytes on the wire, the same FetchResult, the same errors. Each case is
fetched twice from one loopback server, once through our pools and once through httpx's
transport over the guarded shared pool (the path test transports and proxies take)."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import httpcore
import pytest

from ingestd.errors import IngestError
from ingestd.models import FeedCredentials
from ingestd.netguard import guarded_transport, own_pools
from tests.support.fetching import loopback_fetcher

GZ = gzip.compress(b"<rss>compressed</rss>")

RESPONSES: dict[str, bytes] = {
    "/plain": b'HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-Dup: a\r\nX-Dup: b\r\nETag: "e1"\r\n\r\n<rss/>',
    "/latin": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Name: caf\xe9\r\nLast-Modified: x\r\n\r\nok",
    "/utf8": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Name: caf\xc3\xa9\r\n\r\nok",
    "/gz": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n" % len(GZ) + GZ,
    "/chunked": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
    "/304": b'HTTP/1.1 304 Not Modified\r\nETag: "e2"\r\n\r\n',
    "/304bare": b"HTTP/1.1 304 Not Modified\r\n\r\n",
    "/500": b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n",
    "/503": b"HTTP/1.1 503 \r\nRetry-After: 120\r\nContent-Length: 0\r\n\r\n",
    "/moved": b"HTTP/1.1 301 Moved Permanently\r\nLocation: /plain\r\nContent-Length: 0\r\n\r\n",
    "/loop": b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\n\r\n",
    "/cut": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial",
    "/garbage": b"NOT HTTP AT ALL\r\n\r\n",
}


class Server:
    def __init__(self) -> None:
        self.heads: list[bytes] = []
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                path = head.split(b" ")[1].decode().split("?")[0]
                writer.write(RESPONSES[path.split("@")[-1]])
                await writer.drain()
                if path in ("/cut", "/garbage"):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the client went, or the test is over
        finally:
            writer.close()


async def serving() -> tuple[Server, asyncio.Server]:
    server = Server()
    listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = listening.sockets[0].getsockname()[1]
    return server, listening


def outcome(result: Any) -> Any:
    if isinstance(result, Exception):
        return (type(result).__name__, str(result))
    return {k: v for k, v in vars(result).items() if k not in ("fetched_at", "duration_ms")}


async def fetched_both_ways(path: str, **kwargs: Any) -> tuple[list[Any], list[bytes]]:
    """(outcomes, request heads) through our pools, then through httpx's transport."""
    server, listening = await serving()
    url = f"http://127.0.0.1:{server.port}{path}"
    if "credentials" in kwargs:
        kwargs["credentials"] = FeedCredentials(
            origin=f"http://127.0.0.1:{server.port}", **kwargs["credentials"]
        )
    outcomes, heads = [], []
    async with listening:
        for fetcher in (loopback_fetcher(), loopback_fetcher(transport=guarded_transport(["127.0.0.1"]))):
            async with fetcher:
                assert (own_pools(fetcher._transport) is None) == (fetcher._mock is not None)
                server.heads.clear()
                try:
                    outcomes.append(outcome(await fetcher.fetch(url, **kwargs)))
                except IngestError as exc:
                    outcomes.append(outcome(exc))
                heads.append(b"".join(server.heads))
    return outcomes, heads


CASES = [
    ("/plain", {}),
    ("/plain", {"etag": '"e0"', "last_modified": "Wed, 01 Jan 2020 00:00:00 GMT"}),
    ("/plain?q=a%20b&x=\u00e9", {}),
    ("/latin", {}),
    ("/utf8", {}),
    ("/gz", {}),
    ("/chunked", {}),
    ("/304", {"etag": '"e2"'}),
    ("/304bare", {"etag": '"e3"', "last_modified": "then"}),
    ("/500", {}),
    ("/503", {}),
    ("/moved", {}),
    ("/loop", {}),
    ("/cut", {}),
    ("/garbage", {}),
    (
        "/plain",
        {"credentials": {"headers": (("X-Key", "k"), ("host", "example.org")), "query": (("t", "1"),)}},
    ),
    ("/plain", {"credentials": {"basic": ("user", "pass")}}),
    ("/plain", {"credentials": {"headers": (("User-Agent", "mine"), ("Accept", "text/xml"))}}),
]


@pytest.mark.parametrize(("path", "kwargs"), CASES)
def test_a_hop_through_our_pools_is_the_hop_httpx_sent(path: str, kwargs: dict[str, Any]) -> None:
    (ours, httpx_s), (our_head, httpx_head) = asyncio.run(fetched_both_ways(path, **kwargs))
    assert ours == httpx_s
    assert our_head == httpx_head and our_head


def test_user_and_password_in_the_url_are_basic_auth_either_way() -> None:
    async def scenario() -> list[bytes]:
        server, listening = await serving()
        heads = []
        async with listening:
            for fetcher in (loopback_fetcher(), loopback_fetcher(transport=guarded_transport(["127.0.0.1"]))):
                async with fetcher:
                    server.heads.clear()
                    await fetcher.fetch(f"http://me:secret@127.0.0.1:{server.port}/plain")
                    heads.append(b"".join(server.heads))
        return heads

    heads = asyncio.run(scenario())
    assert heads[0] == heads[1] and b"Authorization: Basic " in heads[0]


def test_a_non_ascii_header_value_fails_as_httpx_failed_it() -> None:
    async def scenario() -> list[str]:
        server, listening = await serving()
        errors = []
        async with listening:
            for fetcher in (loopback_fetcher(), loopback_fetcher(transport=guarded_transport(["127.0.0.1"]))):
                async with fetcher:
                    with pytest.raises(UnicodeEncodeError) as caught:
                        await fetcher.fetch(f"http://127.0.0.1:{server.port}/plain", etag="caf\u00e9")
                    errors.append(str(caught.value))
        return errors

    errors = asyncio.run(scenario())
    assert errors[0] == errors[1]


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1]:8080/feed?x=1",
        "http://example.org/feed",
        "https://example.org:443/a%20b",
        "https://example.org:8443/",
        "http://b\u00fccher.example/f\u00fcr",
        "http://me:secret@example.org/feed",
    ],
)
def test_the_pool_request_is_the_httpcore_request_httpx_made(url: str) -> None:
    fetcher = loopback_fetcher()
    headers = {"If-None-Match": '"e"', "Accept": "text/xml"}
    ours = fetcher._pool_request(url, headers)
    via_httpx = fetcher._request(url, headers)
    theirs = httpcore.Request(  # as httpx.AsyncHTTPTransport.handle_async_request makes it
        method=via_httpx.method,
        url=httpcore.URL(
            scheme=via_httpx.url.raw_scheme,
            host=via_httpx.url.raw_host,
            port=via_httpx.url.port,
            target=via_httpx.url.raw_path,
        ),
        headers=via_httpx.headers.raw,
        extensions=via_httpx.extensions,
    )
    assert (ours.method, ours.url, ours.headers, ours.extensions) == (
        theirs.method,
        theirs.url,
        theirs.headers,
        theirs.extensions,
    )
