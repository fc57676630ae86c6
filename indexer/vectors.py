"""The vector store: chromadb, embedded on disk by default or a shared `chroma run` server; ragls supplies vectors.

chroma's native code can crash the process (not raise) on damaged files, so a local store is opened in this process
only after it is known good: its files' fingerprint (size and mtime of each) is recorded after every write and
close, and a store whose files changed behind ragls's back, or that a process left open when it died, is first
opened in a child process (`check_local`)."""
from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlparse

import numpy as np

log = logging.getLogger(__name__)
T = TypeVar("T")
PROBE_TIMEOUT_S = 60.0
PROBE_K = 10_000  # neighbours the probe asks for: a wide search walks (nearly) every node of the HNSW graph
FINGERPRINT = ".ragls-fingerprint.json"
_MARK = ".in-use-"


class VectorStoreError(RuntimeError):
    """The vector store cannot be used now; the catalog (graph and lexical retrieval) still answers."""


class VectorStoreUnreachable(VectorStoreError):
    """A Chroma server that does not answer."""


class VectorStoreDamaged(VectorStoreError):
    """A local store that failed its check and could not be rebuilt now (another process has it open)."""


class VectorStore:
    """A chroma collection of chunk vectors keyed by content-derived ids (idempotent upserts; safe to share)."""

    def __init__(self, name: str, client: Any, data_dir: Path | None = None, url: str | None = None) -> None:
        self.name = name
        self.client = client
        self.data_dir = data_dir
        self.url = url
        self.shared = url is not None
        self._open = False
        # embedding_function=None: chroma must never load (download) a model of its own.
        self.collection = self._call(lambda: client.get_or_create_collection(
            name, embedding_function=None, metadata={"hnsw:space": "cosine"}))

    @classmethod
    def remote(cls, name: str, url: str) -> "VectorStore":
        """The collection on a `chroma run` server; VectorStoreUnreachable when it does not answer."""
        import chromadb

        u = urlparse(url if "://" in url else f"http://{url}")
        base = f"{u.scheme or 'http'}://{u.hostname or 'localhost'}:{u.port or 8000}"
        try:
            client = chromadb.HttpClient(host=u.hostname or "localhost", port=u.port or 8000,
                                         ssl=u.scheme == "https", settings=_settings())
        except Exception as exc:
            if _unreachable(exc):
                raise VectorStoreUnreachable(f"the vector store at {base} is unreachable: {_reason(exc)}") from None
            raise
        return cls(name, client, url=base)

    @classmethod
    def local(cls, name: str, data_dir: Path) -> "VectorStore":
        """The store on disk, opened in this process: call `check_local` (and act on it) first."""
        import chromadb

        data_dir.mkdir(parents=True, exist_ok=True)
        _use(data_dir)
        try:
            store = cls(name, chromadb.PersistentClient(path=str(data_dir), settings=_settings()), data_dir)
        except BaseException:
            _unuse(data_dir)
            forget_client(data_dir)  # chroma caches the system that failed to start per path: a retry would get it
            raise
        store._open = True
        _INSTANCES.setdefault(str(data_dir), weakref.WeakSet()).add(store)
        atexit.register(store.close)
        record_fingerprint(data_dir)
        return store

    def close(self) -> None:
        """End this use of the local store cleanly: its fingerprint is recorded, its in-use mark dropped."""
        if self._open and self.data_dir is not None:
            self._open = False
            record_fingerprint(self.data_dir)
            _unuse(self.data_dir)

    def upsert(self, ids: list[str], vectors: np.ndarray) -> None:
        for i in range(0, len(ids), 4000):
            self._call(lambda: self.collection.upsert(ids=ids[i:i + 4000], embeddings=vectors[i:i + 4000]))
        self._written()

    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), 4000):
            self._call(lambda: self.collection.delete(ids=ids[i:i + 4000]))
        self._written()

    def ids(self) -> set[str]:
        return set(self._call(lambda: self.collection.get(include=[]))["ids"])

    def count(self) -> int:
        return self._call(self.collection.count)

    def query(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """(id, cosine similarity) best first (fewer when the collection holds fewer)."""
        res = self._call(lambda: self.collection.query(query_embeddings=[vector], n_results=n,
                                                       include=["distances"]))
        return [(i, 1.0 - d) for i, d in zip(res["ids"][0], res["distances"][0])]

    def reattach(self) -> None:
        """The store was rebuilt by another part of this process: use the new client's collection."""
        import chromadb

        assert self.data_dir is not None
        self.client = chromadb.PersistentClient(path=str(self.data_dir), settings=_settings())
        self.collection = self.client.get_or_create_collection(self.name, embedding_function=None,
                                                               metadata={"hnsw:space": "cosine"})

    def _written(self) -> None:
        if self._open and self.data_dir is not None:
            record_fingerprint(self.data_dir)

    def _call(self, fn: Callable[[], T]) -> T:
        """A server that went away mid-run is one VectorStoreUnreachable, not a transport traceback."""
        try:
            return fn()
        except Exception as exc:
            if self.shared and _unreachable(exc):
                raise VectorStoreUnreachable(f"the vector store at {self.url} is unreachable: {_reason(exc)}") \
                    from None
            raise


def _settings():
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False)


