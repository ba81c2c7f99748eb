"""A feed served on 127.0.0.1 while a test runs, and the RSS it serves."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def rss(*items: tuple[str, str]) -> bytes:
    """An RSS 2.0 feed of (guid, title) items, each with a body long enough to be a story."""
    body = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>https://example.org/{guid}</link>"
        f"<description>&lt;p&gt;Body of {title}, a story with enough words to be one."
        f"&lt;/p&gt;</description><pubDate>Thu, 09 Jan 2020 09:25:00 +0900</pubDate></item>"
        for guid, title in items
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>News</title>'
        f"<language>en</language>{body}</channel></rss>"
    ).encode()


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
