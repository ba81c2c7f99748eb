"""Times into UTC, and the dateline's date.

Where a time comes from, best first: the entry's own time; the page's
metadata in the order the page step ranked it (JSON-LD, article:/date meta,
<time>, then htmldate's reading through trafilatura); the page's local time
line, read in the profile's zone; a written time nothing else could read.

Reading is strict (ISO 8601, RFC 2822, or a written date that names a year;
never a guess from a fragment such as "-1") and a time must be plausible: not
before EARLIEST, not after the fetch time (`now`, the only clock) plus
CLOCK_SKEW. A candidate that fails is flagged and the next one is tried; with
none left, the fetch time is used and flagged. A time without a zone and no
profile zone is read as UTC and flagged.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime

from dateutil import parser as dateutil_parser

from ._draft import Draft

CLOCK_SKEW = timedelta(minutes=5)
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)  # no news page or feed item is older
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")
_FOUR_DIGITS = re.compile(r"(?<![\d:+-])\d{4}(?![\d:])")
_MONTH_WORD = re.compile(r"[^\W\d_]{3,}")
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
        first = draft.now.astimezone(UTC)
    story.first_created = first
    modified = _plausible(draft, story.updated, "update") if story.updated else None
    if modified is None and draft.page and draft.page.modified:
        modified = _plausible(draft, _read(draft, draft.page.modified), "update")
    story.updated = modified if modified and modified > story.first_created else None
    if "dateline" in story.ingest:
        local_day = story.first_created.astimezone(zone or UTC).date()
        day = _dateline_day(draft.dateline_date, local_day) if draft.dateline_date else local_day
        if day is None:
            draft.flag(f"dateline date unreadable: {draft.dateline_date!r}")
        story.ingest["dateline"]["date"] = day.isoformat() if day else None
    return draft


def _first_created(draft: Draft) -> datetime | None:
    """The first plausible time among the candidates, best first."""
    entry, page = draft.entry, draft.page
    if entry.published is not None:
        if found := _plausible(draft, _aware(draft, entry.published, "entry time"), "publication"):
            return found
    for written in page.published if page else []:
        if found := _plausible(draft, _read(draft, written), "publication"):
            return found
    if draft.local_time is not None:
        if found := _plausible(draft, _aware(draft, draft.local_time, "page time"), "publication"):
            return found
    if entry.published_raw:
        return _plausible(draft, _read(draft, entry.published_raw), "publication")
    return None


def _plausible(draft: Draft, moment: datetime | None, what: str) -> datetime | None:
    if moment is None:
        return None
    if EARLIEST <= moment <= draft.now + CLOCK_SKEW:
        return moment
    draft.flag(f"{what} time {moment.isoformat()} is implausible (before 1990 or after the fetch): not used")
    return None


def _read(draft: Draft, written: str) -> datetime | None:
    """A written time, strictly; None (flagged) when it is not a whole date."""
    found = read_time(written)
    if found is None:
        draft.flag(f"unreadable time: {written[:80]!r}")
        return None
    return _aware(draft, found, "time")


def read_time(written: str) -> datetime | None:
    """ISO 8601, RFC 2822, or a written date naming its year and month; else None.

    The result keeps the zone it was written with (naive when none was written).
    """
    text = written.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    else:
        # the email parser turns "0001" into 2001: a year written in four digits is that year
        year = int(found[0]) if (found := _FOUR_DIGITS.search(text)) else moment.year
        if year == moment.year:
            return moment
        try:
            return moment.replace(year=year)
        except ValueError:  # year 0, or 29 February of a year without one
            return None
    # free text: only with a year and a month name or a full numeric date, or dateutil fills gaps in
    if not _YEAR.search(text) or not (
        _MONTH_WORD.search(text) or re.search(r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}", text)
    ):
        return None
    try:
        written_moment: datetime = dateutil_parser.parse(text, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError):
        return None
    return written_moment


def _aware(draft: Draft, moment: datetime, what: str) -> datetime | None:
    if moment.tzinfo is None:
        zone: tzinfo | None = draft.profile.time_zone
        if zone is None:
            draft.flag(f"{what} has no zone and the profile none: read as UTC")
            zone = UTC
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):  # year 1 or 9999 pushed past the calendar by its offset
        draft.flag(f"{what} {moment!r} is outside the calendar in UTC")
        return None


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
