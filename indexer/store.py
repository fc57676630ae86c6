"""The on-disk catalog: files by content hash, symbols, imports, chunks, a lexical FTS5 index and cached vectors."""
from __future__ import annotations

import logging
import os
import re
import sqlite3
import threading
import time
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple, cast

import numpy as np

from .flags import Flags

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
CREATE TABLE IF NOT EXISTS chunk_text(id INTEGER PRIMARY KEY, text TEXT NOT NULL);
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


class ChunkRow(NamedTuple):
    """A chunk as retrieval reads it from the catalog (`Store.chunk_rows`)."""

    id: int
    path: str
    start_line: int
    end_line: int
    head_end: int
    kind: str
    symbol: str  # qualname, or "" for module-level code
    tokens: int
    head_tokens: int


class KnownChunk(NamedTuple):
    """A stored chunk's counts, reused by a one-file update for the chunks it holds again (`Store.known_chunks`)."""

    text_hash: str
    symbol: str  # qualname, or "" for module-level code
    head_end: int
    start_line: int
    tokens: int
    head_tokens: int
    terms: str


class Store(Flags):
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
            db.executemany("DELETE FROM chunk_text WHERE id=?", [(r[0],) for r in rows])
            if keep:
                db.executemany("DELETE FROM chunks WHERE id=?", [(r[0],) for r in rows])
            for table in ("symbols", "imports", "refs", "files") if keep else ("chunks", "symbols", "imports", "refs",
                                                                                "files"):
                db.execute(f"DELETE FROM {table} WHERE path=?", (p,))
        return gone

    def _rows_in(self, sql: str, values: Sequence[object], size: int = 500) -> Iterator[Any]:
        """The rows of `sql`, whose `{marks}` stands for the placeholders of a list, over `values` a batch of
        `size` at a time (SQLite bounds the variables of one statement)."""
        for i in range(0, len(values), size):
            part = values[i:i + size]
            yield from self.db.execute(sql.format(marks=",".join("?" * len(part))), part)

    def cached_vectors(self, hashes: list[str]) -> dict[str, np.ndarray]:
        """Cached vectors by text hash; a blob that is not whole float32 values (damaged) counts as not cached."""
        return {h: np.frombuffer(v, dtype=np.float32)
                for h, v in self._rows_in("SELECT text_hash, vec FROM vectors WHERE text_hash IN ({marks})", hashes)
                if isinstance(v, bytes) and v and len(v) % 4 == 0}

    # ---- reads ----------------------------------------------------------------------------------------------------
    def file_state(self, path: str) -> tuple[str, str | None] | None:
        """(hash, skip_reason) of a stored file, None when the catalog has none."""
        return self.db.execute("SELECT hash, skip_reason FROM files WHERE path=?", (path,)).fetchone()

    def has_files(self) -> bool:
        return self.db.execute("SELECT 1 FROM files LIMIT 1").fetchone() is not None

    def has_chunks(self) -> bool:
        return self.db.execute("SELECT 1 FROM chunks LIMIT 1").fetchone() is not None

    def count(self, table: str, indexed_only: bool = False) -> int:
        """Rows of `files`, `symbols`, `chunks` or `vectors` (the embedding cache); `indexed_only`: files not
        skipped."""
        if table not in ("files", "symbols", "chunks", "vectors"):
            raise ValueError(f"no count of {table!r}")
        where = " WHERE skip_reason IS NULL" if indexed_only else ""
        return int(self.db.execute(f"SELECT count(*) FROM {table}{where}").fetchone()[0])

    def languages(self) -> list[str]:
        """The languages of the stored files."""
        return [lang for lang, in self.db.execute("SELECT DISTINCT language FROM files") if lang]

    def refs_of(self, paths: list[str] | None = None) -> dict[str, dict[str, int]]:
        """path -> name -> count of its references, for `paths` (None: every file)."""
        out: dict[str, dict[str, int]] = {}
        if paths is None:
            for path, name, count in self.db.execute("SELECT path, name, count FROM refs"):
                out.setdefault(path, {})[name] = count
            return out
        for path, name, count in self._rows_in("SELECT path, name, count FROM refs WHERE path IN ({marks})", paths):
            out.setdefault(path, {})[name] = count
        return out

    def known_chunks(self, path: str) -> list[KnownChunk]:
        """The stored chunks of a file with their token counts and terms."""
        return [KnownChunk._make(r) for r in self.db.execute(
            "SELECT c.text_hash, c.symbol, c.head_end, c.start_line, c.tokens, c.head_tokens, f.terms FROM chunks c "
            "JOIN chunks_fts f ON f.rowid = c.id WHERE c.path=?", (path,))]

    def chunk_rows(self, ids: list[int]) -> dict[int, ChunkRow]:
        """Chunk rows by id (ids not stored are left out)."""
        return {r[0]: ChunkRow._make(r) for r in self._rows_in(
            "SELECT id, path, start_line, end_line, head_end, kind, symbol, tokens, head_tokens FROM chunks "
            "WHERE id IN ({marks})", ids, 900)}

    def chunks_of_vectors(self, vec_ids: list[str]) -> dict[str, int]:
        """Vector id -> chunk id, for the ids the catalog holds."""
        return dict(self._rows_in("SELECT vec_id, id FROM chunks WHERE vec_id IN ({marks})", vec_ids, 900))

    def text_hashes(self, vec_ids: list[str]) -> dict[str, str]:
        """Chunk vector id -> text hash, for the ids the catalog holds."""
        return dict(self._rows_in("SELECT vec_id, text_hash FROM chunks WHERE vec_id IN ({marks})", vec_ids, 900))

    def chunk_sources(self, text_hashes: list[str]) -> dict[str, list[tuple[str, str, int, int, int, str]]]:
        """Where the chunks of these texts are: path -> (text hash, file hash, start, end, head_end, symbol) of each,
        enough to read a chunk's text again from its file (`chunks.py:chunk_text`)."""
        out: dict[str, list[tuple[str, str, int, int, int, str]]] = {}
        for path, *rest in self._rows_in(
                "SELECT c.path, c.text_hash, f.hash, c.start_line, c.end_line, c.head_end, c.symbol FROM chunks c "
                "JOIN files f ON f.path = c.path WHERE c.text_hash IN ({marks})", text_hashes):
            out.setdefault(path, []).append(tuple(rest))
        return out

    def uncached_hashes(self) -> set[str]:
        """The chunk texts whose vectors the embedding cache lacks."""
        return {h for h, in self.db.execute("SELECT DISTINCT text_hash FROM chunks WHERE text_hash NOT IN "
                                            "(SELECT text_hash FROM vectors)")}

    def all_text_hashes(self) -> dict[str, str]:
        """Every chunk's vector id -> text hash: what the vector store should hold."""
        return dict(self.db.execute("SELECT vec_id, text_hash FROM chunks").fetchall())

    # ---- writes in the caller's transaction ------------------------------------------------------------------
    def chunk_terms(self, tx: sqlite3.Connection, path: str) -> list[tuple[int, str, str]]:
        """(chunk id, vector id, terms) of a file's stored chunks, read in the transaction that rewrites it; only
        those with their text (a catalog made before it was kept has none: such chunks are written anew)."""
        return tx.execute("SELECT c.id, c.vec_id, f.terms FROM chunks c JOIN chunks_fts f ON f.rowid = c.id "
                          "JOIN chunk_text t ON t.id = c.id WHERE c.path=?", (path,)).fetchall()

    def cache_vectors(self, tx: sqlite3.Connection, rows: list[tuple[str, bytes]]) -> None:
        """Embedding cache rows (text hash, float32 bytes); a hash already cached keeps its row."""
        tx.executemany("INSERT OR IGNORE INTO vectors VALUES(?, ?)", rows)

    def insert_file(self, tx: sqlite3.Connection, row: tuple) -> None:
        """A `files` row: (path, hash, size, mtime_ns, language, has_errors, skip_reason)."""
        tx.execute("INSERT INTO files VALUES(?,?,?,?,?,?,?)", row)

    def insert_symbols(self, tx: sqlite3.Connection, rows: list[tuple]) -> None:
        """`symbols` rows: (path, name, qualname, kind, start_line, end_line, head_end, signature, doc, parent,
        type)."""
        tx.executemany("INSERT INTO symbols(path,name,qualname,kind,start_line,end_line,head_end,signature,doc,"
                       "parent,type) VALUES(?,?,?,?,?,?,?,?,?,?,?)", rows)

    def insert_imports(self, tx: sqlite3.Connection, rows: list[tuple]) -> None:
        """`imports` rows: (path, module, name, alias, line)."""
        tx.executemany("INSERT INTO imports VALUES(?,?,?,?,?)", rows)

    def insert_refs(self, tx: sqlite3.Connection, rows: list[tuple]) -> None:
        """`refs` rows: (path, name, count)."""
        tx.executemany("INSERT INTO refs VALUES(?,?,?)", rows)

    def move_chunk(self, tx: sqlite3.Connection, chunk_id: int, row: tuple) -> None:
        """A kept chunk's new place: (start_line, end_line, head_end, kind, symbol, tokens, head_tokens)."""
        tx.execute("UPDATE chunks SET start_line=?, end_line=?, head_end=?, kind=?, symbol=?, tokens=?, "
                   "head_tokens=? WHERE id=?", (*row, chunk_id))

    def insert_chunk(self, tx: sqlite3.Connection, row: tuple) -> int:
        """A `chunks` row: (path, start_line, end_line, head_end, kind, symbol, text_hash, vec_id, tokens,
        head_tokens); returns its id."""
        cur = tx.execute("INSERT INTO chunks(path,start_line,end_line,head_end,kind,symbol,text_hash,vec_id,tokens,"
                         "head_tokens) VALUES(?,?,?,?,?,?,?,?,?,?)", row)
        return cast(int, cur.lastrowid)  # an INSERT's row id

    def insert_postings(self, tx: sqlite3.Connection, rows: list[tuple[int, str, str]]) -> None:
        """Full-text rows and text of new chunks: (chunk id, its terms, its text)."""
        tx.executemany("INSERT INTO chunks_fts(rowid, terms) VALUES(?, ?)", [(r[0], r[1]) for r in rows])
        tx.executemany("INSERT OR REPLACE INTO chunk_text(id, text) VALUES(?, ?)", [(r[0], r[2]) for r in rows])

    def touch_files(self, tx: sqlite3.Connection, rows: list[tuple[int, int, str]]) -> None:
        """New (size, mtime_ns) of files whose content did not change: (size, mtime_ns, path)."""
        tx.executemany("UPDATE files SET size=?, mtime_ns=? WHERE path=?", rows)

    def reread_files_of(self, tx: sqlite3.Connection, text_hashes: list[str]) -> None:
        """Mark the files holding these chunk texts to be read again by the next refresh (`hash=''`,
        `mtime_ns=0`)."""
        for i in range(0, len(text_hashes), 500):
            part = text_hashes[i:i + 500]
            tx.execute(f"UPDATE files SET hash='', mtime_ns=0 WHERE path IN (SELECT path FROM chunks WHERE "
                       f"text_hash IN ({','.join('?' * len(part))}))", part)

    def reread_all(self, tx: sqlite3.Connection) -> None:
        """Mark every file to be read again by the next refresh."""
        tx.execute("UPDATE files SET hash='', mtime_ns=0")

    def clear_vector_cache(self, tx: sqlite3.Connection) -> None:
        """Drop the whole embedding cache (another embedder: another vector space)."""
        tx.execute("DELETE FROM vectors")

    def prune_vector_cache(self, tx: sqlite3.Connection) -> None:
        """Drop the cached vectors no chunk uses."""
        tx.execute("DELETE FROM vectors WHERE text_hash NOT IN (SELECT text_hash FROM chunks)")

    # ---- what the stored edges are resolved from (edges.py) -----------------------------------------------------
    def edge_inputs(self, paths: list[str]) -> tuple[list[tuple], list[tuple], list[tuple]]:
        """For `paths`: their `files` rows (path, language, skip_reason, hash), their top-level symbols (path,
        qualname, kind) and their imports (path, module, name, alias; each file's in order)."""
        files = list(self._rows_in("SELECT path, language, skip_reason, hash FROM files WHERE path IN ({marks})",
                                   paths))
        defs = list(self._rows_in("SELECT path, qualname, kind FROM symbols WHERE path IN ({marks}) "
                                  "AND instr(qualname, '.') = 0", paths))
        imports = list(self._rows_in("SELECT path, module, name, alias FROM imports WHERE path IN ({marks}) "
                                     "ORDER BY rowid", paths))
        return files, defs, imports

    def indexed_languages(self) -> dict[str, str]:
        """path -> language of every file not skipped."""
        return dict(self.db.execute("SELECT path, language FROM files WHERE skip_reason IS NULL"))

    def imports_of_names(self, names: list[str]) -> list[tuple[str, str, str | None]]:
        """(path, name, alias) of the imports of any of `names`."""
        return list(self._rows_in("SELECT path, name, alias FROM imports WHERE name IN ({marks})", names))

    def imports_named(self, name: str | None = None) -> Iterator[tuple[str, str, str, str | None]]:
        """(path, module, name, alias) of every import row, or of those importing `name` ('*': star imports)."""
        if name is None:
            return self.db.execute("SELECT path, module, name, alias FROM imports")
        return self.db.execute("SELECT path, module, name, alias FROM imports WHERE name = ?", (name,))

    def paths_referring(self, names: list[str]) -> set[str]:
        """The files that use any of `names`."""
        return {p for p, in self._rows_in("SELECT DISTINCT path FROM refs WHERE name IN ({marks})", names)}

    def refers_to_any(self, path: str, names: list[str]) -> bool:
        """Whether the file uses any of `names` (at most 900 of them)."""
        return self.db.execute(f"SELECT 1 FROM refs WHERE path=? AND name IN ({','.join('?' * len(names))}) LIMIT 1",
                               [path, *names]).fetchone() is not None

    # ---- the lexical postings (lexical.py) ----------------------------------------------------------------------
    def postings(self) -> Iterator[tuple[int, str]]:
        """(chunk id, its terms) of every chunk, by id."""
        return self.db.execute("SELECT rowid, terms FROM chunks_fts ORDER BY rowid")

    def postings_of(self, paths: list[str]) -> list[tuple[int, str]]:
        """(chunk id, its terms) of the chunks of `paths`."""
        return list(self._rows_in("SELECT f.rowid, f.terms FROM chunks c JOIN chunks_fts f ON f.rowid = c.id "
                                  "WHERE c.path IN ({marks})", paths))

    def chunk_paths(self) -> Iterator[tuple[int, str]]:
        """(chunk id, path) of every chunk."""
        return self.db.execute("SELECT id, path FROM chunks")

    # ---- the symbol graph (graph.py, nextname.py) --------------------------------------------------------------
    def _where_paths(self, paths: list[str] | None) -> tuple[str, list[str]]:
        return ("", []) if paths is None else (f" WHERE path IN ({','.join('?' * len(paths))})", paths)

    def definition_chunks(self, paths: list[str] | None) -> Iterator[tuple[int, str, str, int, int]]:
        """(id, path, symbol, start_line, end_line) of the chunks of a definition, of `paths` (None: every file), by
        id."""
        where, args = self._where_paths(paths)
        return self.db.execute(f"SELECT id, path, symbol, start_line, end_line FROM chunks{where}"
                               f"{' AND' if where else ' WHERE'} symbol != '' ORDER BY id", args)

    def definitions(self, paths: list[str] | None, signed: Collection[str] = ()
                    ) -> Iterator[tuple[str, str, str, str, int, int, str | None, str | None]]:
        """(path, name, qualname, kind, start_line, end_line, type, signature) of the symbols of `paths` (None: every
        file), by id; the type is None in a catalog of 0.x, the signature None but for the kinds `signed`."""
        where, args = self._where_paths(paths)
        db = self.db
        typed = "type" in {r[1] for r in db.execute("PRAGMA table_info(symbols)")}  # not in a 0.x catalog
        kinds = sorted(signed)
        sig = f"CASE WHEN kind IN ({','.join('?' * len(kinds))}) THEN coalesce(signature, '') END" if kinds else "NULL"
        return db.execute(f"SELECT path, name, qualname, kind, start_line, end_line, {'type' if typed else 'NULL'}, "
                          f"{sig} FROM symbols{where} ORDER BY id", [*kinds, *args])

    def import_rows(self, paths: list[str] | None) -> Iterator[tuple[str, str, str, str | None, int]]:
        """(path, module, name, alias, line) of the imports of `paths` (None: every file)."""
        where, args = self._where_paths(paths)
        return self.db.execute(f"SELECT path, module, name, alias, line FROM imports{where}", args)

    def indexed_among(self, paths: list[str]) -> dict[str, str]:
        """Those of `paths` the catalog holds and does not skip, with their languages."""
        return dict(self._rows_in("SELECT path, language FROM files WHERE skip_reason IS NULL AND path IN ({marks})",
                                  paths))

    def signature(self, path: str, qualname: str, start_line: int) -> str | None:
        """A definition's signature ('' when it has none); None when the catalog has no such definition."""
        row = self.db.execute("SELECT signature FROM symbols WHERE path=? AND qualname=? AND start_line=?",
                              (path, qualname, start_line)).fetchone()
        return (row[0] or "") if row is not None else None

    def top_level_qualnames(self) -> set[str]:
        return {q for q, in self.db.execute("SELECT DISTINCT qualname FROM symbols WHERE instr(qualname, '.') = 0")}

    def distinct_imports(self) -> Iterator[tuple[str, str, str | None]]:
        """(module, name, alias) of every import, each once."""
        return self.db.execute("SELECT DISTINCT module, name, alias FROM imports")

    def phrase_texts(self, phrase: str, not_path: str, limit: int) -> list[str]:
        """The text of up to `limit` chunks outside `not_path` whose terms match the FTS5 query `phrase`
        (sqlite3.Error when the full-text index cannot answer)."""
        return [r[0] for r in self.db.execute(
            "SELECT t.text FROM chunks_fts f JOIN chunks c ON c.id = f.rowid JOIN chunk_text t ON t.id = c.id "
            "WHERE chunks_fts MATCH ? AND c.path != ? LIMIT ?", (phrase, not_path, limit))]

    # -- what the language server's review and next-edit read --------------------------------------------------

    def caller_files(self, path: str, qualname: str, name: str) -> list[str]:
        """The other files whose resolved edges lead to `qualname` (or its last part `name`) of `path`."""
        return [r[0] for r in self.db.execute(
            "SELECT DISTINCT src FROM edges WHERE dst=? AND (dst_symbol=? OR dst_symbol=?) AND src<>? ORDER BY src",
            (path, qualname, name, path))]

    def files_naming(self, name: str, not_path: str, limit: int) -> list[str]:
        """At most `limit` files other than `not_path` that name `name`, those naming it most first."""
        return [r[0] for r in self.db.execute(
            "SELECT path FROM refs WHERE name=? AND path<>? ORDER BY count DESC LIMIT ?", (name, not_path, limit))]

    def indexed_paths(self) -> set[str]:
        return {p for p, in self.db.execute("SELECT path FROM files")}

    def name_file_counts(self, names: list[str]) -> dict[str, int]:
        """How many files name each of `names` (those naming none are left out)."""
        return dict(self._rows_in("SELECT name, count(DISTINCT path) FROM refs WHERE name IN ({marks}) GROUP BY name",
                                  names))

    def files_and_names(self, names: list[str]) -> Iterator[tuple[str, str]]:
        """(path, name) for each file that names one of `names`, once a pair."""
        return self._rows_in("SELECT DISTINCT path, name FROM refs WHERE name IN ({marks})", names)
