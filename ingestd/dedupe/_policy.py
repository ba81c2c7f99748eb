"""Which key identifies a feed's stories: the identity policy, chosen from what polls show.

guid while the feed's guids can be trusted; the canonical URL once they cannot
(missing from most entries, repeated within one document for different texts,
or changing from poll to poll while the text stays the same); the text itself
once the URLs cannot be trusted either. A policy only ever steps down by
itself; pinning one in the config (or resetting the feed's policy) is how it
goes back up. The policy decides which keys a story is looked up by; every key
a story was ever looked up by stays stored, and its text key always, so a
switch never re-creates stories.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import Policy as Policy
from ..models import PolicyName
from ._keys import POLICIES, Identity


@dataclass(frozen=True)
class Sighting:
    """What the store held for one incoming story before its batch was applied."""

    holder: str | None  # a story of this feed that already has this exact text
    holder_keys: frozenset[str] = frozenset()  # every key stored for it


@dataclass(frozen=True)
class KeyEvidence:
    """What one poll showed about one kind of key (guids or URLs)."""

    entries: int = 0
    missing: int = 0
    repeated: int = 0  # entries whose key the document also gives to another text
    kept: int = 0  # stories seen again (same text) under the same key
    moved: int = 0  # stories seen again (same text) under another key

    def problem(self, noun: str) -> str | None:
        if self.repeated:
            return f"{noun} repeated within one document"
        if self.missing * 2 > self.entries:
            return f"{noun} missing from most entries"
        if self.moved > self.kept:
            return f"{noun} change while the text stays the same"
        return None


@dataclass(frozen=True)
class Evidence:
    guid: KeyEvidence
    url: KeyEvidence


def observe(identities: list[Identity], sightings: list[Sighting], known: int = 0) -> Evidence:
    """One poll's evidence about its feed's guids and URLs. A story seen again counts
    only if it was stored with a key of the kind: under the url policy guids are not
    kept, and a guid that was never stored has not changed. `known`: entries skipped
    before normalization because they were stored with the same guid and raw content;
    each counts as a key present and kept."""

    def tally(kind: str) -> KeyEvidence:
        kept = moved = 0
        for ident, sighting in zip(identities, sightings):
            key = getattr(ident, kind)
            prefix = f"guid:{ident.feed_id}:" if kind == "guid" else "url:"
            if key is None or sighting.holder is None:
                continue
            if key in sighting.holder_keys:
                kept += 1
            elif any(k.startswith(prefix) for k in sighting.holder_keys):
                moved += 1
        states = [getattr(i, f"{kind}_state") for i in identities]
        return KeyEvidence(
            entries=len(identities) + known,
            missing=states.count("missing"),
            repeated=states.count("repeated"),
            kept=kept + known,
            moved=moved,
        )

    return Evidence(guid=tally("guid"), url=tally("url"))


_TRUSTED = {
    "guid": "guids present, unique and stable",
    "url": "links present, unique and stable",
    "content": "no usable guids or links",
}


def choose_policy(current: Policy | None, evidence: Evidence, pinned: PolicyName | None) -> Policy:
    """The policy after one poll: `current` itself when nothing calls for a change."""
    if pinned:
        if current and current.pinned and current.name == pinned:
            return current
        return Policy(pinned, "pinned in config", pinned=True)
    learnt = current if current and not current.pinned else None
    problems = {"guid": evidence.guid.problem("guids"), "url": evidence.url.problem("links")}
    reasons: list[str] = []

    def settle(name: PolicyName) -> Policy:
        if learnt and learnt.name == name:
            return learnt
        return Policy(name, "; ".join(reasons) or _TRUSTED[name])

    for name in POLICIES[POLICIES.index(learnt.name) if learnt else 0 : -1]:
        problem = problems[name]
        if problem is None:
            return settle(name)
        reasons.append(problem)
    return settle("content")
