"""Repositories the refresh tests edit (git or plain folders), the indexes opened on them, and catalog queries.

Fixtures live here, not in conftest.py: a test module imports `workspace_fixture` / `open_index_fixture` and asks for
`workspace` / `open_index`."""
from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import git
import pytest
from ragls.indexer.index import Index

SMALL_PROJECT: dict[str, str] = {
    "app/__init__.py": "",
    "app/models.py": (
        "class User:\n"
        "    def __init__(self, name):\n"
        "        self.name = name\n"
        "\n"
        "    def greet(self):\n"
        "        return f'hi {self.name}'\n"
    ),
    "app/service.py": (
        "from app.models import User\n"
        "\n"
        "\n"
        "def make_user(name):\n"
        "    return User(name)\n"
        "\n"
        "\n"
        "def old_helper(x):\n"
        "    return x * 2\n"
    ),
    "app/util.py": "def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n",
    "web/app.js": "export function render(node) {\n  return node.outerHTML;\n}\n",
    "README.md": "# demo\n\nA small project used by the refresh tests.\n",
}


class Workspace:
    """A folder of files, under git unless `use_git` is false."""

    def __init__(self, root: Path, use_git: bool = True) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.repo: git.Repo | None = None
        if use_git:
            self.repo = git.Repo.init(root, initial_branch="main")
            with self.repo.config_writer() as cw:
                cw.set_value("user", "name", "ragls tests")
                cw.set_value("user", "email", "tests@ragls.invalid")
                cw.set_value("commit", "gpgsign", "false")

    @property
    def git(self) -> git.Git:
        assert self.repo is not None, "not a git workspace"
        return self.repo.git

    def write(self, files: dict[str, str | bytes]) -> None:
        for rel, content in files.items():
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")

    def commit(self, message: str = "change") -> None:
        self.git.add(A=True)
        self.git.commit("-q", "--allow-empty", "-m", message)

    def tracked(self) -> set[str]:
        return {p for p in self.git.ls_files("-z").split("\0") if p}


@pytest.fixture(name="workspace")
def workspace_fixture(tmp_path: Path) -> Workspace:
    """A git repository holding SMALL_PROJECT in its first commit, on branch main."""
    ws = Workspace(tmp_path / "repo")
    ws.write(SMALL_PROJECT)
    ws.commit("initial")
    return ws


@pytest.fixture(name="eager_vectors")
def eager_vectors_fixture(monkeypatch: pytest.MonkeyPatch) -> None:
    """Indexes opened in this process write their vectors as a model embedder's are written (embedded and stored
    by every refresh and update), with the static embedder: the path `Index.vectors_on_demand` takes for a model."""
    monkeypatch.setattr(Index, "vectors_on_demand", False)


@pytest.fixture(name="open_index")
def open_index_fixture(tmp_path: Path) -> Iterator:
    """open_index(root, data_dir=None, **config) -> Index with its data under tmp_path; closed after the test."""
    opened: list[Index] = []

    def open_(root: Path, data_dir: Path | None = None, **kwargs) -> Index:
        index = Index.open(root, data_dir=data_dir or tmp_path / "data", **kwargs)
        opened.append(index)
        return index

    yield open_
    for index in opened:
        close_index(index)


def close_index(index: Index) -> None:
    """Close the index (catalog and vector store) and forget chroma's in-process clients (another process may write
    the store next)."""
    opened = index.vectors_open
    index.close()
    if opened:
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient.clear_system_cache()


def rows(index: Index, sql: str, *args) -> list[tuple]:
    return index.store.db.execute(sql, args).fetchall()


def indexed_paths(index: Index) -> set[str]:
    """Files whose content is in the index (not skipped)."""
    return {r[0] for r in rows(index, "SELECT path FROM files WHERE skip_reason IS NULL")}


