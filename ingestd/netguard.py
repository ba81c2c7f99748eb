"""The network guard: no connection to a non-public address unless allowed.

The check sits in an httpcore network backend, so it runs on the address the
socket is actually opened to — after our own DNS look-up, for every new
connection, on every redirect hop. A host name that resolves to 10.0.0.1 on
the second look-up (DNS rebinding) is caught, because there is no second
look-up: we connect to the address we checked.

    blocked_reason(ip)         -> "loopback" | "private" | … | None (public)
    AddressPolicy(allow)       allow_private parsed; .check(host, ip) raises BlockedAddress
    GuardedBackend(policy)     httpcore backend: resolve, check, connect to the checked address
    AsyncioBackend()           the sockets under it: asyncio's own streams, not anyio's
    guarded_transport(allow)   an httpx transport using it (for the webhook sender too);
                               with `proxies`, requests routed through them are checked first;
                               with `per_host`, one small pool per origin (HostPools)
    own_pools(transport)       those pools, when nothing stands between them and the caller

Through a proxy the socket opened is the proxy's (the operator's, on any address), so
the guard resolves the target itself before the request is sent and refuses it if
any of its addresses is blocked (the proxy picks the address, not us). The proxy
resolves the name again: a rebinding between the two look-ups is the residue left
to the operator's proxy.

`[fetch] allow_private` (CIDRs or host names) is the only thing that opens an
address; see DESIGN.md "Network guard".
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
import time
import typing
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import contextmanager

import anyio
import httpcore
import httpx
from httpcore._utils import is_socket_readable  # the check httpcore's own backends make

from .errors import BlockedAddress
from .proxies import Proxies, from_settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network

# IANA special-purpose ranges that a feed, page or webhook has no business on.
# Written out rather than taken from ipaddress.is_global, whose answers have
# changed between Python patch releases.
_BLOCKED_V4: list[tuple[_V4, str]] = [
    (_V4("0.0.0.0/8"), "unspecified"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("100.64.0.0/10"), "private (shared address space)"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link-local"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.0.0.0/24"), "reserved (IETF protocol assignments)"),
    (_V4("192.0.2.0/24"), "reserved (documentation)"),
    (_V4("192.88.99.0/24"), "reserved (6to4 relay)"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("198.18.0.0/15"), "reserved (benchmarking)"),
    (_V4("198.51.100.0/24"), "reserved (documentation)"),
    (_V4("203.0.113.0/24"), "reserved (documentation)"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("240.0.0.0/4"), "reserved"),  # includes 255.255.255.255
]
_BLOCKED_V6: list[tuple[_V6, str]] = [
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("::/96"), "reserved (IPv4-compatible)"),
    (_V6("64:ff9b:1::/48"), "private (local-use NAT64)"),
    (_V6("100::/64"), "reserved (discard-only)"),
    (_V6("2001::/23"), "reserved (IETF protocol assignments)"),
    (_V6("2001:db8::/32"), "reserved (documentation)"),
    (_V6("fc00::/7"), "private (unique local)"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "reserved (site-local)"),
    (_V6("ff00::/8"), "multicast"),
]
_NAT64 = _V6("64:ff9b::/96")
_TEREDO = _V6("2001::/32")
_GLOBAL_UNICAST = _V6("2000::/3")


def blocked_reason(ip: IPAddress) -> str | None:
    """Why `ip` is not a public address, or None if it is one.

    IPv6 forms that carry an IPv4 address (IPv4-mapped, NAT64, 6to4, Teredo)
    are judged by the IPv4 address they lead to.
    """
    if isinstance(ip, ipaddress.IPv4Address):
        return next((why for net, why in _BLOCKED_V4 if ip in net), None)
    embedded = _embedded_v4(ip)
    if embedded is not None:
        why = blocked_reason(embedded)
        return f"{why} via {_embedding_name(ip)}" if why else None
    why = next((why for net, why in _BLOCKED_V6 if ip in net), None)
    if why is None and ip not in _GLOBAL_UNICAST:
        why = "reserved"  # IANA has allocated nothing else for public unicast
    return why


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _TEREDO:
        server, client = ip.teredo  # type: ignore[misc]
        # Either end being non-public makes the whole address so.
        return client if blocked_reason(client) else server
    return None


def _embedding_name(ip: ipaddress.IPv6Address) -> str:
    if ip.ipv4_mapped is not None:
        return "IPv4-mapped"
    if ip in _NAT64:
        return "NAT64"
    return "6to4" if ip.sixtofour is not None else "Teredo"


class AddressPolicy:
    """`allow_private` parsed: networks and host names that may be non-public."""

    def __init__(self, allow_private: Iterable[str] = ()):
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self.hosts: set[str] = set()
        for item in allow_private:
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self.hosts.add(_host_key(item))

    def check(self, host: str, ip: IPAddress) -> None:
        """Raise BlockedAddress unless `ip` (reached as `host`) may be connected to."""
        why = blocked_reason(ip)
        if why is None or self.allows(host, ip):
            return
        raise BlockedAddress(f"blocked address {ip} for host {host} ({why})")

    def allows(self, host: str, ip: IPAddress) -> bool:
        if _host_key(host) in self.hosts:
            return True
        # "127.0.0.1" also opens ::ffff:127.0.0.1, the same socket by another name.
        forms = [ip] + ([ip.ipv4_mapped] if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else [])
        return any(form in net for form in forms for net in self.networks if form.version == net.version)


def _host_key(host: str) -> str:
    return host.strip().rstrip(".").lower()


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host itself, checks each address, connects to a checked one.

    Addresses are tried in resolver order; blocked ones are skipped, so a name
    resolving to both a public and a private address only reaches the public one.
    If every address is blocked, BlockedAddress (not a connection error) is raised.
    """

    def __init__(self, policy: AddressPolicy, inner: httpcore.AsyncNetworkBackend | None = None):
        self.policy = policy
        self.inner = inner or AsyncioBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        with anyio.move_on_after(timeout) as scope:
            addresses = await self._resolve(host, port)
        if scope.cancelled_caught:
            raise httpcore.ConnectTimeout(f"DNS look-up of {host} timed out")
        allowed, blocked = [], None
        for ip in addresses:
            try:
                self.policy.check(host, ip)
                allowed.append(ip)
            except BlockedAddress as exc:
                blocked = blocked or exc
        if not allowed:
            assert blocked is not None  # _resolve never returns an empty list
            raise blocked
        last_error: Exception | None = None
        for ip in allowed:
            try:
                return await self.inner.connect_tcp(
                    str(ip), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except httpcore.ConnectError as exc:
                reason = _os_reason(exc) or str(exc) or "cannot connect"
                last_error = httpcore.ConnectError(f"{reason} at {ip} port {port}")
                last_error.__cause__ = exc
        assert last_error is not None
        raise last_error

    async def _resolve(self, host: str, port: int) -> list[IPAddress]:
        literal = _ip_literal(host)
        if literal is not None:
            return [literal]
        try:
            infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise httpcore.ConnectError(f"DNS look-up of {host} failed: {exc}") from exc
        # sockaddr[0] may carry an IPv6 scope ("fe80::1%eth0"); ipaddress reads it.
        return list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """httpcore's sockets on asyncio's streams. httpcore's default goes through anyio,
    whose stream wrappers, cancel scopes and attribute look-ups cost more per read and
    write than the I/O itself (docs/performance.md, "Unchanged polls, fifth pass").
    Exceptions map as httpcore's AnyIOBackend maps them; the daemon runs on asyncio only."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        with _mapped({TimeoutError: httpcore.ConnectTimeout, OSError: httpcore.ConnectError}):
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, local_addr=(local_address, 0) if local_address else None
                )
        stream = AsyncioStream(reader, writer)
        for option in socket_options or ():
            stream.socket.setsockopt(*option)
        return stream

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection (plain, or TLS after start_tls: asyncio swaps the transport under
    the same reader and writer)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer
        self.socket = writer.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _mapped({TimeoutError: httpcore.ReadTimeout, OSError: httpcore.ReadError}):
            async with asyncio.timeout(timeout):
                return await self.reader.read(max_bytes)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        with _mapped({TimeoutError: httpcore.WriteTimeout, OSError: httpcore.WriteError}):
            if self.writer.is_closing():  # asyncio would drop the bytes without a word
                raise ConnectionResetError("connection closed")
            self.writer.write(buffer)
            if not self.writer.transport.get_write_buffer_size():  # all taken by the kernel
                await self.writer.drain()  # no wait: raises if the connection was lost
                return
            async with asyncio.timeout(timeout):
                await self.writer.drain()

    async def aclose(self) -> None:
        if self.writer.get_extra_info("ssl_object") is not None:
            # as anyio's TLS stream (standard_compatible=False): no wait for the peer's
            # close_notify, which would hold the socket open up to asyncio's 30 s
            self.writer.transport.abort()
        else:
            self.writer.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        # ssl.SSLError is an OSError
        mapping: dict[type[Exception], type[Exception]] = {
            TimeoutError: httpcore.ConnectTimeout,
            OSError: httpcore.ConnectError,
        }
        try:
            with _mapped(mapping):
                async with asyncio.timeout(timeout):
                    await self.writer.start_tls(ssl_context, server_hostname=server_hostname)
        except BaseException:
            await self.aclose()
            raise
        return AsyncioStream(self.reader, self.writer)

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":  # an idle connection's server has closed it (or spoken out of turn)
            # asyncio reads on while a connection idles: bytes a server sent after its response
            # wait in the reader's buffer, not the socket (anyio paused reading, so they stayed
            # in the kernel where is_socket_readable saw them); either way the connection is spent
            return (
                bool(getattr(self.reader, "_buffer", None))  # StreamReader's own; no public peek
                or self.reader.at_eof()
                or self.reader.exception() is not None
                or is_socket_readable(self.socket)
            )
        name = {"ssl_object": "ssl_object", "client_addr": "sockname", "server_addr": "peername"}.get(info)
        if name is not None:
            return self.writer.get_extra_info(name)
        return self.socket if info == "socket" else None


@contextmanager
def _mapped(mapping: dict[type[Exception], type[Exception]]) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for kind, to in mapping.items():
            if isinstance(exc, kind):
                raise to(str(exc) or type(exc).__name__) from exc
        raise


def _os_reason(exc: BaseException) -> str | None:
    """The OS's words ("connection refused") from under anyio's wrapping, if any."""
    seen: list[BaseException] = [exc]
    while seen:
        current = seen.pop(0)
        if isinstance(current, OSError) and current.errno:
            return os.strerror(current.errno).lower()
        if isinstance(current, BaseExceptionGroup):
            seen.extend(current.exceptions)
        seen.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None


def guarded_transport(
    allow_private: Iterable[str] = (),
    *,
    limits: httpx.Limits | None = None,
    backend: httpcore.AsyncNetworkBackend | None = None,
    ssl_context: ssl.SSLContext | None = None,
    proxies: Proxies | None = None,
    proxy_ssl_context: ssl.SSLContext | None = None,
    per_host: int | None = None,
    max_pools: int = 512,
) -> httpx.AsyncBaseTransport:
    """An httpx transport whose every connection passes the guard.

    httpx's own proxy handling is off (trust_env=False): through a proxy the address
    connected to would be the proxy's, and the guard would see nothing. `proxies`
    routes requests explicitly, each target checked first (`_Proxied`).
    `ssl_context` verifies servers (a CA bundle, a client certificate; default: certifi);
    `proxy_ssl_context` an https proxy (default: `ssl_context`; never the feed's certificate).
    `backend` replaces the real socket layer under the guard (tests).
    `per_host` gives each origin its own pool of that many connections (`HostPools`, at
    most `max_pools` of them) instead of one pool of `limits.max_connections` for all.
    """
    limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
    ssl_context = ssl_context or httpx.create_ssl_context(trust_env=False)
    policy = AddressPolicy(allow_private)
    guarded = GuardedBackend(policy, backend)
    pool: httpcore.AsyncConnectionPool | HostPools
    if per_host is None:
        pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=guarded,
        )
    else:
        pool = HostPools(ssl_context, guarded, per_host, limits, max_pools)
    direct = _Transport(pool)
    if not proxies:
        return direct
    return _Proxied(direct, proxies, guarded, ssl_context, proxy_ssl_context or ssl_context, limits)


def host_pools(transport: httpx.AsyncBaseTransport) -> HostPools | None:
    """The per-origin pools under a guarded transport, if it has them (tests, diagnostics)."""
    if isinstance(transport, _Proxied):
        transport = transport.direct
    pool = getattr(transport, "_pool", None)
    return pool if isinstance(pool, HostPools) else None


def own_pools(transport: httpx.AsyncBaseTransport) -> HostPools | None:
    """The per-origin pools a guarded transport without a proxy sends every request
    to, for a caller that hands them httpcore requests itself (fetch.py); None for a
    proxied or a test's transport."""
    if type(transport) is _Transport and isinstance(transport._pool, HostPools):
        return transport._pool
    return None


class _Transport(httpx.AsyncHTTPTransport):
    """httpx's transport over a pool of ours: httpx takes no network backend argument,
    and its own __init__ would load a trust store only to throw it away."""

    def __init__(self, pool: httpcore.AsyncConnectionPool | HostPools | httpcore.AsyncHTTPProxy):
        self._pool = pool  # type: ignore[assignment]


class HostPools:
    """One small guarded pool per origin (scheme, host, port), all on one SSL context.

    httpcore's pool asks every connection it holds whether it has expired each time a
    request enters or leaves it, so one pool shared by many hosts costs each request in
    proportion to the hosts kept alive. Here a request scans at most its origin's
    `per_host` kept-alive connections (a burst may open up to `limits.max_connections`, as
    the one shared pool allowed: redirects land on hosts outside the fetcher's per-host
    slots). A pool unused for the keep-alive expiry (its connections hold nothing
    reusable by then) is closed at the next request, and past `max_pools` the least
    recently used idle ones are closed too, so thousands of hosts polled now and then
    keep at most `max_pools` × `per_host` idle sockets open.
    """

    def __init__(
        self,
        ssl_context: ssl.SSLContext,
        backend: httpcore.AsyncNetworkBackend,
        per_host: int,
        limits: httpx.Limits,
        max_pools: int,
    ):
        self.ssl_context, self.backend = ssl_context, backend
        self.per_host, self.limits, self.max_pools = per_host, limits, max_pools
        self.expiry = limits.keepalive_expiry
        # least recently used first
        self._pools: OrderedDict[tuple[bytes, bytes, int | None], _HostPool] = OrderedDict()

    def origins(self) -> list[str]:
        """The origins with a pool open, least recently used first (tests, diagnostics)."""
        return [f"{s.decode()}://{h.decode()}" + (f":{p}" if p else "") for s, h, p in self._pools]

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        url = request.url
        key = (url.scheme, url.host, url.port)
        now = time.monotonic()
        entry = self._pools.get(key)
        if entry is not None:  # the newest and in use: never among those closed below
            self._pools.move_to_end(key)
            entry.users += 1
            entry.last_used = now
        closing = self._unused(now, room=entry is None)
        if entry is None:
            entry = self._pools[key] = _HostPool(
                httpcore.AsyncConnectionPool(
                    ssl_context=self.ssl_context,
                    max_connections=self.limits.max_connections,
                    max_keepalive_connections=self.per_host,
                    keepalive_expiry=self.expiry,
                    network_backend=self.backend,
                ),
                now,
            )
        try:
            for pool in closing:
                await pool.aclose()
            response = await entry.pool.handle_async_request(request)
        except BaseException:
            entry.release()
            raise
        response.stream = _Released(response.stream, entry)  # type: ignore[arg-type]
        return response

    def _unused(self, now: float, *, room: bool) -> list[httpcore.AsyncConnectionPool]:
        """Takes out of the map (no await: no other request picks one up meanwhile) the
        pools past the expiry and, when `room` is wanted at the cap, the oldest idle ones."""
        closing: list[tuple[bytes, bytes, int | None]] = []
        for key, entry in self._pools.items():  # oldest first: stop at the first one kept
            over = room and len(self._pools) - len(closing) >= self.max_pools
            expired = self.expiry is not None and now - entry.last_used > self.expiry
            if not (over or expired):
                break
            if entry.users == 0:
                closing.append(key)
        return [self._pools.pop(key).pool for key in closing]

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for entry in pools:
            await entry.pool.aclose()

    async def __aenter__(self) -> HostPools:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class _HostPool:
    def __init__(self, pool: httpcore.AsyncConnectionPool, now: float):
        self.pool = pool
        self.users = 1  # requests whose response is not closed yet: the pool is not closed under them
        self.last_used = now

    def release(self) -> None:
        self.users -= 1
        self.last_used = time.monotonic()


class _Released:
    """A response body that gives its pool back once, when closed."""

    def __init__(self, stream: typing.AsyncIterable[bytes], entry: _HostPool):
        self.stream = stream
        self.entry: _HostPool | None = entry

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.stream.__aiter__()

    async def aclose(self) -> None:
        entry, self.entry = self.entry, None
        try:
            if hasattr(self.stream, "aclose"):
                await self.stream.aclose()
        finally:
            if entry is not None:
                entry.release()


class _Proxied(httpx.AsyncBaseTransport):
    """Straight to the host, or through the proxy `proxies` names for the URL, once
    every address of the target has passed the guard."""

    def __init__(
        self,
        direct: httpx.AsyncHTTPTransport,
        proxies: Proxies,
        guarded: GuardedBackend,
        ssl_context: ssl.SSLContext,
        proxy_ssl_context: ssl.SSLContext,
        limits: httpx.Limits,
    ):
        self.direct, self.proxies, self.guarded = direct, proxies, guarded
        self.ssl_context, self.proxy_ssl_context, self.limits = ssl_context, proxy_ssl_context, limits
        self._through: dict[str, httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        proxy = self.proxies.for_url(url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        if proxy is None:
            return await self.direct.handle_async_request(request)
        await self._check_target(
            url.host, url.port or 0, request.extensions.get("timeout", {}).get("connect")
        )
        return await self._proxy(proxy).handle_async_request(request)

    async def _check_target(self, host: str, port: int, timeout: float | None) -> None:
        try:
            with anyio.move_on_after(timeout) as scope:
                addresses = await self.guarded._resolve(host, port)
        except httpcore.ConnectError as exc:  # outside httpx's own mapping: map it here
            raise httpx.ConnectError(str(exc)) from exc
        if scope.cancelled_caught:
            raise httpx.ConnectTimeout(f"DNS look-up of {host} timed out")
        for ip in addresses:
            self.guarded.policy.check(host, ip)

    def _proxy(self, url: str) -> httpx.AsyncHTTPTransport:
        transport = self._through.get(url)
        if transport is None:
            proxy = httpx.URL(url)
            pool = httpcore.AsyncHTTPProxy(
                proxy_url=httpcore.URL(
                    scheme=proxy.raw_scheme, host=proxy.raw_host, port=proxy.port, target=b"/"
                ),
                proxy_auth=(proxy.username, proxy.password) if proxy.username else None,
                ssl_context=self.ssl_context,
                proxy_ssl_context=self.proxy_ssl_context if proxy.scheme == "https" else None,
                max_connections=self.limits.max_connections,
                max_keepalive_connections=self.limits.max_keepalive_connections,
                keepalive_expiry=self.limits.keepalive_expiry,
                # the proxy is the operator's: its own address is not guarded
                network_backend=self.guarded.inner,
            )
            transport = self._through[url] = _Transport(pool)
        return transport

    async def aclose(self) -> None:
        for transport in [self.direct, *self._through.values()]:
            await transport.aclose()


def ssl_context(ca_bundle: str | None, cert: tuple[str, str | None] | None = None) -> ssl.SSLContext:
    """Servers verified against `ca_bundle` (default: certifi), presenting `cert`
    (certificate file, key file or None) if given. Raises OSError or ssl.SSLError."""
    if ca_bundle:
        context = ssl.create_default_context(cafile=ca_bundle)
    else:
        context = httpx.create_ssl_context(trust_env=False)
    if cert is not None:
        context.load_cert_chain(cert[0], cert[1])
    return context


def outbound_transport(
    allow_private: Iterable[str],
    *,
    proxy: str | None = None,
    ca_bundle: str | None = None,
    limits: httpx.Limits | None = None,
) -> httpx.AsyncBaseTransport:
    """The guarded transport with `[fetch]`'s proxy (or the environment's) and CA bundle:
    webhook deliveries and WebSub hub requests leave the way feed fetches do."""
    return guarded_transport(
        allow_private,
        limits=limits,
        ssl_context=ssl_context(ca_bundle),
        proxies=from_settings(proxy, os.environ),
    )
