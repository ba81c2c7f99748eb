"""The eighth pass' shortcuts give what the work they skip gave: `unmangle` with each mangled
sequence's repair worked out once, and intake's repair looking at all of an entry's text
fields at once before it looks at each."""

from __future__ import annotations

import dataclasses
import random
import re

import pytest

from ingestd.models import Entry
from ingestd.normalize._intake import _CONTROLS, _repaired
from ingestd.normalize._text import _MOJIBAKE, unmangle


def _sequence_by_sequence(text: str) -> str:
    """`unmangle` before the pass: every sequence encoded and decoded where it is found."""

    def repaired(match: re.Match[str]) -> str:
        try:
            return match.group(0).encode("cp1252").decode("utf-8")
        except UnicodeError:
            return match.group(0)

    return _MOJIBAKE.sub(repaired, text)


# sequences that decode, and ones that do not: an undefined cp1252 byte (U+0081, the "с" of
# mangled Russian), U+0080 (no cp1252 byte), an overlong form, a surrogate's bytes
PIECES = [
    "Ã©",
    "â€™",
    "Ð¿",
    "Ñ€",
    "Ñ\x81",
    "Ã\x80",
    "ðŸ˜€",
    "\u00e0\u0080\u0080",
    "í\u00a0\u0080",
    "Ã",
    "é",
    "—",
    " ",
    "a",
    "\u00f5\u00a0",
]
TEXTS = [
    "",
    "ASCII",
    "Ð’Â\xa0Ð²ÐµÐ´Ð¾Ð¼Ñ\x81Ñ‚Ð²Ðµ ÑƒÑ‚Ð¾Ñ‡Ð½Ð¸Ð»Ð¸",
    "caf\u00c3\u00a9 and don\u00e2\u20ac\u2122t, café written right",
    "Ã©Ã©Ã©" * 50,
]


@pytest.mark.parametrize("text", TEXTS)
def test_unmangle_repairs_each_sequence_as_before(text: str) -> None:
    assert unmangle(text) == _sequence_by_sequence(text)
    assert unmangle(text) == _sequence_by_sequence(text)  # the second time from the remembered repairs


def test_unmangle_on_generated_texts() -> None:
    rng = random.Random(8)
    for _ in range(5_000):
        text = "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 16)))
        assert unmangle(text) == _sequence_by_sequence(text), text


FIELDS = ("title", "summary_html", "content_html", "guid", "link", "published_raw", "authors")
FLAWS = ["a NUL\x00 here", "a \x1f unit separator", "a noncharacter \ufffe", "\uffff", "caf\u00c3\u00a9", "é"]


def _as_it_was(entry: Entry) -> Entry:
    """intake's repair before the shortcuts: every field through both regexes, always a copy."""
    fields = {
        name: unmangle(_CONTROLS.sub("", value))
        for name in FIELDS[:-1]
        if isinstance(value := getattr(entry, name), str)
    }
    fields["authors"] = [unmangle(_CONTROLS.sub("", a)) for a in entry.authors]
    return dataclasses.replace(entry, **fields)


@pytest.mark.parametrize("flaw", FLAWS)
@pytest.mark.parametrize("field", FIELDS)
def test_a_flaw_in_any_one_field_is_repaired(field: str, flaw: str) -> None:
    clean = Entry(
        kind="feed-entry",
        guid="urn:x:1",
        link="https://example.com/a",
        title="Headline",
        summary_html="<p>Summary</p>",
        content_html="<p>Body</p>",
        published_raw="Mon, 07 Dec 2026 10:00:00 GMT",
        authors=["Jane Doe", "John Roe"],
    )
    value: str | list[str] = ["Jane Doe", f"John {flaw}"] if field == "authors" else f"x {flaw} y"
    entry = dataclasses.replace(clean, **{field: value})
    assert _repaired(entry) == _as_it_was(entry)
    if flaw != "é":  # a letter written right is the only flaw here that needs no repair
        assert _repaired(entry) != entry


def test_fields_that_are_none_or_empty() -> None:
    entry = Entry(kind="feed-entry", title=None, content_html="", summary_html=None, authors=[])
    assert _repaired(entry) is entry
    entry = Entry(kind="feed-entry", title=None, content_html="caf\u00c3\u00a9", authors=[])
    assert _repaired(entry) == _as_it_was(entry)
