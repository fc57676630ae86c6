"""Bring an index up to date with the files: only changed files are parsed, only new chunk texts are embedded."""
from __future__ import annotations

import errno
import hashlib
import json
import logging
import multiprocessing
import os
import sqlite3
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import cast

import numpy as np

from .analyze import Analysis, analyze_bytes, analyze_path, content_hash, stable_mtime
from .edges import (
    PENDING,
    Change,
    LazyGraph,
    affected,
    diff,
    read_pending,
    record_pending,
    snapshot,
)
from .files import NotRegular, discover, read_regular, skip_reason
from .index import DeferredVectors, Index
from .languages import grammar, language_for
from .repair import USER
from .vectors import VectorStore, VectorStoreError, VectorStoreGone, needs_check

log = logging.getLogger(__name__)
BATCH_FILES = 400  # files per transaction: a killed run loses at most one batch of work
PARALLEL_MIN = 48  # fewer changed files than this are parsed in-process
CHUNK_FILES = 8  # files a worker analyses per task
AHEAD_PER_WORKER = 4  # tasks submitted ahead of the one being consumed, per worker
DEFER_MAX_FILES = 50  # a run that changes at most this many files leaves its vector writes to the next reader
LATE_MIN_FILES = 2 * BATCH_FILES  # a run that changes more writes a local store's vectors once, after parsing
PENDING_VECTORS = "vectors_pending"  # meta key: vector ids deferred runs removed and added (JSON)
UNSETTLED = "unsettled"  # meta key: a run wrote the catalog and has not recorded its edges and generation yet
FULL_EDGES_FRACTION = 0.4  # edges of more files than this share are all resolved again, in one pass


@dataclass(slots=True)
class Summary:
    """What a refresh did."""

    files: int = 0
    changed: int = 0
    removed: int = 0
    symbols: int = 0
    chunks: int = 0
    embedded: int = 0
    skipped: Counter = field(default_factory=Counter)
    seconds: float = 0.0
    vectors_error: str | None = None  # the vector store could not be written: the catalog is, vectors follow later

    def line(self) -> str:
        skipped = sum(self.skipped.values())
        why = ", ".join(f"{n} {r}" for r, n in self.skipped.most_common())
        return (f"indexed {self.files} files ({self.changed} changed, {self.removed} removed): {self.symbols} symbols, "
                f"{self.chunks} chunks, {self.embedded} embedded; skipped {skipped}{f' ({why})' if why else ''}; "
                f"{self.seconds:.2f} s")


def _vec_ids(path: str, hashes: list[str]) -> list[str]:
    """Content-derived vector ids: the same text at the same path keeps its id when lines move."""
    seen: Counter = Counter()
    out = []
    for h in hashes:
        seen[h] += 1
        out.append(hashlib.sha1(f"{path}\0{h}\0{seen[h]}".encode()).hexdigest()[:24])
    return out


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


def _progress(total: int, enabled: Progress):
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


def _analyze_all(index: Index, jobs: list[tuple], progress: Progress) -> Iterator[Analysis]:
    cores = os.cpu_count() or 1
    # a worker per core (at most 4), this process embedding and writing while they parse: leaving it a core of its
    # own (one worker on two cores) lowered sympy's peak from 592 to 500 MB but took 71.6 s instead of 48.6 s
    workers = index.config.workers or min(cores, 4)
    bar = _progress(len(jobs), progress)
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


def _analyze_many(jobs: list[tuple]) -> list[Analysis]:
    """Worker entry for a few files at once (one round trip)."""
    return [analyze_path(job) for job in jobs]


