"""The vector store kept equal to the catalog's chunks: a run's writes (at once, deferred, or once at its end), the
writes other runs deferred, and `reconcile` after an interrupted run or into a new store."""
from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .repair import USER
from .vectors import VectorStore, VectorStoreError, VectorStoreGone, needs_check

if TYPE_CHECKING:
    from .analyze import Analysis
    from .index import Index
    from .refresh import Summary

log = logging.getLogger(__name__)


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
    an update then leaves `vectors_dirty` set), and whether a failed write was reported (once per index)."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.deferred: DeferredVectors | None = None
        self.late = False
        self.lost = False
        self.warned = False

    def end_run(self) -> None:
        """The run's way of writing vectors is over (its deferred ids are recorded or abandoned)."""
        self.deferred, self.late = None, False

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

    def write(self, gone: list[str], added: dict[str, np.ndarray], summary: Summary) -> None:
        """Apply a committed batch to the vector store. Once it has failed in a run (a server down, a damaged store
        in use elsewhere), the run goes on for the catalog alone: vectors_dirty stays set and the next run
        reconciles. In a run that defers its vectors the batch's ids are only noted; a late run writes nothing now."""
        if summary.vectors_error is not None or not (gone or added) or self.late:
            return
        if (deferred := self.deferred) is not None:
            deferred.gone.update(gone)
            deferred.added.update(added)
            return
        index = self.index
        try:
            vectors = index.vectors
            if index.store.pending_vectors() is not None:  # another process deferred some: they go first
                self.apply_pending(vectors)
            hashes = None
            if vectors.shared and added:
                hashes = index.store.text_hashes(list(added))
            apply_vectors(vectors, gone, added, hashes)
        except VectorStoreError as exc:
            self.failed(summary, exc)

    def settle(self, dirty: bool, summary: Summary) -> None:
        """End of a refresh: the vector store holds exactly the catalog's chunks (vectors_dirty cleared), or the run
        could not reach it and vectors_dirty stays set."""
        if summary.vectors_error is not None:
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
        cached = store.cached_vectors(sorted({live[v] for v in pending["added"] if v in live}))
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
        else:
            have = vectors.ids()
            vectors.delete(sorted(have - want.keys()))
        missing = sorted(want.keys() - have)
        restored: dict[str, np.ndarray] = {}
        if missing:
            cached = store.cached_vectors(sorted({want[v] for v in missing}))
            lost = sorted({want[v] for v in missing if want[v] not in cached})
            if lost:  # the embedding cache lost them too (pruned, salvaged in part, cleared): parse and embed again
                log.warning("%d chunk vectors were lost; their files are indexed again by the next refresh", len(lost))
                with store.transaction() as tx:
                    store.reread_files_of(tx, lost)
            restored = {v: cached[want[v]] for v in missing if want[v] in cached}
            apply_vectors(vectors, [], restored, want)
        store.set_vectors_at(vectors.target)
        with store.transaction() as tx:  # what runs deferred is stored now
            store.clear_pending_vectors(tx)
        log.info("vector store reconciled: %d removed, %d restored", len(have - want.keys()), len(restored))
        return len(restored)
