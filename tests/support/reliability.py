"""What the reliability tests share (no tests here): a real `ingestd run` driven only
through its command line and HTTP API (black box, so it outlives rewrites of the
daemon), and a server on 127.0.0.1 whose routes are plain functions, hostile or not."""

from __future__ import annotations

import resource
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from .feeds import rss
from .ports import free_port
from .processes import clean_env

TOKEN = "tok-reliability"
# A daemon that inflated a bomb or expanded entities would die against this ceiling
# (address space, not resident memory: threads reserve stacks they never touch).
ADDRESS_SPACE = 4 * 2**30

# Reservations that grow with the machine's cores (BLAS threads, malloc arenas) kept
# small, so that the ceiling is about the daemon's own work on any machine.
LEAN = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MALLOC_ARENA_MAX": "2"}

Route = Callable[[BaseHTTPRequestHandler], None]


class Daemon:
    """`ingestd run` on a config whose [storage], [http] and [log] this class writes;
    `body` adds the rest ([[feeds]], [[subscriptions]], settings)."""

    def __init__(self, folder: Path, body: str):
        self.folder = folder
        self.port = free_port()
        self.db = folder / "ingestd.db"
        self.config = folder / "ingestd.toml"
        self.config.write_text(
            f'[storage]\npath = "ingestd.db"\n[log]\nformat = "json"\n'
            f'[http]\nlisten = "127.0.0.1:{self.port}"\ntoken = "{TOKEN}"\n' + textwrap.dedent(body),
            encoding="utf-8",
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Daemon:
        env = clean_env(**LEAN)
        log = (self.folder / f"stderr-{self.starts}.log").open("wb")
        self.starts += 1
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "ingestd", "run", "--config", str(self.config)],
            cwd=self.folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            preexec_fn=_cap_address_space,
        )
        log.close()
        return self

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`ingestd <args> --config <this config>`, as an operator would run it."""
        env = clean_env()
        done = subprocess.run(
            [sys.executable, "-m", "ingestd", *args, "--config", str(self.config)],
            cwd=self.folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or drained."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                raise AssertionError("the daemon did not stop on SIGTERM") from None
        return self.proc.returncode

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def get(self, path: str, **params: Any) -> Any:
        """JSON from the API, or None while it is not answering."""
        try:
            response = httpx.get(
                self.url + path, params=params, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5
            )
        except httpx.HTTPError:
            return None
        return response.json() if response.status_code == 200 else None

    def feeds(self) -> dict[str, dict[str, Any]]:
        answer = self.get("/feeds")
        return {f["id"]: f for f in answer["feeds"]} if answer else {}

    def stories(self, feed: str) -> list[dict[str, Any]]:
        """Every story summary of `feed`, page by page."""
        stories: list[dict[str, Any]] = []
        params: dict[str, Any] = {"feed": feed, "limit": 100}
        while (page := self.get("/stories", **params)) is not None:
            stories += page["stories"]
            if not page["next_cursor"]:
                break
            params["cursor"] = page["next_cursor"]
        return stories

    def story_ids(self, feed: str) -> set[str]:
        return {s["id"] for s in self.stories(feed)}

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted(self.folder.glob("stderr-*.log")))


def _cap_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


@contextmanager
def running(folder: Path, body: str) -> Iterator[Daemon]:
    daemon = Daemon(folder, body).start()
    try:
        yield daemon
    finally:
        if daemon.alive():
            daemon.proc.kill()  # type: ignore[union-attr]
            daemon.proc.wait(timeout=10)  # type: ignore[union-attr]


class Growing:
    """A healthy feed: each request serves `step` stories more than the one before,
    until `frozen`; `urls()` are the links of every story served so far."""

    def __init__(self, name: str, step: int = 1):
        self.name, self.step, self.served, self.frozen = name, step, 0, False
        self._lock = threading.Lock()

    def __call__(self, handler: BaseHTTPRequestHandler) -> None:
        with self._lock:
            if not self.frozen:
                self.served += self.step
            count = self.served
        items = [
            (f"{self.name}-{n}", f"{self.name} story number {n} of the healthy wire") for n in range(count)
        ]
        send(handler, rss(*items), "application/rss+xml")

    def urls(self) -> set[str]:
        return {f"https://example.org/{self.name}-{n}" for n in range(self.served)}


def send(handler: BaseHTTPRequestHandler, body: bytes, content_type: str, **headers: str) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    for name, value in headers.items():
        handler.send_header(name.replace("_", "-"), value)
    handler.end_headers()
    handler.wfile.write(body)


class Server:
    """A server on 127.0.0.1 answering each path with its route; it records which
    paths were asked for. Routes that stream stop when the client goes away."""

    def __init__(self, routes: dict[str, Route]):
        self.routes = routes
        self.requested: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requested.append(self.path)
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: the point of several routes

            def log_message(self, *args: object) -> None:
                pass

        class Threading(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self.httpd = Threading(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
