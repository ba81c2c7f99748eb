"""One polite HTTP client: conditional GET, hard limits, redirects, the network guard.

    async with Fetcher.from_config(config) as fetcher:
        if not fetcher.host_busy(feed.url):          # else: leave the feed due, try next tick
            result = await fetcher.fetch(feed.url, etag=feed.etag,
                                         last_modified=feed.last_modified,
                                         credentials=feed_config.credentials)

`fetch` returns a FetchResult (2xx or 304) or raises the errors.py tree:
TransportError (refused, DNS, timeouts — the message names which), BlockedAddress,
HTTPStatusError (.status, .retry_after), RedirectError, BodyTooLarge, and
FetchError for a URL we cannot fetch or a body we cannot decode. httpx types
never leave this module. Bodies come back as raw bytes: charsets are parse's job.

A feed's credentials (headers, auth, token query parameters, a client certificate)
go to the hops at their origin only (credentials.py); URLs recorded, logged or put
in errors never carry the token parameters. `[fetch] proxy` or the environment's
proxies (proxies.py) and `[fetch] ca_bundle` apply to every request.

`read_local` reads file:// URLs and paths (config-declared feeds and replay only),
under the same body limit, and never waits on a FIFO or device (`read_file`).
"""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
import stat
import time
import urllib.request
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, cast
from urllib.parse import SplitResult, urlsplit

import brotli
import httpcore
import httpx
from httpx._transports.default import map_httpcore_exceptions

from . import credentials as creds
from .config import SETTINGS, parse_duration, parse_size
from .errors import BodyTooLarge, FetchError, HTTPStatusError, RedirectError, TransportError
from .logs import get_logger
from .models import FeedCredentials, FetchResult
from .netguard import guarded_transport, host_pools, own_pools, ssl_context
from .proxies import from_settings

__all__ = ["Fetcher", "read_local", "read_file", "local_files"]

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
ACCEPT_ENCODING = "gzip, deflate, br"
DEFAULT_GLOBAL_LIMIT = 50
DEFAULT_PER_HOST_LIMIT = 2
# HTTP pools (one per origin) kept at most, idle ones beyond closed: with per_host_limit 2,
# at most 1,024 idle sockets however many hosts are polled (netguard.HostPools)
MAX_POOLS = 512

_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_PERMANENT_STATUSES = {301, 308}
_PIECE = 64 * 1024  # most decoded bytes produced per step: bounds a bomb's damage
# for callers without a config at hand: the setting's own default
DEFAULT_MAX_BODY = parse_size(
    next(s.default for s in SETTINGS if (s.section, s.key) == ("fetch", "max_body"))
)


