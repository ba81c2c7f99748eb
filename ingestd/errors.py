"""ingestd's exceptions.

IngestError                  bad input or an unreachable peer: logged, recorded, the rest goes on
├── FetchError               the feed could not be fetched
│   ├── TransportError       connect/read failure, timeout
│   ├── BlockedAddress       the network guard refused the address
│   ├── HTTPStatusError      a non-success HTTP status (carries .status)
│   ├── RedirectError        a loop, too many hops, or a non-HTTP target
│   └── BodyTooLarge         the body passed the size limit
├── ParseError               the bytes are not a feed, page or story we can read
└── DropStory                a normalizer step found nothing worth keeping

ConfigError                  outside IngestError: a bad config is the operator's to fix
                             (carries .problems, one per file/key/reason)
"""

from __future__ import annotations

from dataclasses import dataclass


class IngestError(Exception):
    """Bad input or an unreachable peer."""


class FetchError(IngestError):
    pass


class TransportError(FetchError):
    pass


class BlockedAddress(FetchError):
    pass


class HTTPStatusError(FetchError):
    def __init__(self, message: str, status: int, retry_after: str | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RedirectError(FetchError):
    pass


class BodyTooLarge(FetchError):
    pass


class ParseError(IngestError):
    pass


class DropStory(IngestError):
    """Raised by a normalizer step to drop the story (like structlog's DropEvent)."""


@dataclass(frozen=True)
class Problem:
    file: str
    key: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.key}: {self.reason}"


class ConfigError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))
