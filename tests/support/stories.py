"""Stories as the API and metrics tests store them: story n published n minutes before NOW."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ingestd.models import Story
from ingestd.timeutil import to_iso

NOW = datetime(2020, 1, 9, 0, 31, 2, tzinfo=UTC)


def story(
    n: int,
    *,
    headline: str | None = None,
    body: str | None = None,
    feed: str = "news",
    source: str = "generic",
    section: str | None = None,
    language: str | None = "en",
    published: datetime | None = None,
    byline: str | None = None,
) -> Story:
    """Story n, published n minutes before NOW unless told otherwise."""
    headline = headline or f"Story number {n}"
    body = body or f"Body of story {n}, with words enough to be a story."
    published = published or NOW - timedelta(minutes=n)
    return Story(
        feed_id=feed,
        source=source,
        headline=headline,
        body_text=body,
        guid=f"g{n}",
        url=f"https://example.org/{n}",
        section=section,
        language=language,
        byline=byline,
        ninjs={
            "type": "text",
            "firstCreated": to_iso(published),
            "headlines": [{"role": "main", "value": headline}],
            "bodies": [{"role": "main", "contentType": "text/plain", "value": body}],
        },
    )
