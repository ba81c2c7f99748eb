"""Stories as the store sees them, built by hand."""

from __future__ import annotations

from datetime import datetime

from ingestd.models import Story

WIRE = (
    "SEOUL, Jan. 9 (Yonhap) -- South Korea's current account surplus narrowed for the second "
    "consecutive month in November, as a slump in semiconductor exports weighed on the trade "
    "balance, central bank data showed Thursday.\n\nThe current account surplus came to "
    "US$5.97 billion in November, down from $6.05 billion a year earlier, according to the "
    "Bank of Korea."
)


def story(
    guid: str | None = "g1",
    url: str | None = "https://example.org/1",
    headline: str = "Headline",
    body: str = "A body with words.",
    feed_id: str = "f",
    published: datetime | None = None,
    tags: list[str] | None = None,
) -> Story:
    return Story(
        feed_id=feed_id,
        source="generic",
        headline=headline,
        body_text=body,
        guid=guid,
        url=url,
        first_created=published,
        tags=tags or [],
        ninjs={
            "type": "text",
            "headlines": [{"role": "main", "value": headline}],
            "bodies": [{"role": "main", "contentType": "text/plain", "value": body}],
        },
    )
