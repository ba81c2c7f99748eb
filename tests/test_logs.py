"""The log line's rendering: what a line below the level costs, and what one above it says."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from ingestd import logs


@pytest.fixture
def configured() -> Iterator[None]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level, structlog.get_config()
    yield
    root.handlers[:], level, config = saved
    root.setLevel(level)
    structlog.configure(**config)


def test_a_line_below_the_level_is_not_written_and_one_at_it_is_unchanged(configured: None) -> None:
    stream = io.StringIO()
    logs.configure("json", "warning", stream)
    log = logs.get_logger().bind(feed_id="news", url="https://example.com/feed")
    log.info("poll", status=304, error=None)
    log.warning("poll", status=500, error="HTTP 500")
    (line,) = stream.getvalue().splitlines()
    fields = json.loads(line)
    assert list(fields) == ["feed_id", "url", "status", "error", "event", "level", "timestamp"]
    assert fields["event"] == "poll" and fields["level"] == "warning" and fields["timestamp"].endswith("Z")


def test_the_level_set_again_lets_the_lines_through(configured: None) -> None:
    stream = io.StringIO()
    logs.configure("json", "warning", stream)
    logs.configure("json", "info", stream)  # a reload: the same loggers, the new level
    logs.get_logger().info("poll", status=304)
    assert json.loads(stream.getvalue())["status"] == 304


def test_stdlib_records_still_pass_the_chain(configured: None) -> None:
    stream = io.StringIO()
    logs.configure("json", "info", stream)
    logging.getLogger("some.library").warning("careful: %s", "x")
    fields = json.loads(stream.getvalue())
    assert fields["event"] == "careful: x" and fields["logger"] == "some.library"
