"""One repository's index: its catalog, vector store and embedder, opened lazily (and repaired when damaged)."""
from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TypeVar

from .analyze import extractor_version
from .config import IndexConfig
from .embed import STATIC_NAME, Embedder, make_embedder
from .lock import IndexLocked, WriteLock
from .reextract import Reextractor
from .repair import CatalogDamaged, is_damage, open_catalog, open_vectors, repair_catalog, restore
from .store import Store
from .vectors import VectorStore, VectorStoreUnreachable

log = logging.getLogger(__name__)
T = TypeVar("T")
STORE_RETRY_S = 30.0  # a shared store found unreachable is not asked again for this long (queries stay quick)


class Index:
    """Entry point of the engine for a repository: `refresh` it, then ask its `retriever`."""

    def __init__(self, config: IndexConfig) -> None:
        self.config = config
        self.root = config.root.resolve()
        self.data_dir = config.data_path
        self._lock: WriteLock | None = None
        self._lock_owner: int | None = None

    @classmethod
    def open(cls, root: str | Path, **kwargs) -> "Index":
        return cls(IndexConfig(root=Path(root), **kwargs))

    @cached_property
    def store(self) -> Store:
        return open_catalog(self, self._prepare)

    def _prepare(self, store: Store) -> None:
        name = self.embedder_name
        if store.meta("embedder") not in (None, name):
            log.warning("embedder changed to %s: clearing cached vectors", name)
            with store.transaction() as db:
                db.execute("DELETE FROM vectors")
                db.execute("UPDATE files SET hash='', mtime_ns=0")
        store.set_meta("embedder", name)
        if store.meta("extractor") != (version := extractor_version()):
            if store.meta("extractor") is not None or store.db.execute("SELECT 1 FROM files LIMIT 1").fetchone():
                log.info("the index was made by another version of ragls's analysis: its files are read again")
                with store.transaction() as db:
                    db.execute("UPDATE files SET hash='', mtime_ns=0")
            store.set_meta("extractor", version)

    @cached_property
    def reextractor(self) -> Reextractor:
        """The last parses of the files this index updates one at a time (an editor's buffers)."""
        return Reextractor()

    @cached_property
    def embedder_name(self) -> str:
        spec = self.config.embedder or "static"
        return STATIC_NAME if spec == "static" else spec

    @cached_property
    def embedder(self) -> Embedder:
        c = self.config
        return make_embedder(c.embedder, c.embed_base_url, c.embed_api_key_env)

    @cached_property
    def collection_name(self) -> str:
        """One chroma collection per repository and embedder (vector spaces never mix), within 60 characters. On a
        shared server every clone of a repository uses the same one (named by `repository_identity`); a local store
        and a folder outside git keep one per data folder."""
        identity = self.repository_identity() if self.config.store_url else None
        if identity is not None:
            base = f"ragls-{hashlib.sha1(identity.encode()).hexdigest()[:16]}-{self.embedder_name}"
        else:
            base = f"ragls-{self.data_dir.name}-{self.embedder_name}"
        name = re.sub(r"[^A-Za-z0-9_-]", "-", base).strip("-")
        if len(name) > 60:  # cutting it short could drop the embedder's name: end with a hash of the whole
            name = f"{name[:47].rstrip('-_')}-{hashlib.sha1(name.encode()).hexdigest()[:12]}"
        return name

    def repository_identity(self) -> str | None:
        """What every clone of this repository shares (see `repository_identity`); remembered in the catalog, since
        walking a long history takes a while."""
        known = self.store.meta("repository")
        if known:
            return known
        found = repository_identity(self.root)
        if found is not None:
            self.store.set_meta("repository", found)
        return found

    @cached_property
    def vectors(self) -> VectorStore:
        """The vector store; raises VectorStoreError (unreachable server, damaged store that cannot be rebuilt now:
        retrieval goes on without it) and is then tried again on the next use."""
        if self.config.store_url:
            down = getattr(self, "_store_down", None)
            if down is not None and time.monotonic() < down[0]:
                raise VectorStoreUnreachable(down[1])  # asked again within STORE_RETRY_S: the same answer, at once
            try:
                vectors = VectorStore.remote(self.collection_name, self.config.store_url)
            except VectorStoreUnreachable as exc:
                self._store_down = (time.monotonic() + STORE_RETRY_S, str(exc))
                raise
        else:
            vectors = open_vectors(self)
        known = self.store.meta("vectors_at")  # where the catalog's vectors were last stored
        moved = known != vectors.target and (known is not None or vectors.shared)
        if self.store.db.execute("SELECT 1 FROM chunks LIMIT 1").fetchone() is None:
            if moved:
                self.store.set_meta("vectors_at", vectors.target)
        elif moved or vectors.count() == 0:
            # a new collection (the store deleted, a server wiped, another server) for a catalog that has chunks:
            # restore them (into a shared one, only those it lacks)
            try:
                with self.write_lock(wait_in_process=False):
                    restore(self, vectors)
            except IndexLocked:
                self.store.set_meta("vectors_reconcile", "1")  # the writer at work reconciles at the end of its run
        elif self.store.meta("vectors_pending") is not None:  # writes a run left to whoever opens the store next
            from .refresh import apply_pending

            try:
                with self.write_lock(wait_in_process=False):
                    apply_pending(self, vectors)
            except IndexLocked:
                pass  # the writer at work stores them with its first vector write
        return vectors

    def exists(self) -> bool:
        return (self.data_dir / "index.db").exists()

    @contextmanager
    def write_lock(self, wait_in_process: bool = True, check: bool = True) -> Iterator[None]:
        """Hold the index's write lock (re-entrant in the holding thread). If the last holder died while writing,
        the catalog gets SQLite's quick check first (CatalogDamaged: `heal` rebuilds it)."""
        if self._lock is not None and self._lock_owner == threading.get_ident():
            yield
            return
        lock = WriteLock(self.data_dir / "write.lock")
        lock.acquire(wait_in_process)
        self._lock, self._lock_owner = lock, threading.get_ident()
        try:
            if check and lock.unclean and self.exists():
                log.info("a writer of %s died while writing: checking the catalog", self.data_dir)
                if (problem := self.store.quick_check()) is not None:
                    raise CatalogDamaged(f"quick_check: {problem}")
            yield
        finally:
            self._lock, self._lock_owner = None, None
            lock.release()

    def heal(self, fn: Callable[[], T]) -> T:
        """Run `fn` (a refresh, an update, a query); if the catalog turns out damaged, rebuild it and run `fn` once
        more. IndexLocked when another process holds the damaged index."""
        try:
            return fn()
        except sqlite3.DatabaseError as exc:
            if not is_damage(exc):
                raise
            why = str(exc)
        repair_catalog(self, why)
        return fn()

    def refresh(self, progress=None):
        """Bring the index up to date; `progress`: a terminal bar (None: when stderr is a terminal) or a
        callback (done, total)."""
        from .refresh import refresh

        return self.heal(lambda: refresh(self, progress))

    def update_file(self, rel: str, data: bytes | None = None):
        """Re-index one file now (see refresh.update_file); a catalog never fully built (new, interrupted, or just
        rebuilt from damage) is built first."""
        from .refresh import refresh, update_file

        def run():
            if self.store.meta("generation") is None:
                refresh(self, False)
            return update_file(self, rel, data)

        return self.heal(run)


