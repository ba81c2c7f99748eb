"""fetch.Fetcher and fetch.read_local: each rule against MockTransport or a real
server on 127.0.0.1 started by the test (never the internet)."""

from __future__ import annotations

import asyncio
import gzip
import re
import time
import tracemalloc
import zlib
from collections.abc import Awaitable, Callable
from datetime import UTC
from types import SimpleNamespace

import brotli
import httpx
import pytest

from ingestd.errors import BodyTooLarge, FetchError, HTTPStatusError, RedirectError, TransportError
from ingestd.fetch import Fetcher, read_local
from ingestd.models import FeedCredentials
from ingestd.netguard import guarded_transport
from tests.support import async_wait_for
from tests.support.fetching import loopback_fetcher

LOCAL = ["127.0.0.1"]
FEED = b"<rss><channel><title>t</title></channel></rss>"


def make_fetcher(transport: httpx.AsyncBaseTransport | None = None, **overrides) -> Fetcher:
    return loopback_fetcher(user_agent="ingestd-test/1 (+http://x/)", transport=transport, **overrides)


def mock(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.MockTransport:
    return httpx.MockTransport(handler)


class Streamed(httpx.AsyncByteStream):
    """A body delivered as a stream, the way a real connection delivers it."""

    def __init__(self, data: bytes):
        self.data = data

    async def __aiter__(self):
        yield self.data


def reply(status: int = 200, body: bytes = b"", headers: dict | None = None) -> httpx.Response:
    return httpx.Response(status, headers=headers, stream=Streamed(body))


async def fetch_once(fetcher: Fetcher, url: str, **kwargs):
    async with fetcher:
        return await fetcher.fetch(url, **kwargs)


def run(coro: Awaitable):
    return asyncio.run(asyncio.wait_for(coro, 10))


# ── a real server on 127.0.0.1 ───────────────────────────────────────────────

Route = Callable[[asyncio.StreamWriter], Awaitable[None]]


class LocalServer:
    """HTTP/1.1 on 127.0.0.1, one response per connection; routes write raw bytes.

    Records each request's arrival time and the most requests in flight at once.
    Closed (with its handlers cancelled) when the `async with` block ends.
    """

    def __init__(self, routes: dict[str, Route]):
        self.routes = routes
        self.arrivals: list[tuple[str, float]] = []
        self.in_flight = self.max_in_flight = 0
        self._tasks: set[asyncio.Task] = set()

    async def __aenter__(self) -> LocalServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info) -> None:
        self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._tasks.add(asyncio.current_task())
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            self.arrivals.append((path, time.monotonic()))
            await self.routes[path](writer)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.in_flight -= 1
            writer.close()


def response(body: bytes = FEED, status: str = "200 OK", headers: str = "") -> Route:
    async def route(writer: asyncio.StreamWriter) -> None:
        writer.write(
            f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{headers}Connection: close\r\n\r\n".encode()
            + body
        )

    return route


# ── conditional GET and the result ───────────────────────────────────────────


def test_200_gives_body_headers_and_validators():
    """A 200 carries the raw body, lower-case headers, validators, final URL and timing."""

    def handler(request: httpx.Request) -> httpx.Response:
        return reply(
            200,
            FEED,
            {
                "ETag": '"v1"',
                "Last-Modified": "Wed, 08 Jan 2020 23:00:00 GMT",
                "Content-Type": "application/rss+xml; charset=EUC-KR",
            },
        )

    result = run(fetch_once(make_fetcher(mock(handler)), "https://feeds.example/rss"))
    assert (result.status, result.body) == (200, FEED)
    assert result.headers["content-type"] == "application/rss+xml; charset=EUC-KR"
    assert result.etag == '"v1"'
    assert result.last_modified == "Wed, 08 Jan 2020 23:00:00 GMT"
    assert result.url == result.final_url == "https://feeds.example/rss"
    assert result.fetched_at.tzinfo == UTC
    assert isinstance(result.duration_ms, int) and result.duration_ms >= 0


