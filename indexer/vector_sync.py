"""The vector store kept equal to the catalog's chunks: a run's writes (at once, deferred, or once at its end), the
writes other runs deferred, and `reconcile` after an interrupted run or into a new store. With vectors built on demand
(the static embedder: `Index.vectors_on_demand`), runs write none and `catch_up` embeds and stores what the catalog
holds when a search first needs it."""
from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .analyze import analyze_bytes, content_hash, split_lines
from .chunks import chunk_text
from .files import read_regular
from .repair import USER
from .vectors import VectorStore, VectorStoreError, VectorStoreGone, needs_check

if TYPE_CHECKING:
    from .analyze import Analysis
    from .index import Index
    from .refresh import Summary

log = logging.getLogger(__name__)
BUILD_FILES = 400  # files whose chunk texts are read and embedded at a time when vectors are built on demand
SAY_FROM = 1000  # a build of this many texts (or a store's first) is said on the command line, smaller ones logged


def vec_ids(path: str, hashes: list[str]) -> list[str]:
    """Content-derived vector ids: the same text at the same path keeps its id when lines move."""
    seen: Counter = Counter()
    out = []
    for h in hashes:
        seen[h] += 1
        out.append(hashlib.sha1(f"{path}\0{h}\0{seen[h]}".encode()).hexdigest()[:24])
    return out


@dataclass(slots=True)
class DeferredVectors:
    """The vector ids a run removed and added, stored by whoever next opens the vector store (`apply_pending`)."""

    gone: set[str] = field(default_factory=set)
    added: set[str] = field(default_factory=set)


def apply_vectors(vectors: VectorStore, gone: list[str], added: dict[str, np.ndarray],
                  hashes: dict[str, str] | None = None) -> None:
    """Delete and store vectors; a shared store keeps what another clone or branch may still use (see the README's
    team index for how its stale vectors are collected) and gets each vector's text hash (`hashes`: id -> hash)."""
    if gone and not vectors.shared:
        vectors.delete(gone)
    if added:
        ids = list(added)
        vectors.upsert(ids, np.stack(list(added.values())), [hashes[i] for i in ids] if hashes else None)


