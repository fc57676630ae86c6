"""The changed files of a refresh analysed, in worker processes when there are many, with a progress bar or callback."""
from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor

from .analyze import Analysis, analyze_path
from .languages import grammar, language_for

PARALLEL_MIN = 48  # fewer changed files than this are parsed in-process
CHUNK_FILES = 8  # files a worker analyses per task
AHEAD_PER_WORKER = 4  # tasks submitted ahead of the one being consumed, per worker

Progress = bool | None | Callable[[int, int], None]  # a bar on a terminal (None: if stderr is one), or a callback


class _Callback:
    """Progress for a caller (the language server's work-done progress): (done, total), at most every 0.2 s."""

    def __init__(self, total: int, fn: Callable[[int, int], None]) -> None:
        self.total, self.fn, self.done, self.last = total, fn, 0, 0.0

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self.last >= 0.2 or self.done == self.total:
            self.last = now
            self.fn(self.done, self.total)

    def close(self) -> None:
        pass


def progress_bar(total: int, enabled: Progress):
    """A tqdm bar on stderr (starting no thread), or the caller's callback."""
    if callable(enabled):
        return _Callback(total, enabled)
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread: the parse workers fork only from a single-threaded process
    if enabled is None:
        enabled = sys.stderr.isatty()
    return tqdm(total=total, unit="file", disable=not enabled or total < 2, leave=False, file=sys.stderr)


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: a worker whose indexer was killed (kill -9) exits instead of idling forever."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="ragls-parent-watch", daemon=True).start()


def analyze_all(configured_workers: int | None, jobs: list[tuple], progress: Progress) -> Iterator[Analysis]:
    """The analyses of `jobs` (`analyze.analyze_path`'s arguments), in their order."""
    cores = os.cpu_count() or 1
    # a worker per core (at most 4), this process embedding and writing while they parse: leaving it a core of its
    # own (one worker on two cores) lowered sympy's peak from 592 to 500 MB but took 71.6 s instead of 48.6 s
    workers = configured_workers or min(cores, 4)
    bar = progress_bar(len(jobs), progress)
    try:
        if len(jobs) < PARALLEL_MIN or cores < 2:
            for job in jobs:
                yield analyze_path(job)
                bar.update()
            return
        # fork only from a single-threaded process: forking while another thread holds a lock (a language
        # server's stdin reader, say) deadlocks the child
        single = threading.active_count() == 1 and sys.platform != "win32"
        ctx = multiprocessing.get_context("fork" if single else "spawn")
        if single:
            _load_for_workers(jobs)
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_exit_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            # a bounded window of work ahead (not `pool.map`, which submits everything): while this process embeds
            # and writes a batch, finished analyses wait here, and without a bound they would pile up in memory
            pending: deque[Future[list[Analysis]]] = deque()
            for start in range(0, len(jobs), CHUNK_FILES):
                pending.append(pool.submit(_analyze_many, jobs[start:start + CHUNK_FILES]))
                if len(pending) >= AHEAD_PER_WORKER * workers:
                    for result in pending.popleft().result():
                        yield result
                        bar.update()
            while pending:
                for result in pending.popleft().result():
                    yield result
                    bar.update()
    finally:
        bar.close()


def _load_for_workers(jobs: list[tuple]) -> None:
    """Load, before forking the parse workers, what each of them would load for itself: the jobs' grammars with
    their compiled queries (50 ms each for TypeScript's, in every worker). Not the token counter: its 40 MB would
    stay in this process for the whole run."""
    for name in sorted({s.name for job in jobs if (s := language_for(job[1])) is not None}):
        grammar(name)


def _analyze_many(jobs: list[tuple]) -> list[Analysis]:
    """Worker entry for a few files at once (one round trip)."""
    return [analyze_path(job) for job in jobs]
