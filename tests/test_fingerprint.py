"""The fingerprint's cheaper paths make what the plain ones made: stored bands depend on it."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path

import pytest

from ingestd.dedupe import _fingerprint
from ingestd.dedupe._fingerprint import VERSION, encode, fingerprint

PAIRS = Path(__file__).parent / "data" / "dedupe" / "pairs.jsonl"
# the tokenizer as first written: one pattern for all text
PLAIN_TOKEN = re.compile(rf"[{_fingerprint._CJK}]|\d+(?:[.,:]\d+)*|[^\W\d_{_fingerprint._CJK}]+")
TRICKY = [
    "Café naïve STRASSE straße ΣΊΣΥΦΟΣ abc123def x_y",
    "2,186.45 and 2.186,45 at 12:30, 1..2 1.2.3 :5: 1. end",
    "Ｆｕｌｌｗｉｄｔｈ ２，３４５ ① ² 😀word😀 𝐀bc",
    "鈴木首相は本日、東京で記者会見を開き、新しい経済対策を発表した。",
    "plain ascii words and 42 numbers, nothing else",
]


def signatures() -> str:
    """A digest of every labelled text's fingerprint: stored bytes, numbers and bands."""
    digest = hashlib.sha256()
    for line in PAIRS.read_text(encoding="utf-8").splitlines():
        pair = json.loads(line)
        for side in ("a", "b"):
            found = fingerprint(pair[side]["headline"], pair[side]["body"])
            digest.update(repr((encode(found), found.bands) if found else None).encode())
    return digest.hexdigest()


def test_the_labelled_texts_fingerprint_as_they_did_for_this_version() -> None:
    """Made by the first xxh3-mix-1 code (one xxh3 per word, np.unique, the full MinHash
    matrix): the faster code must not change a stored byte without a new VERSION."""
    assert VERSION == "xxh3-mix-1"
    assert signatures() == "7813a9e26554709ba1468f500ec994479f2e4e41c47cacc6fb75d6e8e21841eb"


@pytest.mark.parametrize("text", TRICKY)
def test_the_tokenizer_finds_the_words_the_plain_pattern_finds(text: str) -> None:
    folded = unicodedata.normalize("NFKC", text).casefold()
    assert _fingerprint._words(text) == PLAIN_TOKEN.findall(folded)
    if folded.isascii():
        assert _fingerprint._TOKEN.findall(folded) == _fingerprint._ASCII_TOKEN.findall(folded)


def test_numbers_are_kept_in_place_in_body_and_headline() -> None:
    body = "Shares rose 2,186.45 points to close at 12:30 while bonds fell 3.5 percent on the day today"
    found = fingerprint("Index up 2.1 pct", body)
    assert found is not None
    assert found.numbers == {
        ("b", "rose", "points"): frozenset({"#218645"}),
        ("b", "at", "while"): frozenset({"#1230"}),
        ("b", "fell", "percent"): frozenset({"#35"}),
        ("h", "up", "pct"): frozenset({"#21"}),
    }
