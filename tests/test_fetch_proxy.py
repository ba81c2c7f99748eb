"""Outbound proxies: `[fetch] proxy` and HTTP(S)_PROXY / ALL_PROXY / NO_PROXY chosen
explicitly (proxies.py), and the network guard still checking the address the proxy is
asked to reach, while the proxy itself (the operator's) may be on a private one. A small
forward proxy and the feed servers run on 127.0.0.x, started by the tests."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

import pytest

from ingestd.config import load_config
from ingestd.errors import BlockedAddress, ConfigError, TransportError
from ingestd.proxies import Proxies, from_settings
from tests.support.config import write_config
from tests.support.fetching import loopback_fetcher
from tests.support.servers import forward_proxy, recording

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
# the proxy is on 127.0.0.1, which is NOT opened: only the feed's address is
ALLOWED = ["127.0.0.2"]


def fetch(url: str, **overrides: Any) -> Any:
    async def once() -> Any:
        async with loopback_fetcher(**({"allow_private": ALLOWED} | overrides)) as fetcher:
            return await fetcher.fetch(url)

    return asyncio.run(asyncio.wait_for(once(), 20))


# ── which proxy ──────────────────────────────────────────────────────────────


def test_environment_proxies_by_scheme_lower_case_first_then_all_proxy() -> None:
    proxies = from_settings(
        None,
        {"HTTP_PROXY": "http://upper:1", "http_proxy": "http://lower:2", "ALL_PROXY": "http://all:3"},
    )
    assert proxies.for_url("http", "example.org", 80) == "http://lower:2"
    assert proxies.for_url("https", "example.org", 443) == "http://all:3"
    assert from_settings(None, {"HTTPS_PROXY": "proxy:3128"}).https == "http://proxy:3128"
    assert not from_settings(None, {})


def test_the_setting_wins_over_the_environment_and_no_proxy_holds_for_both() -> None:
    proxies = from_settings("http://set:1", {"HTTPS_PROXY": "http://env:2", "NO_PROXY": "internal.org"})
    assert proxies.for_url("https", "example.org", 443) == "http://set:1"
    assert proxies.for_url("http", "example.org", 80) == "http://set:1"
    assert proxies.for_url("https", "feeds.internal.org", 443) is None


@pytest.mark.parametrize(
    ("entry", "host", "port", "bypassed"),
    [
        ("example.org", "example.org", 443, True),
        ("example.org", "feeds.example.org", 443, True),
        (".example.org", "feeds.example.org", 443, True),
        ("*.example.org", "feeds.example.org", 443, True),
        ("example.org", "badexample.org", 443, False),
        ("10.0.0.0/8", "10.1.2.3", 80, True),
        ("10.0.0.0/8", "11.1.2.3", 80, False),
        ("192.0.2.7", "192.0.2.7", 80, True),
        ("[::1]", "::1", 80, True),
        ("example.org:8080", "example.org", 8080, True),
        ("example.org:8080", "example.org", 443, False),
        ("*", "anything.example", 443, True),
    ],
)
def test_no_proxy_entries(entry: str, host: str, port: int, bypassed: bool) -> None:
    proxies = Proxies(http="http://p:1", https="http://p:1", no_proxy=(entry,))
    assert (proxies.for_url("https", host, port) is None) == bypassed


def test_a_socks_or_bad_proxy_is_refused_naming_where_it_came_from(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\$ALL_PROXY.*only http:// and https://"):
        from_settings(None, {"ALL_PROXY": "socks5://127.0.0.1:1080"})
    path = write_config(tmp_path, "")
    with pytest.raises(ConfigError) as caught:
        load_config(path, env={"HTTPS_PROXY": "socks5h://u:secret@host:1"})
    assert "$HTTPS_PROXY" in str(caught.value) and "secret" not in str(caught.value)
    path = write_config(tmp_path, '[fetch]\nproxy = "ftp://proxy:21"\n')
    with pytest.raises(ConfigError, match="fetch.proxy"):
        load_config(path, env={})


def test_the_proxy_setting_may_be_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORP_PROXY", "http://user:pw@proxy.internal:3128")
    path = write_config(tmp_path, '[fetch]\nproxy = "env:CORP_PROXY"\n')
    assert load_config(path, env={}).fetch.proxy == "http://user:pw@proxy.internal:3128"


# ── through a proxy ──────────────────────────────────────────────────────────


def test_a_feed_is_fetched_through_the_environments_proxy() -> None:
    with forward_proxy() as proxy, recording({"/feed": (200, {}, FEED)}, host="127.0.0.2") as feed:
        result = fetch(feed.url("/feed"), environ={"HTTP_PROXY": proxy.url})
    assert result.status == 200 and result.body == FEED
    assert proxy.requests == [f"GET {feed.url('/feed')}"]
    assert len(feed.seen) == 1


def test_the_setting_wins_over_the_environment() -> None:
    with forward_proxy() as proxy, recording({"/feed": (200, {}, FEED)}, host="127.0.0.2") as feed:
        # the environment's proxy listens nowhere: were it used, the fetch would fail
        result = fetch(feed.url("/feed"), proxy=proxy.url, environ={"HTTP_PROXY": "http://127.0.0.1:9"})
    assert result.status == 200 and proxy.requests == [f"GET {feed.url('/feed')}"]


def test_no_proxy_goes_straight_to_the_host() -> None:
    with forward_proxy() as proxy, recording({"/feed": (200, {}, FEED)}, host="127.0.0.2") as feed:
        result = fetch(feed.url("/feed"), environ={"HTTP_PROXY": proxy.url, "NO_PROXY": "127.0.0.0/8"})
    assert result.status == 200 and proxy.requests == [] and len(feed.seen) == 1


def test_a_private_target_is_refused_even_through_a_proxy() -> None:
    with forward_proxy() as proxy, recording({"/feed": (200, {}, FEED)}, host="127.0.0.3") as feed:
        with pytest.raises(BlockedAddress, match="127.0.0.3"):
            fetch(feed.url("/feed"), environ={"HTTP_PROXY": proxy.url})
    assert proxy.requests == [] and feed.seen == []  # refused before the proxy was asked


def test_a_connect_tunnel_target_is_guarded() -> None:
    with forward_proxy() as proxy:
        with pytest.raises(BlockedAddress, match="127.0.0.3"):
            fetch("https://127.0.0.3:8443/feed", environ={"HTTPS_PROXY": proxy.url})
    assert proxy.requests == []


def test_https_through_a_connect_tunnel_verified_against_the_ca_bundle(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.2").configure_cert(context)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with (
        forward_proxy() as proxy,
        recording({"/feed": (200, {}, FEED)}, host="127.0.0.2", tls=context) as feed,
    ):
        env = {"HTTPS_PROXY": proxy.url}
        result = fetch(feed.url("/feed"), environ=env, ca_bundle=str(tmp_path / "ca.pem"))
        assert result.status == 200 and result.body == FEED
        assert proxy.requests == [f"CONNECT 127.0.0.2:{feed.port}"]
        with pytest.raises(TransportError, match="(?i)certificate"):
            fetch(feed.url("/feed"), environ=env)  # the tunnel does not lift verification


def test_https_through_a_tunnel_to_an_https_proxy_is_tls_inside_tls(tmp_path: Path) -> None:
    trustme = pytest.importorskip("trustme")
    ca = trustme.CA()
    feed_tls, proxy_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("127.0.0.2").configure_cert(feed_tls)
    ca.issue_cert("127.0.0.1").configure_cert(proxy_tls)
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    with (
        forward_proxy(tls=proxy_tls) as proxy,
        recording({"/feed": (200, {}, FEED)}, host="127.0.0.2", tls=feed_tls) as feed,
    ):
        assert proxy.url.startswith("https://")
        result = fetch(
            feed.url("/feed"), environ={"HTTPS_PROXY": proxy.url}, ca_bundle=str(tmp_path / "ca.pem")
        )
        assert result.status == 200 and result.body == FEED
        assert proxy.requests == [f"CONNECT 127.0.0.2:{feed.port}"]


def test_a_redirect_through_the_proxy_to_a_private_host_is_refused() -> None:
    with forward_proxy() as proxy, recording({}, host="127.0.0.2") as feed:
        feed.routes["/feed"] = (302, {"Location": "http://127.0.0.3:9/inside"}, b"")
        with pytest.raises(BlockedAddress, match="127.0.0.3"):
            fetch(feed.url("/feed"), environ={"HTTP_PROXY": proxy.url})
    assert proxy.requests == [f"GET {feed.url('/feed')}"]


def test_a_target_that_does_not_resolve_is_a_transport_error_before_the_proxy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket

    async def no_such_host(*args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr("ingestd.netguard.anyio.getaddrinfo", no_such_host)
    with forward_proxy() as proxy:
        with pytest.raises(TransportError, match="DNS look-up of feeds.invalid failed"):
            fetch("http://feeds.invalid/feed", environ={"HTTP_PROXY": proxy.url})
    assert proxy.requests == []


# ── webhook deliveries leave the same way ────────────────────────────────────


def send_webhook(url: str, **proxying: Any) -> Any:
    from ingestd.webhooks._sender import Sender

    async def once() -> Any:
        async with Sender(
            timeout=5.0, user_agent="ingestd-test/1", allow_private=ALLOWED, connections=1, **proxying
        ) as sender:
            return await sender.send(url, [b"k" * 32], "evt_1", b"{}")

    return asyncio.run(asyncio.wait_for(once(), 20))


def test_a_webhook_goes_through_the_fetch_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    with forward_proxy() as proxy, recording({"/hook": (204, {}, b"")}, host="127.0.0.2") as receiver:
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # the setting wins: never used
        attempt = send_webhook(receiver.url("/hook"), proxy=proxy.url)
    assert attempt.ok, attempt
    assert proxy.requests == [f"POST {receiver.url('/hook')}"]
    assert "webhook-signature" in receiver.seen[0].headers


def test_a_webhook_to_a_private_receiver_is_refused_before_the_proxy() -> None:
    with forward_proxy() as proxy, recording({"/hook": (204, {}, b"")}, host="127.0.0.3") as receiver:
        attempt = send_webhook(receiver.url("/hook"), proxy=proxy.url)
    assert not attempt.ok and "127.0.0.3" in (attempt.error or "")
    assert proxy.requests == [] and receiver.seen == []
