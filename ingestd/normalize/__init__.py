"""Normalize entries into stories: a chain of small steps driven by source profiles.

    profiles = load_profiles("config/sources")
    story = normalize_entry(entry, feed_id="yonhap-en", source=None, now=fetched_at,
                            profiles=profiles)

The steps and their order are in `_chain.py`; the rules each step applies come
from the story's profile (`ingestd/profiles/*.toml`, overridable per site).
"""

import sys
import types
from typing import TYPE_CHECKING, Any

from ._profiles import Profile, Profiles, load_profiles

if TYPE_CHECKING:
    from ._chain import CHAIN, normalize_entry

__all__ = ["CHAIN", "Profile", "Profiles", "load_profiles", "normalize_entry", "warm"]


def warm() -> None:
    """Import the chain and load the language model now. A daemon calls it at start (in
    its CPU pool): loaded at the first story instead, the model's transient (~100 MiB)
    stacks on whatever a busy round holds then (docs/performance.md, peak memory)."""
    from . import _chain, _language

    del _chain
    _language.warm()


def __getattr__(name: str) -> object:
    # The chain imports trafilatura, lxml and the language model; `check-config` only
    # loads profiles, so the chain is imported on first use.
    if name in ("CHAIN", "normalize_entry"):
        from . import _chain

        return getattr(_chain, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Callable(types.ModuleType):
    # `ingestd.normalize` names this package once anything imported it, so the library
    # function `ingestd.normalize(data, ...)` (ingestd.library.normalize) is its call
    def __call__(self, data: bytes, **options: Any) -> list[dict[str, Any]]:
        from ..library import normalize

        return normalize(data, **options)


sys.modules[__name__].__class__ = _Callable
