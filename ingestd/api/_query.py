"""The query string of GET /stories, read into a StoryQuery; the cursor's wire form.

`q` is words, not FTS5 syntax: each word or "quoted phrase" must occur (word*
matches a prefix), and punctuation that FTS5 would reject (U.S.-China) is
left to the tokenizer instead of failing the request.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping

from ..store._reads import StoryQuery
from ..timeutil import parse_now, to_iso

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
_FILTERS = ("feed", "source", "section", "language")
_PARAMS = ("limit", "cursor", "since", "q", *_FILTERS)
_TERM = re.compile(r'"([^"]*)"|(\S+)')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # SQLite would end the query at a NUL
_WORD = re.compile(r"\w")


class BadQuery(ValueError):
    """A parameter the client must fix; the message names it."""


def story_query(params: Mapping[str, str]) -> StoryQuery:
    unknown = sorted(set(params) - set(_PARAMS))
    if unknown:
        raise BadQuery(f"unknown parameter {unknown[0]!r} (use {', '.join(_PARAMS)})")
    filters = {}
    for name in _FILTERS:
        if name in params:
            if not params[name]:
                raise BadQuery(f"{name} is empty")
            filters[name] = params[name]
    return StoryQuery(
        limit=_limit(params.get("limit")),
        after=decode_cursor(params["cursor"]) if "cursor" in params else None,
        since=_since(params.get("since")),
        match=fts_query(params["q"]) if "q" in params else None,
        **filters,
    )


def _limit(text: str | None) -> int:
    if text is None:
        return DEFAULT_LIMIT
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise BadQuery(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(text)


def _since(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        # RFC 3339 allows a lower-case t and z; a far-off zone can push year 1 out of range
        return to_iso(parse_now(text.upper()))
    except (ValueError, OverflowError):
        raise BadQuery(f"since: {text!r} is not an ISO 8601 time") from None


def fts_query(text: str) -> str:
    """Words and "phrases" -> an FTS5 query in which each must match."""
    parts = []
    for phrase, word in _TERM.findall(_CONTROL.sub(" ", text)):
        term = phrase or word
        prefix = bool(word) and word.endswith("*")
        term = term.rstrip("*") if prefix else term
        if _WORD.search(term):
            parts.append('"' + term.replace('"', '""') + '"' + ("*" if prefix else ""))
    if not parts:
        raise BadQuery("q has no words to search for")
    return " ".join(parts)


def encode_cursor(after: tuple[str, str]) -> str:
    raw = json.dumps(list(after), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(text: str) -> tuple[str, str]:
    try:
        value = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError):
        value = None
    if not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, str) for v in value):
        raise BadQuery("cursor is not one this server gave")
    return value[0], value[1]