class Fetcher:
    """Fetches feed and page URLs through one shared, guarded httpx transport, which
    keeps one small connection pool per origin (netguard.HostPools: at most
    MAX_POOLS, idle ones closed after the keep-alive expiry).

    Each hop is sent to the transport itself, without httpx.AsyncClient: redirects,
    body decoding and limits are ours, and there is no cookie jar — one feed's session
    (its credentials') is never sent on another feed's request to the same host; a
    feed that needs a cookie sets it as a header. The client's layers (auth flow,
    hooks, URL merge, cookie extraction) were a fifth of an unchanged poll's CPU.
    A hop that goes straight to our own per-host pools (no proxy, no test transport)
    is an httpcore request, as httpx's transport would have made it, without httpx's
    request, response and stream wrappers around it.

    Limits: `global_limit` fetches at once, `per_host_limit` per host, and
    `per_host_delay` seconds between request starts to one host. `timeout` is
    the total deadline of a fetch (slots aside), redirects and body included;
    `connect_timeout` bounds DNS plus connect, and each read may take `timeout`.
    `proxy` ([fetch] proxy) wins over the proxies in `environ` (default: os.environ);
    `ca_bundle` (a PEM file) replaces the default trust store.
    `transport` replaces the guarded network transport (tests: respx, MockTransport).
    """

    def __init__(
        self,
        *,
        timeout: float,
        connect_timeout: float,
        user_agent: str,
        allow_private: list[str],
        max_body: int,
        max_redirects: int,
        transport: httpx.AsyncBaseTransport | None = None,
        global_limit: int = DEFAULT_GLOBAL_LIMIT,
        per_host_limit: int = DEFAULT_PER_HOST_LIMIT,
        per_host_delay: float = 0.0,
        proxy: str | None = None,
        ca_bundle: str | None = None,
        environ: Mapping[str, str] | None = None,
    ):
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.user_agent = user_agent
        self.max_body = max_body
        self.max_redirects = max_redirects
        self.per_host_limit = per_host_limit
        self.per_host_delay = per_host_delay
        self.ca_bundle = ca_bundle
        self._limits = httpx.Limits(max_connections=global_limit, max_keepalive_connections=global_limit)
        self._allow_private = allow_private
        self._proxies = from_settings(proxy, os.environ if environ is None else environ)
        self._mock = transport
        self._transport = transport or self._guarded(None)
        # what httpx.AsyncClient sent with every request, ours in place of its own
        self._headers = [
            ("Connection", "keep-alive"),
            ("User-Agent", user_agent),
            ("Accept", ACCEPT),
            ("Accept-Encoding", ACCEPT_ENCODING),
        ]
        self._timeouts = httpx.Timeout(timeout, connect=connect_timeout).as_dict()
        self._global = asyncio.Semaphore(global_limit)
        self._hosts: dict[str, _Host] = {}
        self._open = False
        # (cert, key) -> a transport presenting that certificate, made at first use
        self._cert_transports: dict[tuple[str, str | None], httpx.AsyncBaseTransport] = {}

    @classmethod
    def from_config(cls, config: Any, **overrides: Any) -> Fetcher:
        """Build from `config.fetch` (durations and sizes as numbers or "20s"/"15MB")."""
        fetch = config.fetch
        settings: dict[str, Any] = dict(
            timeout=parse_duration(fetch.timeout),
            connect_timeout=parse_duration(fetch.connect_timeout),
            user_agent=fetch.user_agent,
            allow_private=list(fetch.allow_private),
            max_body=parse_size(fetch.max_body),
            max_redirects=int(fetch.max_redirects),
            global_limit=int(fetch.global_limit),
            per_host_limit=int(fetch.per_host_limit),
            per_host_delay=parse_duration(fetch.per_host_delay),
            proxy=getattr(fetch, "proxy", None),
            ca_bundle=getattr(fetch, "ca_bundle", None),
        )
        settings.update(overrides)
        return cls(**settings)

    async def __aenter__(self) -> Fetcher:
        await self._transport.__aenter__()
        self._open = True
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        if not self._open:
            return
        self._open = False
        transports, self._cert_transports = list(self._cert_transports.values()), {}
        for other in transports:
            await other.__aexit__(*exc_info)
        await self._transport.__aexit__(*exc_info)

    def _guarded(self, cert: tuple[str, str | None] | None) -> httpx.AsyncBaseTransport:
        return guarded_transport(
            self._allow_private,
            limits=self._limits,
            ssl_context=ssl_context(self.ca_bundle, cert),
            proxies=self._proxies,
            # the proxy is the operator's: the feed's client certificate is for the feed alone
            proxy_ssl_context=ssl_context(self.ca_bundle) if cert else None,
            per_host=self.per_host_limit,
            max_pools=MAX_POOLS,
        )

    async def _transport_for(self, credentials: FeedCredentials | None) -> httpx.AsyncBaseTransport:
        """The shared transport, or (a client certificate being one per TLS context) the
        one presenting the feed's certificate."""
        # a test's transport stands in for every connection, certificates included
        if credentials is None or credentials.client_cert is None or self._mock is not None:
            return self._transport
        cert = (credentials.client_cert, credentials.client_key)
        transport = self._cert_transports.get(cert)
        if transport is None:
            try:
                transport = self._cert_transports[cert] = self._guarded(cert)
            except (OSError, ssl.SSLError) as exc:
                raise FetchError(f"cannot load client certificate {cert[0]}: {exc}") from None
            await transport.__aenter__()
        return transport

    def open_origins(self) -> list[str]:
        """The origins the shared client holds a connection pool for, least recently
        used first (tests, diagnostics)."""
        pools = host_pools(self._transport)
        return pools.origins() if pools is not None else []

    def host_busy(self, url: str) -> bool:
        """True if a fetch of `url` would now wait for its host's budget.

        The scheduler skips such a feed for this tick (it stays due): a deferral,
        not an error. `fetch` itself waits rather than fails, so a race between
        this check and the fetch only costs a short wait.
        """
        host = self._hosts.get(_host_key(urlsplit(url)))
        if host is None:
            return False
        return host.slots.locked() or host.next_start > time.monotonic()

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        credentials: FeedCredentials | None = None,
    ) -> FetchResult:
        """GET `url`, conditionally when a validator is given; `credentials` go to
        the hops at their origin, until a redirect leaves it."""
        if not self._open:
            raise RuntimeError("use the Fetcher as 'async with Fetcher(...) as fetcher'")
        try:
            parts = urlsplit(url)
            port = parts.port  # reading it checks its range
        except ValueError as exc:  # e.g. "http://[::1/", a port past 65535
            raise FetchError(f"invalid URL {url}: {exc}") from None
        if parts.scheme.lower() not in ("http", "https"):
            raise FetchError(f"{url}: only http and https URLs are fetched")
        if port == 0:
            raise FetchError(f"invalid URL {url}: port 0")
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        async with self._host_slot(_host_key(parts)), self._global:
            started = time.monotonic()
            try:
                async with asyncio.timeout(self.timeout):
                    result = await self._follow(url, headers, credentials)
            except TimeoutError:
                raise TransportError(
                    f"timed out: total deadline of {self.timeout:g}s passed fetching {url}"
                ) from None
        result.duration_ms = round((time.monotonic() - started) * 1000)
        if result.status == 304:  # a 304 may leave out the validators; the sent ones hold
            result.etag = result.etag or etag
            result.last_modified = result.last_modified or last_modified
        return result

    @asynccontextmanager
    async def _host_slot(self, key: str) -> AsyncIterator[None]:
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(asyncio.Semaphore(self.per_host_limit))
        host.users += 1
        try:
            async with host.slots:
                # Reserve a start time; no await between read and write, so no lock.
                now = time.monotonic()
                start = max(now, host.next_start)
                host.next_start = start + self.per_host_delay
                if start > now:
                    await asyncio.sleep(start - now)
                yield
        finally:
            host.users -= 1
            if host.users == 0 and host.next_start <= time.monotonic():
                del self._hosts[key]

    async def _follow(
        self, url: str, headers: dict[str, str], credentials: FeedCredentials | None
    ) -> FetchResult:
        seen = [url]
        permanent: str | None = None
        only_permanent = True
        current = url
        for _ in range(self.max_redirects + 1):
            # once a redirect has left the origin, no hop gets the credentials again
            if credentials is not None and not creds.covers(credentials, current):
                credentials = None
            with _mapped_errors(current, self.connect_timeout):
                transport = await self._transport_for(credentials)
                sent, hop_headers = current, headers
                if credentials is not None:
                    sent = creds.with_query(current, credentials)
                    hop_headers = headers | creds.request_headers(credentials)
                response, received = await self._send(transport, sent, hop_headers)
                try:
                    target = self._redirect_target(response.status_code, received, current, seen, credentials)
                    if target is None:
                        result = await self._result(url, current, response, received)
                        if permanent:
                            result.permanent_redirect = permanent
                        return result
                finally:
                    await response.aclose()
            only_permanent = only_permanent and response.status_code in _PERMANENT_STATUSES
            permanent = target if only_permanent else permanent
            seen.append(target)
            current = target
        raise RedirectError(f"more than {self.max_redirects} redirects: {' -> '.join(seen)}")

    async def _send(
        self, transport: httpx.AsyncBaseTransport, url: str, headers: dict[str, str]
    ) -> tuple[httpx.Response | _PoolResponse, dict[str, str]]:
        """The hop's response and its headers, read once (each httpx Headers.get scans
        and decodes every header): keys lower-case, repeats joined."""
        pools = own_pools(transport)
        if pools is None:
            response = await transport.handle_async_request(self._request(url, headers))
            return response, dict(response.headers.items())
        pooled = _PoolResponse(await pools.handle_async_request(self._pool_request(url, headers)))
        return pooled, _received(pooled.raw_headers)

    def _request(self, url: str, headers: dict[str, str]) -> httpx.Request:
        """A GET with our default headers (the hop's win) and the timeouts, as
        httpx.AsyncClient.build_request made it."""
        parsed, merged, _ = self._hop(url, headers)
        return httpx.Request("GET", parsed, headers=merged, extensions={"timeout": self._timeouts})

    def _pool_request(self, url: str, headers: dict[str, str]) -> httpcore.Request:
        """The httpcore request httpx's transport made of `_request`'s: a Host header
        first (unless the hop sets one), names and values ASCII as httpx encoded them."""
        parsed, merged, names = self._hop(url, headers)
        raw = [(name.encode("ascii"), value.encode("ascii")) for name, value in merged]
        if "host" not in names and parsed.host:
            raw.insert(0, (b"Host", parsed.netloc))
        return httpcore.Request(b"GET", _pool_url(url), headers=raw, extensions={"timeout": self._timeouts})

    def _hop(self, url: str, headers: dict[str, str]) -> tuple[httpx.URL, list[tuple[str, str]], set[str]]:
        """The hop's URL, its headers (ours, the hop's winning) and the hop's header names."""
        names = {name.lower() for name in headers}
        merged = [pair for pair in self._headers if pair[0].lower() not in names] + list(headers.items())
        parsed = _parsed(url)
        if (parsed.username or parsed.password) and "authorization" not in names:
            # user:password@ in a hop's URL is HTTP basic auth, as httpx.AsyncClient sent it
            merged.append(("Authorization", creds.basic_authorization(parsed.username, parsed.password)))
        return parsed, merged, names

    @staticmethod
    def _redirect_target(
        status: int,
        headers: dict[str, str],
        current: str,
        seen: list[str],
        credentials: FeedCredentials | None,
    ) -> str | None:
        """The next hop, as recorded: without the token parameters a server echoed."""
        location = headers.get("location")
        if status not in _REDIRECT_STATUSES or not location:
            return None
        location = creds.without_query(location, credentials)
        try:
            target = httpx.URL(current).join(location)
        except httpx.InvalidURL as exc:
            raise RedirectError(f"bad redirect Location {location!r} from {current}: {exc}") from None
        if target.scheme not in ("http", "https"):
            raise RedirectError(f"redirect to a non-HTTP URL {target} from {current}")
        if target.port is not None and not 0 < target.port < 65536:
            raise RedirectError(f"redirect to a port out of range {target} from {current}")
        if str(target) in seen:
            raise RedirectError(f"redirect loop: {' -> '.join(seen + [str(target)])}")
        return str(target)

    async def _result(
        self, url: str, current: str, response: httpx.Response | _PoolResponse, headers: dict[str, str]
    ) -> FetchResult:
        """`current` is the hop's URL as recorded (response.url may carry a token)."""
        status = response.status_code
        if status != 304 and not 200 <= status < 300:
            phrase = f"HTTP {status} {response.reason_phrase}".rstrip()
            raise HTTPStatusError(f"{phrase} from {current}", status, retry_after=headers.get("retry-after"))
        if status == 304 and _read_already(response) is None:
            # a 304 has no body, but until it is read to its end httpcore closes the
            # connection instead of keeping it alive for the host's next poll
            async for _ in response.aiter_raw():
                pass
        body = b"" if status == 304 else await self._read_body(response, headers, current)
        return FetchResult(
            url=url,
            final_url=current,
            status=status,
            body=body,
            headers=headers,
            etag=headers.get("etag"),
            last_modified=headers.get("last-modified"),
            fetched_at=datetime.now(UTC),
        )

    async def _read_body(
        self, response: httpx.Response | _PoolResponse, headers: dict[str, str], url: str
    ) -> bytes:
        limit = self.max_body
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise BodyTooLarge(f"body of {url} is {declared} bytes, over the {limit}-byte limit")
        content = _read_already(response)
        if content is not None:
            # A mock transport that built the response from bytes has read and
            # decoded it already; only the decoded limit is left to apply.
            if len(content) > limit:
                raise BodyTooLarge(f"decoded body of {url} passed the {limit}-byte limit")
            return content
        encodings = [e.strip().lower() for e in headers.get("content-encoding", "").split(",")]
        decoder = _decoder(encodings, url)
        body = bytearray()
        received = 0
        async for chunk in response.aiter_raw():
            received += len(chunk)
            if received > limit:
                raise BodyTooLarge(f"body of {url} passed the {limit}-byte limit")
            for piece in decoder.feed(chunk):
                if len(body) + len(piece) > limit:
                    raise BodyTooLarge(f"decoded body of {url} passed the {limit}-byte limit")
                body += piece
        return bytes(body)