def _unreachable(exc: BaseException) -> bool:
    """A transport failure (refused, reset, timed out, name not found), however chroma wrapped it."""
    import httpx

    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, (httpx.TransportError, ConnectionError, TimeoutError)):
            return True
        if isinstance(seen, ValueError) and "Could not connect to a Chroma server" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _reason(exc: BaseException) -> str:
    """The innermost cause's message: "[Errno 111] Connection refused" rather than chroma's wrapper."""
    inner = exc
    while (inner.__cause__ or inner.__context__) is not None:
        inner = inner.__cause__ or inner.__context__  # type: ignore[assignment]
    return str(inner) or type(inner).__name__


# ---- in-use marks: which processes have a local store open -----------------------------------------------------

_USES: dict[str, int] = {}  # data_dir -> open VectorStores of this process
_USES_GUARD = threading.Lock()
_INSTANCES: dict[str, "weakref.WeakSet[VectorStore]"] = {}


def _use(data_dir: Path) -> None:
    with _USES_GUARD:
        _USES[str(data_dir)] = _USES.get(str(data_dir), 0) + 1
        (data_dir / f"{_MARK}{os.getpid()}").touch()


def _unuse(data_dir: Path) -> None:
    with _USES_GUARD:
        left = _USES.get(str(data_dir), 0) - 1
        _USES[str(data_dir)] = max(left, 0)
        if left <= 0:
            (data_dir / f"{_MARK}{os.getpid()}").unlink(missing_ok=True)


def _marks(data_dir: Path) -> Iterator[tuple[Path, int | None]]:
    for mark in data_dir.glob(f"{_MARK}*"):
        pid = mark.name[len(_MARK):].split(".", 1)[0]
        yield mark, int(pid) if pid.isdigit() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def dead_marks(data_dir: Path) -> list[Path]:
    """The in-use marks of processes that no longer run: they died with the store open."""
    return [m for m, pid in _marks(data_dir) if pid is not None and not _alive(pid)]


def other_users(data_dir: Path) -> list[int]:
    """Other live processes that have the store open (it must not be wiped under them)."""
    return sorted({pid for _, pid in _marks(data_dir) if pid is not None and pid != os.getpid() and _alive(pid)})


def in_process(data_dir: Path) -> list[VectorStore]:
    """This process's open stores on `data_dir` (the language server has a writer's and a reader's)."""
    return [s for s in _INSTANCES.get(str(data_dir), ()) if s._open]


# ---- fingerprint and probe -------------------------------------------------------------------------------------

def fingerprint(data_dir: Path) -> dict[str, list[int]]:
    """Relative path -> [size, mtime_ns] of every file of the store (ragls's own marks left out)."""
    out: dict[str, list[int]] = {}
    stack = [data_dir]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for e in entries:
            if e.name.startswith((_MARK, FINGERPRINT)):
                continue
            try:
                if e.is_dir(follow_symlinks=False):
                    stack.append(Path(e.path))
                else:
                    st = e.stat(follow_symlinks=False)
                    out[os.path.relpath(e.path, data_dir)] = [st.st_size, st.st_mtime_ns]
            except OSError:
                continue
    return out


