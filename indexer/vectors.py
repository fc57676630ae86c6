"""The vector store: chromadb, embedded on disk by default or a shared `chroma run` server; ragls supplies vectors."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

log = logging.getLogger(__name__)


class VectorStore:
    """A chroma collection of chunk vectors keyed by content-derived ids (idempotent upserts; safe to share)."""

    def __init__(self, collection_name: str, data_dir: Path | None = None, url: str | None = None) -> None:
        import chromadb
        from chromadb.config import Settings

        settings = Settings(anonymized_telemetry=False, allow_reset=False)
        self.shared = url is not None
        self.rebuilt = False  # started afresh (unreadable, or new and empty): it needs a reconcile
        if url is not None:
            u = urlparse(url if "://" in url else f"http://{url}")
            self.client = chromadb.HttpClient(host=u.hostname or "localhost", port=u.port or 8000,
                                              ssl=u.scheme == "https", settings=settings)
        else:
            assert data_dir is not None
            self.client, self.rebuilt = self._open_local(data_dir, settings)
        # embedding_function=None: chroma must never load (download) a model of its own.
        self.collection = self.client.get_or_create_collection(
            collection_name, embedding_function=None, metadata={"hnsw:space": "cosine"})

    @staticmethod
    def _open_local(data_dir: Path, settings) -> tuple[object, bool]:
        """(client, whether the store was rebuilt)."""
        import chromadb
        from chromadb.api.shared_system_client import SharedSystemClient

        try:
            return chromadb.PersistentClient(path=str(data_dir), settings=settings), False
        except Exception as exc:  # a store damaged by a crash is rebuilt from the vectors cached in SQLite
            log.warning("vector store at %s is unreadable (%s); rebuilding it", data_dir, exc)
            # chroma keeps the system that failed to start in its per-path cache; a retry would get it back
            getattr(SharedSystemClient, "_identifier_to_system", {}).pop(str(data_dir), None)
            shutil.rmtree(data_dir, ignore_errors=True)
            return chromadb.PersistentClient(path=str(data_dir), settings=settings), True

    def upsert(self, ids: list[str], vectors: np.ndarray) -> None:
        for i in range(0, len(ids), 4000):
            self.collection.upsert(ids=ids[i:i + 4000], embeddings=vectors[i:i + 4000])

    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), 4000):
            self.collection.delete(ids=ids[i:i + 4000])

    def ids(self) -> set[str]:
        return set(self.collection.get(include=[])["ids"])

    def query(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """(id, cosine similarity) best first."""
        count = self.collection.count()
        if count == 0:
            return []
        res = self.collection.query(query_embeddings=[vector], n_results=min(n, count), include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(res["ids"][0], res["distances"][0])]