class _PoolResponse:
    """A response from our own per-host pools (httpcore's), read as fetch reads an
    httpx.Response; its body streams as the server sends it (never read already)."""

    def __init__(self, response: httpcore.Response):
        self._response = response
        self.status_code = response.status
        self.raw_headers = response.headers

    @property
    def reason_phrase(self) -> str:  # as httpx.Response's
        reason = self._response.extensions.get("reason_phrase")
        if reason is None:
            return httpx.codes.get_reason_phrase(self.status_code)
        return cast(bytes, reason).decode("ascii", errors="ignore")

    def aiter_raw(self) -> AsyncIterator[bytes]:
        return cast(AsyncIterable[bytes], self._response.stream).__aiter__()

    async def aclose(self) -> None:
        await self._response.aclose()


def _read_already(response: httpx.Response | _PoolResponse) -> bytes | None:
    """The body a test's transport built the response from (read and decoded), if so."""
    if isinstance(response, httpx.Response) and response.is_stream_consumed:
        return response.content
    return None


def _received(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """dict(httpx.Headers(raw).items()): names lower-case, repeats joined with ", ",
    all decoded as ASCII if they can be, else UTF-8, else Latin-1."""
    for encoding in ("ascii", "utf-8"):
        try:
            return _decoded(raw, encoding)
        except UnicodeDecodeError:
            continue
    return _decoded(raw, "iso-8859-1")


def _decoded(raw: list[tuple[bytes, bytes]], encoding: str) -> dict[str, str]:
    received: dict[str, str] = {}
    for name, value in raw:
        key, text = name.lower().decode(encoding), value.decode(encoding)
        received[key] = f"{received[key]}, {text}" if key in received else text
    return received


@dataclass
class _Host:
    slots: asyncio.Semaphore
    next_start: float = 0.0  # time.monotonic() before which no request may start
    users: int = 0  # fetches holding or waiting for a slot


# A feed's URL is parsed at each poll: parsing was a third of building the request.
# httpx.URL is immutable; raising InvalidURL, it is not cached.
_parsed = functools.lru_cache(maxsize=4096)(httpx.URL)


@functools.lru_cache(maxsize=4096)
def _pool_url(url: str) -> httpcore.URL:
    """The httpcore URL httpx's transport made of `_parsed(url)` (immutable as used)."""
    parsed = _parsed(url)
    return httpcore.URL(
        scheme=parsed.raw_scheme, host=parsed.raw_host, port=parsed.port, target=parsed.raw_path
    )


def _host_key(parts: SplitResult) -> str:
    return (parts.hostname or "").lower()


@contextmanager  # not async: it awaits nothing, and an async generator costs more per hop
def _mapped_errors(url: str, connect_timeout: float) -> Iterator[None]:
    """httpx's exceptions -> ours, each message naming the reason and the URL."""
    try:
        # a hop sent to our own pools raises httpcore's: mapped as httpx's transport mapped them
        with map_httpcore_exceptions():
            yield
    except httpx.ConnectTimeout:
        raise TransportError(f"timed out: no connection within {connect_timeout:g}s to {url}") from None
    except httpx.TimeoutException as exc:
        kind = {
            httpx.ReadTimeout: "read",
            httpx.WriteTimeout: "write",
            httpx.PoolTimeout: "connection pool",
        }.get(type(exc), "")
        raise TransportError(f"timed out: {kind} timeout from {url}") from None
    except httpx.ConnectError as exc:
        raise TransportError(f"{exc or 'cannot connect'} ({url})") from None
    except httpx.InvalidURL as exc:
        raise FetchError(f"invalid URL {url}: {exc}") from None
    except httpx.HTTPError as exc:  # read errors, protocol errors, a closed connection
        raise TransportError(f"{type(exc).__name__}: {exc or 'no detail'}: {url}") from None
    except ssl.SSLError as exc:  # TLS 1.3: a refused client certificate is an alert after the handshake
        raise TransportError(f"TLS: {exc.reason or exc}: {url}") from None


class _Decoder(Protocol):
    def feed(self, data: bytes) -> Iterator[bytes]: ...


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        yield data


class _Zlib:
    """gzip or deflate, inflated at most _PIECE bytes at a time."""

    def __init__(self, encoding: str, url: str):
        self.encoding, self.url = encoding, url
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16 if encoding == "gzip" else zlib.MAX_WBITS)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self._z.decompress(data, _PIECE)
            except zlib.error as exc:
                if self.encoding == "deflate" and not self._started:
                    # Some servers send raw deflate without the zlib header.
                    self._z, self._started = zlib.decompressobj(-zlib.MAX_WBITS), True
                    continue
                raise FetchError(f"cannot decode {self.encoding} body of {self.url}: {exc}") from None
            self._started = True
            data = self._z.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < _PIECE:
                return


