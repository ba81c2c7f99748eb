"""A story's text as near-duplicate detection sees it: shingles, numbers in place, LSH bands.

Word 3-grams of the body (headlines differ between outlets, bodies much less)
after NFKC and case folding; each Chinese or Japanese character counts as a word.
Numbers are kept with the words around them, because templated items (market
closes, weather, results) differ mostly in their numbers. A 32-value MinHash
of the shingles, cut into 16 bands of 2, is what the store indexes: two texts
whose shingles overlap by a Jaccard of 0.4 share a band with probability 0.94,
and the cost of finding them is one indexed lookup per band.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

import numpy as np

SHINGLE = 3
BANDS, ROWS = 16, 2
# fewer shingles than this (a body of under ten words) is too little to call anything a copy
MIN_SHINGLES = 8

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|\d+(?:[.,:]\d+)*|[^\W\d_{_CJK}]+")
_SEPARATOR = re.compile(r"[.,:]")

NumberPlace = tuple[str, str, str]  # (headline or body, word before, word after)


def _seed(name: str, index: int) -> int:
    digest = hashlib.blake2b(f"ingestd-minhash-{name}-{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


# fixed forever: stored bands must match the ones computed by later versions
_MUL = np.array([_seed("a", i) | 1 for i in range(BANDS * ROWS)], dtype=np.uint64)
_ADD = np.array([_seed("b", i) for i in range(BANDS * ROWS)], dtype=np.uint64)


@dataclass(frozen=True)
class Fingerprint:
    shingles: frozenset[int]
    numbers: dict[NumberPlace, frozenset[str]]
    bands: tuple[int, ...]


def tokens(text: str) -> list[str]:
    """Words and numbers; a number's separators dropped ("2,186.45" -> "#218645")."""
    found = _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())
    return ["#" + _SEPARATOR.sub("", t) if t[0].isdigit() else t for t in found]


def fingerprint(headline: str, body: str) -> Fingerprint | None:
    """None when the body is too short to be recognised as a copy of anything."""
    words = tokens(body)
    shingles = frozenset(_hash(" ".join(words[i : i + SHINGLE])) for i in range(len(words) - SHINGLE + 1))
    if len(shingles) < MIN_SHINGLES:
        return None
    numbers = {("b", *place): found for place, found in _places(words).items()}
    numbers |= {("h", *place): found for place, found in _places(tokens(headline)).items()}
    return Fingerprint(shingles, numbers, _bands(shingles))


def _places(words: list[str]) -> dict[tuple[str, str], frozenset[str]]:
    """Each number under the tokens on either side of it (other numbers masked)."""
    masked = ["#" if w[0] == "#" else w for w in words]
    places: dict[tuple[str, str], set[str]] = {}
    for i, word in enumerate(words):
        if word[0] == "#":
            place = (masked[i - 1] if i else "", masked[i + 1] if i + 1 < len(words) else "")
            places.setdefault(place, set()).add(word)
    return {place: frozenset(found) for place, found in places.items()}


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


def _bands(shingles: frozenset[int]) -> tuple[int, ...]:
    values = np.fromiter(shingles, dtype=np.uint64, count=len(shingles))
    with np.errstate(over="ignore"):  # multiply-shift hashing wraps modulo 2**64 on purpose
        signature = ((values[:, None] * _MUL + _ADD) >> np.uint64(32)).min(axis=0)
    return tuple(
        int.from_bytes(
            hashlib.blake2b(
                bytes([band]) + signature[band * ROWS : (band + 1) * ROWS].tobytes(), digest_size=8
            ).digest(),
            "little",
            signed=True,
        )
        for band in range(BANDS)
    )
