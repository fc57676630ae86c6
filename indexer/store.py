"""The on-disk catalog: files by content hash, symbols, imports, chunks, a lexical FTS5 index and cached vectors."""
from __future__ import annotations

import logging
import os
import re
import sqlite3
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

    def __init__(self, path: Path, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly
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
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        db = self.db
        with db:
            yield db

    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        db = self.db
        with db:
            db.execute("INSERT OR REPLACE INTO meta VALUES(?, ?)", (key, value))

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

    def lexical(self, terms: list[str], limit: int) -> list[tuple[int, float]]:
        """(chunk id, score) best first: BM25 over identifier sub-tokens (higher is better)."""
        uniq = sorted(set(terms))
        if not uniq:
            return []
        match = " OR ".join(f'"{t}"' for t in uniq[:256])
        rows = self.db.execute("SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? "
                               "ORDER BY bm25(chunks_fts) LIMIT ?", (match, limit)).fetchall()
        return [(r[0], -r[1]) for r in rows]
