"""One repository's index: its catalog, vector store and embedder, opened lazily (and repaired when damaged), and
closed by `Index.close`."""
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
from typing import TYPE_CHECKING, TypeVar

from .analyze import extractor_version
from .config import IndexConfig
from .embed import STATIC_NAME, Embedder, make_embedder
from .lock import IndexLocked, WriteLock
from .reextract import Reextractor
from .repair import CatalogDamaged, is_damage, open_catalog, open_vectors, repair_catalog, restore
from .store import Store
from .vectors import VectorStore, VectorStoreError, VectorStoreUnreachable

if TYPE_CHECKING:
    from .parse_pool import Progress
    from .refresh import Refresher, Summary
    from .vector_sync import VectorSync

log = logging.getLogger(__name__)
T = TypeVar("T")
STORE_RETRY_S = 30.0  # a shared store found unreachable is not asked again for this long (queries stay quick)


class Index:
    """Entry point of the engine for a repository: `refresh` it, then ask its `retriever`."""

    # one opening of each handle at a time in a process, as `functools.cached_property` gave them in Python 3.11 (the
    # language server's writer and reader threads each have an Index on the same folder)
    _opening_store = threading.RLock()
    _opening_vectors = threading.RLock()
    _making = threading.Lock()  # one Refresher and one VectorSync per index

    def __init__(self, config: IndexConfig) -> None:
        self.config = config
        self.root = config.root.resolve()
        self.data_dir = config.data_path
        self._lock: WriteLock | None = None
        self._lock_owner: int | None = None
        self._store: Store | None = None  # the catalog, once opened (`store`)
        self._vectors: VectorStore | None = None  # the vector store, once opened (`vectors`)
        self._vectors_paused: str | None = None  # why `vectors` may not be opened now (`pause_vectors`)
        self._store_down: tuple[float, str] | None = None  # a shared store found unreachable: until when, and why
        self._refresher: Refresher | None = None  # this index's writer (`refresher`)
        self._vector_sync: VectorSync | None = None  # its vector writes and the state of the run now (`vector_sync`)

    @classmethod
    def open(cls, root: str | Path, **kwargs) -> "Index":
        return cls(IndexConfig(root=Path(root), **kwargs))

    @property
    def store(self) -> Store:
        """The catalog, opened on first use (rebuilt there if damaged); a failed open is tried again on the next."""
        if (store := self._store) is None:
            with self._opening_store:
                if (store := self._store) is None:
                    store = self._store = open_catalog(self, self._prepare)
        return store

    @property
    def store_open(self) -> bool:
        """Whether the catalog is open (asking does not open it)."""
        return self._store is not None

    def _prepare(self, store: Store) -> None:
        name = self.embedder_name
        if store.meta("embedder") not in (None, name):
            log.warning("embedder changed to %s: clearing cached vectors", name)
            with store.transaction() as tx:
                store.clear_vector_cache(tx)
                store.reread_all(tx)
        store.set_meta("embedder", name)
        if store.meta("extractor") != (version := extractor_version()):
            if store.meta("extractor") is not None or store.has_files():
                log.info("the index was made by another version of ragls's analysis: its files are read again")
                with store.transaction() as tx:
                    store.reread_all(tx)
            store.set_meta("extractor", version)

    @property
    def refresher(self) -> Refresher:
        """This index's writer: `refresh` and `update_file` (made on first use)."""
        if (refresher := self._refresher) is None:
            from .refresh import Refresher

            with self._making:
                if (refresher := self._refresher) is None:
                    refresher = self._refresher = Refresher(self)
        return refresher

    @property
    def vector_sync(self) -> VectorSync:
        """This index's vector writes (`vector_sync.VectorSync`): the run's deferred or late writes, deferred writes
        applied, reconcile (made on first use)."""
        if (sync := self._vector_sync) is None:
            from .vector_sync import VectorSync

            with self._making:
                if (sync := self._vector_sync) is None:
                    sync = self._vector_sync = VectorSync(self)
        return sync

    @cached_property
    def reextractor(self) -> Reextractor:
        """The last parses of the files this index updates one at a time (an editor's buffers)."""
        return Reextractor()

    @cached_property
    def embedder_name(self) -> str:
        spec = self.config.embedder or "static"
        return STATIC_NAME if spec == "static" else spec

    @cached_property
    def vectors_on_demand(self) -> bool:
        """Whether the vectors are built when a search first needs them rather than by every refresh: with the
        static embedder, code context reads no vectors (`Retriever._similarity`), only searches do, so an index and
        its updates neither embed nor open the vector store (`VectorSync.catch_up`). A model embedder's vectors
        serve code context: written as the catalog is."""
        return self.embedder_name == STATIC_NAME

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

    @property
    def vectors(self) -> VectorStore:
        """The vector store, opened on first use; raises VectorStoreError (unreachable server, damaged store that
        cannot be rebuilt now, `pause_vectors`: retrieval goes on without it) and is then tried again on the next.
        Vectors built on demand are brought up to the catalog first (`catch_up_vectors`)."""
        if (vectors := self._vectors) is None:
            if self._vectors_paused is not None:
                raise VectorStoreError(self._vectors_paused)
            with self._opening_vectors:
                if (vectors := self._vectors) is None:
                    vectors = self._vectors = self._open_vectors()
        if self.vectors_on_demand:
            self.catch_up_vectors(vectors)
        return vectors

    def catch_up_vectors(self, vectors: VectorStore) -> None:
        """Vectors built on demand: embed and store what the catalog's writes left owed (`VectorSync.catch_up`),
        under the write lock; while a writer holds it, the store answers as it is and the next use tries again."""
        if not self.store.vectors_behind():
            return
        try:
            with self.write_lock(wait_in_process=False):
                self.vector_sync.catch_up(vectors)
        except IndexLocked as exc:
            log.debug("vectors not brought up to date now: %s", exc)

    @property
    def vectors_open(self) -> bool:
        """Whether the vector store is open in this process (asking does not open it)."""
        return self._vectors is not None

    def drop_vectors(self) -> VectorStore | None:
        """Forget the open vector store without closing it (a collection found gone: the next use opens it anew,
        finds it empty and restores it). Returns the store that was open."""
        vectors, self._vectors = self._vectors, None
        return vectors

    def close_vectors(self) -> bool:
        """Close the open vector store; the next use opens it again. True when one was open."""
        if (vectors := self.drop_vectors()) is None:
            return False
        vectors.close()
        return True

    def pause_vectors(self, why: str) -> bool:
        """Close the open vector store and refuse to open it (VectorStoreError(why)) until `resume_vectors`: another
        process writes it meanwhile. True when one was open."""
        self._vectors_paused = why
        return self.close_vectors()

    def resume_vectors(self) -> None:
        """Let the vector store open again on its next use (after `pause_vectors`)."""
        self._vectors_paused = None

    def close(self) -> None:
        """Close the vector store and the catalog if they are open (a no-op when they are not, so closing twice is
        fine). The index stays usable: its next use opens them again, as the first did."""
        self.close_vectors()
        store, self._store = self._store, None
        if store is not None:
            store.close()

    def _open_vectors(self) -> VectorStore:
        if self.config.store_url:
            down = self._store_down
            if down is not None and time.monotonic() < down[0]:
                raise VectorStoreUnreachable(down[1])  # asked again within STORE_RETRY_S: the same answer, at once
            try:
                vectors = VectorStore.remote(self.collection_name, self.config.store_url)
            except VectorStoreUnreachable as exc:
                self._store_down = (time.monotonic() + STORE_RETRY_S, str(exc))
                raise
        else:
            vectors = open_vectors(self)
        known = self.store.vectors_at()  # where the catalog's vectors were last stored
        moved = known != vectors.target and (known is not None or vectors.shared)
        if not self.store.has_chunks():
            if moved:
                self.store.set_vectors_at(vectors.target)
        elif self.vectors_on_demand:
            if known != vectors.target or vectors.count() == 0:  # never built here, or emptied: reconciled first
                self.store.want_reconcile()
        elif moved or vectors.count() == 0:
            # a new collection (the store deleted, a server wiped, another server) for a catalog that has chunks:
            # restore them (into a shared one, only those it lacks)
            try:
                with self.write_lock(wait_in_process=False):
                    restore(self, vectors)
            except IndexLocked:
                self.store.want_reconcile()  # the writer at work reconciles at the end of its run
        elif self.store.pending_vectors() is not None:  # writes a run left to whoever opens the store next
            try:
                with self.write_lock(wait_in_process=False):
                    self.vector_sync.apply_pending(vectors)
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

    def refresh(self, progress: Progress = None) -> Summary:
        """Bring the index up to date; `progress`: a terminal bar (None: when stderr is a terminal) or a
        callback (done, total)."""
        return self.heal(lambda: self.refresher.refresh(progress))

    def update_file(self, rel: str, data: bytes | None = None) -> Summary:
        """Re-index one file now (see `Refresher.update_file`); a catalog never fully built (new, interrupted, or
        just rebuilt from damage) is built first."""
        def run() -> Summary:
            if self.store.generation() is None:
                self.refresher.refresh(False)
            return self.refresher.update_file(rel, data)

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