class VectorSync:
    """One index's vector writes. Holds the state of the run in progress: the ids it defers (`deferred`), whether it
    writes them once at its end (`late`), whether applying deferred writes found vectors the cache lost (`lost`:
    an update then leaves `vectors_dirty` set), whether it leaves them to the first search that needs them
    (`owed`), whether a failed write was reported (once per index), and how many texts `catch_up` embedded."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.deferred: DeferredVectors | None = None
        self.late = False
        self.owed = False
        self.lost = False
        self.warned = False
        self.embedded = 0

    def end_run(self) -> None:
        """The run's way of writing vectors is over (its deferred ids are recorded or abandoned)."""
        self.deferred, self.late, self.owed = None, False, False

    def failed(self, summary: Summary, exc: VectorStoreError) -> None:
        summary.vectors_error = str(exc)
        if isinstance(exc, VectorStoreGone):
            self.index.drop_vectors()  # opened anew next time: found empty, restored
        if not self.warned:  # once per index: the language server updates files often
            self.warned = True
            log.warning("%s; the catalog is up to date and the vectors are stored by the next run", exc, extra=USER)

    def shared_vectors(self, batch: list[Analysis], missing: list[str],
                       summary: Summary) -> tuple[set[str], dict[str, np.ndarray]] | None:
        """From a shared store (a `chroma run` server): which of the batch's chunk ids it holds, and the vectors of
        the texts missing from the local cache that any clone stored (same path: by id; elsewhere: by text hash).
        None for a local store, or once the server failed in this run."""
        index = self.index
        if not index.config.store_url or summary.vectors_error is not None:
            return None
        ids = {vid: h for a in batch if a.parsed
               for vid, h in zip(vec_ids(a.path, a.text_hashes), a.text_hashes, strict=True)}
        try:
            held = index.vectors.fetch(sorted(ids))
            found = {ids[vid]: vec for vid, vec in held.items()}
            if rest := sorted(set(missing) - found.keys()):
                found.update(index.vectors.by_hash(rest))
        except VectorStoreError as exc:
            self.failed(summary, exc)
            return None
        return set(held), found

    def write(self, gone: list[str], added: dict[str, str], vectors: dict[str, np.ndarray],
              summary: Summary) -> None:
        """Apply a committed batch to the vector store (`added`: new id -> text hash; `vectors`: text hash ->
        vector). Once it has failed in a run (a server down, a damaged store in use elsewhere), the run goes on for
        the catalog alone: vectors_dirty stays set and the next run reconciles. In a run that defers its vectors the
        batch's ids are only noted; a late run writes nothing now, nor does a run that owes its vectors to the first
        search."""
        if summary.vectors_error is not None or not (gone or added) or self.late or self.owed:
            return
        if (deferred := self.deferred) is not None:
            deferred.gone.update(gone)
            deferred.added.update(added)
            return
        index = self.index
        try:
            store = index.vectors
            if index.store.pending_vectors() is not None:  # another process deferred some: they go first
                self.apply_pending(store)
            apply_vectors(store, gone, {vid: vectors[h] for vid, h in added.items()},
                          added if store.shared else None)
        except VectorStoreError as exc:
            self.failed(summary, exc)

    def settle(self, dirty: bool, summary: Summary) -> None:
        """End of a refresh: the vector store holds exactly the catalog's chunks (vectors_dirty cleared), or the run
        could not reach it, or owes its vectors to the first search, and vectors_dirty stays set."""
        if summary.vectors_error is not None or self.owed:
            return
        index, store = self.index, self.index.store
        if (deferred := self.deferred) is not None:
            with store.transaction() as tx:
                if deferred.gone or deferred.added:
                    store.record_deferred_vectors(tx, deferred.gone, deferred.added)
                store.clear_vectors_dirty(tx)
            return
        try:
            if dirty or store.reconcile_wanted():  # the latter: a reader found the store empty meanwhile
                self.reconcile()
            elif not index.vectors_open and not index.config.store_url and needs_check(index.data_dir / "chroma"):
                _ = index.vectors  # a writer died with the store open, it is gone, or its files changed: check it now
            elif not index.vectors_open and index.config.store_url:
                _ = index.vectors  # a shared collection dropped (stale vectors collected) is found empty and restored
        except VectorStoreError as exc:
            self.failed(summary, exc)
            return
        with store.transaction() as tx:
            store.settle_vectors(tx)

    def apply_pending(self, vectors: VectorStore) -> None:
        """Store the vector writes that runs deferred, as the catalog now needs them (an id added then removed again
        is not stored); call with the write lock held."""
        store = self.index.store
        raw = store.pending_vectors()
        if raw is None:
            return
        pending = json.loads(raw)
        live = store.text_hashes(sorted(set(pending["gone"]) | set(pending["added"])))
        gone = [v for v in pending["gone"] if v not in live]
        cached = self._vectors_of({live[v] for v in pending["added"] if v in live}, vectors)
        added = {v: cached[live[v]] for v in pending["added"] if v in live and live[v] in cached}
        if len(added) < len([v for v in pending["added"] if v in live]):  # the cache lost some: reconcile them
            store.mark_vectors_dirty_now()
            self.lost = True  # an update running now must leave the mark for the next refresh
        apply_vectors(vectors, gone, added, live)
        with store.transaction() as tx:
            store.clear_pending_vectors(tx, raw)
        log.info("deferred vector writes stored: %d removed, %d added", len(gone), len(added))

    def reconcile(self, vectors: VectorStore | None = None) -> int:
        """Make the vector store hold exactly the chunks in the catalog (after an interrupted run, or into a new or
        rebuilt store), from the vectors cached in the catalog. Returns how many it restored."""
        store = self.index.store
        vectors = vectors if vectors is not None else self.index.vectors
        want = store.all_text_hashes()
        if vectors.shared:  # other clones' vectors stay; only this catalog's ids are asked for
            have = vectors.present(sorted(want))
            if self.index.vectors_on_demand:
                self._cache_held(vectors, want, have)
        else:
            have = vectors.ids()
            vectors.delete(sorted(have - want.keys()))
        missing = sorted(want.keys() - have)
        restored: dict[str, np.ndarray] = {}
        if missing:
            cached = self._vectors_of({want[v] for v in missing}, vectors)
            lost = sorted({want[v] for v in missing if want[v] not in cached})
            if lost:  # the embedding cache lost them too (pruned, salvaged in part, cleared): parse and embed again
                if self.index.vectors_on_demand:  # their files changed since: read again, embedded on the next use
                    self.lost = True
                    log.info("%d chunk texts differ from their files; those files are indexed again by the next "
                             "refresh", len(lost))
                else:
                    log.warning("%d chunk vectors were lost; their files are indexed again by the next refresh",
                                len(lost))
                with store.transaction() as tx:
                    store.reread_files_of(tx, lost)
            restored = {v: cached[want[v]] for v in missing if want[v] in cached}
            apply_vectors(vectors, [], restored, want)
        store.set_vectors_at(vectors.target)
        with store.transaction() as tx:  # what runs deferred is stored now
            store.clear_pending_vectors(tx)
        log.info("vector store reconciled: %d removed, %d restored", len(have - want.keys()), len(restored))
        return len(restored)

    def catch_up(self, vectors: VectorStore) -> None:
        """Vectors built on demand: make the store hold every chunk of the catalog before a search reads it. After
        catalog writes that left the store behind (`vectors_dirty`: a cold index, a large refresh, an interrupted
        one) or a store found empty or new (`vectors_reconcile`): `reconcile`, embedding the texts not cached; after
        small runs that noted their ids (`vectors_pending`): `apply_pending`. Idempotent: a use interrupted here is
        completed by the next one. Call with the write lock held."""
        store = self.index.store
        self.lost = False
        if store.vectors_dirty() or store.reconcile_wanted():
            self.reconcile(vectors)
            if not self.lost:  # else the texts that differ from their files leave it dirty: reconciled next time
                with store.transaction() as tx:
                    store.settle_vectors(tx)
        elif store.pending_vectors() is not None:
            self.apply_pending(vectors)

    def _cache_held(self, vectors: VectorStore, want: dict[str, str], have: set[str]) -> None:
        """Keep in the embedding cache the vectors a shared store holds of this catalog's chunks, as a refresh that
        writes vectors keeps those it fetches: a dropped or wiped collection is then restored from this cache."""
        store = self.index.store
        uncached = store.uncached_hashes()
        ids = sorted(vid for vid in have if want[vid] in uncached)
        if ids:
            held = vectors.fetch(ids)
            with store.transaction() as tx:
                store.cache_vectors(tx, [(want[vid], v.astype(np.float32).tobytes()) for vid, v in held.items()])

    def _vectors_of(self, hashes: set[str], vectors: VectorStore) -> dict[str, np.ndarray]:
        """The vectors of these chunk texts that can be had: cached in the catalog; with vectors built on demand
        also those a shared store holds (stored by any clone, found by text hash) and, for the rest, embedded now
        from the texts read again from their files."""
        store = self.index.store
        found = store.cached_vectors(sorted(hashes))
        if not self.index.vectors_on_demand or not (rest := hashes - found.keys()):
            return found
        if vectors.shared:
            held = vectors.by_hash(sorted(rest))
            with store.transaction() as tx:  # kept: a wiped server is restored from this cache
                store.cache_vectors(tx, [(h, v.astype(np.float32).tobytes()) for h, v in held.items()])
            found.update(held)
            rest -= held.keys()
        if rest:
            found.update(self._embed_from_files(rest, first=store.vectors_at() != vectors.target))
        return found

    def _embed_from_files(self, hashes: set[str], first: bool) -> dict[str, np.ndarray]:
        """Embed the chunk texts of these hashes, read again from their files (`chunks.py:chunk_text` over the
        catalog's spans, or the file analysed again where that differs), and cache them, BUILD_FILES files at a
        time (an interrupted build keeps what it cached). A text whose file no longer holds it is left out."""
        index, store = self.index, self.index.store
        sources = store.chunk_sources(sorted(hashes))
        if first or len(hashes) >= SAY_FROM:  # seconds of work: one line on the command line
            log.warning("embedding %s chunks for search%s", f"{len(hashes):,}", " (first use)" if first else "",
                        extra=USER)
        else:
            log.info("embedding %d chunks for search", len(hashes))
        out: dict[str, np.ndarray] = {}
        paths = sorted(sources)
        for i in range(0, len(paths), BUILD_FILES):
            texts: dict[str, str] = {}
            for path in paths[i:i + BUILD_FILES]:
                texts.update(self._texts_of(path, sources[path], hashes))
            todo = sorted(texts.keys() - out.keys())
            if not todo:
                continue
            embedded = index.embedder.embed([texts[h] for h in todo])
            with store.transaction() as tx:
                store.cache_vectors(tx, [(h, v.astype(np.float32).tobytes()) for h, v in zip(todo, embedded,
                                                                                          strict=True)])
            out.update(zip(todo, embedded, strict=True))
            self.embedded += len(todo)
        return out

    def _texts_of(self, path: str, rows: list[tuple[str, str, int, int, int, str]],
                  wanted: set[str]) -> dict[str, str]:
        """The wanted chunk texts of one file, read from the disk, each checked against its hash."""
        limits = self.index.config.limits
        try:
            data, _ = read_regular(self.index.root / path, limits.max_file_bytes + 1)
        except OSError as exc:
            log.debug("%s: its chunks cannot be read again: %s", path, exc)
            return {}
        lines = split_lines(data)
        out: dict[str, str] = {}
        for h, _, start, end, head_end, symbol in rows:
            if h in wanted and h not in out:
                text = chunk_text(lines, start, end, head_end, symbol)
                if content_hash(text.encode()) == h:
                    out[h] = text
        if wanted.intersection(r[0] for r in rows) - out.keys() and content_hash(data) == rows[0][1]:
            a = analyze_bytes(path, data, limits)  # the catalog's text, cut otherwise than its spans say
            if a.parsed is not None:
                for h, c in zip(a.text_hashes, a.parsed.chunks, strict=True):
                    if h in wanted:
                        out.setdefault(h, c.text)
        return out
