"""ingestd: a feed and wire ingestion daemon.

Poll feeds politely, normalize every story to IPTC ninjs 3.0, store each story
once (with versions), and hand the events to subscribers. The command line
(`ingestd`) and this package say the same thing: see `cli.py`.

The library API (README "Library"): `ingestd.normalize(data, ...)`, `ingestd.build_events`,
`ingestd.build_event` and `ingestd.read`, defined and typed in `ingestd.library`.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .library import build_event, build_events, read

__all__ = ["__version__", "build_event", "build_events", "normalize", "read"]


def __getattr__(name: str) -> Any:
    # `import ingestd` stays cheap: the pipeline is imported on first use. `normalize` is
    # the subpackage, callable as ingestd.library.normalize (the import names it here)
    if name == "normalize":
        return import_module(".normalize", __name__)
    if name in ("build_event", "build_events", "read"):
        return getattr(import_module(".library", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