def skip_reasons(index: Index) -> dict[str, str]:
    return dict(rows(index, "SELECT path, skip_reason FROM files WHERE skip_reason IS NOT NULL"))


def symbols(index: Index, path: str | None = None) -> set[tuple[str, str]]:
    """(path, qualname) of every definition, or of one file's."""
    if path is None:
        return set(rows(index, "SELECT path, qualname FROM symbols"))
    return set(rows(index, "SELECT path, qualname FROM symbols WHERE path=?", path))


def vec_ids(index: Index, path: str | None = None) -> set[str]:
    if path is None:
        return {r[0] for r in rows(index, "SELECT vec_id FROM chunks")}
    return {r[0] for r in rows(index, "SELECT vec_id FROM chunks WHERE path=?", path)}


def rows_about(index: Index, path: str) -> dict[str, int]:
    """How many rows each per-file table holds for one file."""
    return {t: rows(index, f"SELECT count(*) FROM {t} WHERE path=?", path)[0][0]
            for t in ("files", "symbols", "chunks", "imports", "refs")}


def assert_consistent(index: Index) -> None:
    """The catalog's chunks, their full-text rows and the vector store agree."""
    chunk_ids = {r[0] for r in rows(index, "SELECT id FROM chunks")}
    fts_ids = {r[0] for r in rows(index, "SELECT rowid FROM chunks_fts")}
    assert fts_ids == chunk_ids, "chunks_fts rows do not match chunks"
    orphans = rows(index, "SELECT DISTINCT path FROM chunks WHERE path NOT IN (SELECT path FROM files)")
    assert not orphans, f"chunks of files not in the catalog: {orphans}"
    assert index.vectors.ids() == vec_ids(index), "vector store ids differ from the chunks' vec_ids"


def ragls_cli(*args: str, timeout: float = 120, **popen) -> subprocess.CompletedProcess:
    """Run the `ragls` command line in a fresh interpreter."""
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    return subprocess.run([sys.executable, "-m", "ragls.indexer.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, **popen)


def chroma_executable() -> str | None:
    """The `chroma` script the chromadb wheel installs: next to this interpreter, else on PATH."""
    here = Path(sys.executable).parent / "chroma"
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    return shutil.which("chroma")


def open_catalog_readonly(data_dir: Path) -> sqlite3.Connection | None:
    db = data_dir / "index.db"
    if not db.exists():
        return None
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """A real `chroma run` on a free local port, stopped (or killed) by the test."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        exe = chroma_executable()
        if exe is None:
            pytest.skip("the `chroma` executable (from the chromadb wheel) is not installed")
        self.path = path
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = path.with_suffix(".log").open("ab")
        self.proc = subprocess.Popen([exe, "run", "--path", str(path), "--host", "127.0.0.1", "--port",
                                      str(self.port)], stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
        wait_answering(self.proc, f"{self.url}/api/v2/heartbeat", "chroma run", 60)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.log.close()

    def client(self):
        import chromadb
        from chromadb.config import Settings

        return chromadb.HttpClient(host="127.0.0.1", port=self.port, settings=Settings(anonymized_telemetry=False))

    def ids(self) -> set[str]:
        client = self.client()
        return {i for c in client.list_collections() for i in client.get_collection(c.name).get(include=[])["ids"]}


@pytest.fixture(name="chroma_server", scope="module")
def chroma_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    """One real `chroma run` for a test module (its tests use collections of their own)."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "db")
    try:
        yield server
    finally:
        server.kill()


def wait_answering(proc: subprocess.Popen, url: str, what: str, timeout_s: float) -> None:
    """Wait until `url` answers 200 while `proc` runs: AssertionError (naming `what`) if it exits or times out."""
    deadline = time.monotonic() + timeout_s
    while True:
        assert proc.poll() is None, f"{what} exited with {proc.returncode}"
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        assert time.monotonic() < deadline, f"{what} did not answer within {timeout_s:.0f} s"
        time.sleep(0.1)
