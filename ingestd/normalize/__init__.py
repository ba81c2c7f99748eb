"""Normalize entries into stories: a chain of small steps driven by source profiles.

    profiles = load_profiles("config/sources")
    story = normalize_entry(entry, feed_id="yonhap-en", source=None, now=fetched_at,
                            profiles=profiles)

The steps and their order are in `_chain.py`; the rules each step applies come
from the story's profile (`ingestd/profiles/*.toml`, overridable per site).
"""

from ._chain import CHAIN, normalize_entry
from ._profiles import Profile, Profiles, load_profiles

__all__ = ["CHAIN", "Profile", "Profiles", "load_profiles", "normalize_entry"]
