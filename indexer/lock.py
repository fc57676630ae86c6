"""An exclusive per-index lock so that two indexers never write one index at once."""
from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path


class IndexLocked(RuntimeError):
    """Another process holds the index's write lock."""


_HELD: set[int] = set()  # lock fds this process holds
_THREADS: dict[str, threading.Lock] = {}  # one per lock file: writers of one process queue instead of failing
_THREADS_GUARD = threading.Lock()


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


def _thread_lock(path: Path) -> threading.Lock:
    with _THREADS_GUARD:
        return _THREADS.setdefault(str(path), threading.Lock())


class WriteLock:
    """flock-based: released by the kernel when the holder exits, even on kill -9 (no stale lock files). The file
    holds the holder's pid while it is held and is emptied on release, so a pid found there on acquiring means its
    holder died while writing (`unclean`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.unclean = False
        self._fd: int | None = None
        self._threads: threading.Lock | None = None

    def acquire(self, wait_in_process: bool = True) -> None:
        """Take the lock or raise IndexLocked. Another process's hold fails at once; another thread's (the
        language server's writer, say) is waited for unless `wait_in_process` is false."""
        threads = _thread_lock(self.path)
        if not threads.acquire(blocking=wait_in_process):
            raise IndexLocked(f"this process is writing the index (lock {self.path}) right now")
        try:
            self._lock_file()
        except BaseException:
            threads.release()
            raise
        self._threads = threads

    def _lock_file(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise IndexLocked(f"another ragls process (pid {holder}) is indexing this repository "
                              f"(lock {self.path}); wait for it to finish and run again") from None
        self.unclean = bool(os.pread(fd, 32, 0).strip())
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        _HELD.add(fd)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None and fd in _HELD:  # not in a forked child, where the fd was closed at fork
            _HELD.discard(fd)
            os.ftruncate(fd, 0)  # a clean release: nobody died holding it
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
        threads, self._threads = self._threads, None
        if threads is not None:
            threads.release()

    def __enter__(self) -> "WriteLock":
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
