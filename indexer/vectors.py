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
TOKEN_ENV = "RAGLS_STORE_TOKEN"  # a bearer token sent to a shared store (a proxy in front of `chroma run` checks it)
CONNECT_TIMEOUT_S = 10.0  # a server that does not accept the connection by then is unreachable
READ_TIMEOUT_S = 300.0  # chroma's client waits forever by default: a hung server would hang ragls
GET_BATCH = 4000  # ids per get(ids=...) of a shared store
HASH_BATCH = 2000  # text hashes per get(where={"h": {"$in": ...}})


class VectorStoreError(RuntimeError):
    """The vector store cannot be used now; the catalog (graph and lexical retrieval) still answers."""


class VectorStoreUnreachable(VectorStoreError):
    """A Chroma server that does not answer."""


class VectorStoreRefused(VectorStoreUnreachable):
    """A Chroma server (or the proxy in front of it) that refuses ragls: no token, or not the right one."""


class VectorStoreGone(VectorStoreError):
    """A shared collection dropped on the server while ragls used it (to collect stale vectors, say): it is opened
    anew, found empty and restored from the catalog's cache on the next use."""


class VectorStoreDamaged(VectorStoreError):
    """A local store that failed its check and could not be rebuilt now (another process has it open)."""


class VectorStore:
    """A chroma collection of chunk vectors keyed by content-derived ids (idempotent upserts; safe to share).

    A shared collection (a `chroma run` server) holds the vectors of every clone and branch of one repository: each
    vector carries its text hash as metadata `h`, so that any client finds an embedding by id or by text, and
    vectors are added, never overwritten nor deleted (another clone may still use them)."""

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
        auth = {}
        if token := os.environ.get(TOKEN_ENV):  # chroma's own client provider: "Authorization: Bearer <token>"
            auth = {"chroma_client_auth_provider": "chromadb.auth.token_authn.TokenAuthClientProvider",
                    "chroma_client_auth_credentials": token}
        settings = _settings(**auth)
        try:
            import httpx

            # chroma's client connects without a timeout: a host that drops packets would stall ragls for minutes
            httpx.get(f"{base}/api/v2/heartbeat", timeout=CONNECT_TIMEOUT_S)
            client = chromadb.HttpClient(host=u.hostname or "localhost", port=u.port or 8000,
                                         ssl=u.scheme == "https", settings=settings)
        except Exception as exc:
            if _unreachable(exc):
                raise VectorStoreUnreachable(f"the vector store at {base} is unreachable: {_reason(exc)}") from None
            if (status := _refused(exc)) is not None:
                raise VectorStoreRefused(_refusal(base, status)) from None
            raise
        session = getattr(getattr(client, "_server", None), "_session", None)
        if session is not None:  # chroma's HTTP session (an httpx.Client), else chroma's defaults stand
            session.timeout = httpx.Timeout(READ_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
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

    @property
    def target(self) -> str:
        """Where the vectors live: the server (or "local") and the collection."""
        return f"{self.url or 'local'}/{self.name}"

    def upsert(self, ids: list[str], vectors: np.ndarray, hashes: list[str] | None = None) -> None:
        """Store vectors; into a shared store with their text hashes, and only ids it does not hold yet (an id names
        one text at one path, so a vector there is already this one: chroma's add keeps it, costing nothing)."""
        # _call runs each lambda at once, so the loop's variables in it are the current ones (B023 does not apply)
        for i in range(0, len(ids), 4000):
            if self.shared:
                metas = [{"h": h} for h in hashes[i:i + 4000]] if hashes else None
                self._call(lambda: self.collection.add(ids=ids[i:i + 4000],  # noqa: B023
                                                       embeddings=vectors[i:i + 4000],  # noqa: B023
                                                       metadatas=metas))  # noqa: B023
            else:
                self._call(lambda: self.collection.upsert(ids=ids[i:i + 4000],  # noqa: B023
                                                          embeddings=vectors[i:i + 4000]))  # noqa: B023
        self._written()

    def fetch(self, ids: list[str]) -> dict[str, np.ndarray]:
        """The vectors the store holds of these ids (the others are absent from the result)."""
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(ids), GET_BATCH):
            res = self._call(lambda: self.collection.get(ids=ids[i:i + GET_BATCH],  # noqa: B023 (run at once)
                                                         include=["embeddings"]))
            out.update(zip(res["ids"], np.asarray(res["embeddings"], dtype=np.float32), strict=False))
        return out

    def by_hash(self, hashes: list[str]) -> dict[str, np.ndarray]:
        """Vectors of these texts stored under any id (another path, another branch), by text hash."""
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(hashes), HASH_BATCH):
            part = hashes[i:i + HASH_BATCH]
            res = self._call(lambda: self.collection.get(where={"h": {"$in": part}},  # noqa: B023 (run at once)
                                                         include=["embeddings", "metadatas"]))
            for meta, vec in zip(res["metadatas"], res["embeddings"], strict=False):
                if meta and isinstance(meta.get("h"), str):
                    out[meta["h"]] = np.asarray(vec, dtype=np.float32)
        return out

    def present(self, ids: list[str]) -> set[str]:
        """Which of these ids the store holds."""
        out: set[str] = set()
        for i in range(0, len(ids), GET_BATCH):
            out.update(self._call(lambda: self.collection.get(ids=ids[i:i + GET_BATCH],  # noqa: B023 (run at once)
                                                              include=[]))["ids"])
        return out

    def delete(self, ids: list[str]) -> None:
        for i in range(0, len(ids), 4000):
            self._call(lambda: self.collection.delete(ids=ids[i:i + 4000]))  # noqa: B023 (run at once)
        self._written()

    def ids(self) -> set[str]:
        return set(self._call(lambda: self.collection.get(include=[]))["ids"])

    def count(self) -> int:
        return self._call(self.collection.count)

    def query(self, vector: np.ndarray, n: int) -> list[tuple[str, float]]:
        """(id, cosine similarity) best first (fewer when the collection holds fewer)."""
        res = self._call(lambda: self.collection.query(query_embeddings=[vector], n_results=n,
                                                       include=["distances"]))
        return [(i, 1.0 - d) for i, d in zip(res["ids"][0], res["distances"][0], strict=False)]

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
        """A shared store's failures are VectorStoreErrors (one line), not tracebacks: a server that went away mid-run
        (VectorStoreUnreachable), refused ragls (VectorStoreRefused), dropped the collection (VectorStoreGone), or
        failed otherwise."""
        try:
            return fn()
        except Exception as exc:
            if self.shared and _unreachable(exc):
                raise VectorStoreUnreachable(f"the vector store at {self.url} is unreachable: {_reason(exc)}") \
                    from None
            if self.shared and (status := _refused(exc)) is not None:
                raise VectorStoreRefused(_refusal(self.url or "", status)) from None
            import httpx
            from chromadb.errors import ChromaError, NotFoundError

            if self.shared and isinstance(exc, NotFoundError):
                raise VectorStoreGone(f"the collection {self.name} was dropped from the vector store at {self.url}; "
                                      "it is restored from this index's cache") from None
            if self.shared and isinstance(exc, (ChromaError, httpx.HTTPStatusError)):  # the server failed (a full disk)
                raise VectorStoreError(f"the vector store at {self.url} failed: {_reason(exc)}") from None
            raise


def _settings(**extra: Any):
    from chromadb.config import Settings

    return Settings(anonymized_telemetry=False, allow_reset=False, **extra)


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


def _refused(exc: BaseException) -> int | None:
    """The HTTP status (401, 403) of a refusal, however chroma wrapped it; None for any other failure."""
    import httpx
    from chromadb.errors import AuthorizationError, ChromaAuthError

    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, httpx.HTTPStatusError) and seen.response.status_code in (401, 403):
            return seen.response.status_code
        if isinstance(seen, (ChromaAuthError, AuthorizationError)):
            return seen.code()
        seen = seen.__cause__ or seen.__context__
    return None


def _refusal(url: str, status: int) -> str:
    has = "the token in" if os.environ.get(TOKEN_ENV) else "no token: set"
    return f"the vector store at {url} refused ragls (HTTP {status}; {has} ${TOKEN_ENV})"


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
