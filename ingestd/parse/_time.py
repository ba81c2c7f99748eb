"""feedparser's parsed times (UTC struct_time) as aware datetimes."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from typing import Any


def utc(parsed_time: Any) -> datetime | None:
    if not parsed_time:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed_time), tz=UTC)
    except (OverflowError, ValueError, TypeError, OSError):
        return None
