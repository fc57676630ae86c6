"""Damage on disk is repaired, never a traceback: a catalog SQLite cannot read is moved aside and rebuilt (its
embedding cache salvaged), and a vector store that fails its check is rebuilt from the vectors cached in SQLite."""
from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .lock import IndexLocked
from .store import Store
from .vectors import (VectorStore, VectorStoreDamaged, check_local, other_users, record_fingerprint, reopened,
                      wipe)

if TYPE_CHECKING:
    from .index import Index

log = logging.getLogger(__name__)
USER = {"user": True}  # a log record the command line prints as one plain "ragls: ..." line
_DAMAGE_CODES = {11, 26}  # SQLITE_CORRUPT (and its extended codes), SQLITE_NOTADB
_HASH = re.compile(r"[0-9a-f]{32}")
SALVAGE_STEP = 256  # rowids read per query while salvaging; a damaged stretch is skipped this many at a time


class CatalogDamaged(sqlite3.DatabaseError):
    """SQLite's own check found the catalog damaged."""


def is_damage(exc: BaseException) -> bool:
    """A damaged database file, as opposed to a busy, locked, read-only or missing one."""
    if isinstance(exc, CatalogDamaged):
        return True
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _DAMAGE_CODES
    text = str(exc)
    return "malformed" in text or "not a database" in text


# ---- the catalog -----------------------------------------------------------------------------------------------

def open_catalog(index: "Index", prepare: Callable[[Store], None]) -> Store:
    """The catalog, opened and `prepare`d; rebuilt first when SQLite finds it damaged."""
    path = index.data_dir / "index.db"
    try:
        return _opened(path, prepare)
    except sqlite3.DatabaseError as exc:
        if not is_damage(exc):
            raise
        why = str(exc)
    with _repairing(index, why):
        try:  # another process may have rebuilt it while this one waited
            return _opened(path, prepare)
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
        rebuild_catalog(index.data_dir, index.embedder_name, why)
    return _opened(path, prepare)


def _opened(path: Path, prepare: Callable[[Store], None]) -> Store:
    store = Store(path)
    try:
        prepare(store)
    except BaseException:
        store.close()
        raise
    return store


def repair_catalog(index: "Index", why: str) -> None:
    """The open catalog failed with damage: rebuild it, unless another process already has (then follow it)."""
    with _repairing(index, why):
        store = index.store if index.store_open else None
        if store is not None and store.replaced():
            store.reopen()
            return
        rebuild_catalog(index.data_dir, index.embedder_name, why)
        if store is not None:
            store.reopen()


@contextmanager
def _repairing(index: "Index", why: str) -> Iterator[None]:
    """The index's write lock for a repair; if another process holds it, IndexLocked that says the index is
    damaged."""
    held = ExitStack()
    try:
        held.enter_context(index.write_lock(check=False))
    except IndexLocked as exc:
        raise IndexLocked(f"the index at {index.data_dir} is damaged ({why}); {exc}") from None
    with held:
        yield


def rebuild_catalog(data_dir: Path, embedder: str, why: str) -> int:
    """Move the damaged catalog aside (index.db.damaged), start a new one holding the embedding cache rows that
    can still be read, and mark its vector store for a reconcile. Returns how many cached vectors were kept.
    Call with the write lock held."""
    path, aside = data_dir / "index.db", data_dir / "index.db.damaged"
    for suffix in ("-wal", "-shm", ""):
        Path(f"{aside}{suffix}").unlink(missing_ok=True)
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{path}{suffix}").exists():
            os.replace(f"{path}{suffix}", f"{aside}{suffix}")
    kept = salvage_vectors(aside, embedder)
    store = Store(path)
    try:
        with store.transaction() as tx:
            store.cache_vectors(tx, kept)
            store.set_embedder(tx, embedder)
            store.mark_vectors_dirty(tx)  # the next refresh reconciles
    finally:
        store.close()
    log.warning("the index at %s was damaged (%s); rebuilt (%d cached vectors kept, the damaged file moved to %s)",
                data_dir, why, len(kept), aside.name, extra=USER)
    return len(kept)