class _Brotli:
    def __init__(self, url: str):
        self.url = url
        self._b = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            out = self._b.process(data, output_buffer_limit=_PIECE)
            while out:  # the decoder holds back output past the limit until asked again
                yield out
                out = self._b.process(b"", output_buffer_limit=_PIECE)
        except brotli.error as exc:
            raise FetchError(f"cannot decode br body of {self.url}: {exc}") from None


class _Chain:
    """Content-Encoding lists the codings in the order applied; undo them in reverse."""

    def __init__(self, decoders: list[_Decoder]):
        self.decoders = decoders

    def feed(self, data: bytes) -> Iterator[bytes]:
        return self._through(self.decoders, data)

    def _through(self, decoders: list[_Decoder], data: bytes) -> Iterator[bytes]:
        if not decoders:
            yield data
            return
        for piece in decoders[0].feed(data):
            yield from self._through(decoders[1:], piece)


def _decoder(encodings: Iterable[str], url: str) -> _Decoder:
    decoders: list[_Decoder] = []
    for encoding in reversed([e for e in encodings if e and e != "identity"]):
        if encoding in ("gzip", "x-gzip"):
            decoders.append(_Zlib("gzip", url))
        elif encoding == "deflate":
            decoders.append(_Zlib("deflate", url))
        elif encoding == "br":
            decoders.append(_Brotli(url))
        else:
            raise FetchError(f"unsupported Content-Encoding {encoding!r} from {url}")
    if not decoders:
        return _Identity()
    return decoders[0] if len(decoders) == 1 else _Chain(decoders)


