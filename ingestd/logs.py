"""Logging: structlog for our events, the same processors for stdlib loggers.

One processor chain is shared; only the final renderer differs (JSON for
machines, console for people). APScheduler's and httpx's stdlib records go
through the same chain via ProcessorFormatter, so with JSON every line on
stderr is one JSON object with `timestamp` (UTC), `level` and `event`.
"""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}

# stdlib loggers chatty at INFO that would drown the per-poll summary lines
_QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "apscheduler.executors.default": logging.WARNING,
    "trafilatura": logging.ERROR,
    "htmldate": logging.ERROR,
    "courlan": logging.ERROR,
}


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    ]


def configure(format: str | None = None, level: str = "info", stream: TextIO | None = None) -> None:
    """Set up logging once for the process. `format` None: console on a TTY, else JSON."""
    stream = stream or sys.stderr
    if format is None:
        format = "console" if stream.isatty() else "json"
    renderer: Any
    if format == "json":
        renderer = structlog.processors.JSONRenderer(ensure_ascii=False, default=str)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=stream.isatty())

    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared_processors(), _logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(_LEVELS[level])
    for name, quiet_level in _QUIET.items():
        logging.getLogger(name).setLevel(max(quiet_level, _LEVELS[level]))
    logging.captureWarnings(True)

    structlog.configure(
        processors=[
            # a line below the level is dropped before the chain builds it, not by the
            # stdlib logger after (at "warning", every poll's info line was built for nothing)
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )


def _logger_name(logger: WrappedLogger, method: str, event: EventDict) -> EventDict:
    record = event.get("_record")
    if record is not None:
        event.setdefault("logger", record.name)
    return event


def get_logger(**bound: Any) -> Any:
    return structlog.get_logger("ingestd").bind(**bound)
