"""An exclusive per-index lock so that two indexers never write one index at once."""
from __future__ import annotations

import fcntl
import os
from pathlib import Path


class IndexLocked(RuntimeError):
    """Another process holds the index's write lock."""


_HELD: set[int] = set()  # lock fds this process holds


def _drop_in_child() -> None:
    """A forked child (a parser worker) shares the lock's open file description: close its copy (closing, unlike
    LOCK_UN, leaves the parent's lock alone), so that a worker orphaned by a killed indexer cannot keep the index
    locked."""
    for fd in _HELD:
        try:
            os.close(fd)
        except OSError:
            pass
    _HELD.clear()


os.register_at_fork(after_in_child=_drop_in_child)


class WriteLock:
    """flock-based: released by the kernel when the holder exits, even on kill -9 (no stale lock files)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise IndexLocked(f"another ragls process (pid {holder}) is indexing this repository "
                              f"(lock {self.path}); wait for it to finish and run again") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        _HELD.add(fd)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None and fd in _HELD:  # not in a forked child, where the fd was closed at fork
            _HELD.discard(fd)
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> "WriteLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