def repository_identity(root: Path) -> str | None:
    """The repository's root commit(s) and the indexed folder within it: the same in every clone, whatever its path,
    remote or branch (forks share it too, which only saves work: vector ids derive from path and text). A shallow
    clone's oldest commits depend on its depth, so it is named by its `origin` remote instead. None outside git,
    before the first commit, or for a shallow clone without a remote (a collection per data folder then)."""
    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.debug("git %s: %s", args[0], exc)
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    prefix = (git("rev-parse", "--show-prefix") or "").rstrip("/")
    if git("rev-parse", "--is-shallow-repository") == "true":
        remote = normalize_remote(git("config", "--get", "remote.origin.url") or "")
        return f"remote {remote}\n{prefix}" if remote else None
    roots = git("rev-list", "--max-parents=0", "HEAD")
    return f"roots {' '.join(sorted(roots.split()))}\n{prefix}" if roots else None


def normalize_remote(url: str) -> str:
    """One spelling of a remote for every way to clone it (shallow clones are named by it): `git@host:org/repo.git`,
    `ssh://git@host/org/repo` and `https://user@host/org/repo/` all become `host/org/repo` (credentials dropped)."""
    url = url.strip()
    if not url:
        return ""
    if "://" in url:
        rest = url.split("://", 1)[1]
    elif re.match(r"^[^/:]+:(?!/)", url) and not re.match(r"^[A-Za-z]:[\\/]", url):  # scp-like host:path
        rest = url.replace(":", "/", 1)
    else:
        return url.rstrip("/").removesuffix(".git")  # a local path
    host, _, path = rest.partition("/")
    host = host.rsplit("@", 1)[-1].lower()
    host = re.sub(r":(22|80|443)$", "", host)
    return f"{host}/{path}".rstrip("/").removesuffix(".git")