def test_conditional_get_sends_validators_and_reads_304():
    """The stored ETag and Last-Modified go out; a 304 comes back with an empty body."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return reply(304)

    result = run(
        fetch_once(
            make_fetcher(mock(handler)),
            "https://feeds.example/rss",
            etag='"v1"',
            last_modified="Wed, 08 Jan 2020 23:00:00 GMT",
        )
    )
    assert seen[0].headers["if-none-match"] == '"v1"'
    assert seen[0].headers["if-modified-since"] == "Wed, 08 Jan 2020 23:00:00 GMT"
    assert result.not_modified and result.body == b""
    assert result.etag == '"v1"'  # kept: the 304 sent none
    assert result.last_modified == "Wed, 08 Jan 2020 23:00:00 GMT"


def test_honest_user_agent_and_accepted_encodings():
    """Every request names ingestd with a contact URL and accepts gzip, deflate, br."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return reply(200, FEED)

    run(fetch_once(make_fetcher(mock(handler)), "https://feeds.example/rss"))
    assert seen[0].headers["user-agent"] == "ingestd-test/1 (+http://x/)"
    assert seen[0].headers["accept-encoding"] == "gzip, deflate, br"
    assert "if-none-match" not in seen[0].headers


def test_request_headers_as_httpx_client_sent_them_and_a_feeds_own_win():
    """The hops go to the transport without httpx.AsyncClient: the same default headers
    (Connection: keep-alive included), and a feed's header replaces a default of that name
    (whatever its case) rather than being sent beside it."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return reply(200, FEED)

    async def both() -> None:
        async with make_fetcher(mock(handler)) as fetcher:
            await fetcher.fetch("https://feeds.example/rss", etag='"v1"')
            own = FeedCredentials(
                origin="https://feeds.example:443", headers=(("accept", "application/rss+xml"),)
            )
            await fetcher.fetch("https://feeds.example/rss", credentials=own)

    run(both())
    assert [(k.lower(), v) for k, v in seen[0].headers.items()] == [
        ("host", "feeds.example"),
        ("connection", "keep-alive"),
        ("user-agent", "ingestd-test/1 (+http://x/)"),
        (
            "accept",
            "application/rss+xml, application/atom+xml, application/feed+json, "
            "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5",
        ),
        ("accept-encoding", "gzip, deflate, br"),
        ("if-none-match", '"v1"'),
    ]
    assert seen[0].extensions["timeout"] == {"connect": 2.0, "read": 5.0, "write": 5.0, "pool": 5.0}
    assert seen[1].headers.get_list("accept") == ["application/rss+xml"]


@pytest.mark.parametrize(
    "encoding, encode",
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, no zlib header
        ("br", brotli.compress),
        ("gzip, br", lambda data: brotli.compress(gzip.compress(data))),
    ],
)
def test_compressed_bodies_are_decoded(encoding, encode):
    """gzip, deflate (zlib or raw), br and stacked codings come back decoded."""
    body = FEED * 1000

    def handler(request: httpx.Request) -> httpx.Response:
        return reply(200, encode(body), {"Content-Encoding": encoding})

    assert run(fetch_once(make_fetcher(mock(handler)), "https://feeds.example/rss")).body == body


def test_a_body_the_transport_already_read_is_taken_as_is():
    """A MockTransport response built from bytes (already read) still works, limit included."""
    transport = mock(lambda request: httpx.Response(200, content=FEED))
    assert run(fetch_once(make_fetcher(transport), "https://feeds.example/rss")).body == FEED
    with pytest.raises(BodyTooLarge):
        run(fetch_once(make_fetcher(transport, max_body=10), "https://feeds.example/rss"))


def test_corrupt_gzip_is_a_fetch_error():
    """A body that does not decode as its Content-Encoding says is an error naming it."""

    def handler(request: httpx.Request) -> httpx.Response:
        return reply(200, b"not gzip at all", {"Content-Encoding": "gzip"})

    with pytest.raises(FetchError, match="cannot decode gzip body"):
        run(fetch_once(make_fetcher(mock(handler)), "https://feeds.example/rss"))


# ── statuses ─────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("status", [404, 410, 500])
def test_error_status_raises_http_status_error(status):
    """A non-2xx, non-304 final status raises HTTPStatusError carrying it (410: parked)."""
    transport = mock(lambda request: reply(status))
    with pytest.raises(HTTPStatusError, match=f"HTTP {status}") as caught:
        run(fetch_once(make_fetcher(transport), "https://feeds.example/rss"))
    assert caught.value.status == status


def test_retry_after_travels_with_429_from_a_real_server():
    """A 429's Retry-After reaches the caller on the exception."""

    async def go():
        async with LocalServer(
            {"/": response(b"slow down", "429 Too Many Requests", "Retry-After: 120\r\n")}
        ) as server:
            return await fetch_once(make_fetcher(), server.url("/"))

    with pytest.raises(HTTPStatusError) as caught:
        run(go())
    assert (caught.value.status, caught.value.retry_after) == (429, "120")


