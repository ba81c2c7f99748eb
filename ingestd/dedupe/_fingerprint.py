"""A story's text as near-duplicate detection sees it: shingles, numbers in place, LSH bands.

Word 3-grams of the body (headlines differ between outlets, bodies much less)
after NFKC and case folding; each Chinese or Japanese character counts as a word.
Numbers are kept with the words around them, because templated items (market
closes, weather, results) differ mostly in their numbers. A 32-value MinHash
of the shingles, cut into 16 bands of 2, is what the store indexes: two texts
whose shingles overlap by a Jaccard of 0.4 share a band with probability 0.94,
and the cost of finding them is one indexed lookup per band.

Hashing is vectorised: one xxh3 per word (a number's of its form), then every
shingle's hash combined from its three words' in numpy, and the MinHash one
product per shingle and permutation, taken in one matrix. (Words were remembered
with their hashes across stories until 2026-12-07: in the pipeline, with parse and
normalize run between two stories, a look-up in that memory cost more than the
xxh3.) A stored story's signature (`encode`) is kept beside it, so candidates are
never fingerprinted again; `VERSION` names the hashing, and the store's bands are
rebuilt when it changes.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from itertools import compress, count
from operator import itemgetter

import numpy as np
import xxhash

# bump whenever shingles or bands would come out differently: stored bands are rebuilt
VERSION = "xxh3-mix-1"
SHINGLE = 3
BANDS, ROWS = 16, 2
# fewer shingles than this (a body of under ten words) is too little to call anything a copy
MIN_SHINGLES = 8

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_LETTER = rf"[^\W\d_{_CJK}]"
# a CJK character, a number ("2,186.45"), or a run of letters; an ASCII run is tried first
# (a simple range, the common case), possessively, and yields when a letter follows it
_TOKEN = re.compile(rf"[a-z]++(?!{_LETTER})|\d+(?:[.,:]\d+)*|{_LETTER}+|[{_CJK}]")
# the same tokens in ASCII text, where the classes are plain ranges
_ASCII_TOKEN = re.compile(r"[a-z]+|[0-9]+(?:[.,:][0-9]+)*", re.ASCII)
_SEPARATOR = re.compile(r"[.,:]")
_ASCII_DIGIT = re.compile(r"[0-9]")
_FIRST = itemgetter(0)

NumberPlace = tuple[str, str, str]  # (headline or body, word before, word after)


def _seed(name: str, index: int) -> int:
    digest = hashlib.blake2b(f"ingestd-minhash-{name}-{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


# fixed forever (for one VERSION): stored bands must match the ones computed later
_MUL = np.array([_seed("a", i) | 1 for i in range(BANDS * ROWS)], dtype=np.uint64)
_ADD = np.array([_seed("b", i) for i in range(BANDS * ROWS)], dtype=np.uint64)
_POSITION = np.array([_seed("p", i) | 1 for i in range(SHINGLE)], dtype=np.uint64)
_BAND = np.array([_seed("band", i) for i in range(BANDS)], dtype=np.uint64)
_MUL_COLUMN, _ADD_COLUMN = _MUL[:, None].copy(), _ADD[:, None].copy()
_POSITIONS, _ROW_POSITIONS = tuple(_POSITION), _POSITION[:ROWS].copy()  # made once, used per call
# splitmix64's constants, made once (a numpy scalar costs as much to make as to use)
_S27, _S30, _S31, _S32 = (np.uint64(n) for n in (27, 30, 31, 32))
_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


@dataclass(frozen=True)
class Fingerprint:
    hashes: bytes  # the distinct shingle hashes, sorted, little-endian uint64: what the store keeps
    numbers: dict[NumberPlace, frozenset[str]]
    bands: tuple[int, ...]

    @cached_property
    def shingles(self) -> frozenset[int]:
        # made only when compared: most stories have no candidate to compare with
        return frozenset(np.frombuffer(self.hashes, dtype="<u8").tolist())


def _word_hashes(words: list[str], places: list[int], numbers: dict[str, str]) -> np.ndarray:
    """Each word's xxh3, a number's (at `places`, with its form in `numbers`) of its form."""
    hashes = np.fromiter(map(xxhash.xxh3_64_intdigest, map(str.encode, words)), np.uint64, len(words))
    for i in places:
        hashes[i] = xxhash.xxh3_64_intdigest(numbers[words[i]].encode())
    return hashes


def _forms(numbers: Iterable[str]) -> dict[str, str]:
    """Each number with its form: "#" and its digits ("2,186.45" -> "#218645")."""
    return {number: "#" + _SEPARATOR.sub("", number) for number in numbers}


def _words(text: str) -> list[str]:
    """Words and numbers, as written (after NFKC and case folding)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return (_ASCII_TOKEN if text.isascii() else _TOKEN).findall(text)


