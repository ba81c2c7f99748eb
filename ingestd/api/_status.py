"""The status page, `GET /`: one server-rendered HTML page for people, no scripts and no
front-end build. `render` is pure: it turns what the store says into the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any
from urllib.parse import quote

from ..models import SubscriptionStatus, credentials_summary
from ..timeutil import to_iso

DAYS = 14  # the sparkline's span, one point a UTC day
_STATE_CLASS = {"ok": "ok", "erroring": "bad", "parked": "bad", "removed": "off"}
_SUB_CLASS = {"active": "ok", "paused": "bad", "disabled": "off"}
_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse;margin-bottom:2em}th,td{padding:.3em .7em;text-align:left;
border-bottom:1px solid #ddd;vertical-align:top}th{background:#f4f4f4}
.ok{color:#176b2c}.bad{color:#b00020;font-weight:bold}.off{color:#777}
.err{max-width:32em;overflow-wrap:anywhere;font-size:12px}svg{display:block}
"""


@dataclass(frozen=True)
class StatusView:
    now: datetime
    feeds: list[dict[str, Any]]  # Store.feeds_overview rows
    per_day: dict[str, dict[str, int]]  # Store.stories_per_day
    subscriptions: list[SubscriptionStatus]
    oldest_undelivered: dict[str, datetime]  # Store.oldest_undelivered, by subscription
    outbox_backlog: int
    outbox_oldest_at: datetime | None
    link_token: str | None = None  # the API token the page was opened with (?token=), if so


def render(view: StatusView) -> str:
    days = [(view.now - timedelta(days=n)).date().isoformat() for n in range(DAYS - 1, -1, -1)]
    quiet = [f["id"] for f in view.feeds if f.get("quiet_since") and f["state"] != "removed"]
    failing = sum(1 for f in view.feeds if f["state"] in ("erroring", "parked"))
    oldest = _age(view.now, view.outbox_oldest_at)
    feed_rows = "".join(
        _feed_row(f, [view.per_day.get(f["id"], {}).get(d, 0) for d in days]) for f in view.feeds
    )
    sub_rows = "".join(
        _subscription_row(s, _age(view.now, view.oldest_undelivered.get(s.id))) for s in view.subscriptions
    )
    query = f"?token={quote(view.link_token, safe='')}" if view.link_token else ""
    links = " · ".join(
        f"<a href='{escape(path + query)}'>{path}</a>"
        for path in ("/feeds", "/stories", "/subscriptions", "/metrics", "/openapi.json")
    )
    return (
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>ingestd status</title>"
        f"<style>{_STYLE}</style></head><body><h1>ingestd status</h1>"
        f"<p id=summary>{len(view.feeds)} feeds, <span class={'bad' if failing else 'ok'}>{failing} failing"
        f"</span>, {len(quiet)} quiet{': ' + escape(', '.join(quiet)) if quiet else ''}. "
        f"Webhook backlog {view.outbox_backlog}"
        f"{', oldest undelivered ' + oldest if oldest else ''}. As of {to_iso(view.now)}.</p>"
        "<h2>Feeds</h2><table id=feeds><tr><th>feed</th><th>state</th><th>last success</th>"
        f"<th>next poll</th><th>stories a day ({DAYS} days)</th><th>last error</th></tr>{feed_rows}</table>"
        "<h2>Subscriptions</h2><table id=subscriptions><tr><th>subscription</th><th>state</th>"
        "<th>backlog</th><th>oldest undelivered</th><th>failed</th><th>last success</th>"
        f"<th>last error</th></tr>{sub_rows or '<tr><td colspan=7>none</td></tr>'}</table>"
        f"<p id=json>JSON: {links}</p><p>Each takes the API token ([http] token), as "
        "<code>Authorization: Bearer …</code> or, in a browser, <code>?token=…</code>"
        f"{'' if query else ' (the links carry it when this page was opened with it)'}.</p>"
        "</body></html>"
    )


def sparkline(counts: list[int], width: int = 112, height: int = 24) -> str:
    """An inline SVG line of `counts`, scaled to the largest; its title says the total."""
    top = max(counts) or 1
    step = width / max(len(counts) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 2 - (c / top) * (height - 4):.1f}" for i, c in enumerate(counts)
    )
    return (
        f'<svg class=spark width={width} height={height} viewBox="0 0 {width} {height}" role=img>'
        f"<title>{sum(counts)} stories, at most {max(counts)} a day</title>"
        f'<polyline fill=none stroke="#3366cc" stroke-width=1.5 points="{points}"/></svg>'
    )


def _feed_row(feed: dict[str, Any], counts: list[int]) -> str:
    state = feed["state"] + (" (quiet)" if feed.get("quiet_since") else "")
    return (
        f"<tr data-feed='{escape(feed['id'])}'><td>{escape(feed['id'])}{_credentials(feed)}</td>"
        f"<td class={_STATE_CLASS.get(feed['state'], 'off')}>{escape(state)}</td>"
        f"<td>{escape(feed.get('last_success_at') or 'never')}</td>"
        f"<td>{escape(feed.get('next_poll_at') or '')}</td><td>{sparkline(counts)}</td>"
        f"<td class=err>{escape(feed.get('last_error') or '')}</td></tr>"
    )


def _credentials(feed: dict[str, Any]) -> str:
    """What is set (a header's name, the kind of auth), never a value."""
    summary = credentials_summary(feed.get("credentials"))
    return f"<br><small class=off>credentials: {escape(summary)}</small>" if summary else ""


def _subscription_row(sub: SubscriptionStatus, oldest: str) -> str:
    state = sub.state + (f": {sub.reason}" if sub.reason else "")
    return (
        f"<tr data-subscription='{escape(sub.id)}'><td>{escape(sub.id)}</td>"
        f"<td class={_SUB_CLASS.get(sub.state, 'off')}>{escape(state)}</td><td>{sub.backlog}</td>"
        f"<td>{oldest or '-'}</td>"
        f"<td>{sub.failed}</td><td>{escape(to_iso(sub.last_success_at) or 'never')}</td>"
        f"<td class=err>{escape(sub.last_error or '')}</td></tr>"
    )


def _age(now: datetime, then: datetime | None) -> str:
    if then is None:
        return ""
    seconds = int(max(0.0, (now - then).total_seconds()))
    return (
        f"{seconds // 3600}h {seconds % 3600 // 60}m"
        if seconds >= 3600
        else f"{seconds // 60}m {seconds % 60}s"
    )
