"""Which profile's rules apply: the one asked for, else the dateline's agency
tag, else the page's host, else generic. The choice is the story's `source`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ._draft import Draft
from ._profiles import Profile
from ._urls import PLAIN_HOST

_DATELINE_SEARCH = 12  # blocks from the top in which a dateline may open the story


def choose_profile(draft: Draft) -> Draft:
    profiles, story = draft.profiles, draft.story
    if draft.requested_source:
        profile = profiles.get(draft.requested_source)
        if profile is None:
            draft.flag(f"no profile named {draft.requested_source!r}: generic rules used")
        draft.profile = profile or profiles.generic
        story.source = draft.requested_source
        draft.note("source_by", "given")
        return draft
    found, how = _by_dateline(draft), "dateline"
    if found is None:
        found, how = _by_host(draft), "host"
    if found is None:
        found, how = profiles.generic, "default"
    draft.profile = found
    story.source = found.name
    draft.note("source_by", how)
    return draft


def _by_dateline(draft: Draft) -> Profile | None:
    for block in draft.blocks[:_DATELINE_SEARCH]:
        for pattern, needed in draft.profiles.agency_datelines:
            match = pattern.match(block.text) if needed in block.text else None
            if match and match.groupdict().get("agency"):
                profile = draft.profiles.for_agency_tag(match["agency"])
                if profile is not None:
                    return profile
    return None


def _by_host(draft: Draft) -> Profile | None:
    for url in (draft.story.url, draft.page.canonical if draft.page else None, draft.entry.base_url):
        host = _hostname(url) if url else None
        if host:
            profile = draft.profiles.for_host(host)
            if profile is not None:
                return profile
    return None


def _hostname(url: str) -> str | None:
    """`urlsplit(url).hostname`, without splitting the link when its host is plain."""
    plain = PLAIN_HOST.match(url)
    return plain[1].lower() if plain else urlsplit(url).hostname
