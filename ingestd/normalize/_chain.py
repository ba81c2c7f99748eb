"""The chain: normalize_entry runs every step, in CHAIN's order, on one Draft.

    build_ninjs(detect_language(render_body(…keep_fuller_body(…choose_profile(intake(entry))…)…)))

Order rules:
- choose_profile first: every later step reads the profile's rules.
- strip_boilerplate before anything reads the head, or chrome passes for a headline.
- cut_trailer before split_captions: a sign-off must not pass for a caption credit.
- find_dateline before the head steps: the head is what stands above the lead.
- the section line and byline before the headline: the headline is the line above them.
- keep_fuller_body once every step that removes blocks has run: it judges what they left.
- require_content once the chrome is gone: that is when "nothing usable" is known.
- resolve_dates after the section line (its local time) and the dateline (its month/day).
- render_body after every step that edits blocks: it sanitizes, and nothing touches
  HTML after it.
- build_ninjs last: it reads only the finished story.
A step drops the story by raising DropStory. Any other error skips that step and
is flagged: bad content degrades a story, it never stops the daemon.
"""

from __future__ import annotations

from datetime import datetime

import structlog

from ..errors import DropStory
from ..models import Entry, Story
from ._captions import split_captions
from ._dateline import find_dateline
from ._dates import resolve_dates
from ._draft import Step
from ._fallback import keep_fuller_body
from ._head import read_byline, read_headline, read_section_line, require_content
from ._intake import intake
from ._language import detect_language
from ._ninjs_doc import build_ninjs
from ._profiles import Profiles
from ._render import render_body
from ._source import choose_profile
from ._trailer import cut_trailer, strip_boilerplate
from ._wire import take_wire, wire_profile

CHAIN: tuple[Step, ...] = (
    choose_profile,
    wire_profile,  # an agency item's provider names the profile when nothing else did
    strip_boilerplate,
    cut_trailer,
    find_dateline,
    split_captions,
    read_section_line,
    read_byline,
    read_headline,
    keep_fuller_body,
    require_content,
    resolve_dates,
    take_wire,  # an agency item's own byline, dateline, embargo…: after the heuristics, to outrank them
    render_body,
    detect_language,
    build_ninjs,
)

log = structlog.get_logger("ingestd.normalize")


def normalize_entry(
    entry: Entry, *, feed_id: str, source: str | None, now: datetime, profiles: Profiles
) -> Story:
    """One entry -> one Story with its ninjs document; DropStory when nothing is usable.

    `now` is the fetch time (aware) and the only clock: the same entry and `now`
    give the same story.
    """
    try:
        draft = intake(entry, feed_id=feed_id, source=source, now=now, profiles=profiles)
    except DropStory:
        raise
    except Exception as exc:  # noqa: BLE001 - input no reader could take apart
        log.warning("normalize intake failed", feed_id=feed_id, url=entry.link, error=repr(exc))
        raise DropStory(f"unreadable {entry.kind}: {type(exc).__name__}: {exc}") from exc
    for step in CHAIN:
        try:
            draft = step(draft)
        except DropStory:
            raise
        except Exception as exc:  # noqa: BLE001 - a step's bug must not lose the rest
            if step is build_ninjs:
                raise DropStory(f"cannot build the ninjs document: {exc!r}") from exc
            draft.flag(f"step {step.__name__} failed: {type(exc).__name__}: {exc}")
            log.warning(
                "normalize step failed",
                step=step.__name__,
                feed_id=feed_id,
                url=draft.story.url,
                error=repr(exc),
            )
    return draft.story