def _write(index: Index, batch: list[Analysis], summary: Summary) -> tuple[list[str], dict[str, np.ndarray]]:
    """Store a batch of analysed files in one transaction. Returns (vector ids no longer used, new id -> vector)."""
    store = index.store
    hashes = sorted({h for a in batch if a.parsed for h in a.text_hashes})
    cached = store.cached_vectors(hashes)
    missing = [h for h in hashes if h not in cached]
    shared = _shared_vectors(index, batch, missing, summary)
    if shared is not None:
        cached.update(shared[1])
    todo = [h for h in missing if h not in cached]
    if todo:
        texts = {h: t for a in batch if a.parsed
                 for h, t in zip(a.text_hashes, (c.text for c in a.parsed.chunks), strict=True)}
        vectors = index.embedder.embed([texts[h] for h in todo])
        cached.update(zip(todo, vectors, strict=True))
        summary.embedded += len(todo)
    added: dict[str, np.ndarray] = {}
    fresh = set(todo)
    fts: list[tuple[int, str]] = []  # (chunk id, its terms), written at once
    with store.transaction() as db:
        _unsettle(db)
        kept = _kept_chunks(db, batch)
        old = set(store.remove_files(db, [a.path for a in batch], keep=set(kept.values())))
        old.update(kept)  # their vectors stay where they are
        db.executemany("INSERT OR IGNORE INTO vectors VALUES(?, ?)",
                       [(h, cached[h].astype(np.float32).tobytes()) for h in missing])
        for a in batch:
            p = a.parsed
            db.execute("INSERT INTO files VALUES(?,?,?,?,?,?,?)", (a.path, a.hash, a.size, a.mtime_ns,
                       p.language if p else None, int(p.has_errors) if p else 0, a.skip_reason))
            if p is None:
                continue
            db.executemany("INSERT INTO symbols(path,name,qualname,kind,start_line,end_line,head_end,signature,doc,"
                           "parent,type) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                           [(s.path, s.name, s.qualname, s.kind, s.start_line, s.end_line, s.head_end, s.signature,
                             s.doc, s.parent, s.type) for s in p.symbols])
            db.executemany("INSERT INTO imports VALUES(?,?,?,?,?)",
                           [(a.path, i.module, i.name, i.alias, i.line) for i in p.imports])
            db.executemany("INSERT INTO refs VALUES(?,?,?)", [(a.path, n, c) for n, c in p.references.items()])
            ids = _vec_ids(a.path, a.text_hashes)
            for c, tok, head, terms, h, vid in zip(p.chunks, a.tokens, a.head_tokens, a.terms, a.text_hashes, ids,
                                                   strict=True):
                if vid in kept:  # the same text (and terms) at this path: its row moves, its postings stay
                    db.execute("UPDATE chunks SET start_line=?, end_line=?, head_end=?, kind=?, symbol=?, tokens=?, "
                               "head_tokens=? WHERE id=?", (c.start_line, c.end_line, c.head_end, c.kind, c.symbol,
                                                            tok, head, kept[vid]))
                else:
                    cur = db.execute("INSERT INTO chunks(path,start_line,end_line,head_end,kind,symbol,text_hash,"
                                     "vec_id,tokens,head_tokens) VALUES(?,?,?,?,?,?,?,?,?,?)",
                                     (a.path, c.start_line, c.end_line, c.head_end, c.kind, c.symbol, h, vid, tok,
                                      head))
                    fts.append((cast(int, cur.lastrowid), terms))  # an INSERT's row id
                if shared is not None:  # a shared store gets what it lacks, whoever stored the rest
                    if vid not in shared[0]:
                        added[vid] = cached[h]
                elif vid not in old or h in fresh:  # a text embedded just now cannot be in the store yet
                    added[vid] = cached[h]
                old.discard(vid)
            summary.symbols += len(p.symbols)
            summary.chunks += len(p.chunks)
        db.executemany("INSERT INTO chunks_fts(rowid, terms) VALUES(?, ?)", fts)
        db.execute("INSERT OR REPLACE INTO meta VALUES('vectors_dirty', '1')")
    return sorted(old), added


def _kept_chunks(db: sqlite3.Connection, batch: list[Analysis]) -> dict[str, int]:
    """Vector id -> chunk id of the stored chunks a file's new analysis holds again, the same text at the
    same path with the same terms: an edit rewrites only the chunks it changed, not every posting of the file (most
    of a one-file update's commit in a large file)."""
    out: dict[str, int] = {}
    for a in batch:
        if a.parsed is None:
            continue
        new = dict(zip(_vec_ids(a.path, a.text_hashes), a.terms, strict=True))
        for cid, vid, terms in db.execute("SELECT c.id, c.vec_id, f.terms FROM chunks c JOIN chunks_fts f "
                                          "ON f.rowid = c.id WHERE c.path=?", (a.path,)):
            if new.get(vid) == terms:
                out[vid] = cid
    return out


