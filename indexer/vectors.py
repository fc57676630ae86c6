"""The vector store: chromadb, embedded on disk by default or a shared `chroma run` server; ragls supplies vectors."""
from __future__ import annotations

import atexit
import logging
import os
import shutil
import subprocess
import sys
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
        self._marker: Path | None = None
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

    def close(self) -> None:
        """Mark this process's use of the local store as ended cleanly."""
        if self._marker is not None:
            self._marker.unlink(missing_ok=True)
            self._marker = None

    def _open_local(self, data_dir: Path, settings) -> tuple[object, bool]:
        """(client, whether the store was rebuilt)."""
        import chromadb
        from chromadb.api.shared_system_client import SharedSystemClient

        wiped = False
        if _left_unclean(data_dir) and not _probe(data_dir):
            # chroma's native code can crash (not raise) on files a killed writer left half-written: the store was
            # opened in a child process first, which died; rebuild it from the vectors cached in SQLite
            log.warning("vector store at %s is damaged (a probe crashed); rebuilding it", data_dir)
            shutil.rmtree(data_dir, ignore_errors=True)
            wiped = True
        data_dir.mkdir(parents=True, exist_ok=True)
        self._marker = data_dir / f".in-use-{os.getpid()}"
        self._marker.touch()
        atexit.register(self.close)
        try:
            return chromadb.PersistentClient(path=str(data_dir), settings=settings), wiped
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
        """(id, cosine similarity) best first (fewer when the collection holds fewer)."""
        res = self.collection.query(query_embeddings=[vector], n_results=n, include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(res["ids"][0], res["distances"][0])]


def needs_check(data_dir: Path) -> bool:
    """Cheap (no chroma import): the local store is missing, or a process died with it open."""
    return not (data_dir / "chroma.sqlite3").exists() or bool(_dead_markers(data_dir))


def _left_unclean(data_dir: Path) -> bool:
    """True when a process that had the store open died without closing it (kill -9, a crash); clears its marks."""
    dead = _dead_markers(data_dir)
    for marker in dead:
        marker.unlink(missing_ok=True)
    return bool(dead)


def _dead_markers(data_dir: Path) -> list[Path]:
    """The in-use marks of processes that no longer run."""
    dead = []
    for marker in data_dir.glob(".in-use-*"):
        try:
            os.kill(int(marker.name.rsplit("-", 1)[1]), 0)
        except ProcessLookupError:
            dead.append(marker)
        except (ValueError, PermissionError):
            continue
    return dead


_PROBE = """
import sys, chromadb
from chromadb.config import Settings
c = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
for col in c.list_collections():
    c.get_collection(col.name if hasattr(col, "name") else col).count()
"""


def _probe(data_dir: Path) -> bool:
    """Open the store in a child process: False if that crashes or fails."""
    try:
        done = subprocess.run([sys.executable, "-c", _PROBE, str(data_dir)], capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False
    if done.returncode != 0:
        log.debug("vector store probe failed (%s): %s", done.returncode, done.stderr[-500:])
    return done.returncode == 0