# ── redirects ────────────────────────────────────────────────────────────────


def redirects(chain: dict[str, tuple[int, str]]) -> httpx.MockTransport:
    """path -> (status, Location); any other path answers 200."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path in chain:
            status, location = chain[request.url.path]
            return reply(status, headers={"Location": location})
        return reply(200, FEED)

    return mock(handler)


def test_permanent_redirect_is_reported():
    """301 then 308 -> the final target is reported as the feed's permanent new URL."""
    transport = redirects({"/old": (301, "/mid"), "/mid": (308, "https://new.example/rss")})
    result = run(fetch_once(make_fetcher(transport), "https://feeds.example/old"))
    assert result.final_url == "https://new.example/rss"
    assert result.permanent_redirect == "https://new.example/rss"


def test_temporary_hop_ends_the_permanent_part():
    """301 then 302: only the 301's target moved permanently."""
    transport = redirects({"/old": (301, "/mid"), "/mid": (302, "/now")})
    result = run(fetch_once(make_fetcher(transport), "https://feeds.example/old"))
    assert result.final_url == "https://feeds.example/now"
    assert result.permanent_redirect == "https://feeds.example/mid"


@pytest.mark.parametrize("status", [302, 307])
def test_temporary_redirect_reports_nothing(status):
    """302 and 307 never suggest a new feed URL."""
    transport = redirects({"/old": (status, "/new")})
    result = run(fetch_once(make_fetcher(transport), "https://feeds.example/old"))
    assert result.final_url == "https://feeds.example/new"
    assert result.permanent_redirect is None


def test_redirect_loop_is_an_error_from_a_real_server():
    """/a -> /b -> /a is caught as a loop at once, not after max_redirects hops."""

    async def go():
        async with LocalServer({}) as server:
            server.routes.update(
                {
                    "/a": response(b"", "302 Found", f"Location: {server.url('/b')}\r\n"),
                    "/b": response(b"", "301 Moved Permanently", "Location: /a\r\n"),
                }
            )
            with pytest.raises(RedirectError, match="redirect loop"):
                await fetch_once(make_fetcher(), server.url("/a"))
            return len(server.arrivals)

    assert run(go()) == 2


def test_too_many_redirects():
    """A chain longer than max_redirects is an error naming the hops."""
    chain = {f"/{i}": (302, f"/{i + 1}") for i in range(6)}
    with pytest.raises(RedirectError, match="more than 5 redirects"):
        run(fetch_once(make_fetcher(redirects(chain)), "https://feeds.example/0"))
    # exactly max_redirects hops still works
    result = run(fetch_once(make_fetcher(redirects(chain), max_redirects=6), "https://feeds.example/0"))
    assert result.final_url == "https://feeds.example/6"


@pytest.mark.parametrize("location", ["file:///etc/passwd", "ftp://feeds.example/rss", "gopher://x/"])
def test_redirect_to_non_http_scheme_is_refused(location):
    """A redirect may only lead to http or https."""
    transport = redirects({"/rss": (301, location)})
    with pytest.raises(RedirectError, match="non-HTTP"):
        run(fetch_once(make_fetcher(transport), "https://feeds.example/rss"))


def test_non_http_url_is_not_fetched():
    """fetch() takes only http(s); file: feeds go through read_local."""
    with pytest.raises(FetchError, match="only http and https"):
        run(fetch_once(make_fetcher(mock(lambda r: reply(200))), "file:///etc/passwd"))


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1/rss", "Invalid IPv6 URL"),
        ("http://localhost:99999/rss", "Port out of range"),
        ("https://feeds.example:0/rss", "port 0"),
    ],
)
def test_an_unusable_url_is_a_fetch_error_naming_it(url, reason):
    """A URL no request can go to fails as FetchError naming it, before any hop (it was a
    bare ValueError or OverflowError)."""
    sent = []
    fetcher = make_fetcher(
        mock(lambda r: sent.append(r) or reply(200)), allow_private=["127.0.0.0/8", "::1/128"]
    )
    with pytest.raises(FetchError, match=f"invalid URL {re.escape(url)}: .*{reason}"):
        run(fetch_once(fetcher, url))
    assert sent == []


# ── hard limits, against a real server ───────────────────────────────────────