def _shared_vectors(index: Index, batch: list[Analysis], missing: list[str],
                    summary: Summary) -> tuple[set[str], dict[str, np.ndarray]] | None:
    """From a shared store (a `chroma run` server): which of the batch's chunk ids it holds, and the vectors of the
    texts missing from the local cache that any clone stored (same path: by id; elsewhere: by text hash). None for a
    local store, or once the server failed in this run."""
    if not index.config.store_url or summary.vectors_error is not None:
        return None
    ids = {vid: h for a in batch if a.parsed
           for vid, h in zip(_vec_ids(a.path, a.text_hashes), a.text_hashes, strict=True)}
    try:
        held = index.vectors.fetch(sorted(ids))
        found = {ids[vid]: vec for vid, vec in held.items()}
        if rest := sorted(set(missing) - found.keys()):
            found.update(index.vectors.by_hash(rest))
    except VectorStoreError as exc:
        _vectors_failed(index, summary, exc)
        return None
    return set(held), found


def _sync_vectors(index: Index, gone: list[str], added: dict[str, np.ndarray], summary: Summary) -> None:
    """Apply a committed batch to the vector store. Once it has failed in a run (a server down, a damaged store in
    use elsewhere), the run goes on for the catalog alone: vectors_dirty stays set and the next run reconciles.
    In a run that defers its vectors (`_defer_vectors`) the batch's ids are only noted."""
    if summary.vectors_error is not None or not (gone or added) or index.late_vectors:
        return
    if (deferred := index.deferred_vectors) is not None:
        deferred.gone.update(gone)
        deferred.added.update(added)
        return
    try:
        vectors = index.vectors
        if index.store.meta(PENDING_VECTORS) is not None:  # another process deferred some: they go first
            apply_pending(index, vectors)
        hashes = None
        if vectors.shared and added:
            hashes = _text_hashes(index, list(added))
        _apply_vectors(vectors, gone, added, hashes)
    except VectorStoreError as exc:
        _vectors_failed(index, summary, exc)


def _text_hashes(index: Index, ids: list[str]) -> dict[str, str]:
    """Chunk vector id -> text hash, from the catalog."""
    out: dict[str, str] = {}
    for i in range(0, len(ids), 900):
        part = ids[i:i + 900]
        out.update(index.store.db.execute(
            f"SELECT vec_id, text_hash FROM chunks WHERE vec_id IN ({','.join('?' * len(part))})", part))
    return out


def _apply_vectors(vectors: VectorStore, gone: list[str], added: dict[str, np.ndarray],
                   hashes: dict[str, str] | None = None) -> None:
    """Delete and store vectors; a shared store keeps what another clone or branch may still use (see the README's
    team index for how its stale vectors are collected) and gets each vector's text hash (`hashes`: id -> hash)."""
    if gone and not vectors.shared:
        vectors.delete(gone)
    if added:
        ids = list(added)
        vectors.upsert(ids, np.stack(list(added.values())), [hashes[i] for i in ids] if hashes else None)


def _vectors_failed(index: Index, summary: Summary, exc: VectorStoreError) -> None:
    summary.vectors_error = str(exc)
    if isinstance(exc, VectorStoreGone):
        index.drop_vectors()  # opened anew next time: found empty, restored
    if not index.vectors_warned:  # once per index: the language server updates files often
        index.vectors_warned = True
        log.warning("%s; the catalog is up to date and the vectors are stored by the next run", exc, extra=USER)


def _defer_vectors(index: Index, files: int) -> bool:
    """Whether this run leaves its few vector writes to the next process that opens the local vector store (a
    query does, and needs the store anyway): opening it costs importing chroma, seconds against milliseconds of
    work. Never for a shared server (its other clients would not know), nor when the store is open already."""
    store = index.store
    return (0 < files <= DEFER_MAX_FILES and not index.vectors_open and not index.config.store_url
            and store.meta("generation") is not None and store.meta("vectors_dirty") != "1"
            and store.meta("vectors_reconcile") != "1")


def _late_vectors(index: Index, files: int) -> bool:
    """Whether this run writes a local store's vectors once, from the embedding cache, after the parser workers are
    gone (`reconcile`), rather than batch by batch while they run: the same work, but chroma's memory and the
    workers' no longer add up (a cold index of sympy: peak RSS of the process tree 578 -> 458 MB). The catalog
    marks the vectors dirty until then."""
    return files >= LATE_MIN_FILES and not index.config.store_url


