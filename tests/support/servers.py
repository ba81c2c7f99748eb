"""Servers a credentials or proxy test starts on loopback addresses: one that records
what each request carried (optionally over TLS, optionally asking for a client
certificate), and a small forward proxy (absolute-URI GETs and CONNECT tunnels)."""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

# path -> (status, headers, body); a path not listed answers 404
Routes = dict[str, tuple[int, dict[str, str], bytes]]


@dataclass
class Seen:
    """One request as the server received it."""

    path: str  # with its query
    headers: dict[str, str]  # names lower-cased
    client_cert: dict | None = None  # the peer certificate, over TLS when one was presented


@dataclass
class Recording:
    host: str
    port: int
    scheme: str
    routes: Routes
    seen: list[Seen] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{path}"


@contextlib.contextmanager
def recording(
    routes: Routes, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None
) -> Iterator[Recording]:
    """A threaded HTTP(S) server on `host` answering `routes` and recording requests."""
    record = Recording(host, 0, "https" if tls else "http", routes)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            cert = self.connection.getpeercert() if isinstance(self.connection, ssl.SSLSocket) else None
            record.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, cert or None))
            status, headers, body = record.routes.get(self.path.split("?")[0], (404, {}, b"not found"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value.replace("{base}", record.url("")))
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.do_GET()

        def log_message(self, *args: object) -> None:
            pass

    with _serving(host, Handler, tls) as record.port:
        yield record


@dataclass
class Proxy:
    port: int
    scheme: str = "http"
    requests: list[str] = field(default_factory=list)  # request lines: "GET http://…", "CONNECT h:p"

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"


@contextlib.contextmanager
def forward_proxy(tls: ssl.SSLContext | None = None) -> Iterator[Proxy]:
    """An HTTP proxy on 127.0.0.1 (spoken to over TLS with `tls`): absolute-URI GETs and
    POSTs are forwarded (one per connection), CONNECT opens a tunnel. Enough for a
    client's view of a proxy, nothing more."""
    proxy = Proxy(0, "https" if tls else "http")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            proxy.requests.append(f"{self.command} {self.path}")
            target = urlsplit(self.path)
            head = f"{self.command} {target.path or '/'}{'?' + target.query if target.query else ''} HTTP/1.1\r\n"
            for name, value in self.headers.items():
                if name.lower() not in ("connection", "proxy-connection", "keep-alive"):
                    head += f"{name}: {value}\r\n"
            head += "Connection: close\r\n\r\n"
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with socket.create_connection((target.hostname, target.port or 80), timeout=5) as upstream:
                upstream.sendall(head.encode("latin-1") + body)
                while chunk := upstream.recv(65536):
                    self.wfile.write(chunk)
            self.close_connection = True

        do_POST = do_GET

        def do_CONNECT(self) -> None:
            proxy.requests.append(f"CONNECT {self.path}")
            host, _, port = self.path.rpartition(":")
            upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
            self.send_response(200, "Connection established")
            self.end_headers()
            self.wfile.flush()
            _pipe(self.connection, upstream)
            self.close_connection = True

        def log_message(self, *args: object) -> None:
            pass

    with _serving("127.0.0.1", Handler, tls) as proxy.port:
        yield proxy


@contextlib.contextmanager
def _serving(host: str, handler: type[BaseHTTPRequestHandler], tls: ssl.SSLContext | None) -> Iterator[int]:
    """A threaded server of `handler` on `host` (over TLS with `tls`), its port while it runs."""
    server = ThreadingHTTPServer((host, 0), handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _pipe(a: socket.socket, b: socket.socket) -> None:
    """Bytes both ways until either side closes (bounded: 10 s of silence ends it)."""
    with b:
        while True:
            # a TLS socket may hold decrypted bytes select() cannot see
            ready = [s for s in (a, b) if isinstance(s, ssl.SSLSocket) and s.pending()]
            ready = ready or select.select([a, b], [], [], 10)[0]
            if not ready:
                return
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                (b if sock is a else a).sendall(data)