def fingerprint(headline: str, body: str) -> Fingerprint | None:
    """None when the body is too short to be recognised as a copy of anything."""
    words = _words(body)
    if len(words) < MIN_SHINGLES + SHINGLE - 1:  # too few shingles, however distinct
        return None
    places = _number_places(words)
    numbers = _forms(words[i] for i in places)
    hashes = _shingle_hashes(_word_hashes(words, places, numbers))
    if len(hashes) < MIN_SHINGLES:
        return None
    found = _places("b", words, places, numbers)
    if not headline.isascii() or _ASCII_DIGIT.search(headline):  # else it has no number
        heading = _words(headline)
        places = _number_places(heading)
        found |= _places("h", heading, places, _forms(heading[i] for i in places))
    return Fingerprint(hashes.astype("<u8", copy=False).tobytes(), found, _bands(hashes))


def encode(found: Fingerprint) -> tuple[bytes, str]:
    """What the store keeps of a fingerprint: sorted shingles as bytes, numbers as JSON."""
    if not found.numbers:  # most texts: no JSON encoder for an empty list
        return found.hashes, "[]"
    numbers = json.dumps([[*place, sorted(values)] for place, values in found.numbers.items()])
    return found.hashes, numbers


def decode(shingles: bytes, numbers: str, bands: tuple[int, ...] = ()) -> Fingerprint:
    """A stored signature back as a Fingerprint (bands are not needed to compare)."""
    return Fingerprint(
        shingles,
        {(p[0], p[1], p[2]): frozenset(p[3]) for p in json.loads(numbers)},
        bands,
    )


def _number_places(words: list[str]) -> list[int]:
    """Where the numbers are: a token that opens with a digit is one (`_TOKEN`)."""
    return list(compress(count(), map(str.isdigit, map(_FIRST, words))))


def _places(
    side: str, words: list[str], places: list[int], numbers: dict[str, str]
) -> dict[NumberPlace, frozenset[str]]:
    """Each number (at `places`, its form in `numbers`) under the tokens on either side of
    it, other numbers masked; `side` names the text (headline or body)."""
    last = len(words) - 1
    found: dict[NumberPlace, set[str]] = {}
    for i in places:
        before = words[i - 1] if i else ""
        after = words[i + 1] if i < last else ""
        place = (side, "#" if before in numbers else before, "#" if after in numbers else after)
        found.setdefault(place, set()).add(numbers[words[i]])
    return {place: frozenset(forms) for place, forms in found.items()}


def _mix(values: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer, elementwise and in place: every input bit reaches every output bit.
    (Array arithmetic wraps modulo 2**64 without a warning: the hashing relies on it.)"""
    values ^= values >> _S30
    values *= _M1
    values ^= values >> _S27
    values *= _M2
    values ^= values >> _S31
    return values


def _shingle_hashes(ids: np.ndarray) -> np.ndarray:
    """The distinct hashes of the word 3-grams (from the words' hashes), sorted."""
    n = len(ids) - SHINGLE + 1
    combined = ids[:n] * _POSITIONS[0]
    for i in range(1, SHINGLE):
        combined += ids[i : i + n] * _POSITIONS[i]
    ordered = _mix(combined)
    ordered.sort()  # in place: np.sort would copy it
    # np.unique, without its per-call overhead (most of its cost on a few hundred values)
    distinct = np.empty(n, dtype=bool)
    distinct[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=distinct[1:])
    unique: np.ndarray = ordered[distinct]
    return unique


def _bands(shingles: np.ndarray) -> tuple[int, ...]:
    # one row per permutation: the minimum along a row is the cheaper reduction; the shift
    # (which keeps order) on the 32 minima instead of on every value
    permuted = _MUL_COLUMN * shingles
    permuted += _ADD_COLUMN
    signature = permuted.min(axis=1) >> _S32
    bands = _mix(signature.reshape(BANDS, ROWS) @ _ROW_POSITIONS + _BAND)
    return tuple(bands.view(np.int64).tolist())
