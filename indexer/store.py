"""The on-disk catalog: files by content hash, symbols, imports, chunks, a lexical FTS5 index and cached vectors."""
from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)
SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS files(path TEXT PRIMARY KEY, hash TEXT, size INTEGER, mtime_ns INTEGER, language TEXT,
    has_errors INTEGER, skip_reason TEXT);
CREATE TABLE IF NOT EXISTS symbols(id INTEGER PRIMARY KEY, path TEXT, name TEXT, qualname TEXT, kind TEXT,
    start_line INTEGER, end_line INTEGER, head_end INTEGER, signature TEXT, doc TEXT, parent TEXT, type TEXT);
CREATE INDEX IF NOT EXISTS symbols_path ON symbols(path);
CREATE INDEX IF NOT EXISTS symbols_name ON symbols(name);
CREATE TABLE IF NOT EXISTS imports(path TEXT, module TEXT, name TEXT, alias TEXT, line INTEGER);
CREATE INDEX IF NOT EXISTS imports_path ON imports(path);
CREATE TABLE IF NOT EXISTS refs(path TEXT, name TEXT, count INTEGER);
CREATE INDEX IF NOT EXISTS refs_path ON refs(path);
CREATE INDEX IF NOT EXISTS refs_name ON refs(name);
CREATE TABLE IF NOT EXISTS chunks(id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT, start_line INTEGER,
    end_line INTEGER, head_end INTEGER, kind TEXT, symbol TEXT, text_hash TEXT, vec_id TEXT, tokens INTEGER,
    head_tokens INTEGER);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path);
