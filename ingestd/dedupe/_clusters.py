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
    return len(a.shingles & b.shingles) / min(len(a.shingles), len(b.shingles))


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
        matches = [c for c in candidates if same_story(fingerprint, c.fingerprint)]
        if matches:
            best = max(matches, key=lambda c: containment(fingerprint, c.fingerprint))
            return Placement(best.cluster, False)
    return Placement(story_id, True)