def _record_deferred(db, deferred: DeferredVectors) -> None:
    """Add a run's deferred ids to those pending (in the transaction that clears vectors_dirty)."""
    row = db.execute("SELECT value FROM meta WHERE key=?", (PENDING_VECTORS,)).fetchone()
    pending = json.loads(row[0]) if row else {"gone": [], "added": []}
    pending = {"gone": sorted(set(pending["gone"]) | deferred.gone),
               "added": sorted(set(pending["added"]) | deferred.added)}
    db.execute("INSERT OR REPLACE INTO meta VALUES(?, ?)", (PENDING_VECTORS, json.dumps(pending)))


def apply_pending(index: Index, vectors: VectorStore) -> None:
    """Store the vector writes that runs deferred, as the catalog now needs them (an id added then removed again is
    not stored); call with the write lock held."""
    raw = index.store.meta(PENDING_VECTORS)
    if raw is None:
        return
    pending = json.loads(raw)
    live = _text_hashes(index, sorted(set(pending["gone"]) | set(pending["added"])))
    gone = [v for v in pending["gone"] if v not in live]
    cached = index.store.cached_vectors(sorted({live[v] for v in pending["added"] if v in live}))
    added = {v: cached[live[v]] for v in pending["added"] if v in live and live[v] in cached}
    if len(added) < len([v for v in pending["added"] if v in live]):  # the cache lost some: reconcile them
        index.store.set_meta("vectors_dirty", "1")
        index.vectors_lost = True  # an update running now must leave the mark for the next refresh
    _apply_vectors(vectors, gone, added, live)
    with index.store.transaction() as db:
        db.execute("DELETE FROM meta WHERE key=? AND value=?", (PENDING_VECTORS, raw))
    log.info("deferred vector writes stored: %d removed, %d added", len(gone), len(added))


def reconcile(index: Index, vectors: VectorStore | None = None) -> int:
    """Make the vector store hold exactly the chunks in the catalog (after an interrupted run, or into a new or
    rebuilt store), from the vectors cached in the catalog. Returns how many it restored."""
    vectors = vectors if vectors is not None else index.vectors
    want = dict(index.store.db.execute("SELECT vec_id, text_hash FROM chunks").fetchall())
    if vectors.shared:  # other clones' vectors stay; only this catalog's ids are asked for
        have = vectors.present(sorted(want))
    else:
        have = vectors.ids()
        vectors.delete(sorted(have - want.keys()))
    missing = sorted(want.keys() - have)
    restored: dict[str, np.ndarray] = {}
    if missing:
        cached = index.store.cached_vectors(sorted({want[v] for v in missing}))
        lost = sorted({want[v] for v in missing if want[v] not in cached})
        if lost:  # the embedding cache lost them too (pruned, salvaged in part, cleared): parse and embed again
            log.warning("%d chunk vectors were lost; their files are indexed again by the next refresh", len(lost))
            with index.store.transaction() as db:
                for i in range(0, len(lost), 500):
                    part = lost[i:i + 500]
                    db.execute(f"UPDATE files SET hash='', mtime_ns=0 WHERE path IN (SELECT path FROM chunks WHERE "
                               f"text_hash IN ({','.join('?' * len(part))}))", part)
        restored = {v: cached[want[v]] for v in missing if want[v] in cached}
        _apply_vectors(vectors, [], restored, want)
    index.store.set_meta("vectors_at", vectors.target)
    with index.store.transaction() as db:  # what runs deferred is stored now
        db.execute("DELETE FROM meta WHERE key=?", (PENDING_VECTORS,))
    log.info("vector store reconciled: %d removed, %d restored", len(have - want.keys()), len(restored))
    return len(restored)


