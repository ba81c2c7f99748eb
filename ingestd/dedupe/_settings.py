"""The dedupe settings, read from `[dedupe]` in the config (declared in config.SETTINGS)."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from .. import config


@dataclass(frozen=True)
class Settings:
    cluster_window: float  # seconds: how far apart two stories may be published and cluster
    tracking_params: tuple[str, ...]  # query parameters dropped from canonical URLs; `*` suffix

    @classmethod
    def from_config(cls, section: Any) -> Settings:
        """From a loaded config's `[dedupe]` section (`config.dedupe`)."""
        return cls(
            cluster_window=float(section.cluster_window), tracking_params=tuple(section.tracking_params)
        )


def _defaults() -> Settings:
    # the defaults are declared once, in the config's settings table
    values = {s.key: s.parse(s.default) for s in config.SETTINGS if s.section == "dedupe"}
    return Settings.from_config(SimpleNamespace(**values))


DEFAULT_SETTINGS = _defaults()
