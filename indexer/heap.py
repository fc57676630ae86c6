"""The garbage collector's policy for long-lived processes holding a large index in memory (the language server,
`ragls context --batch`): the graph and lexical postings, once loaded, are moved out of the collector's sight.

Why: CPython's full collections traverse every tracked object. With a 750k-line repository's graph loaded (about
135k containers holding 260k references) one takes 80-190 ms, and a query's allocations trigger one every few
queries: measured on sympy, 2.2 s of 100 deep-cursor queries' 12 s went to 11 full collections, the spikes of the
p95. Frozen objects are never traversed; a larger first-generation threshold makes the young collections fewer.
A request runs with the collector paused (`paused`): a collection in its middle traverses its working set (thousands
of candidates and name uses) and moves it to an older generation; after it, reference counts have freed that set,
and the collection that was due finds little to traverse (sympy, 100 deep queries: p95 42 -> 26 ms)."""
from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# Young-generation threshold: a query allocates tens of thousands of short-lived objects, most freed by their
# reference counts; the default 700 runs a young collection every few hundred of them.
YOUNG = 10_000
_lock = threading.Lock()
_paused = 0  # requests running with the collector paused
_resume = False  # whether the collector was on when the first of them began


def loaded() -> None:
    """A large structure that lives until the index changes (the graph, the lexical postings) was just built:
    collect what its loading left, then freeze the survivors, so that later collections pass them by.

    What was frozen before stays frozen, also when the structure it replaces is dropped: the graph and the postings
    hold no reference cycles (a load leaves no unreachable object, and none is found once they are dropped), so
    their reference counts free them. So this collection traverses only what came since the last freeze (the new
    structure: 22 ms for sympy's graph). Unfreezing first, as ragls did, made it traverse the whole process while
    holding the interpreter lock: every thread, the language server's event loop included, stood still for it (114
    ms in `bench/fuzz.py`'s server after a reindex, more with a larger heap)."""
    with _lock:
        gc.collect()
        gc.freeze()
        young, middle, old = gc.get_threshold()
        if young < YOUNG:
            gc.set_threshold(YOUNG, middle, old)


@contextmanager
def paused() -> Iterator[None]:
    """Run a request with the cyclic collector paused (other threads' requests too); it resumes, if it was on,
    when the last one ends. A request's own garbage must then be free of cycles: what it leaves in one waits for
    the next collection."""
    global _paused, _resume
    with _lock:
        if _paused == 0:
            _resume = gc.isenabled()
            gc.disable()
        _paused += 1
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0 and _resume:
                gc.enable()