def refresh(index: Index, progress: Progress = None) -> Summary:
    """Index every changed file of the repository and drop removed ones. Holds the write lock."""
    t0 = time.perf_counter()
    summary = Summary()
    with index.write_lock():
        store = index.store
        dirty = store.meta("vectors_dirty") == "1"  # a run stopped before storing its vectors: reconciled at the end
        interrupted = store.meta(UNSETTLED) == "1"  # a run stopped after writing the catalog: edges, readers behind
        found = discover(index.root)
        summary.skipped.update(found.skipped.values())
        catalog = store.catalog()
        jobs, keep = [], set()
        for rel in found.files:
            known = catalog.get(rel)
            try:
                st = os.lstat(index.root / rel)
            except OSError:  # tracked by git but deleted from the work tree: drop it like a removed file
                continue
            keep.add(rel)
            if known and known[1] == st.st_size and known[2] == st.st_mtime_ns:
                if known[3]:
                    summary.skipped[known[3]] += 1
                continue
            jobs.append((str(index.root), rel, known[0] if known else None, index.config.limits))
        removed = [p for p in catalog if p not in keep]
        summary.removed = len(removed)
        before = snapshot(store.db, [*(j[1] for j in jobs), *removed])  # what the stored edges were resolved with
        gone: list[str] = []
        late = _late_vectors(index, len(jobs) + len(removed))
        if _defer_vectors(index, len(jobs) + len(removed)):
            index.deferred_vectors = DeferredVectors()
        elif late:
            index.late_vectors = True
        if removed:
            with store.transaction() as db:
                _unsettle(db)
                gone = store.remove_files(db, removed)
                db.execute("INSERT OR REPLACE INTO meta VALUES('vectors_dirty', '1')")
        try:
            _apply(index, _analyze_all(index, jobs, progress), summary, gone, catalog)
            _settle_vectors(index, dirty or late, summary)
        finally:
            index.deferred_vectors, index.late_vectors = None, False
        _prune_vector_cache(index)
        stale = store.meta("edges_stale") == "1"
        if summary.changed or summary.removed or store.meta("generation") is None or stale or interrupted:
            pending = read_pending(store) if stale else []
            changes = None if store.meta("generation") is None or pending is None or interrupted else \
                pending + diff(before, snapshot(store.db, before))  # what a stopped run changed is not known
            store_edges(index, changes)
            with store.transaction() as db:  # readers reload at a new generation: the change log is read
                db.execute("INSERT OR REPLACE INTO meta VALUES('generation', ?)", (str(time.time_ns()),))
                db.execute("DELETE FROM meta WHERE key=?", (UNSETTLED,))
                db.execute("DELETE FROM changes WHERE seq < (SELECT max(seq) FROM changes)")
        _count(index, summary)
    summary.seconds = time.perf_counter() - t0
    return summary


def _unsettle(db: sqlite3.Connection) -> None:
    """Mark, in a transaction that writes the catalog, that the run writing it has not yet recorded what follows
    from it (edges, the change log, a new generation); the run clears the mark when it has. A run killed between
    leaves it, and the next refresh resolves every edge and moves the generation on, so readers reload."""
    db.execute("INSERT OR REPLACE INTO meta VALUES(?, '1')", (UNSETTLED,))


def _settle_vectors(index: Index, dirty: bool, summary: Summary) -> None:
    """End of a refresh: the vector store holds exactly the catalog's chunks (vectors_dirty cleared), or the run
    could not reach it and vectors_dirty stays set."""
    if summary.vectors_error is not None:
        return
    store = index.store
    if (deferred := index.deferred_vectors) is not None:
        with store.transaction() as db:
            if deferred.gone or deferred.added:
                _record_deferred(db, deferred)
            db.execute("INSERT OR REPLACE INTO meta VALUES('vectors_dirty', '0')")
        return
    try:
        if dirty or store.meta("vectors_reconcile") == "1":  # the latter: a reader found the store empty meanwhile
            reconcile(index)
        elif not index.vectors_open and not index.config.store_url and needs_check(index.data_dir / "chroma"):
            _ = index.vectors  # a writer died with the store open, it is gone, or its files changed: check it now
        elif not index.vectors_open and index.config.store_url:
            _ = index.vectors  # a shared collection dropped (stale vectors collected) is found empty and restored
    except VectorStoreError as exc:
        _vectors_failed(index, summary, exc)
        return
    with store.transaction() as db:
        db.execute("INSERT OR REPLACE INTO meta VALUES('vectors_dirty', '0')")
        db.execute("INSERT OR REPLACE INTO meta VALUES('vectors_reconcile', '0')")


