"""Bring an index up to date with the files: only changed files are parsed, only new chunk texts are embedded."""
from __future__ import annotations

import errno
import logging
import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .analyze import Analysis, analyze_bytes, content_hash, stable_mtime
from .edges import Change, LazyGraph, affected, diff, read_pending, record_pending, snapshot
from .files import NotRegular, discover, read_regular, skip_reason
from .languages import grammar, language_for
from .parse_pool import Progress, analyze_all
from .vector_sync import DeferredVectors, vec_ids

if TYPE_CHECKING:
    from .index import Index

log = logging.getLogger(__name__)
BATCH_FILES = 400  # files per transaction: a killed run loses at most one batch of work
DEFER_MAX_FILES = 50  # a run that changes at most this many files leaves its vector writes to the next reader
PENDING_MAX_CHARS = 200_000  # deferred ids past this (about 7,000) leave the store dirty: one reconcile instead
LATE_MIN_FILES = 2 * BATCH_FILES  # a run that changes more writes a local store's vectors once, after parsing
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


class Refresher:
    """One index's writer: `refresh` (the whole repository) and `update_file` (one file), through the catalog's
    named methods (`Store`, its flags) and the index's vector writes (`Index.vector_sync`). Held by its `Index`."""

    def __init__(self, index: Index) -> None:
        self.index = index

    # ---- a whole repository ------------------------------------------------------------------------------------
    def refresh(self, progress: Progress = None) -> Summary:
        """Index every changed file of the repository and drop removed ones. Holds the write lock."""
        t0 = time.perf_counter()
        summary = Summary()
        index, sync = self.index, self.index.vector_sync
        with index.write_lock():
            store = index.store
            dirty = store.vectors_dirty()  # a run stopped before storing its vectors: reconciled at the end
            interrupted = store.unsettled()  # a run stopped after writing the catalog: edges, readers behind
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
            before = snapshot(store, [*(j[1] for j in jobs), *removed])  # what the stored edges were resolved with
            gone: list[str] = []
            late = self._late_vectors(len(jobs) + len(removed))
            if self._defer_vectors(len(jobs) + len(removed)):
                sync.deferred = DeferredVectors()
            elif index.vectors_on_demand:
                sync.owed, late = True, False
            elif late:
                sync.late = True
            if removed:
                with store.transaction() as tx:
                    store.unsettle(tx)
                    gone = store.remove_files(tx, removed)
                    store.mark_vectors_dirty(tx)
            try:
                self._apply(analyze_all(index.config.workers, jobs, progress), summary, gone, catalog)
                sync.settle(dirty or late, summary)
            finally:
                sync.end_run()
            self._prune_vector_cache()
            stale = store.edges_stale()
            if summary.changed or summary.removed or store.generation() is None or stale or interrupted:
                pending = read_pending(store) if stale else []
                changes = None if store.generation() is None or pending is None or interrupted else \
                    pending + diff(before, snapshot(store, before))  # what a stopped run changed is not known
                self.store_edges(changes)
                with store.transaction() as tx:  # readers reload at a new generation: the change log is read
                    store.settle(tx, str(time.time_ns()))
            summary.files = store.count("files", indexed_only=True)
            summary.symbols = store.count("symbols")
            summary.chunks = store.count("chunks")
        summary.seconds = time.perf_counter() - t0
        return summary

    def _defer_vectors(self, files: int) -> bool:
        """Whether this run leaves its few vector writes to the next process that opens the local vector store (a
        query does, and needs the store anyway): opening it costs importing chroma, seconds against milliseconds of
        work. Never for a shared server (its other clients would not know), nor when the store is open already.
        With vectors built on demand, a small run on a store that holds the catalog notes its ids (the first
        search embeds and stores just those); any other run leaves the store dirty (`VectorSync.owed`)."""
        index, store = self.index, self.index.store
        if not 0 < files <= DEFER_MAX_FILES or store.generation() is None or store.vectors_dirty() \
                or store.reconcile_wanted():
            return False
        if index.vectors_on_demand:
            return len(store.pending_vectors() or "") < PENDING_MAX_CHARS
        return not index.vectors_open and not index.config.store_url

    def _late_vectors(self, files: int) -> bool:
        """Whether this run writes a local store's vectors once, from the embedding cache, after the parser workers
        are gone (`VectorSync.reconcile`), rather than batch by batch while they run: the same work, but chroma's
        memory and the workers' no longer add up (a cold index of sympy: peak RSS of the process tree 578 -> 458 MB).
        The catalog marks the vectors dirty until then."""
        return files >= LATE_MIN_FILES and not self.index.config.store_url

    def _apply(self, results: Iterable[Analysis], summary: Summary, gone: list[str],
               catalog: dict[str, tuple] | None = None) -> None:
        """Store analysed files in batches (`_write`), each followed by its vector writes; files touched but
        unchanged get their new size and mtime in one last transaction."""
        sync = self.index.vector_sync
        batch: list[Analysis] = []
        touched: list[Analysis] = []

        def flush() -> None:
            nonlocal gone
            if batch:
                g, added, vectors = self._write(batch, summary)
                sync.write(gone + g, added, vectors, summary)
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
            sync.write(gone, {}, {}, summary)
        if touched:
            store = self.index.store
            with store.transaction() as tx:
                store.touch_files(tx, [(a.size, a.mtime_ns, a.path) for a in touched])

    def _write(self, batch: list[Analysis], summary: Summary) -> tuple[list[str], dict[str, str],
                                                                      dict[str, np.ndarray]]:
        """Store a batch of analysed files in one transaction. Returns (vector ids no longer used, new id -> text
        hash, text hash -> vector). With vectors built on demand nothing is embedded or looked up: the new ids
        only (their vectors are built by the first search that needs them)."""
        index, store = self.index, self.index.store
        on_demand = index.vectors_on_demand
        hashes = [] if on_demand else sorted({h for a in batch if a.parsed for h in a.text_hashes})
        cached = store.cached_vectors(hashes)
        missing = [h for h in hashes if h not in cached]
        shared = None if on_demand else index.vector_sync.shared_vectors(batch, missing, summary)
        if shared is not None:
            cached.update(shared[1])
        todo = [h for h in missing if h not in cached]
        if todo:
            texts = {h: t for a in batch if a.parsed
                     for h, t in zip(a.text_hashes, (c.text for c in a.parsed.chunks), strict=True)}
            vectors = index.embedder.embed([texts[h] for h in todo])
            cached.update(zip(todo, vectors, strict=True))
            summary.embedded += len(todo)
        added: dict[str, str] = {}
        fresh = set(todo)
        fts: list[tuple[int, str, str]] = []  # (chunk id, its terms, its text), written at once
        with store.transaction() as tx:
            store.unsettle(tx)
            kept = self._kept_chunks(tx, batch)
            old = set(store.remove_files(tx, [a.path for a in batch], keep=set(kept.values())))
            old.update(kept)  # their vectors stay where they are
            store.cache_vectors(tx, [(h, cached[h].astype(np.float32).tobytes()) for h in missing])
            for a in batch:
                p = a.parsed
                store.insert_file(tx, (a.path, a.hash, a.size, a.mtime_ns, p.language if p else None,
                                       int(p.has_errors) if p else 0, a.skip_reason))
                if p is None:
                    continue
                store.insert_symbols(tx, [(s.path, s.name, s.qualname, s.kind, s.start_line, s.end_line, s.head_end,
                                           s.signature, s.doc, s.parent, s.type) for s in p.symbols])
                store.insert_imports(tx, [(a.path, i.module, i.name, i.alias, i.line) for i in p.imports])
                store.insert_refs(tx, [(a.path, n, c) for n, c in p.references.items()])
                ids = vec_ids(a.path, a.text_hashes)
                for c, tok, head, terms, h, vid in zip(p.chunks, a.tokens, a.head_tokens, a.terms, a.text_hashes,
                                                       ids, strict=True):
                    if vid in kept:  # the same text (and terms) at this path: its row moves, its postings stay
                        store.move_chunk(tx, kept[vid], (c.start_line, c.end_line, c.head_end, c.kind, c.symbol,
                                                         tok, head))
                    else:
                        cid = store.insert_chunk(tx, (a.path, c.start_line, c.end_line, c.head_end, c.kind,
                                                      c.symbol, h, vid, tok, head))
                        fts.append((cid, terms, c.text))
                    if shared is not None:  # a shared store gets what it lacks, whoever stored the rest
                        if vid not in shared[0]:
                            added[vid] = h
                    elif vid not in old or h in fresh:  # a text embedded just now cannot be in the store yet
                        added[vid] = h
                    old.discard(vid)
                summary.symbols += len(p.symbols)
                summary.chunks += len(p.chunks)
            store.insert_postings(tx, fts)
            store.mark_vectors_dirty(tx)
        return sorted(old), added, cached

    def _kept_chunks(self, tx, batch: list[Analysis]) -> dict[str, int]:
        """Vector id -> chunk id of the stored chunks a file's new analysis holds again, the same text at the
        same path with the same terms: an edit rewrites only the chunks it changed, not every posting of the file
        (most of a one-file update's commit in a large file)."""
        out: dict[str, int] = {}
        for a in batch:
            if a.parsed is None:
                continue
            new = dict(zip(vec_ids(a.path, a.text_hashes), a.terms, strict=True))
            for cid, vid, terms in self.index.store.chunk_terms(tx, a.path):
                if new.get(vid) == terms:
                    out[vid] = cid
        return out

    def _prune_vector_cache(self) -> None:
        """Keep the embedding cache (what makes branch switches cheap) bounded: past three times the live chunks,
        drop the vectors no chunk uses."""
        store = self.index.store
        cached = store.count("vectors")
        live = store.count("chunks")
        if cached > 3 * live + 1000:
            with store.transaction() as tx:
                store.prune_vector_cache(tx)
            log.info("embedding cache pruned from %d to %d vectors", cached, live)

    def store_edges(self, changes: list[Change] | None = None) -> None:
        """Resolve the imports and references of the files `changes` can affect (None: of every file) across files
        and store them in the `edges` table, equal to what a full rebuild stores."""
        from .graph import Graph, resolve_edges

        index, store = self.index, self.index.store
        paths = None if changes is None else affected(store, changes, index.root.name)
        files = store.count("files")
        if paths is not None and len(paths) > FULL_EDGES_FRACTION * max(1, files):
            paths = None  # most files: one pass over a graph read at once is cheaper
        if paths is None:
            edges = resolve_edges(Graph(store, index.root.name, index.root), store.refs_of())
        else:
            todo = sorted(paths)
            edges = resolve_edges(LazyGraph(store, index.root.name, index.root), store.refs_of(todo), todo)
        with store.transaction() as tx:
            changed = {c.path for c in changes or []}  # changes is not None where paths is not
            store.replace_edges(tx, edges, None if paths is None else sorted(paths | changed))
        log.info("edges of %s files resolved: %d", "all" if paths is None else len(paths), len(edges))

    # ---- one file ----------------------------------------------------------------------------------------------
    def update_file(self, rel: str, data: bytes | None = None) -> Summary:
        """Re-index one file now (an editor's buffer when `data` is given, else the disk); removes it when it is gone
        or not indexable. The fast path behind freshness: the edges are left to the next refresh (the names whose
        meaning changed are noted for it), and the vector writes, while no vector store is open here, to whoever
        opens it next (`VectorSync.apply_pending`)."""
        t0 = time.perf_counter()
        summary = Summary()
        index, sync = self.index, self.index.vector_sync
        with index.write_lock():
            store = index.store
            was_dirty = store.vectors_dirty()
            was_unsettled = store.unsettled()
            sync.lost = False
            before = snapshot(store, [rel])
            deferred = DeferredVectors() if self._defer_vectors(1) else None
            sync.deferred = deferred
            owed = sync.owed = deferred is None and index.vectors_on_demand
            try:
                changed = self._update_one(rel, data, summary)
            finally:
                sync.end_run()
            if changed:
                changes = diff(before, snapshot(store, [rel]))
                with store.transaction() as tx:  # readers patch their graph with the files logged here
                    store.record_change(tx, rel)
                    record_pending(tx, changes)  # the next refresh resolves the edges these can affect
                    if deferred is not None and (deferred.gone or deferred.added):
                        store.record_deferred_vectors(tx, deferred.gone, deferred.added)
                    # else the next refresh (or, vectors built on demand, the next search) reconciles: a run stopped
                    # before its vectors, a store that failed, deferred writes whose vectors the cache lost (applied
                    # during this update), or an update that owes its vectors to the next search
                    if not was_dirty and summary.vectors_error is None and not sync.lost and not owed:
                        store.clear_vectors_dirty(tx)
                    store.mark_edges_stale(tx)
                    if not was_unsettled:  # this update is recorded whole; a stopped refresh's mark stays
                        store.clear_unsettled(tx)
        summary.seconds = time.perf_counter() - t0
        return summary

    def _prime(self, rel: str, data: bytes) -> None:
        """Keep the parse of a text the index already holds (a file just opened in an editor): its first edit then
        reparses and queries only what changed (a 200 KB file: about 100 ms less)."""
        spec = language_for(rel)
        g = grammar(spec.name) if spec is not None else None
        reextractor = self.index.reextractor
        if g is None or spec is None:
            return
        source = spec.prepare(data) if spec.prepare else data  # as the analysis parses it
        if reextractor.holds(rel, source):
            return
        try:
            reextractor.extract(g, rel, source)
        except Exception as exc:  # noqa: BLE001  (only a cache: the edit parses the whole file instead)
            log.debug("%s: no parse kept: %s", rel, exc)

    def _update_one(self, rel: str, data: bytes | None, summary: Summary) -> bool:
        """The catalog's part of update_file; False when the index already holds this (nothing changed)."""
        index, store = self.index, self.index.store
        path = index.root / rel
        known = store.file_state(rel)

        def held(text: bytes) -> bool:
            """Whether the index already holds this text (a file opened or saved unchanged): its parse is then
            kept."""
            if known is None or known[1] is not None or known[0] != content_hash(text):
                return False
            self._prime(rel, text)
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
            with store.transaction() as tx:
                store.unsettle(tx)
                gone = store.remove_files(tx, [rel])
                store.mark_vectors_dirty(tx)
            index.vector_sync.write(gone, {}, {}, summary)
            summary.removed = 1
            return True
        if from_disk and held(data):  # a buffer's text was compared above
            return False
        known_chunks = {(k.text_hash, k.symbol, k.head_end - k.start_line): (k.tokens, k.head_tokens, k.terms)
                        for k in store.known_chunks(rel)}
        a = analyze_bytes(rel, data, index.config.limits, known_chunks, index.reextractor.extract)
        try:  # the disk's stat only when the disk holds this text; else the next refresh re-reads the disk
            disk, st = read_regular(path, len(data) + 1)
            a.mtime_ns = stable_mtime(st) if disk == data else 0
        except OSError:
            a.mtime_ns = 0
        self._apply([a], summary, [])
        return True
