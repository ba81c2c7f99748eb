"""py3langid's classifier with its two slow loops done by numpy; every score bit for bit its own.

py3langid walks a byte automaton in a Python loop (≈ 0.1 µs a byte) and converts the
float16 rows of the features it met to float32 in software (≈ 1 ns an element, ≈ 40 µs
a detection). Both have an exact shortcut:

- The automaton is Aho-Corasick's over byte n-grams of at most `depth` bytes: its state
  after any text is the one it reaches from the start over the text's last `depth` bytes
  alone. So every position's state is `depth` vectorised steps over shifted copies of the
  bytes, not one Python step a byte.
- Every weight in the model is a negative normal float16, which becomes its float32 by an
  integer shift and add (checked when the model loads; py3langid's cast otherwise).

Features are counted in the order they first occur, as `collections.Counter` counts them in
py3langid, so the matrix product sums in the same order and gives the same float32 bits.
`tests/test_normalize_language.py` holds the two together on every kind of text.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from py3langid.langid import MODEL_FILE, LanguageIdentifier

_SIGN = 0x8000
_LOWEST_NEGATIVE_NORMAL, _HIGHEST_NEGATIVE_NORMAL = 0x8400, 0xFBFF
# a negative normal half's bits shifted left 13, plus this, are its single's bits
_HALF_TO_SINGLE = np.uint32(((1 << 31) + ((127 - 15) << 23) - (_SIGN << 13)) % (1 << 32))


class Identifier(LanguageIdentifier):  # type: ignore[misc]  # py3langid has no type hints
    """`LanguageIdentifier` whose raw scores are computed by `features` and `_weights`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._next = np.frombuffer(self.tk_nextmove, dtype=np.uint32)  # the model's own array, not copied
        self._rows = np.asarray(self._rowbase, dtype=np.intp)
        self._output = np.asarray(self.tk_output, dtype=np.intp)
        self.depth = _depth(self._next, self._rows)
        # negative normal halves are the one run of bit patterns 0x8400-0xFBFF (no copy to check)
        halves = np.asarray(self.nb_ptc).view(np.uint16)
        self._exact_shift = bool(
            halves.min() >= _LOWEST_NEGATIVE_NORMAL and halves.max() <= _HIGHEST_NEGATIVE_NORMAL
        )

    def features(self, text: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        """The features the automaton outputs over the bytes and how often, in order of first
        occurrence (py3langid's `visit_counts`); None when there is none."""
        data = np.frombuffer(text, dtype=np.uint8)
        size = len(data)
        states = np.zeros(size, dtype=np.intp)
        for back in range(min(self.depth, size) - 1, -1, -1):
            # each position reads the byte `back` before it: after the last step, position i
            # has read bytes i-depth+1..i from the start state
            reached = states[back:]
            reached[:] = self._next[self._rows[reached] + data[: size - back]]
        found = self._output[states]
        found = found[found >= 0]
        if not found.size:
            return None
        features, first, counts = np.unique(found, return_index=True, return_counts=True)
        order = np.argsort(first)
        return features[order], counts[order].astype(np.float32)

    def _raw_score(self, text: bytes) -> np.ndarray:
        found = self.features(text)
        if found is None:  # py3langid's floor for a text without features
            floor: np.ndarray = super()._raw_score(text)
            return floor
        features, counts = found
        scores: np.ndarray = np.log1p(counts) @ self._weights(features) + self.nb_pc
        return scores

    def _weights(self, features: np.ndarray) -> np.ndarray:
        """The features' rows of the model as float32."""
        rows: np.ndarray = self.nb_ptc[features]
        if not self._exact_shift:
            return rows.astype(np.float32)
        bits = rows.view(np.uint16).astype(np.uint32)
        bits <<= 13
        bits += _HALF_TO_SINGLE
        return bits.view(np.float32)


def load() -> Identifier:
    """The model that ships in py3langid (about a second to load)."""
    identifier: Identifier = Identifier.from_model_file(MODEL_FILE)
    return identifier


def _depth(next_state: np.ndarray, rows: np.ndarray) -> int:
    """How many bytes the automaton's deepest state is from the start (its longest n-gram),
    by breadth-first search, one byte value at a time (arrays the size of a level, not 256 times it)."""
    reached = np.zeros(len(rows), dtype=bool)
    reached[0] = True
    frontier, depth = np.array([0], dtype=np.intp), 0
    while True:
        fresh = np.zeros(len(rows), dtype=bool)
        bases = rows[frontier]
        for byte in range(256):
            fresh[next_state[bases + byte]] = True
        fresh &= ~reached
        frontier = np.flatnonzero(fresh)
        if not frontier.size:
            return depth
        reached |= fresh
        depth += 1
