"""Times into UTC, and the dateline's date.

Where a time comes from, best first: the entry's own aware time; the page's
metadata (JSON-LD, article:published_time); the page's local time line, read in
the profile's zone; a written time nothing else could read. A time without a
zone and no profile zone is read as UTC and flagged. A time in the future past
CLOCK_SKEW is clamped to the fetch time (`now`, the only clock) and flagged.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo

from dateutil import parser as dateutil_parser

from ._draft import Draft

CLOCK_SKEW = timedelta(minutes=5)
# month-name prefixes: English, then the French, German, Spanish and Portuguese ones that differ
_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1
    )
} | {
    "janv": 1,
    "fév": 2,
    "fev": 2,
    "mär": 3,
    "mrz": 3,
    "avr": 4,
    "abr": 4,
    "mai": 5,
    "juin": 6,
    "juil": 7,
    "aoû": 8,
    "aou": 8,
    "ago": 8,
    "set": 9,
    "okt": 10,
    "out": 10,
    "déc": 12,
    "dez": 12,
    "ene": 1,
    "dic": 12,
}
_MONTH_DAY = re.compile(
    r"([^\W\d_]{3,9})\.?\s+(\d{1,2})(?:,?\s+(\d{4}))?"  # Jan. 8, 2020
    r"|(\d{1,2})\s+([^\W\d_]{3,9})\.?(?:\s+(\d{4}))?"
)  # 8 Jan 2020


def resolve_dates(draft: Draft) -> Draft:
    story, zone = draft.story, draft.profile.time_zone
    first = _first_created(draft)
    if first is None:
        draft.flag("no publication time found: fetch time used")
        first = draft.now
    story.first_created = _clamped(draft, first, "publication")
    modified = story.updated or (
        _read(draft, draft.page.modified) if draft.page and draft.page.modified else None
    )
    story.updated = (
        _clamped(draft, modified, "update") if modified and modified > story.first_created else None
    )
    if "dateline" in story.ingest:
        local_day = story.first_created.astimezone(zone or UTC).date()
        day = _dateline_day(draft.dateline_date, local_day) if draft.dateline_date else local_day
        if day is None:
            draft.flag(f"dateline date unreadable: {draft.dateline_date!r}")
        story.ingest["dateline"]["date"] = day.isoformat() if day else None
    return draft


def _first_created(draft: Draft) -> datetime | None:
    entry, page = draft.entry, draft.page
    if entry.published is not None:
        return _aware(draft, entry.published, "entry time")
    if page and page.published:
        found = _read(draft, page.published)
        if found:
            return found
    if draft.local_time is not None:
        return _aware(draft, draft.local_time, "page time")
    if entry.published_raw:
        return _read(draft, entry.published_raw)
    return None


def _read(draft: Draft, written: str) -> datetime | None:
    try:
        # missing parts come from the fetch day, never from the wall clock
        default = draft.now.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
        parsed = dateutil_parser.parse(written, default=default)
    except (ValueError, OverflowError):
        draft.flag(f"unreadable time: {written[:80]!r}")
        return None
    return _aware(draft, parsed, "time")


def _aware(draft: Draft, moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None:
        zone: tzinfo | None = draft.profile.time_zone
        if zone is None:
            draft.flag(f"{what} has no zone and the profile none: read as UTC")
            zone = UTC
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def _clamped(draft: Draft, moment: datetime, what: str) -> datetime:
    if moment > draft.now + CLOCK_SKEW:
        draft.flag(f"{what} time {moment.isoformat()} is in the future: clamped to fetch time")
        return draft.now.astimezone(UTC)
    return moment


def _dateline_day(written: str, near: date) -> date | None:
    """'Jan. 8' -> the 8 January nearest `near` (a dateline near New Year may be last year's)."""
    match = _MONTH_DAY.fullmatch(written.strip())
    if not match:
        return None
    month_name, day, year = (match[1], match[2], match[3]) if match[1] else (match[5], match[4], match[6])
    name = month_name.lower()
    month = _MONTHS.get(name[:4]) or _MONTHS.get(name[:3])
    if month is None:
        return None
    years = [int(year)] if year else [near.year - 1, near.year, near.year + 1]
    candidates = []
    for y in years:
        try:
            candidates.append(date(y, month, int(day)))
        except ValueError:
            continue
    return min(candidates, key=lambda d: abs(d - near)) if candidates else None
