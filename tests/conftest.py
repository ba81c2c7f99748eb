from __future__ import annotations

import contextlib
import os
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("INGESTD_SHARED", ROOT.parent / "shared"))
SEED = ROOT / "seeds" / "yonhap-2020-01-09-defense-cost-sharing.txt"


def write_config(folder: Path, body: str) -> Path:
    path = folder / "ingestd.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


@pytest.fixture
def shared() -> Path:
    if not (SHARED / "corpus").is_dir():
        pytest.skip(f"shared corpus not found at {SHARED} (set INGESTD_SHARED)")
    return SHARED


@pytest.fixture(autouse=True)
def _no_ingestd_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests choose their own config; the developer's INGESTD_* must not leak in."""
    for name in list(os.environ):
        if name.startswith("INGESTD_") and name != "INGESTD_SHARED":
            monkeypatch.delenv(name)


class LocalFeed:
    """A feed served on 127.0.0.1 while the test runs; set `body` to change what it serves."""

    def __init__(self, body: bytes, content_type: str = "application/rss+xml"):
        self.body = body
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = feed.body
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/feed.xml"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def local_feed(body: bytes) -> Iterator[LocalFeed]:
    feed = LocalFeed(body)
    try:
        yield feed
    finally:
        feed.close()
