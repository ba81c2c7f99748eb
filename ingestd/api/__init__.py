"""The HTTP side of the daemon: health, metrics and the read API, on the daemon's loop.

    app = build_app(storage_url, state=ServiceState(tick_interval=1.0), metrics=Metrics(),
                    token="…")
    await serve(app, bind("127.0.0.1:8080"), stop_event)

The daemon updates the `ServiceState` (ticks, scheduler running, shutting
down); handlers read it, and read the store on their own read-only
connections in threads, so the event loop only ever waits.
"""

from ._app import build_app
from ._server import bind, serve
from ._state import ServiceState

__all__ = ["build_app", "bind", "serve", "ServiceState"]
