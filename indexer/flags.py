"""The catalog's consistency flags (its `meta` rows) and change log, read and written through named methods.

What each flag means, who sets it and who clears it, and what a crash between two steps leaves, is the table "State:
tables and flags" in README.md. The methods that write take the open transaction (`tx`) of the caller, so that a
flag changes in the same commit as the rows it describes; `Store.transaction()` opens one.
"""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from contextlib import AbstractContextManager

VECTORS_DIRTY = "vectors_dirty"  # '1': the vector store may not hold exactly the catalog's chunks
VECTORS_RECONCILE = "vectors_reconcile"  # '1': a reader found the store empty or moved while a writer held the lock
VECTORS_PENDING = "vectors_pending"  # JSON {gone, added}: vector ids deferred runs left to the next opener
VECTORS_AT = "vectors_at"  # where the catalog's vectors were last stored
UNSETTLED = "unsettled"  # '1': a run wrote the catalog and has not recorded its edges and generation yet
GENERATION = "generation"  # the catalog was fully built; when a refresh last stored edges (time_ns)
EDGES_STALE = "edges_stale"  # '1': update_file changed files since the edges were stored
EDGES_PENDING = "edges_pending"  # JSON [path, names, moved] per file, or "full": what those updates changed


def meta_in(tx: sqlite3.Connection, key: str) -> str | None:
    """A meta value read in the caller's transaction (or on any connection to a catalog)."""
    row = tx.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
    return row[0] if row else None


def set_meta_in(tx: sqlite3.Connection, key: str, value: str) -> None:
    """A meta value written in the caller's transaction."""
    tx.execute("INSERT OR REPLACE INTO meta VALUES(?, ?)", (key, value))


def delete_meta_in(tx: sqlite3.Connection, key: str, value: str | None = None) -> None:
    """A meta row deleted in the caller's transaction; with `value`, only while it still holds that value."""
    if value is None:
        tx.execute("DELETE FROM meta WHERE key=?", (key,))
    else:
        tx.execute("DELETE FROM meta WHERE key=? AND value=?", (key, value))


