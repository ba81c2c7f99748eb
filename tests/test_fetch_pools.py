"""One HTTP connection pool per origin: polls of N hosts make N pools, each reusing its
connection; a pool unused past the keep-alive expiry, or beyond the cap, is closed with its
sockets (counted by a keep-alive server on 127.0.0.1–127.0.0.3); the guard holds under them."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ingestd.errors import BlockedAddress
from ingestd.fetch import Fetcher
from ingestd.netguard import HostPools, guarded_transport, host_pools
from tests.support.fetching import loopback_fetcher
from tests.support.waiting import async_wait_for

HOSTS = ["127.0.0.1", "127.0.0.2", "127.0.0.3"]
BODY = b"<rss version='2.0'><channel><title>t</title></channel></rss>"


class Hosts:
    """One keep-alive HTTP/1.1 server on HOSTS (one port): 304 to If-None-Match "v1",
    else a small feed. Counts accepted and closed connections by local address."""

    def __init__(self) -> None:
        self.accepts: dict[str, int] = dict.fromkeys(HOSTS, 0)
        self.closed: dict[str, int] = dict.fromkeys(HOSTS, 0)
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Hosts:
        first = await asyncio.start_server(self._handle, HOSTS[0], 0)
        self.port = first.sockets[0].getsockname()[1]  # the others on the same port
        self._servers = [first, await asyncio.start_server(self._handle, HOSTS[1:], self.port)]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        for server in self._servers:
            server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()

    def url(self, host: str) -> str:
        return f"http://{host}:{self.port}/feed.xml"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        host = writer.get_extra_info("sockname")[0]
        self.accepts[host] += 1
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).lower()
                if b'if-none-match: "v1"' in head:
                    writer.write(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n')
                else:
                    writer.write(
                        b'HTTP/1.1 200 OK\r\nETag: "v1"\r\n'
                        + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
                        + BODY
                    )
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.closed[host] += 1
            writer.close()


def fetcher(allow: list[str]) -> Fetcher:
    return loopback_fetcher(allow_private=allow)


def test_polls_of_n_hosts_make_n_pools_each_reusing_its_connection() -> None:
    async def scenario() -> tuple[list[int], list[str], dict[str, int]]:
        async with Hosts() as server, fetcher(["127.0.0.0/8"]) as client:
            statuses = []
            for _ in range(3):
                results = await asyncio.gather(*(client.fetch(server.url(h), etag='"v1"') for h in HOSTS))
                statuses += [r.status for r in results]
            return statuses, client.open_origins(), dict(server.accepts)

    statuses, origins, accepts = asyncio.run(scenario())
    assert statuses == [304] * 9
    assert sorted(o.rsplit(":", 1)[0] for o in origins) == [f"http://{h}" for h in HOSTS]
    assert accepts == dict.fromkeys(HOSTS, 1)


def pools_client(keepalive_expiry: float = 5.0, max_pools: int = 512) -> tuple[httpx.AsyncClient, HostPools]:
    limits = httpx.Limits(max_connections=10, max_keepalive_connections=10, keepalive_expiry=keepalive_expiry)
    transport = guarded_transport(["127.0.0.0/8"], limits=limits, per_host=2, max_pools=max_pools)
    pools = host_pools(transport)
    assert pools is not None
    return httpx.AsyncClient(transport=transport, trust_env=False), pools


def test_a_pool_unused_past_the_keepalive_expiry_is_closed_with_its_connection() -> None:
    async def scenario() -> None:
        async with Hosts() as server:
            client, pools = pools_client(keepalive_expiry=0.2)
            async with client:
                assert (await client.get(server.url(HOSTS[0]))).status_code == 200
                assert len(pools.origins()) == 1
                await asyncio.sleep(0.3)  # past the expiry: the next request closes the idle pool
                assert (await client.get(server.url(HOSTS[1]))).status_code == 200
                assert pools.origins() == [f"http://{HOSTS[1]}:{server.port}"]
                await async_wait_for(lambda: server.closed[HOSTS[0]] == 1, "the idle pool's socket closed")
                assert server.closed[HOSTS[1]] == 0
            await async_wait_for(lambda: server.closed[HOSTS[1]] == 1, "every socket closed with the client")

    asyncio.run(scenario())


def test_past_the_cap_the_least_recently_used_idle_pool_is_closed() -> None:
    async def scenario() -> None:
        async with Hosts() as server:
            client, pools = pools_client(max_pools=2)
            async with client:
                for host in [HOSTS[0], HOSTS[1], HOSTS[0], HOSTS[2]]:
                    assert (await client.get(server.url(host))).status_code == 200
                assert pools.origins() == [f"http://{h}:{server.port}" for h in (HOSTS[0], HOSTS[2])]
                await async_wait_for(lambda: server.closed[HOSTS[1]] == 1, "the evicted pool's socket closed")
                assert server.accepts == dict.fromkeys(HOSTS, 1)
                assert server.closed[HOSTS[0]] == server.closed[HOSTS[2]] == 0

    asyncio.run(scenario())


def test_a_pool_with_a_response_open_is_never_closed_under_it() -> None:
    async def scenario() -> None:
        async with Hosts() as server:
            client, pools = pools_client(max_pools=1)
            async with client:
                async with client.stream("GET", server.url(HOSTS[0])) as first:
                    assert (await client.get(server.url(HOSTS[1]))).status_code == 200
                    assert len(pools.origins()) == 2  # over the cap while the first is in use
                    assert await first.aread() == BODY
                assert (await client.get(server.url(HOSTS[2]))).status_code == 200
                assert pools.origins() == [f"http://{HOSTS[2]}:{server.port}"]

    asyncio.run(scenario())


def test_the_guard_refuses_a_host_not_allowed_under_per_host_pools() -> None:
    async def scenario() -> None:
        async with Hosts() as server, fetcher(["127.0.0.1"]) as client:
            assert (await client.fetch(server.url(HOSTS[0]))).status == 200
            with pytest.raises(BlockedAddress, match="127.0.0.2"):
                await client.fetch(server.url(HOSTS[1]))
            with pytest.raises(BlockedAddress, match="loopback"):
                await client.fetch(f"http://[::1]:{server.port}/feed.xml")
        assert server.accepts[HOSTS[1]] == 0

    asyncio.run(scenario())