# a reader for each, never given to read_file: what it is, said in the skip's log line
_NOT_REGULAR = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def read_local(url: str, *, max_body: int = DEFAULT_MAX_BODY) -> list[tuple[str, bytes]]:
    """A file:// URL or a path -> [(path, bytes)]: the file, or a folder's files.

    A folder's files come in name order; hidden files and sub-folders are
    skipped, and so (with a log line) are FIFOs, devices and sockets. Raises
    FetchError naming the path and the reason, BodyTooLarge past `max_body`.
    """
    path = _local_path(url)
    return [(str(p), read_file(p, max_body)) for p in local_files([path], recursive=False)]


def local_files(paths: Iterable[str | os.PathLike[str]], *, recursive: bool = True) -> list[Path]:
    """The paths given, and the regular files inside folders given (in name order,
    hidden ones left out). Inside a folder, anything but a regular file is skipped
    with a warning naming it; a path given is kept whatever it is, so that
    `read_file` reports what is wrong with it (missing, a FIFO, …)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        files.extend(_folder_files(path, recursive) if path.is_dir() else [path])
    return files


def _folder_files(folder: Path, recursive: bool) -> list[Path]:
    log = get_logger()
    files = []
    for path in sorted(folder.rglob("*") if recursive else folder.iterdir()):
        if any(part.startswith(".") for part in path.relative_to(folder).parts):
            continue
        try:
            mode = os.stat(path).st_mode  # stat, never open: opening a FIFO waits for a writer
        except OSError as exc:
            log.warning("input skipped", url=str(path), error=exc.strerror or str(exc))
            continue
        if stat.S_ISDIR(mode):
            continue
        if kind := _not_regular(mode):
            log.warning("input skipped", url=str(path), error=f"{kind}, not a regular file")
            continue
        files.append(path)
    return files


def read_file(path: Path, max_body: int) -> bytes:
    """A regular file's bytes, at most `max_body` of them. Never blocks: the kind of
    file is checked before opening, and opened without waiting (a FIFO swapped in
    after the check reads as empty) and checked again. Raises FetchError naming
    the path and the reason; BodyTooLarge past the limit, having read limit+1 bytes."""
    try:
        if kind := _not_regular(os.stat(path).st_mode):
            raise FetchError(f"{path}: {kind}, not a regular file")
        with os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY), "rb") as file:
            if kind := _not_regular(os.fstat(file.fileno()).st_mode):
                raise FetchError(f"{path}: {kind}, not a regular file")
            body = file.read(max_body + 1)
    except OSError as exc:
        reason = {
            FileNotFoundError: "not found",
            PermissionError: "permission denied",
            IsADirectoryError: "is a folder",
        }.get(type(exc), exc.strerror or str(exc))
        raise FetchError(f"{exc.filename or path}: {reason}") from None
    if len(body) > max_body:
        raise BodyTooLarge(f"{path}: larger than the {max_body}-byte limit ([fetch] max_body)")
    return body


def _not_regular(mode: int) -> str | None:
    return next((kind for test, kind in _NOT_REGULAR if test(mode)), None)


def _local_path(url: str) -> Path:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        if parts.netloc not in ("", "localhost"):
            raise FetchError(f"{url}: a file URL must name a local path")
        return Path(urllib.request.url2pathname(parts.path))
    if scheme == "" or len(scheme) == 1:  # a path; one letter is a Windows drive
        return Path(url)
    raise FetchError(f"{url}: not a file URL or a path")