def _apply(index: Index, results: Iterable[Analysis], summary: Summary, gone: list[str],
           catalog: dict[str, tuple] | None = None) -> None:
    batch: list[Analysis] = []
    touched: list[Analysis] = []

    def flush() -> None:
        nonlocal gone
        if batch:
            g, added = _write(index, batch, summary)
            _sync_vectors(index, gone + g, added, summary)
            gone = []
            batch.clear()

    for a in results:
        if a.unchanged:  # same content, new mtime (a checkout, a touch): still skipped for the reason it was
            touched.append(a)
            reason = catalog[a.path][3] if catalog and a.path in catalog else None
            if reason:
                summary.skipped[reason] += 1
            continue
        summary.changed += 1
        if a.skip_reason:
            summary.skipped[a.skip_reason] += 1
        batch.append(a)
        if len(batch) >= BATCH_FILES:
            flush()
    flush()
    if gone:
        _sync_vectors(index, gone, {}, summary)
    if touched:
        with index.store.transaction() as db:
            db.executemany("UPDATE files SET size=?, mtime_ns=? WHERE path=?",
                           [(a.size, a.mtime_ns, a.path) for a in touched])


def _count(index: Index, summary: Summary) -> None:
    db = index.store.db
    summary.files = db.execute("SELECT count(*) FROM files WHERE skip_reason IS NULL").fetchone()[0]
    summary.symbols = db.execute("SELECT count(*) FROM symbols").fetchone()[0]
    summary.chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]


def _prune_vector_cache(index: Index) -> None:
    """Keep the embedding cache (what makes branch switches cheap) bounded: past three times the live chunks,
    drop the vectors no chunk uses."""
    db = index.store.db
    cached = db.execute("SELECT count(*) FROM vectors").fetchone()[0]
    live = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    if cached > 3 * live + 1000:
        with index.store.transaction() as tx:
            tx.execute("DELETE FROM vectors WHERE text_hash NOT IN (SELECT text_hash FROM chunks)")
        log.info("embedding cache pruned from %d to %d vectors", cached, live)


def store_edges(index: Index, changes: list[Change] | None = None) -> None:
    """Resolve the imports and references of the files `changes` can affect (None: of every file) across files and
    store them in the `edges` table, equal to what a full rebuild stores."""
    from .graph import Graph, resolve_edges

    store = index.store
    paths = None if changes is None else affected(store, changes, index.root.name)
    files = store.db.execute("SELECT count(*) FROM files").fetchone()[0]
    if paths is not None and len(paths) > FULL_EDGES_FRACTION * max(1, files):
        paths = None  # most files: one pass over a graph read at once is cheaper
    refs: dict[str, dict[str, int]] = {}
    if paths is None:
        for path, name, count in store.db.execute("SELECT path, name, count FROM refs"):
            refs.setdefault(path, {})[name] = count
        edges = resolve_edges(Graph(store, index.root.name, index.root), refs)
    else:
        todo = sorted(paths)
        for i in range(0, len(todo), 500):
            part = todo[i:i + 500]
            for path, name, count in store.db.execute(
                    f"SELECT path, name, count FROM refs WHERE path IN ({','.join('?' * len(part))})", part):
                refs.setdefault(path, {})[name] = count
        edges = resolve_edges(LazyGraph(store, index.root.name, index.root), refs, todo)
    with store.transaction() as db:
        if paths is None:
            db.execute("DELETE FROM edges")
        else:
            changed = {c.path for c in changes or []}  # changes is not None where paths is not
            db.executemany("DELETE FROM edges WHERE src=?", [(p,) for p in sorted(paths | changed)])
        db.executemany("INSERT INTO edges VALUES(?,?,?,?,?)", edges)
        db.execute("INSERT OR REPLACE INTO meta VALUES('edges_stale', '0')")
        db.execute("DELETE FROM meta WHERE key=?", (PENDING,))
    log.info("edges of %s files resolved: %d", "all" if paths is None else len(paths), len(edges))


