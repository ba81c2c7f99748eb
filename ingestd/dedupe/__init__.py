"""Each story once: identity, versions and near-duplicate clusters — decisions only.

The store asks, and applies what it is told (reader's Decider: nothing here does I/O):

    identify(stories)          -> each story's keys: guid, canonical URL, text hash
    observe(...) + choose_policy(current, evidence, pinned)
                               -> which key identifies this feed's stories
    decide(keys, text, existing)
                               -> created / updated (a new version) / unchanged
    fingerprint(headline, body) + place(story, fingerprint, candidates)
                               -> the story's near-duplicate cluster

Modules: _keys (identity keys), _urls (canonical URLs), _policy (identity
policy), _versions (intents), _fingerprint (shingles and LSH bands), _clusters
(same story or not), _settings (`[dedupe]` config).
"""

from ._clusters import (
    CONTAINMENT,
    MAX_CANDIDATES,
    Candidate,
    Placement,
    place,
    same_story,
)
from ._fingerprint import BANDS, Fingerprint, decode, encode, fingerprint
from ._fingerprint import VERSION as FINGERPRINT_VERSION
from ._keys import POLICIES, Identity, PolicyName, content_hash, identify, story_id_for
from ._policy import Evidence, Policy, Sighting, choose_policy, observe
from ._settings import DEFAULT_SETTINGS, Settings
from ._urls import canonical_url
from ._versions import Existing, Intent, decide

__all__ = [
    "BANDS",
    "CONTAINMENT",
    "DEFAULT_SETTINGS",
    "FINGERPRINT_VERSION",
    "MAX_CANDIDATES",
    "POLICIES",
    "Candidate",
    "Evidence",
    "Existing",
    "Fingerprint",
    "Identity",
    "Intent",
    "Placement",
    "Policy",
    "PolicyName",
    "Settings",
    "Sighting",
    "canonical_url",
    "choose_policy",
    "content_hash",
    "decide",
    "decode",
    "encode",
    "fingerprint",
    "identify",
    "observe",
    "place",
    "same_story",
    "story_id_for",
]
