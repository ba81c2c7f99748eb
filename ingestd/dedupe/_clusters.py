"""Which cluster a new story joins: the same story from another feed or outlet, or none.

The store finds candidates through the band index (published within the
cluster window); this decides among them. Two texts are one story when most of
the shorter one's shingles are in the longer one (so an added or dropped
paragraph, a boilerplate line or a rewritten lead still match) and their
numbers agree where both texts have a number in the same place (so two days'
market closes, made from one template, do not). The thresholds are the ones
the labelled pairs in tests/data/dedupe/ are checked against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._fingerprint import Fingerprint

CONTAINMENT = 0.65
MAX_CANDIDATES = 16  # the most band-sharing candidates looked at: bounds a story's cost


@dataclass(frozen=True)
class Candidate:
    story_id: str
    cluster: str
    fingerprint: Fingerprint


@dataclass(frozen=True)
class Placement:
    cluster: str
    first_of_cluster: bool


def containment(a: Fingerprint, b: Fingerprint) -> float:
    """The share of the smaller text's shingles found in the other."""
    # both are sorted and distinct: each of the smaller's hashes looked up in the larger
    # by bisection (no set of Python ints made for a candidate read from the store)
    small, large = np.frombuffer(a.hashes, dtype="<u8"), np.frombuffer(b.hashes, dtype="<u8")
    if len(small) > len(large):
        small, large = large, small
    at = np.searchsorted(large, small)
    np.minimum(at, len(large) - 1, out=at)
    return int(np.count_nonzero(large[at] == small)) / len(small)


def numbers_changed(a: Fingerprint, b: Fingerprint) -> bool:
    """True when, where both texts have numbers in the same place, they differ more
    often than a third of the time (one corrected figure among several is an update)."""
    agree = changed = 0
    for place in a.numbers.keys() & b.numbers.keys():
        x, y = a.numbers[place], b.numbers[place]
        if 2 * len(x & y) >= min(len(x), len(y)):
            agree += 1
        else:
            changed += 1
    return changed * 2 > agree


def same_story(a: Fingerprint, b: Fingerprint) -> bool:
    return containment(a, b) >= CONTAINMENT and not numbers_changed(a, b)


def place(story_id: str, fingerprint: Fingerprint | None, candidates: list[Candidate]) -> Placement:
    """The cluster of the closest candidate that is the same story; else a new cluster."""
    if fingerprint is not None:
        best, closest = None, 0.0
        for candidate in candidates:  # each one's containment computed once; the first closest wins
            share = containment(fingerprint, candidate.fingerprint)
            if (
                share >= CONTAINMENT
                and share > closest
                and not numbers_changed(fingerprint, candidate.fingerprint)
            ):
                best, closest = candidate, share
        if best is not None:
            return Placement(best.cluster, False)
    return Placement(story_id, True)