def test_connection_refused_names_the_reason():
    """A closed port gives TransportError saying 'connection refused'."""

    async def go():
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        await fetch_once(make_fetcher(), f"http://127.0.0.1:{port}/")

    with pytest.raises(TransportError, match="connection refused"):
        run(go())


def test_dns_failure_names_the_reason(monkeypatch):
    """A name that does not resolve gives TransportError naming the DNS look-up."""
    import socket

    async def no_such_host(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr("ingestd.netguard.anyio.getaddrinfo", no_such_host)
    with pytest.raises(TransportError, match="DNS look-up of feeds.invalid failed"):
        run(fetch_once(make_fetcher(), "http://feeds.invalid/rss"))


def test_slow_drip_is_cut_off_by_the_total_deadline():
    """A server sending one byte every 0.1 s never trips the read timeout, but the
    total deadline ends the fetch."""

    async def drip(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
        while True:
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.1)

    async def go():
        async with LocalServer({"/": drip}) as server:
            started = time.monotonic()
            with pytest.raises(TransportError, match="total deadline of 1s"):
                await fetch_once(make_fetcher(timeout=1.0), server.url("/"))
            return time.monotonic() - started

    assert run(go()) < 2.0


def test_read_timeout_names_the_reason():
    """A server that says nothing after connecting trips the read timeout."""

    async def silent(writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    async def go():
        async with LocalServer({"/": silent}) as server:
            fetcher = make_fetcher(timeout=0.5)
            await fetch_once(fetcher, server.url("/"))

    with pytest.raises(TransportError, match="timed out"):
        run(go())


def test_endless_body_is_cut_off_at_max_body():
    """A chunked body that never ends stops at max_body."""

    async def endless(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        while True:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()

    async def go():
        async with LocalServer({"/": endless}) as server:
            await fetch_once(make_fetcher(max_body=1_000_000), server.url("/"))

    with pytest.raises(BodyTooLarge, match="1000000-byte limit"):
        run(go())


def test_declared_length_over_max_body_is_refused_before_reading():
    """A Content-Length over the limit is refused without reading the body."""
    transport = mock(lambda request: reply(200, b"x" * 2000, {"Content-Length": "2000"}))
    with pytest.raises(BodyTooLarge, match="is 2000 bytes"):
        run(fetch_once(make_fetcher(transport, max_body=1000), "https://feeds.example/rss"))


def gzip_bomb(size: int) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = b"\0" * (1 << 20)
    parts = [compressor.compress(zeros) for _ in range(size >> 20)]
    return b"".join(parts) + compressor.flush()


def test_gzip_bomb_is_cut_off_without_inflating_it():
    """100 MB of zeros in ~100 KB of gzip: refused on decoded size, memory stays small."""
    bomb = gzip_bomb(100 << 20)
    assert len(bomb) < 1_000_000  # passes the raw limit: only the decoded one stops it

    async def go():
        async with LocalServer({"/": response(bomb, headers="Content-Encoding: gzip\r\n")}) as server:
            await fetch_once(make_fetcher(max_body=1_000_000), server.url("/"))

    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge, match="decoded body"):
            run(go())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000


def test_brotli_bomb_is_cut_off_without_inflating_it():
    """br gets the same bounded decoding as gzip."""
    bomb = brotli.compress(b"\0" * (100 << 20), quality=1)
    transport = mock(lambda request: reply(200, bomb, {"Content-Encoding": "br"}))
    tracemalloc.start()
    try:
        with pytest.raises(BodyTooLarge, match="decoded body"):
            run(fetch_once(make_fetcher(transport), "https://feeds.example/rss"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8_000_000


# ── politeness: the host budget ──────────────────────────────────────────────


def slow(seconds: float) -> Route:
    async def route(writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(seconds)
        await response()(writer)

    return route


def test_per_host_limit_bounds_requests_in_flight():
    """With per_host_limit=2, six fetches of one host never put three on the server."""

    async def go():
        async with LocalServer({"/": slow(0.2)}) as server:
            async with make_fetcher(per_host_limit=2) as fetcher:
                await asyncio.gather(*(fetcher.fetch(server.url("/")) for _ in range(6)))
            return server.max_in_flight

    assert run(go()) == 2


def test_global_limit_bounds_requests_in_flight():
    """global_limit caps fetches across hosts too."""

    async def go():
        async with LocalServer({"/": slow(0.2)}) as server:
            fetcher = make_fetcher(global_limit=3, per_host_limit=10, allow_private=["127.0.0.0/8"])
            async with fetcher:
                await asyncio.gather(*(fetcher.fetch(server.url("/")) for _ in range(8)))
            return server.max_in_flight

    assert run(go()) == 3


def test_host_busy_while_its_budget_is_spent():
    """host_busy() is true for a host at its limit, false for another host and after."""

    async def go():
        async with LocalServer({"/": slow(0.3)}) as server:
            async with make_fetcher(per_host_limit=1) as fetcher:
                assert not fetcher.host_busy(server.url("/"))
                task = asyncio.create_task(fetcher.fetch(server.url("/")))
                await async_wait_for(lambda: server.in_flight == 1, "the first fetch to reach the server")
                busy = (fetcher.host_busy(server.url("/x")), fetcher.host_busy("http://other.example/"))
                await task
                return busy, fetcher.host_busy(server.url("/"))

    assert run(go()) == ((True, False), False)


def test_per_host_delay_spaces_request_starts():
    """per_host_delay keeps request starts to one host apart, and host_busy says so."""

    async def go():
        async with LocalServer({"/": response()}) as server:
            async with make_fetcher(per_host_delay=0.3) as fetcher:
                await fetcher.fetch(server.url("/"))
                busy = fetcher.host_busy(server.url("/"))
                await asyncio.gather(fetcher.fetch(server.url("/")), fetcher.fetch(server.url("/")))
            times = [t for _, t in server.arrivals]
            return busy, [b - a for a, b in zip(times, times[1:], strict=False)]

    busy, gaps = run(go())
    assert busy
    assert all(gap >= 0.28 for gap in gaps), gaps


# ── set-up ───────────────────────────────────────────────────────────────────


def test_from_config_reads_durations_and_sizes():
    """The [fetch] table works with parsed numbers or their written forms."""
    config = SimpleNamespace(
        fetch=SimpleNamespace(
            timeout="20s",
            connect_timeout=10.0,
            user_agent="ua",
            allow_private=["10.0.0.0/8"],
            max_body="15MB",
            max_redirects=5,
            global_limit=50,
            per_host_limit=2,
            per_host_delay="2s",
        )
    )
    fetcher = Fetcher.from_config(config, per_host_limit=4)
    assert (fetcher.timeout, fetcher.connect_timeout, fetcher.max_body) == (20.0, 10.0, 15_000_000)
    assert (fetcher.per_host_limit, fetcher.per_host_delay) == (4, 2.0)


def test_fetch_outside_async_with_is_a_programming_error():
    """fetch() before entering the Fetcher raises RuntimeError, not a FetchError."""
    with pytest.raises(RuntimeError, match="async with"):
        run(make_fetcher(mock(lambda r: reply(200))).fetch("https://x.example/"))


def test_guarded_transport_serves_the_default_fetcher():
    """Without a transport argument the Fetcher connects through the guard."""

    async def go():
        async with LocalServer({"/": response()}) as server:
            return await fetch_once(make_fetcher(transport=guarded_transport(LOCAL)), server.url("/"))

    assert run(go()).body == FEED


# ── read_local ───────────────────────────────────────────────────────────────


def test_read_local_reads_a_file_url_and_a_path(tmp_path):
    """A file:// URL and a plain path give [(path, bytes)]."""
    feed = tmp_path / "feed.xml"
    feed.write_bytes(FEED)
    assert read_local(feed.as_uri()) == [(str(feed), FEED)]
    assert read_local(str(feed)) == [(str(feed), FEED)]


def test_read_local_reads_a_folder_in_name_order(tmp_path):
    """A folder gives its files in name order, skipping hidden files and sub-folders."""
    for name in ["b.xml", "a.txt", ".hidden", "c.json"]:
        (tmp_path / name).write_bytes(name.encode())
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.xml").write_bytes(b"d")
    assert [p.rsplit("/", 1)[-1] for p, _ in read_local(tmp_path.as_uri())] == ["a.txt", "b.xml", "c.json"]


def test_read_local_names_the_missing_path(tmp_path):
    """A missing file is a FetchError naming the path and the reason."""
    with pytest.raises(FetchError, match=f"{tmp_path}/nope.xml: not found"):
        read_local(str(tmp_path / "nope.xml"))


def test_read_local_refuses_remote_file_urls():
    """file://host/… names another machine: refused."""
    with pytest.raises(FetchError, match="local path"):
        read_local("file://fileserver/share/feed.xml")