def record_fingerprint(data_dir: Path) -> None:
    """Remember the files as this process left them (written atomically; any failure only costs a probe)."""
    tmp = data_dir / f"{FINGERPRINT}.{os.getpid()}.{threading.get_ident()}"
    try:
        tmp.write_text(json.dumps(fingerprint(data_dir), sort_keys=True))
        os.replace(tmp, data_dir / FINGERPRINT)
    except OSError as exc:
        log.debug("could not record the vector store's fingerprint: %s", exc)
        tmp.unlink(missing_ok=True)


def _recorded(data_dir: Path) -> dict[str, list[int]] | None:
    try:
        value = json.loads((data_dir / FINGERPRINT).read_text())
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def needs_check(data_dir: Path) -> bool:
    """Cheap (no chroma import, no child process): the local store is missing, a process died with it open, or its
    files are not as ragls last left them."""
    if not (data_dir / "chroma.sqlite3").exists() or dead_marks(data_dir):
        return True
    return _recorded(data_dir) != fingerprint(data_dir)


_KNOWN_BAD: dict[str, tuple[dict[str, list[int]], str]] = {}  # data_dir -> (fingerprint, why): not probed again


def check_local(data_dir: Path) -> str | None:
    """Why the local store must not be opened in this process, or None when it may be. Probes it in a child process
    only when it was left open by a process that died or its files changed since ragls last recorded them."""
    if not (data_dir / "chroma.sqlite3").exists():
        stray = [p for p in data_dir.glob("*") if not p.name.startswith((_MARK, FINGERPRINT))] \
            if data_dir.is_dir() else []
        return "chroma.sqlite3 is missing" if stray else None
    dead = dead_marks(data_dir)
    now = fingerprint(data_dir)
    if not dead and _recorded(data_dir) == now:
        return None
    bad = _KNOWN_BAD.get(str(data_dir))
    if bad is not None and bad[0] == now:
        return bad[1]
    why = probe(data_dir)
    if why is not None:
        _KNOWN_BAD[str(data_dir)] = (now, why)
        return why
    _KNOWN_BAD.pop(str(data_dir), None)
    for mark in dead:
        mark.unlink(missing_ok=True)
    record_fingerprint(data_dir)
    return None


_PROBE = """
import sys
import chromadb
from chromadb.config import Settings

client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
for col in client.list_collections():
    col = client.get_collection(col.name, embedding_function=None)
    n = col.count()
    if n:
        some = col.get(limit=1, include=["embeddings"])["embeddings"]
        col.query(query_embeddings=[some[0]], n_results=min(n, int(sys.argv[2])), include=["distances"])
"""


def probe(data_dir: Path, timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """Open the store and search each collection in a child process: None if that works, else what went wrong."""
    cmd = [sys.executable, "-P", "-c", _PROBE, str(data_dir), str(PROBE_K)]  # -P: not the repository's modules
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=timeout, cwd=data_dir, env=env)
    except subprocess.TimeoutExpired:
        return f"opening it took over {timeout:.0f} s"
    if done.returncode == 0:
        return None
    if done.returncode < 0:
        try:
            return f"opening it crashed with {signal.Signals(-done.returncode).name}"
        except ValueError:
            return f"opening it crashed with signal {-done.returncode}"
    lines = done.stderr.decode(errors="replace").strip().splitlines()
    log.debug("vector store probe failed (%s): %s", done.returncode, "\n".join(lines[-20:]))
    return (lines[-1] if lines else f"opening it failed with status {done.returncode}")[:300]


def wipe(data_dir: Path) -> None:
    """Delete the local store (to be rebuilt from the vectors cached in the catalog)."""
    forget_client(data_dir)
    shutil.rmtree(data_dir, ignore_errors=True)
    if data_dir.exists():
        raise VectorStoreDamaged(f"the vector store at {data_dir} could not be deleted to rebuild it")
    _KNOWN_BAD.pop(str(data_dir), None)


def forget_client(data_dir: Path) -> None:
    """Drop chroma's cached client of this path, so that the next one opens the files anew (the old one is left to
    whoever still holds it: stopping a system that failed to start can fail in turn)."""
    from chromadb.api.shared_system_client import SharedSystemClient

    getattr(SharedSystemClient, "_identifier_to_system", {}).pop(str(data_dir), None)


@contextmanager
def reopened(data_dir: Path) -> Iterator[None]:
    """Around a rebuild by this process: the other open stores on `data_dir` follow the new files afterwards."""
    others = in_process(data_dir)
    yield
    for store in others:
        store.reattach()
