"""The hostile-server matrix: a real `ingestd run` polls one hostile feed beside a
healthy one on 127.0.0.1. Each hostile feed ends in a clear error on its own feed (or
is read safely); the healthy feed's stories keep coming; the daemon stays up, under
an address-space ceiling that an inflated bomb or expanded entity would break."""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import brotli
import httpx
import pytest

from tests.support import wait_for
from tests.support.reliability import Growing, Server, running, send

pytestmark = pytest.mark.slow

MAX_BODY = 15_000_000  # the default [fetch] max_body, left as it is
STREAM_FOR = 60.0  # seconds a streaming route goes on at most, if nobody hangs up


@cache
def _gzip_bomb() -> bytes:
    """200 MB of zeros in about 200 KB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    zeros = bytes(1 << 20)
    return b"".join(compressor.compress(zeros) for _ in range(200)) + compressor.flush()


@cache
def _brotli_bomb() -> bytes:
    return brotli.compress(bytes(200 << 20), quality=1)


def _streaming(
    first: bytes, piece: bytes, pause: float, total: int | None = None
) -> Callable[[BaseHTTPRequestHandler], None]:
    """No Content-Length: the body runs until the server closes, after `total` bytes,
    or never while the client reads (endless: at most STREAM_FOR seconds)."""

    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/rss+xml")
        handler.end_headers()
        handler.wfile.write(first)
        sent, deadline = len(first), time.monotonic() + STREAM_FOR
        while time.monotonic() < deadline and (total is None or sent < total):
            handler.wfile.write(piece)
            sent += len(piece)
            handler.wfile.flush()
            if pause:
                time.sleep(pause)

    return route


def _redirect(to: str) -> Callable[[BaseHTTPRequestHandler], None]:
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(302)
        handler.send_header("Location", to)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    return route


def _feed(items: str, *, doctype: str = "", encoding: str = "UTF-8") -> bytes:
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>{doctype}<rss version="2.0"><channel>'
        f"<title>Hostile</title><language>en</language>{items}</channel></rss>"
    ).encode()


def _item(guid: str, title: str, body: str) -> str:
    return (
        f"<item><guid>{guid}</guid><title>{title}</title><link>https://example.org/{guid}</link>"
        f"<description>{body}</description><pubDate>Thu, 09 Jan 2020 09:25:00 +0900</pubDate></item>"
    )


LAUGHS = (
    '<!DOCTYPE rss [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    + "]>"
)


def _xxe(probe: str) -> bytes:
    doctype = f'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY remote SYSTEM "{probe}">]>'
    return _feed(
        _item(
            "xxe-1", "Leak &xxe; and &remote;", "A story whose words try to pull in &xxe; and &remote; here."
        ),
        doctype=doctype,
    )


CHARSET_TITLE = "Café résumé: naïve Zürich"  # valid UTF-8 that Shift_JIS also decodes, wrongly

# case -> (route, what the hostile feed's last_error says; None: read without an error)
CASES: dict[str, tuple[Callable[[BaseHTTPRequestHandler], None], str | None]] = {
    "gzip-bomb": (
        lambda h: send(h, _gzip_bomb(), "application/rss+xml", Content_Encoding="gzip"),
        "decoded body",
    ),
    "brotli-bomb": (
        lambda h: send(h, _brotli_bomb(), "application/rss+xml", Content_Encoding="br"),
        "decoded body",
    ),
    "endless-body": (
        _streaming(b"<rss><channel>", b"<item><title>more</title></item>" * 2000, 0),
        "byte limit",
    ),
    "slow-drip": (_streaming(b"<rss>", b" ", 0.2), "timed out"),
    "redirect-loop": (_redirect("/loop-b"), "redirect loop"),
    "redirect-chain": (_redirect("/chain-1"), "more than 5 redirects"),
    "billion-laughs": (
        lambda h: send(h, _feed(_item("lol-1", "&lol9;", "&lol9;"), doctype=LAUGHS), "application/rss+xml"),
        None,
    ),
    "xxe": (lambda h: send(h, _xxe(h.server_url + "/xxe-probe"), "application/rss+xml"), None),  # type: ignore[attr-defined]
    "50mb-page": (
        _streaming(b"<!doctype html><html><body>", b"<p>" + b"word " * 2000 + b"</p>", 0, total=50 << 20),
        "byte limit",
    ),
    "wrong-charset": (
        lambda h: send(
            h,
            _feed(_item("cs-1", CHARSET_TITLE, "A story served under a charset that is not its own.")),
            "application/rss+xml; charset=shift_jis",
        ),
        None,
    ),
}


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    routes: dict[str, Callable[[BaseHTTPRequestHandler], None]] = {
        f"/{case}": route for case, (route, _) in CASES.items()
    }
    routes["/loop-b"] = _redirect("/redirect-loop")
    routes.update({f"/chain-{n}": _redirect(f"/chain-{n + 1}") for n in range(1, 20)})
    for case in CASES:
        routes[f"/healthy-{case}"] = Growing(f"healthy-{case}")
    _gzip_bomb(), _brotli_bomb()  # made now, so that serving one never runs into the fetch timeout
    served = Server(routes)
    served.httpd.RequestHandlerClass.server_url = served.base  # type: ignore[attr-defined]
    yield served
    served.close()


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_feed_fails_alone_and_the_healthy_one_keeps_coming(
    tmp_path: Path, server: Server, case: str
) -> None:
    expected = CASES[case][1]
    body = f"""
        [fetch]
        allow_private = ["127.0.0.1"]
        timeout = "3s"
        [scheduler]
        tick = "200ms"
        min_interval = "1s"
        max_interval = "2s"
        [[feeds]]
        id = "healthy"
        url = "{server.url(f"/healthy-{case}")}"
        interval = "1s"
        [[feeds]]
        id = "hostile"
        url = "{server.url(f"/{case}")}"
        interval = "1s"
    """
    with running(tmp_path, body) as daemon:
        hostile = wait_for(
            lambda: (f := daemon.feeds().get("hostile")) and f["last_poll_at"] and f, f"a poll of {case}", 60
        )
        if expected:
            assert hostile["state"] == "erroring" and expected in (hostile["last_error"] or ""), hostile
        else:
            assert hostile["last_error"] is None, hostile
        before = len(daemon.story_ids("healthy"))
        wait_for(lambda: len(daemon.story_ids("healthy")) >= before + 2, "more healthy stories", 60)
        assert httpx.get(daemon.url + "/healthz", timeout=5).status_code == 200
        assert daemon.alive()
        stories = [daemon.get(f"/stories/{i}") for i in daemon.story_ids("hostile")]
        assert daemon.stop() == 0
    text = repr(stories)
    if case == "billion-laughs":
        assert "lol" * 1000 not in text
    if case == "xxe":
        assert "/xxe-probe" not in server.requested
        assert "root:" not in text
    if case == "wrong-charset":  # stored; its headline's charset: tests/test_charset.py
        assert len(stories) == 1
    assert "Traceback" not in daemon.logs()
