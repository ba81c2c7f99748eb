"""What the daemon tells the HTTP server about itself: read by /healthz and /readyz."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

# /healthz turns 503 when no tick ran for this many tick intervals, and never sooner than
# STALE_MIN_S: a tick waits its turn behind the writer, and one big poll's write is slow.
STALE_TICKS = 10
STALE_MIN_S = 30.0


@dataclass
class ServiceState:
    """Plain attributes the daemon sets from its loop; the handlers only read them."""

    tick_interval: float  # seconds, [scheduler] tick
    started: float = field(default_factory=time.monotonic)
    last_tick: float | None = None  # time.monotonic() when the last tick finished
    scheduler_running: bool = False
    shutting_down: bool = False
    database_error: str | None = None  # the last write failed (or the probe did): why

    def ticked(self) -> None:
        self.last_tick = time.monotonic()

    @property
    def stale_after(self) -> float:
        return max(STALE_MIN_S, STALE_TICKS * self.tick_interval)

    def tick_age(self) -> float:
        """Seconds since the last tick, or since start when none has run yet."""
        return time.monotonic() - (self.started if self.last_tick is None else self.last_tick)
