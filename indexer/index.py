"""One repository's index: its catalog, vector store and embedder, opened lazily."""
from __future__ import annotations

import hashlib
import logging
import re
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from .config import IndexConfig
from .embed import STATIC_NAME, Embedder, make_embedder
from .lock import WriteLock
from .store import Store
from .vectors import VectorStore

log = logging.getLogger(__name__)


class IndexMissing(RuntimeError):
    """No index was built for this repository yet."""


class Index:
    """Entry point of the engine for a repository: `refresh` it, then ask its `retriever`."""

    def __init__(self, config: IndexConfig) -> None:
        self.config = config
        self.root = config.root.resolve()
        self.data_dir = config.data_path

    @classmethod
    def open(cls, root: str | Path, **kwargs) -> "Index":
        return cls(IndexConfig(root=Path(root), **kwargs))

    @cached_property
    def store(self) -> Store:
        store = Store(self.data_dir / "index.db")
        name = self.embedder_name
        if store.meta("embedder") not in (None, name):
            log.warning("embedder changed to %s: clearing cached vectors", name)
            with store.transaction() as db:
                db.execute("DELETE FROM vectors")
                db.execute("UPDATE files SET hash='', mtime_ns=0")
        store.set_meta("embedder", name)
        return store

    @cached_property
    def embedder_name(self) -> str:
        spec = self.config.embedder or "static"
        return STATIC_NAME if spec == "static" else spec

    @cached_property
    def embedder(self) -> Embedder:
        return make_embedder(self.config.embedder)

    @cached_property
    def collection_name(self) -> str:
        """One chroma collection per data folder and embedder (vector spaces never mix), within 60 characters."""
        name = re.sub(r"[^A-Za-z0-9_-]", "-", f"ragls-{self.data_dir.name}-{self.embedder_name}").strip("-")
        if len(name) > 60:  # cutting it short could drop the embedder's name: end with a hash of the whole
            name = f"{name[:47].rstrip('-_')}-{hashlib.sha1(name.encode()).hexdigest()[:12]}"
        return name

    @cached_property
    def vectors(self) -> VectorStore:
        vectors = VectorStore(self.collection_name, self.data_dir / "chroma" if not self.config.store_url else None,
                              self.config.store_url)
        if not vectors.rebuilt and vectors.collection.count() == 0:
            # a new collection (or a wiped server) for a catalog that has chunks: it needs them restored too
            vectors.rebuilt = self.store.db.execute("SELECT 1 FROM chunks LIMIT 1").fetchone() is not None
        if vectors.rebuilt:  # empty now: the next refresh restores it from the cached vectors
            self.store.set_meta("vectors_dirty", "1")
        return vectors

    def exists(self) -> bool:
        return (self.data_dir / "index.db").exists()

    @contextmanager
    def write_lock(self):
        with WriteLock(self.data_dir / "write.lock"):
            yield

    def refresh(self, progress=None):
        """Bring the index up to date; `progress`: a terminal bar (None: when stderr is a terminal) or a
        callback (done, total)."""
        from .refresh import refresh

        return refresh(self, progress)

    def update_file(self, rel: str, data: bytes | None = None):
        from .refresh import update_file

        return update_file(self, rel, data)
