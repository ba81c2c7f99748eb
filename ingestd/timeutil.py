"""UTC times as the store and the events write them: ISO 8601 with `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The one clock read by the daemon's parts (replay and tests pass their own `now`)."""
    return datetime.now(UTC)


def to_iso(moment: datetime | None) -> str | None:
    """Aware datetime -> '2020-01-09T00:25:00Z' (whole seconds, UTC)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment!r}: every time in ingestd is aware")
    # isoformat, not strftime: glibc's %Y leaves years before 1000 unpadded ("100-08-06")
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def from_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_now(text: str) -> datetime:
    """--now values: ISO 8601; a time without a zone is read as UTC."""
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