CREATE INDEX IF NOT EXISTS chunks_vec ON chunks(vec_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(terms);
CREATE TABLE IF NOT EXISTS edges(src TEXT, name TEXT, dst TEXT, dst_symbol TEXT, kind TEXT);
CREATE INDEX IF NOT EXISTS edges_src ON edges(src);
CREATE INDEX IF NOT EXISTS edges_dst ON edges(dst, dst_symbol);
CREATE TABLE IF NOT EXISTS changes(seq INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT);
CREATE TABLE IF NOT EXISTS vectors(text_hash TEXT PRIMARY KEY, vec BLOB);
"""
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


_PARTS: dict[str, tuple[str, ...]] = {}  # identifier -> its sub-tokens: code repeats its identifiers
_PARTS_MAX = 200_000  # identifiers remembered (a few MB); past this the memo starts over


def _parts(ident: str) -> tuple[str, ...]:
    out: list[str] = []
    for part in ident.split("_"):
        out.extend(t.lower() for t in _CAMEL.findall(part) if len(t) > 1)
    if len(_PARTS) >= _PARTS_MAX:
        _PARTS.clear()
    _PARTS[ident] = parts = tuple(out)
    return parts


_JOINED: dict[str, str] = {}  # identifier -> its sub-tokens joined by spaces


def subtoken_text(text: str) -> str:
    """`" ".join(subtokens(text))`, faster: what the lexical index stores for a chunk."""
    idents = _IDENT.findall(text)
    memo = _JOINED
    joined = list(map(memo.get, idents))
    if None in joined:
        if len(memo) >= _PARTS_MAX:
            memo.clear()
        for i, j in enumerate(joined):
            if j is None:
                joined[i] = memo[idents[i]] = " ".join(_parts(idents[i]))
    return " ".join(filter(None, joined))


def subtokens(text: str) -> list[str]:
    """Identifiers split at snake_case and camelCase boundaries, lowercased, two characters or more."""
    out: list[str] = []
    memo = _PARTS
    for ident in _IDENT.findall(text):
        parts = memo.get(ident)
        out.extend(parts if parts is not None else _parts(ident))
    return out


class Store:
    """One SQLite database per repository (WAL: readers never block the indexer, a killed writer loses only
    its open transaction). When another process rebuilds a damaged catalog (a new file at `path`), this one follows:
    `db` reopens it, checked at most once per FOLLOW_S."""

    FOLLOW_S = 1.0
    CHECKPOINT_QUIET_S = 0.5  # deferred checkpoints wait for the commits to pause this long
    CHECKPOINT_BYTES = 4 << 20  # ... and then checkpoint a WAL past this (SQLite's own point: 1000 pages of 4 KB)
    CHECKPOINT_CAP_BYTES = 64 << 20  # ... or, the commits going on, a WAL past this (looked at every QUIET_S)

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
        self._checkpointer: threading.Thread | None = None
        self._checkpoints_lock = threading.Lock()  # start and stop may come from different threads
        self._wrote = threading.Event()  # a commit since the checkpointer last looked
        self._stop = threading.Event()  # set once: a stopped checkpointer is never started again
        self._db = self._connect()
        self._file = self._identity()
        self._checked = time.monotonic()

    def _connect(self) -> sqlite3.Connection:
        if self.readonly:
            db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, check_same_thread=False)
        try:
            if not self.readonly:
                db.execute("PRAGMA journal_mode=WAL")
                db.executescript(_SCHEMA)
                if "type" not in {r[1] for r in db.execute("PRAGMA table_info(symbols)")}:  # a catalog of 0.x
                    db.execute("ALTER TABLE symbols ADD COLUMN type TEXT")
                db.execute("INSERT OR IGNORE INTO meta VALUES('schema', ?)", (SCHEMA_VERSION,))
                db.commit()
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("PRAGMA busy_timeout=5000")
            if self._checkpointer is not None:  # a reopen keeps the checkpoints out of the commits
                self._defer_on(db)
        except BaseException:
            db.close()
            raise
        return db

    def _identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    @property
    def db(self) -> sqlite3.Connection:
        now = time.monotonic()
        if now - self._checked >= self.FOLLOW_S:
            self._checked = now
            if self.replaced():
                log.info("the catalog %s was rebuilt by another process: reopening it", self.path)
                self.reopen()
        return self._db

    def replaced(self) -> bool:
        """The file at `path` is no longer the one this connection reads (rebuilt, or moved aside)."""
        return self._identity() != self._file

    def reopen(self) -> None:
        """Connect to the file now at `path`; the old connection closes when its last cursor is done."""
        self._db = self._connect()
        self._file = self._identity()
        self._checked = time.monotonic()

    def quick_check(self) -> str | None:
        """SQLite's structural check (about 2 ms per MB): None when sound, else its first complaint."""
        rows = self._db.execute("PRAGMA quick_check(1)").fetchall()
        return None if rows and rows[0][0] == "ok" else str(rows[0][0] if rows else "no answer")

    def close(self) -> None:
        """Close the connection; with deferred checkpoints, stop them and checkpoint once more (a small WAL is left)."""
        if self.stop_checkpoints():
            try:
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:
                log.info("the catalog's WAL was not checkpointed on close: %s", exc)
        self._db.close()

    def defer_checkpoints(self) -> None:
        """Checkpoint the WAL on a background thread once the commits pause, never inside a commit: SQLite's
        autocheckpoint makes the commit that runs it cost 40-150 ms at 750k lines (a one-file update: 1-3 ms)."""
        if self.readonly:
            raise ValueError("a read-only catalog is never written: it has no checkpoints to defer")
        with self._checkpoints_lock:
            if self._checkpointer is not None or self._stop.is_set():
                return
            self._defer_on(self._db)
            self._checkpointer = threading.Thread(target=self._checkpoints, name="ragls-checkpoint", daemon=True)
            self._checkpointer.start()

    def stop_checkpoints(self) -> bool:
        """Stop the background checkpoints for good (the connection stays open); True when they were running."""
        with self._checkpoints_lock:
            self._stop.set()
            self._wrote.set()  # wakes the thread
            thread, self._checkpointer = self._checkpointer, None
        if thread is None:
            return False
        thread.join(timeout=2.0)  # a checkpoint in progress finishes on its own connection
        return True

    def _defer_on(self, db: sqlite3.Connection) -> None:
        db.execute("PRAGMA wal_autocheckpoint=0")
        # a WAL that has grown is cut back when it restarts (after a full checkpoint), so its size keeps telling
        # how much a checkpoint has to copy
        db.execute(f"PRAGMA journal_size_limit={self.CHECKPOINT_BYTES}")

    def _checkpoints(self) -> None:
        """The checkpointer's loop: after commits, once they pause (or, while they go on, when the WAL passes its
        cap), checkpoint a WAL past CHECKPOINT_BYTES. A failure is logged and tried again after the next commits."""
        while not self._stop.is_set():
            self._wrote.wait()
            self._wrote.clear()
            while not self._stop.wait(self.CHECKPOINT_QUIET_S) and self._wrote.is_set():
                self._wrote.clear()
                if self._wal_bytes() > self.CHECKPOINT_CAP_BYTES:
                    break
            if self._stop.is_set():
                return
            if self._wal_bytes() > self.CHECKPOINT_BYTES:
                try:
                    self._checkpoint()
                except Exception as exc:  # noqa: BLE001 -- the thread must outlive any failure: the next commits retry
                    log.warning("the catalog's WAL could not be checkpointed (tried again after the next writes): %s",
                                exc)

    def _wal_bytes(self) -> int:
        try:
            return os.stat(f"{self.path}-wal").st_size
        except OSError:
            return 0

    def _checkpoint(self) -> tuple[int, int, int]:
        """A PASSIVE checkpoint (it waits for no reader or writer) on a connection of its own, never the writer's:
        (busy, frames in the WAL, frames checkpointed)."""
        db = sqlite3.connect(f"{self.path.absolute().as_uri()}?mode=rw", uri=True, timeout=1.0)  # never creates it
        try:
            busy, frames, done = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            db.close()
        log.debug("checkpointed %d of %d WAL frames of %s%s", done, frames, self.path, " (busy)" if busy else "")
        return busy, frames, done

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.db
        with db:
            yield db
        self._wrote.set()  # committed: a deferred checkpoint counts its quiet period from here

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        db = self.db
        with db:
            db.execute("INSERT OR REPLACE INTO meta VALUES(?, ?)", (key, value))
        self._wrote.set()

    def catalog(self) -> dict[str, tuple[str, int, int, str | None]]:
        """path -> (hash, size, mtime_ns, skip_reason)."""
        return {r[0]: (r[1], r[2], r[3], r[4]) for r in self.db.execute(
            "SELECT path, hash, size, mtime_ns, skip_reason FROM files")}

    def remove_files(self, db: sqlite3.Connection, paths: Iterable[str], keep: Collection[int] = ()) -> list[str]:
        """Delete everything about these files but the chunks (and their postings) `keep` names, which the caller
        updates; returns the vector ids of the chunks deleted."""
        gone: list[str] = []
        for p in paths:
            rows = [r for r in db.execute("SELECT id, vec_id FROM chunks WHERE path=?", (p,)) if r[0] not in keep]
            gone.extend(r[1] for r in rows)
            db.executemany("DELETE FROM chunks_fts WHERE rowid=?", [(r[0],) for r in rows])
            if keep:
                db.executemany("DELETE FROM chunks WHERE id=?", [(r[0],) for r in rows])
            for table in ("symbols", "imports", "refs", "files") if keep else ("chunks", "symbols", "imports", "refs",
                                                                                "files"):
                db.execute(f"DELETE FROM {table} WHERE path=?", (p,))
        return gone

    def cached_vectors(self, hashes: list[str]) -> dict[str, np.ndarray]:
        """Cached vectors by text hash; a blob that is not whole float32 values (damaged) counts as not cached."""
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(hashes), 500):
            part = hashes[i:i + 500]
            q = f"SELECT text_hash, vec FROM vectors WHERE text_hash IN ({','.join('?' * len(part))})"
            out.update((h, np.frombuffer(v, dtype=np.float32)) for h, v in self.db.execute(q, part)
                       if isinstance(v, bytes) and v and len(v) % 4 == 0)
        return out
