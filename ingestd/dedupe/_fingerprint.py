"""A story's text as near-duplicate detection sees it: shingles, numbers in place, LSH bands.

Word 3-grams of the body (headlines differ between outlets, bodies much less)
after NFKC and case folding; each Chinese or Japanese character counts as a word.
Numbers are kept with the words around them, because templated items (market
closes, weather, results) differ mostly in their numbers. A 32-value MinHash
of the shingles, cut into 16 bands of 2, is what the store indexes: two texts
whose shingles overlap by a Jaccard of 0.4 share a band with probability 0.94,
and the cost of finding them is one indexed lookup per band.

Hashing is vectorised: one xxh3 per distinct word, then every shingle's hash
combined from its three words' in numpy. A stored story's signature (`encode`)
is kept beside it, so candidates are never fingerprinted again; `VERSION` names
the hashing, and the store's bands are rebuilt when it changes.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import xxhash

# bump whenever shingles or bands would come out differently: stored bands are rebuilt
VERSION = "xxh3-mix-1"
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


# fixed forever (for one VERSION): stored bands must match the ones computed later
_MUL = np.array([_seed("a", i) | 1 for i in range(BANDS * ROWS)], dtype=np.uint64)
_ADD = np.array([_seed("b", i) for i in range(BANDS * ROWS)], dtype=np.uint64)
_POSITION = np.array([_seed("p", i) | 1 for i in range(SHINGLE)], dtype=np.uint64)
_BAND = np.array([_seed("band", i) for i in range(BANDS)], dtype=np.uint64)


@dataclass(frozen=True)
class Fingerprint:
    hashes: bytes  # the distinct shingle hashes, sorted, little-endian uint64: what the store keeps
    numbers: dict[NumberPlace, frozenset[str]]
    bands: tuple[int, ...]

    @cached_property
    def shingles(self) -> frozenset[int]:
        # made only when compared: most stories have no candidate to compare with
        return frozenset(np.frombuffer(self.hashes, dtype="<u8").tolist())


def tokens(text: str) -> list[str]:
    """Words and numbers; a number's separators dropped ("2,186.45" -> "#218645")."""
    found = _TOKEN.findall(unicodedata.normalize("NFKC", text).casefold())
    return ["#" + _SEPARATOR.sub("", t) if t[0].isdigit() else t for t in found]


def fingerprint(headline: str, body: str) -> Fingerprint | None:
    """None when the body is too short to be recognised as a copy of anything."""
    words = tokens(body)
    hashes = _shingle_hashes(words)
    if len(hashes) < MIN_SHINGLES:
        return None
    numbers = {("b", *place): found for place, found in _places(words).items()}
    numbers |= {("h", *place): found for place, found in _places(tokens(headline)).items()}
    return Fingerprint(hashes.astype("<u8").tobytes(), numbers, _bands(hashes))


def encode(found: Fingerprint) -> tuple[bytes, str]:
    """What the store keeps of a fingerprint: sorted shingles as bytes, numbers as JSON."""
    numbers = json.dumps([[*place, sorted(values)] for place, values in found.numbers.items()])
    return found.hashes, numbers


def decode(shingles: bytes, numbers: str, bands: tuple[int, ...] = ()) -> Fingerprint:
    """A stored signature back as a Fingerprint (bands are not needed to compare)."""
    return Fingerprint(
        shingles,
        {(p[0], p[1], p[2]): frozenset(p[3]) for p in json.loads(numbers)},
        bands,
    )


def _places(words: list[str]) -> dict[tuple[str, str], frozenset[str]]:
    """Each number under the tokens on either side of it (other numbers masked)."""
    at = [i for i, word in enumerate(words) if word[0] == "#"]  # the few numbers, not every word
    last = len(words) - 1
    places: dict[tuple[str, str], set[str]] = {}
    for i in at:
        before = words[i - 1] if i else ""
        after = words[i + 1] if i < last else ""
        place = ("#" if before[:1] == "#" else before, "#" if after[:1] == "#" else after)
        places.setdefault(place, set()).add(words[i])
    return {place: frozenset(found) for place, found in places.items()}


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, elementwise: every input bit reaches every output bit."""
    with np.errstate(over="ignore"):
        values = (values ^ (values >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        values = (values ^ (values >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        mixed: np.ndarray = values ^ (values >> np.uint64(31))
    return mixed


def _shingle_hashes(words: list[str]) -> np.ndarray:
    """The distinct hashes of the word 3-grams, sorted."""
    if len(words) < SHINGLE:
        return np.empty(0, dtype=np.uint64)
    vocabulary = {word: xxhash.xxh3_64_intdigest(word.encode()) for word in dict.fromkeys(words)}
    ids = np.fromiter((vocabulary[w] for w in words), dtype=np.uint64, count=len(words))
    n = len(words) - SHINGLE + 1
    with np.errstate(over="ignore"):  # wrapping modulo 2**64 is the hashing
        combined = sum(
            (ids[i : i + n] * _POSITION[i] for i in range(SHINGLE)), start=np.zeros(n, dtype=np.uint64)
        )
    unique: np.ndarray = np.unique(_mix(combined))
    return unique


def _bands(shingles: np.ndarray) -> tuple[int, ...]:
    with np.errstate(over="ignore"):  # multiply-shift hashing wraps modulo 2**64 on purpose
        signature = ((shingles[:, None] * _MUL + _ADD) >> np.uint64(32)).min(axis=0)
        rows = signature.reshape(BANDS, ROWS)
        bands = _mix(rows[:, 0] * _POSITION[0] + rows[:, 1] * _POSITION[1] + _BAND)
    return tuple(bands.view(np.int64).tolist())