class Flags:
    """The flag protocol of a catalog; `Store` provides the connection (`db`) and the transactions."""

    @property
    def db(self) -> sqlite3.Connection:
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    # ---- any meta row -------------------------------------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        """One meta value, in a transaction of its own."""
        with self.transaction() as tx:
            set_meta_in(tx, key, value)

    # ---- reads --------------------------------------------------------------------------------------------------
    def generation(self) -> str | None:
        """When a refresh last built the catalog whole; None: never (new, interrupted first build, rebuilt)."""
        return self.meta(GENERATION)

    def vectors_dirty(self) -> bool:
        return self.meta(VECTORS_DIRTY) == "1"

    def unsettled(self) -> bool:
        return self.meta(UNSETTLED) == "1"

    def edges_stale(self) -> bool:
        return self.meta(EDGES_STALE) == "1"

    def reconcile_wanted(self) -> bool:
        """A reader found the vector store empty or moved while a writer held the lock (`want_reconcile`)."""
        return self.meta(VECTORS_RECONCILE) == "1"

    def vectors_behind(self) -> bool:
        """Whether the vector store may lack writes the catalog holds: `vectors_dirty`, `vectors_reconcile` or
        `vectors_pending` set (one read: a search asks before each use of vectors built on demand)."""
        return self.db.execute("SELECT 1 FROM meta WHERE (key IN (?, ?) AND value='1') OR key=? LIMIT 1",
                               (VECTORS_DIRTY, VECTORS_RECONCILE, VECTORS_PENDING)).fetchone() is not None

    def pending_vectors(self) -> str | None:
        """The raw JSON of the vector writes runs deferred (`record_deferred_vectors`), None when there are none."""
        return self.meta(VECTORS_PENDING)

    def vectors_at(self) -> str | None:
        return self.meta(VECTORS_AT)

    def change_seq(self) -> int:
        """The last `changes` row's number (0 before any): a reader compares it with the one it last read."""
        return int(self.db.execute("SELECT coalesce(max(seq), 0) FROM changes").fetchone()[0])

    def changed_since(self, seq: int) -> list[str]:
        """The files of the `changes` rows after `seq`, sorted, each once."""
        return sorted({p for p, in self.db.execute("SELECT path FROM changes WHERE seq > ?", (seq,))})

    # ---- writes in the caller's transaction --------------------------------------------------------------------
    def mark_vectors_dirty(self, tx: sqlite3.Connection) -> None:
        """In the transaction that writes the catalog's chunks: the store may lack them until a run settles."""
        set_meta_in(tx, VECTORS_DIRTY, "1")

    def clear_vectors_dirty(self, tx: sqlite3.Connection) -> None:
        """The store holds the catalog's chunks, or their writes are recorded in `vectors_pending`."""
        set_meta_in(tx, VECTORS_DIRTY, "0")

    def settle_vectors(self, tx: sqlite3.Connection) -> None:
        """End of a refresh that reached the store: nothing dirty, no reconcile asked for."""
        set_meta_in(tx, VECTORS_DIRTY, "0")
        set_meta_in(tx, VECTORS_RECONCILE, "0")

    def unsettle(self, tx: sqlite3.Connection) -> None:
        """In every transaction that writes the catalog: the run has not yet recorded what follows from it (edges,
        the change log, a new generation). A run killed before it does leaves the mark, and the next refresh resolves
        every edge and moves the generation on, so readers reload."""
        set_meta_in(tx, UNSETTLED, "1")

    def clear_unsettled(self, tx: sqlite3.Connection) -> None:
        """An update recorded whole (its change row, its pending edges)."""
        delete_meta_in(tx, UNSETTLED)

    def settle(self, tx: sqlite3.Connection, generation: str) -> None:
        """A refresh done: a new generation (readers reload), the mark cleared, the change log cut to its last row
        (so that `change_seq` never falls)."""
        set_meta_in(tx, GENERATION, generation)
        delete_meta_in(tx, UNSETTLED)
        tx.execute("DELETE FROM changes WHERE seq < (SELECT max(seq) FROM changes)")

    def record_change(self, tx: sqlite3.Connection, path: str) -> None:
        """A `changes` row: readers patch their graph and postings with this file."""
        tx.execute("INSERT INTO changes(path) VALUES(?)", (path,))

    def mark_edges_stale(self, tx: sqlite3.Connection) -> None:
        set_meta_in(tx, EDGES_STALE, "1")

    def replace_edges(self, tx: sqlite3.Connection, edges: list[tuple], sources: Iterable[str] | None) -> None:
        """Store resolved edges: those of `sources` (None: every file's) replaced; the edges are then current."""
        if sources is None:
            tx.execute("DELETE FROM edges")
        else:
            tx.executemany("DELETE FROM edges WHERE src=?", [(p,) for p in sources])
        tx.executemany("INSERT INTO edges VALUES(?,?,?,?,?)", edges)
        set_meta_in(tx, EDGES_STALE, "0")
        delete_meta_in(tx, EDGES_PENDING)

    def record_deferred_vectors(self, tx: sqlite3.Connection, gone: set[str], added: set[str]) -> None:
        """Add a run's deferred vector ids to those pending (in the transaction that clears vectors_dirty)."""
        raw = meta_in(tx, VECTORS_PENDING)
        pending = json.loads(raw) if raw is not None else {"gone": [], "added": []}
        pending = {"gone": sorted(set(pending["gone"]) | gone), "added": sorted(set(pending["added"]) | added)}
        set_meta_in(tx, VECTORS_PENDING, json.dumps(pending))

    def clear_pending_vectors(self, tx: sqlite3.Connection, raw: str | None = None) -> None:
        """The deferred writes are stored; with `raw`, only those read then (compare-and-delete: a run that deferred
        more meanwhile keeps its own)."""
        delete_meta_in(tx, VECTORS_PENDING, raw)

    def set_embedder(self, tx: sqlite3.Connection, name: str) -> None:
        """The vector space of the embedding cache (a catalog rebuilt with salvaged rows)."""
        set_meta_in(tx, "embedder", name)

    # ---- writes in a transaction of their own ------------------------------------------------------------------
    def mark_vectors_dirty_now(self) -> None:
        with self.transaction() as tx:
            self.mark_vectors_dirty(tx)

    def want_reconcile(self) -> None:
        """A reader found the store empty or moved and cannot take the lock: the writer at work reconciles."""
        self.set_meta(VECTORS_RECONCILE, "1")

    def set_vectors_at(self, target: str) -> None:
        self.set_meta(VECTORS_AT, target)
