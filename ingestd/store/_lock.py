"""One `ingestd run` per SQLite database: an exclusive lock held for the daemon's life."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path


class DatabaseInUse(OSError):
    """Another daemon holds the database; the message names it and the holder's pid."""


class InstanceLock:
    """`flock` on `<database>.lock`, which holds the holder's pid. The kernel drops the
    lock when the process ends, however it ends (kill -9 included)."""

    def __init__(self, db_path: str | Path):
        self.db_path = str(db_path)
        self.path = Path(f"{db_path}.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise DatabaseInUse(
                f"database {self.db_path} is in use by another ingestd run (pid {holder})"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the lock
            self._fd = None
