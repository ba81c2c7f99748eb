"""Polls of a host that keeps connections alive reuse one TCP connection, whatever the
answer: a 304 used to leave its connection unread, and httpcore closed it (a connect and a
close per poll: most of a 304's CPU)."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from ingestd.daemon import Daemon
from ingestd.errors import RedirectError
from ingestd.fetch import Fetcher
from tests.support import daemon_config, rss
from tests.support.daemon import poll
from tests.support.fetching import loopback_fetcher
from tests.support.servers import recording

FEED = rss(("a-1", "First story"), ("a-2", "Second story"))


class KeepAliveServer:
    """HTTP/1.1 on 127.0.0.1 that keeps every connection open: 304 to a request carrying
    the ETag it gave, else the feed (ETag "v1"). Counts the connections it accepted."""

    def __init__(self, etag: bool = True, close_idle: bool = False, after_304: bytes = b""):
        self.etag, self.close_idle = etag, close_idle
        self.after_304 = after_304  # bytes sent a little after each 304, unasked
        self.accepts = 0
        self.requests = 0
        self.closed = asyncio.Event()  # with close_idle: the last connection is closed
        self._tasks: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> KeepAliveServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}/feed.xml"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.accepts += 1
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).lower()
                self.requests += 1
                if self.etag and b'if-none-match: "v1"' in head:
                    writer.write(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n')
                    if self.after_304:
                        await writer.drain()
                        await asyncio.sleep(0.05)
                        writer.write(self.after_304)
                else:
                    validator = b'ETag: "v1"\r\n' if self.etag else b""
                    writer.write(
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                        + validator
                        + f"Content-Length: {len(FEED)}\r\n\r\n".encode()
                        + FEED
                    )
                await writer.drain()
                if self.close_idle:  # a server dropping an idle keep-alive connection
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
            await writer.wait_closed()
            self.closed.set()


def fetcher() -> Fetcher:
    return loopback_fetcher()


def test_conditional_gets_answered_304_reuse_one_connection() -> None:
    async def scenario() -> tuple[list[int], int, int]:
        async with KeepAliveServer() as server, fetcher() as client:
            statuses = [(await client.fetch(server.url)).status]
            for _ in range(3):
                statuses.append((await client.fetch(server.url, etag='"v1"')).status)
            statuses.append((await client.fetch(server.url)).status)
            return statuses, server.requests, server.accepts

    statuses, requests, accepts = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert statuses == [200, 304, 304, 304, 200]
    assert (requests, accepts) == (5, 1)


def test_a_connection_the_server_closed_while_idle_is_not_reused() -> None:
    """The pool asks the network stream whether an idle connection was closed by its
    server (netguard.AsyncioStream's is_readable): such a one is dropped, not sent on."""

    async def scenario() -> tuple[list[int], int]:
        async with KeepAliveServer(close_idle=True) as server, fetcher() as client:
            statuses = []
            for etag in (None, '"v1"', '"v1"'):
                server.closed.clear()
                statuses.append((await client.fetch(server.url, etag=etag)).status)
                await server.closed.wait()
            return statuses, server.accepts

    statuses, accepts = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert statuses == [200, 304, 304]
    assert accepts == 3


def test_bytes_a_server_sent_after_its_response_spend_the_connection() -> None:
    """A 304 followed, a moment later, by bytes nobody asked for (a body the server should
    not have sent): the next request goes on a new connection, not read from those bytes."""

    async def scenario() -> tuple[list[int], int]:
        async with KeepAliveServer(after_304=b"hello") as server, fetcher() as client:
            statuses = [(await client.fetch(server.url)).status]
            for _ in range(2):
                statuses.append((await client.fetch(server.url, etag='"v1"')).status)
                await asyncio.sleep(0.2)  # the stray bytes arrive while the connection idles
            return statuses, server.accepts

    statuses, accepts = asyncio.run(asyncio.wait_for(scenario(), 10))
    assert statuses == [200, 304, 304]
    assert accepts == 2


def test_user_and_password_in_a_feed_url_are_sent_as_basic_auth() -> None:
    async def scenario(url: str) -> int:
        async with fetcher() as client:
            return (await client.fetch(url)).status

    with recording({"/feed": (200, {}, FEED)}) as server:
        url = server.url("/feed").replace("http://", "http://reader:s%3Acret@")
        assert asyncio.run(asyncio.wait_for(scenario(url), 10)) == 200
    assert server.seen[0].headers["authorization"] == "Basic " + base64.b64encode(b"reader:s:cret").decode()


def test_daemon_polls_of_a_keep_alive_server_use_one_connection(tmp_path: Path) -> None:
    async def scenario(etag: bool, folder: Path) -> tuple[int, int]:
        async with KeepAliveServer(etag=etag) as server:
            config = daemon_config(folder, feeds=[("news", server.url)])
            async with Daemon(config).open() as daemon:
                await poll(daemon, "news")  # the feed: stored, its ETag learnt
                for _ in range(2):
                    await poll(daemon, "news")  # 304, or the same body again
                assert daemon.writer.store.count("stories") == 2
            return server.requests, server.accepts

    for etag in (True, False):
        folder = tmp_path / ("etag" if etag else "same-body")
        folder.mkdir()
        assert asyncio.run(asyncio.wait_for(scenario(etag, folder), 30)) == (3, 1)


def test_a_redirect_to_a_port_out_of_range_is_a_redirect_error() -> None:
    async def scenario(url: str) -> None:
        async with fetcher() as client:
            await client.fetch(url)

    with recording({"/feed": (302, {"Location": "http://127.0.0.1:99999/x"}, b"")}) as server:
        with pytest.raises(RedirectError, match=r"port out of range http://127.0.0.1:99999/x from http"):
            asyncio.run(asyncio.wait_for(scenario(server.url("/feed")), 10))
