"""The network guard: the SSRF matrix, checked on the address actually connected to.

Blocked addresses are refused before any socket is opened: a recording backend
under the guard proves no connection was attempted. Servers run on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket

import httpcore
import pytest

from ingestd.errors import BlockedAddress, TransportError
from ingestd.fetch import Fetcher
from ingestd.netguard import AddressPolicy, blocked_reason, guarded_transport


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Stands in for real sockets: records where the guard let a connection go."""

    def __init__(self):
        self.connects: list[tuple[str, int]] = []

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.connects.append((host, port))
        raise httpcore.ConnectError("recorded, not connected")

    async def sleep(self, seconds):
        await asyncio.sleep(seconds)


def make_fetcher(allow_private=(), backend=None, **overrides) -> Fetcher:
    settings = dict(
        timeout=5.0,
        connect_timeout=1.0,
        user_agent="ingestd-test",
        allow_private=list(allow_private),
        max_body=1_000_000,
        max_redirects=5,
        transport=guarded_transport(allow_private, backend=backend),
    )
    settings.update(overrides)
    return Fetcher(**settings)


def fetch(url: str, allow_private=(), backend=None):
    async def go():
        async with make_fetcher(allow_private, backend) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(asyncio.wait_for(go(), 10))


BLOCKED = [
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("10.1.2.3", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.168.1.1", "private"),
    ("100.64.0.1", "private (shared address space)"),
    ("169.254.169.254", "link-local"),  # cloud metadata
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    ("192.0.0.8", "reserved (IETF protocol assignments)"),
    ("192.0.2.1", "reserved (documentation)"),
    ("198.18.0.1", "reserved (benchmarking)"),
    ("::1", "loopback"),
    ("::", "unspecified"),
    ("fc00::1", "private (unique local)"),
    ("fd12:3456::1", "private (unique local)"),
    ("fe80::1", "link-local"),
    ("ff02::1", "multicast"),
    ("2001:db8::1", "reserved (documentation)"),
    ("100::1", "reserved (discard-only)"),
    ("fec0::1", "reserved (site-local)"),
    ("4000::1", "reserved"),
    ("::127.0.0.1", "reserved (IPv4-compatible)"),
    ("::ffff:127.0.0.1", "loopback via IPv4-mapped"),
    ("::ffff:169.254.169.254", "link-local via IPv4-mapped"),
    ("::ffff:10.0.0.1", "private via IPv4-mapped"),
    ("64:ff9b::7f00:1", "loopback via NAT64"),
    ("64:ff9b::a9fe:a9fe", "link-local via NAT64"),
    ("2002:c0a8:101::1", "private via 6to4"),  # 192.168.1.1
    ("2002:7f00:1::1", "loopback via 6to4"),
    # Teredo: server 65.54.227.120, client 192.168.1.1 (stored inverted)
    ("2001:0:4136:e378:8000:63bf:3f57:fefe", "private via Teredo"),
]

PUBLIC = [
    "93.184.216.34",
    "8.8.8.8",
    "2606:4700:4700::1111",
    "::ffff:93.184.216.34",
    "64:ff9b::5db8:d822",
    "2002:5db8:d822::1",
    "2001:0:4136:e378:8000:63bf:a247:27dd",
]  # Teredo client 93.184.216.34


@pytest.mark.parametrize("address, reason", BLOCKED)
def test_blocked_ranges(address, reason):
    """Each non-public range is blocked, with its name as the reason."""
    assert blocked_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    """Public addresses, in any IPv6 form that carries them, are not blocked."""
    assert blocked_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("address, reason", BLOCKED)
def test_fetcher_refuses_blocked_literals_before_connecting(address, reason):
    """A URL naming a blocked address raises BlockedAddress and opens no socket."""
    backend = RecordingBackend()
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(BlockedAddress, match=r"^blocked address .* for host "):
        fetch(f"http://{host}:8080/feed", backend=backend)
    assert backend.connects == []


def test_hostname_resolving_to_loopback_is_blocked():
    """'localhost' is judged by what it resolves to, not by its name."""
    backend = RecordingBackend()
    with pytest.raises(BlockedAddress, match="for host localhost"):
        fetch("http://localhost:8080/feed", backend=backend)
    assert backend.connects == []


def fake_dns(monkeypatch, answers: dict[str, list[str]]) -> None:
    async def getaddrinfo(host, port, **kwargs):
        return [
            (socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
            for ip in answers[host]
        ]

    monkeypatch.setattr("ingestd.netguard.anyio.getaddrinfo", getaddrinfo)


def test_connection_goes_to_the_checked_address_not_the_name(monkeypatch):
    """The guard connects to the IP it checked, so a second look-up cannot rebind;
    of a mixed answer only the public address is tried."""
    fake_dns(monkeypatch, {"rebind.example": ["10.0.0.1", "93.184.216.34", "127.0.0.1"]})
    backend = RecordingBackend()
    with pytest.raises(TransportError):  # the recorder refuses every connection
        fetch("http://rebind.example/feed", backend=backend)
    assert backend.connects == [("93.184.216.34", 80)]


def test_a_name_resolving_only_to_private_addresses_is_blocked(monkeypatch):
    """A public-looking name pointing at metadata is refused as a blocked address."""
    fake_dns(monkeypatch, {"metadata.example": ["169.254.169.254"]})
    with pytest.raises(BlockedAddress, match="blocked address 169.254.169.254 for host metadata.example"):
        fetch("http://metadata.example/latest/", backend=RecordingBackend())


# ── allow_private, the only opener ───────────────────────────────────────────


def test_policy_opens_listed_networks_only():
    """A CIDR opens its addresses (and their IPv4-mapped form), nothing else."""
    policy = AddressPolicy(["127.0.0.1", "10.0.0.0/8"])
    policy.check("x", ipaddress.ip_address("127.0.0.1"))
    policy.check("x", ipaddress.ip_address("10.9.8.7"))
    policy.check("x", ipaddress.ip_address("::ffff:127.0.0.1"))
    with pytest.raises(BlockedAddress):
        policy.check("x", ipaddress.ip_address("127.0.0.2"))
    with pytest.raises(BlockedAddress):
        policy.check("x", ipaddress.ip_address("::1"))


def test_policy_opens_listed_host_names_only():
    """A host name opens whatever that name resolves to, for that name only."""
    policy = AddressPolicy(["Feeds.Internal."])
    policy.check("feeds.internal", ipaddress.ip_address("10.0.0.5"))
    with pytest.raises(BlockedAddress):
        policy.check("other.internal", ipaddress.ip_address("10.0.0.5"))


async def serve(routes) -> asyncio.Server:
    """A one-response-per-connection HTTP server on 127.0.0.1; routes(port) -> {path: bytes}."""
    port = 0

    async def handle(reader, writer):
        head = await reader.readuntil(b"\r\n\r\n")
        writer.write(routes(port)[head.split(b" ")[1]])
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    return server


def ok(port: int) -> dict[bytes, bytes]:
    return {b"/": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"}


def with_server(routes, url: str, allow_private):
    """Fetch `url` ("{port}" filled in) with the given allow list from a local server."""

    async def go():
        server = await serve(routes)
        try:
            async with make_fetcher(allow_private) as fetcher:
                return await fetcher.fetch(url.format(port=server.sockets[0].getsockname()[1]))
        finally:
            server.close()
            await server.wait_closed()

    return asyncio.run(asyncio.wait_for(go(), 10))


def test_local_server_is_blocked_by_default():
    """Without allow_private, 127.0.0.1 is refused, as a blocked address."""
    with pytest.raises(
        BlockedAddress,
        match="blocked address 127.0.0.1 for host 127.0.0.1 "
        r"\(loopback\)",
    ):
        with_server(ok, "http://127.0.0.1:{port}/", [])


def test_allow_private_opens_127_0_0_1():
    """allow_private = ["127.0.0.1"] lets a fetch reach the local server."""
    assert with_server(ok, "http://127.0.0.1:{port}/", ["127.0.0.1"]).body == b"ok"


def test_allow_private_by_host_name():
    """allow_private = ["localhost"] opens the name, whichever address answers."""
    assert with_server(ok, "http://localhost:{port}/", ["localhost"]).body == b"ok"


def test_ipv4_mapped_literal_is_blocked():
    """http://[::ffff:127.0.0.1]/ does not sneak past a guard that allows nothing."""
    with pytest.raises(BlockedAddress, match="via IPv4-mapped"):
        with_server(ok, "http://[::ffff:127.0.0.1]:{port}/", [])


@pytest.mark.parametrize(
    "target", ["http://127.0.0.2:{port}/", "http://[::1]:{port}/", "http://169.254.169.254/latest/meta-data/"]
)
def test_redirect_from_allowed_to_blocked_is_refused(target):
    """Every hop is checked: an allowed server cannot send us on to a blocked address."""

    def routes(port: int) -> dict[bytes, bytes]:
        location = target.format(port=port)
        return {
            b"/": (
                f"HTTP/1.1 302 Found\r\nLocation: {location}\r\n"
                f"Content-Length: 0\r\nConnection: close\r\n\r\n"
            ).encode()
        }

    with pytest.raises(BlockedAddress):
        with_server(routes, "http://127.0.0.1:{port}/", ["127.0.0.1"])