def update_file(index: Index, rel: str, data: bytes | None = None) -> Summary:
    """Re-index one file now (an editor's buffer when `data` is given, else the disk); removes it when it is gone
    or not indexable. The fast path behind freshness: the edges are left to the next refresh (the names whose
    meaning changed are noted for it), and the vector writes, while no vector store is open here, to whoever opens
    it next (`apply_pending`)."""
    t0 = time.perf_counter()
    summary = Summary()
    with index.write_lock():
        was_dirty = index.store.meta("vectors_dirty") == "1"
        was_unsettled = index.store.meta(UNSETTLED) == "1"
        index.vectors_lost = False
        before = snapshot(index.store.db, [rel])
        deferred = DeferredVectors() if _defer_vectors(index, 1) else None
        index.deferred_vectors = deferred
        try:
            changed = _update_one(index, rel, data, summary)
        finally:
            index.deferred_vectors = None
        if changed:
            changes = diff(before, snapshot(index.store.db, [rel]))
            with index.store.transaction() as db:  # readers patch their graph with the files logged here
                db.execute("INSERT INTO changes(path) VALUES(?)", (rel,))
                record_pending(db, changes)  # the next refresh resolves the edges these can affect
                if deferred is not None and (deferred.gone or deferred.added):
                    _record_deferred(db, deferred)
                # else the next refresh reconciles: a run stopped before its vectors, a store that failed, or deferred
                # writes whose vectors the cache lost (applied during this update)
                if not was_dirty and summary.vectors_error is None and not index.vectors_lost:
                    db.execute("INSERT OR REPLACE INTO meta VALUES('vectors_dirty', '0')")
                db.execute("INSERT OR REPLACE INTO meta VALUES('edges_stale', '1')")
                if not was_unsettled:  # this update is recorded whole; a stopped refresh's mark stays
                    db.execute("DELETE FROM meta WHERE key=?", (UNSETTLED,))
    summary.seconds = time.perf_counter() - t0
    return summary


def _prime(index: Index, rel: str, data: bytes) -> None:
    """Keep the parse of a text the index already holds (a file just opened in an editor): its first edit then
    reparses and queries only what changed (a 200 KB file: about 100 ms less)."""
    spec = language_for(rel)
    g = grammar(spec.name) if spec is not None else None
    if g is None or index.reextractor.holds(rel, data):
        return
    try:
        index.reextractor.extract(g, rel, data)
    except Exception as exc:  # noqa: BLE001  (only a cache: the edit parses the whole file instead)
        log.debug("%s: no parse kept: %s", rel, exc)


def _update_one(index: Index, rel: str, data: bytes | None, summary: Summary) -> bool:
    """The catalog's part of update_file; False when the index already holds this (nothing changed)."""
    path = index.root / rel
    known = index.store.db.execute("SELECT hash, skip_reason FROM files WHERE path=?", (rel,)).fetchone()

    def held(text: bytes) -> bool:
        """Whether the index already holds this text (a file opened or saved unchanged): its parse is then kept."""
        if known is None or known[1] is not None or known[0] != content_hash(text):
            return False
        _prime(index, rel, text)
        return True

    from_disk = data is None
    if data is not None and held(data):
        return False
    reason = skip_reason(index.root, rel) or ("symbolic link" if path.is_symlink() else None)
    if reason is None and data is None:
        try:  # never a FIFO (it would block the writer forever), nor through a link
            data, _ = read_regular(path, index.config.limits.max_file_bytes + 1)
        except NotRegular as exc:
            data, reason = None, "symbolic link" if exc.errno == errno.ELOOP else "not a regular file"
        except OSError:
            data = None
    if data is None or reason:
        index.reextractor.forget(rel)
        if known is None:
            return False  # nothing indexed, nothing to remove
        with index.store.transaction() as db:
            _unsettle(db)
            gone = index.store.remove_files(db, [rel])
            db.execute("INSERT OR REPLACE INTO meta VALUES('vectors_dirty', '1')")
        _sync_vectors(index, gone, {}, summary)
        summary.removed = 1
        return True
    if from_disk and held(data):  # a buffer's text was compared above
        return False
    known_chunks = {(h, sym, head - start): (tok, head_tok, terms) for h, sym, head, start, tok, head_tok, terms in
                    index.store.db.execute("SELECT c.text_hash, c.symbol, c.head_end, c.start_line, c.tokens, "
                                           "c.head_tokens, f.terms FROM chunks c JOIN chunks_fts f ON f.rowid = c.id "
                                           "WHERE c.path=?", (rel,))}
    a = analyze_bytes(rel, data, index.config.limits, known_chunks, index.reextractor.extract)
    try:  # the disk's stat only when the disk holds this text; else the next refresh re-reads the disk
        disk, st = read_regular(path, len(data) + 1)
        a.mtime_ns = stable_mtime(st) if disk == data else 0
    except OSError:
        a.mtime_ns = 0
    _apply(index, [a], summary, [])
    return True