def salvage_vectors(path: Path, embedder: str) -> list[tuple[str, bytes]]:
    """The embedding cache rows of a damaged catalog that can be read and look right (text hash, whole unit-length
    float32 vectors of the common length), if it was made by `embedder`."""
    try:
        db = sqlite3.connect(path)
    except sqlite3.Error as exc:
        log.info("nothing salvaged from %s: %s", path, exc)
        return []
    try:
        owner = db.execute("SELECT value FROM meta WHERE key='embedder'").fetchone()
        if owner is None or owner[0] != embedder:
            log.info("no vectors salvaged from %s: made by %s, not %s", path, owner and owner[0], embedder)
            return []
        rows = [(h, v) for h, v in _readable(db) if isinstance(h, str) and _HASH.fullmatch(h)
                and isinstance(v, bytes) and v and len(v) % 4 == 0]
    except sqlite3.DatabaseError as exc:
        log.info("nothing salvaged from %s: %s", path, exc)
        return []
    finally:
        db.close()
    if not rows:
        return []
    sizes = np.bincount([len(v) for _, v in rows])
    size = int(sizes.argmax())
    kept = []
    for h, v in rows:
        if len(v) != size:
            continue
        vec = np.frombuffer(v, dtype=np.float32)
        norm = float(np.linalg.norm(vec)) if np.isfinite(vec).all() else -1.0
        if abs(norm - 1.0) < 1e-3 or norm == 0.0:  # embedders store unit-length vectors
            kept.append((h, v))
    return kept


def _readable(db: sqlite3.Connection) -> Iterator[tuple[object, object]]:
    """(text_hash, vec) of every vectors row SQLite can still read, stepping over damaged stretches."""
    try:
        top = db.execute("SELECT max(rowid) FROM vectors").fetchone()[0] or 0
    except sqlite3.DatabaseError:
        top = None
    pos, empty = 0, 0  # without a known top rowid, give up after this many unreadable stretches in a row
    while (top is None and empty < 64) or (top is not None and pos < top):
        try:
            rows = db.execute("SELECT rowid, text_hash, vec FROM vectors WHERE rowid > ? ORDER BY rowid LIMIT ?",
                              (pos, SALVAGE_STEP)).fetchall()
        except sqlite3.DatabaseError:
            stretch = _one_by_one(db, pos)
            pos += SALVAGE_STEP
            empty = 0 if stretch else empty + 1
            yield from stretch
            continue
        if not rows:
            return
        for rowid, h, v in rows:
            pos = rowid
            yield h, v


def _one_by_one(db: sqlite3.Connection, pos: int) -> list[tuple[object, object]]:
    """The readable rows of a damaged stretch, each read alone."""
    out = []
    for rowid in range(pos + 1, pos + SALVAGE_STEP + 1):
        try:
            row = db.execute("SELECT text_hash, vec FROM vectors WHERE rowid = ?", (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            continue
        if row is not None:
            out.append(row)
    return out


# ---- the vector store ------------------------------------------------------------------------------------------

def open_vectors(index: "Index") -> VectorStore:
    """The local vector store, checked before chroma's native code touches it in this process. A damaged one is
    wiped and rebuilt from the catalog's cached vectors when this index may write (else VectorStoreDamaged:
    retrieval goes on without vectors until the indexer rebuilds it)."""
    data_dir = index.data_dir / "chroma"
    why = check_local(data_dir)
    if why is None:
        try:
            return VectorStore.local(index.collection_name, data_dir)
        except Exception as exc:  # chroma refused its files (a damaged chroma.sqlite3): rebuild the store
            why = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else type(exc).__name__
    try:
        with index.write_lock(wait_in_process=False):
            users = other_users(data_dir)
            if users:
                raise VectorStoreDamaged(f"the vector store at {data_dir} is damaged ({why}) and open in process "
                                         f"{', '.join(map(str, users))}; it is rebuilt once they have closed it")
            with reopened(data_dir):
                wipe(data_dir)
                store = VectorStore.local(index.collection_name, data_dir)
            restored = restore(index, store)
    except IndexLocked:
        raise VectorStoreDamaged(f"the vector store at {data_dir} is damaged ({why}); the indexer now at work "
                                 "will rebuild it") from None
    log.warning("the vector store at %s was damaged (%s); rebuilt from %d cached vectors", data_dir, why, restored,
                extra=USER)
    return store


def restore(index: "Index", vectors: VectorStore) -> int:
    """Fill an empty (new, wiped) store from the catalog's cached vectors; call with the write lock held."""
    restored = index.vector_sync.reconcile(vectors)
    if vectors.data_dir is not None:
        record_fingerprint(vectors.data_dir)
    return restored
