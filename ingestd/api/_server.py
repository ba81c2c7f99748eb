"""Serve the app with uvicorn on the daemon's own event loop.

The daemon owns SIGTERM/SIGINT, so uvicorn installs no signal handlers here;
it stops when the daemon sets the stop event. Its log records go to the root
logger that `ingestd.logs` configured (JSON or console, like every other line);
requests are logged by our own middleware, with the fields DESIGN.md names.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

from ..logs import get_logger

# Open connections get this long to finish once the daemon stops, well inside the 5 s
# a container runtime allows between SIGTERM and SIGKILL.
GRACEFUL_SHUTDOWN_S = 1


def bind(listen: str) -> socket.socket:
    """A listening socket for `host:port` (`[::1]:8080` for IPv6; port 0: any free one).
    Bound before serving, so a taken port fails the daemon's start with a clear error;
    `listen` is the config's, parsed and checked by load_config."""
    host, _, port = listen.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, int(port)), family=family)
    except OSError as exc:
        raise OSError(exc.errno, f"[http] listen: cannot listen on {listen}: {exc.strerror or exc}") from None


async def serve(app: Any, listen: str | socket.socket, stop: asyncio.Event) -> None:
    """Serve until `stop` is set, then let open requests finish briefly and return."""
    sock = listen if isinstance(listen, socket.socket) else bind(listen)
    _drop_color_messages()
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    server = _Server(config)

    async def stop_when_told() -> None:
        await stop.wait()
        server.should_exit = True

    watcher = asyncio.create_task(stop_when_told())
    host, port = sock.getsockname()[:2]
    get_logger().info("http server listening", url=f"http://{f'[{host}]' if ':' in host else host}:{port}")
    try:
        await server.serve(sockets=[sock])
    finally:
        watcher.cancel()
        sock.close()


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield  # the daemon owns the signals


class _NoColorMessage(logging.Filter):
    """uvicorn passes an ANSI-coloured copy of each message as an extra field, which
    would land in every JSON line as `color_message`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


def _drop_color_messages() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _NoColorMessage) for f in logger.filters):
        logger.addFilter(_NoColorMessage())
