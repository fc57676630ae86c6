"""A self-healing index: whatever is found on disk (a truncated or overwritten catalog, garbage in a chroma segment
file, a Chroma server gone, a language server killed mid-update), every command answers without a traceback or a
crash, says what it repaired in one line, and the next run leaves the catalog and the vector store in agreement.

Commands that may meet damaged files run in subprocesses: a crash in chroma's native code must not take the test
runner with it, and a negative return code (a signal) is exactly what these tests rule out."""
from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lsprotocol import types
from ragls.indexer import vectors as vectors_module
from ragls.indexer.vectors import check_local, fingerprint, needs_check, probe

from .helpers_repo import ChromaServer, Workspace, free_port, open_catalog_readonly
from .lsp_helpers import change_doc, open_doc, start_server, wait_indexed

FILES = 300  # modules (and 25 packages): 1800 chunks, enough for chroma to write its HNSW segment files
INDEXED, CHUNKS = FILES + 25, FILES * 6  # files and chunks (each of a distinct text) in the index
SEGMENT_FILES = ["data_level0.bin", "header.bin", "link_lists.bin", "length.bin", "index_metadata.pickle"]
CHECK = """
import json, sys
from pathlib import Path
from ragls.indexer.index import Index
index = Index.open(sys.argv[1], data_dir=Path(sys.argv[2]), store_url=sys.argv[3] or None)
chunks = {r[0] for r in index.store.db.execute("SELECT vec_id FROM chunks")}
ids = index.vectors.ids()
print(json.dumps({"files": index.store.db.execute("SELECT count(*) FROM files").fetchone()[0],
                  "chunks": len(chunks), "vectors": len(ids), "agree": ids == chunks,
                  "dirty": index.store.meta("vectors_dirty")}))
"""


# ---- helpers ---------------------------------------------------------------------------------------------------

def generated_repo(root: Path, files: int = FILES) -> Workspace:
    """Modules in 25 packages, each importing a function of the one before (cross-file context to retrieve)."""
    ws = Workspace(root)
    body = {f"pkg{i}/__init__.py": "" for i in range(25)}
    for i in range(files):
        p = (i - 1) % files
        funcs = "".join(f"def func_{i}_{j}(x):\n    '''Step {j} of module {i}.'''\n    return x + {i * j}\n\n\n"
                        for j in range(3))
        body[f"pkg{i % 25}/mod_{i}.py"] = (f"from pkg{p % 25}.mod_{p} import func_{p}_0\n\n\n{funcs}class Thing{i}:\n"
                                          f"    def run(self):\n        return func_{p}_0(1)\n")
    ws.write(body)
    ws.commit("generated")
    return ws


# The command line with vectors written by the index itself, as a model embedder's are (the static embedder's are
# built on demand: `Index.vectors_on_demand`).
EAGER_CLI = [sys.executable, "-c", "import sys\nfrom ragls.indexer.index import Index\n"
             "Index.vectors_on_demand = False\nfrom ragls.indexer.cli import main\nsys.exit(main(sys.argv[1:]))"]


def cli(*args: str, timeout: float = 180, home: Path | None = None, eager: bool = False) -> subprocess.CompletedProcess:
    """The `ragls` command line in a fresh interpreter (run from a neutral folder)."""
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    if home is not None:
        env["RAGLS_HOME"] = str(home)
    command = EAGER_CLI if eager else [sys.executable, "-m", "ragls.indexer.cli"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=timeout, env=env,
                          cwd=Path(__file__).parent)


def assert_survived(done: subprocess.CompletedProcess, rc: int = 0) -> None:
    """No signal (a segfault is -11), no traceback, the expected status."""
    out = done.stdout + done.stderr
    assert done.returncode >= 0, f"killed by signal {-done.returncode}: {out[-2000:]}"
    assert "Traceback" not in out and "Segmentation" not in out, out[-3000:]
    assert done.returncode == rc, out[-3000:]


def agreement(root: Path, data: Path, url: str = "") -> dict:
    """Catalog and vector store, read by a child process (a store that would crash chroma never reaches this one)."""
    done = subprocess.run([sys.executable, "-P", "-c", CHECK, str(root), str(data), url], capture_output=True,
                          text=True, timeout=180, cwd=data.parent)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def garbage(path: Path, seed: int, size: int | None = None) -> None:
    """Random bytes over the whole file (its own size, at least 4 KiB), the same for every run."""
    n = max(size if size is not None else path.stat().st_size, 4096)
    path.write_bytes(random.Random(seed).randbytes(n))


def segment_dir(data: Path) -> Path:
    dirs = [d for d in (data / "chroma").iterdir() if d.is_dir()]
    assert len(dirs) == 1, dirs
    return dirs[0]


def checkpoint(db_path: Path) -> None:
    """Fold the WAL into the database file, so that damage written to the file is what SQLite reads."""
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(repository, data folder) indexed once; tests damage copies of the data folder."""
    base = tmp_path_factory.mktemp("repair")
    ws = generated_repo(base / "repo")
    data = base / "pristine" / "data"
    done = cli("index", str(ws.root), "--data-dir", str(data), "-q", "--json")
    assert_survived(done)
    done = cli("search", "func_1_0", "--repo", str(ws.root), "--data-dir", str(data))  # builds the vectors
    assert_survived(done)
    assert (data / "chroma").is_dir() and (segment_dir(data) / "data_level0.bin").exists()
    return ws.root, data


@pytest.fixture
def index_copy(pristine: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the pristine index in a folder of the same name (the collection's name comes from it)."""
    root, data = pristine
    mine = tmp_path / "data"
    shutil.copytree(data, mine)
    return root, mine


# ---- the catalog -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["index", "context", "search"])
def test_a_truncated_catalog_is_rebuilt_by_every_command(index_copy, command):
    root, data = index_copy
    checkpoint(data / "index.db")
    os.truncate(data / "index.db", 8192)
    args = {"index": ["index", str(root), "-q"], "context": ["context", str(root / "pkg1/mod_1.py") + ":21:23"],
            "search": ["search", "func_3_1", "--repo", str(root)]}[command]
    done = cli(*args, "--data-dir", str(data))
    assert_survived(done)
    lines = [ln for ln in done.stderr.splitlines() if "was damaged" in ln]
    assert len(lines) == 1 and lines[0].startswith(f"ragls: the index at {data} was damaged (") and "rebuilt" in \
        lines[0], done.stderr
    assert (data / "index.db.damaged").exists()
    if command == "search":
        assert "func_3_1" in done.stdout
    state = agreement(root, data)
    assert state["files"] == INDEXED and state["agree"] and state["chunks"] == CHUNKS


def test_random_bytes_over_the_catalog(index_copy):
    root, data = index_copy
    checkpoint(data / "index.db")
    garbage(data / "index.db", seed=1)
    done = cli("index", str(root), "--data-dir", str(data), "-q", "--json")
    assert_survived(done)
    assert "file is not a database" in done.stderr and json.loads(done.stdout)["files"] == INDEXED
    again = cli("index", str(root), "--data-dir", str(data), "-q", "--json")
    assert_survived(again)
    assert json.loads(again.stdout)["changed"] == 0 and "damaged" not in again.stderr
    assert agreement(root, data)["agree"]


def _btree_child(db: Path, table: str) -> tuple[int, int]:
    """(page size, a page number) of a leaf of `table` (the right-most child of its interior root page)."""
    con = sqlite3.connect(db)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name=?", (table,)).fetchone()[0]
    con.close()
    with open(db, "rb") as f:
        f.seek((root - 1) * page_size)
        head = f.read(12)
    assert head[0] == 0x05, "expected an interior table page at the root"
    return page_size, int.from_bytes(head[8:12], "big")


def test_damage_in_other_tables_keeps_the_whole_embedding_cache(index_copy):
    root, data = index_copy
    db = data / "index.db"
    checkpoint(db)
    con = sqlite3.connect(db)
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    files_root = con.execute("SELECT rootpage FROM sqlite_master WHERE name='files'").fetchone()[0]
    con.close()
    with open(db, "r+b") as f:  # the files table's root page: the first thing a refresh reads
        f.seek((files_root - 1) * page_size)
        f.write(random.Random(2).randbytes(page_size))
    done = cli("index", str(root), "--data-dir", str(data), "-q", "--json")
    assert_survived(done)
    summary = json.loads(done.stdout)
    assert "was damaged" in done.stderr and f"{CHUNKS} cached vectors kept" in done.stderr
    assert summary["files"] == INDEXED and summary["changed"] == INDEXED and summary["embedded"] == 0
    assert agreement(root, data)["agree"]


def test_a_damaged_stretch_of_the_embedding_cache_costs_only_its_own_rows(index_copy):
    root, data = index_copy
    db = data / "index.db"
    checkpoint(db)
    page_size, leaf = _btree_child(db, "vectors")
    page_size, files = _btree_child(db, "files")
    with open(db, "r+b") as f:
        for n, page in enumerate((leaf, files)):  # the files page: what makes the refresh notice
            f.seek((page - 1) * page_size)
            f.write(random.Random(3 + n).randbytes(page_size))
    done = cli("index", str(root), "--data-dir", str(data), "-q", "--json")
    assert_survived(done)
    kept = int(done.stderr.split(" cached vectors kept")[0].rsplit("(", 1)[1])
    assert CHUNKS - 100 < kept < CHUNKS, done.stderr  # one leaf page held a few dozen of them
    assert json.loads(done.stdout)["embedded"] == 0  # vectors are built on demand
    search = cli("search", "step of module", "--repo", str(root), "--data-dir", str(data))
    assert_survived(search)
    assert "embedding" not in search.stderr, "the store still held the vectors the cache lost: none embedded"
    assert agreement(root, data)["agree"]


def test_a_writer_that_died_holding_the_lock_gets_the_catalog_checked(index_copy):
    """A pid left in write.lock means its holder died while writing: the next writer runs SQLite's quick_check,
    which finds damage that no query of the run would have met."""
    root, data = index_copy
    db = data / "index.db"
    checkpoint(db)
    page_size, leaf = _btree_child(db, "vectors")  # refresh never reads the cache of unchanged files
    with open(db, "r+b") as f:
        f.seek((leaf - 1) * page_size)
        f.write(random.Random(4).randbytes(page_size))
    clean = cli("index", str(root), "--data-dir", str(data), "-q")
    assert_survived(clean)
    assert "damaged" not in clean.stderr, "a clean index is not checked on every run"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (data / "write.lock").write_text(dead.stdout.strip())
    done = cli("index", str(root), "--data-dir", str(data), "-q")
    assert_survived(done)
    assert "was damaged (quick_check:" in done.stderr


def test_a_damaged_catalog_another_process_holds_is_one_clear_line(index_copy):
    from ragls.indexer.lock import WriteLock

    root, data = index_copy
    checkpoint(data / "index.db")
    os.truncate(data / "index.db", 8192)
    position = str(root / "pkg1/mod_1.py") + ":21:23"
    with WriteLock(data / "write.lock"):  # another writer (this test process) holds the index
        done = cli("context", position, "--data-dir", str(data))
    assert_survived(done, rc=3)
    assert done.stderr.startswith(f"ragls: the index at {data} is damaged (") and "another ragls process" in \
        done.stderr and len(done.stderr.strip().splitlines()) == 1
    again = cli("context", position, "--data-dir", str(data), "--json")
    assert_survived(again)
    assert json.loads(again.stdout)["items"][0]["symbol"] == "func_0_0"


# ---- the vector store ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", [*SEGMENT_FILES, "chroma.sqlite3"])
def test_garbage_in_a_chroma_file_never_crashes_search_or_index(index_copy, name):
    root, data = index_copy
    target = data / "chroma" / name if name == "chroma.sqlite3" else segment_dir(data) / name
    garbage(target, seed=sum(map(ord, name)))

    done = cli("search", "step of module", "--repo", str(root), "--data-dir", str(data), "--json")
    assert_survived(done)
    assert json.loads(done.stdout)["items"], "vector search works again (this query has no lexical match)"
    index = cli("index", str(root), "--data-dir", str(data), "-q", "--json")
    assert_survived(index)
    assert json.loads(index.stdout)["embedded"] == 0, "restored from the cached vectors"
    state = agreement(root, data)
    assert state["agree"] and state["vectors"] == CHUNKS and state["dirty"] == "0"


@pytest.mark.parametrize("command", ["index", "search"])
def test_a_damaged_store_is_rebuilt_instead_of_reporting_success(index_copy, command):
    """By the index where it writes the vectors (a model embedder), else by the first search that opens it."""
    root, data = index_copy
    garbage(segment_dir(data) / "header.bin", seed=5, size=100)
    if command == "index":
        done = cli("index", str(root), "--data-dir", str(data), "-q", "--json", eager=True)
    else:
        done = cli("search", "step of module", "--repo", str(root), "--data-dir", str(data))
    assert_survived(done)
    line = [ln for ln in done.stderr.splitlines() if "damaged" in ln]
    assert len(line) == 1 and line[0].startswith(f"ragls: the vector store at {data / 'chroma'} was damaged (")
    assert line[0].endswith(f"rebuilt from {CHUNKS} cached vectors")
    assert agreement(root, data)["agree"]


def test_a_clean_open_costs_no_probe_and_a_change_behind_its_back_does(index_copy, monkeypatch):
    root, data = index_copy
    chroma = data / "chroma"
    assert not needs_check(chroma), "the indexer recorded the store as it left it"
    monkeypatch.setattr(vectors_module, "probe", lambda *a, **k: pytest.fail("probed a store nobody changed"))
    t0 = time.perf_counter()
    assert check_local(chroma) is None
    assert time.perf_counter() - t0 < 0.05
    monkeypatch.undo()

    seg = segment_dir(data) / "length.bin"
    before = fingerprint(chroma)
    seg.write_bytes(seg.read_bytes())  # same bytes, a new mtime: only a probe can tell
    assert fingerprint(chroma) != before and needs_check(chroma)
    assert check_local(chroma) is None  # probed in a child process, found good, recorded
    assert not needs_check(chroma)


def test_the_probe_has_a_timeout(index_copy):
    _, data = index_copy
    assert "took over" in probe(data / "chroma", timeout=0.01)


def test_a_store_left_open_by_a_dead_process_is_probed(index_copy):
    root, data = index_copy
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (data / "chroma" / f".in-use-{dead.stdout.strip()}").touch()
    assert needs_check(data / "chroma")
    done = cli("search", "step of module", "--repo", str(root), "--data-dir", str(data))
    assert_survived(done)
    assert not list((data / "chroma").glob(".in-use-*")) and not needs_check(data / "chroma")


def _lose_vectors(data: Path) -> None:
    """The vector store and the catalog's cached vectors both gone."""
    shutil.rmtree(data / "chroma")
    db = sqlite3.connect(data / "index.db")
    with db:
        db.execute("DELETE FROM vectors")
    db.close()


def test_vectors_lost_from_both_the_store_and_the_cache_are_embedded_again_by_the_next_search(index_copy):
    """The worst case: the store is gone and so are the cached vectors (a cache cleared, a salvage that kept
    nothing). Vectors built on demand: the next search embeds them again from the files."""
    root, data = index_copy
    _lose_vectors(data)
    search = cli("search", "step of module", "--repo", str(root), "--data-dir", str(data), "--json")
    assert_survived(search)
    assert json.loads(search.stdout)["items"] and f"embedding {CHUNKS:,} chunks for search" in search.stderr
    state = agreement(root, data)
    assert state["agree"] and state["vectors"] == CHUNKS and state["dirty"] == "0"


def test_vectors_lost_from_both_the_store_and_the_cache_are_embedded_again(index_copy):
    """The same with vectors written by the index (a model embedder): the first run restores nothing and marks the
    files; the next one embeds them again."""
    root, data = index_copy
    _lose_vectors(data)
    first = cli("index", str(root), "--data-dir", str(data), "-q", "--json", eager=True)
    assert_survived(first)
    assert f"{CHUNKS} chunk vectors were lost" in first.stderr
    second = cli("index", str(root), "--data-dir", str(data), "-q", "--json", eager=True)
    assert_survived(second)
    summary = json.loads(second.stdout)
    assert summary["changed"] == FILES and summary["embedded"] == CHUNKS
    state = agreement(root, data)
    assert state["agree"] and state["vectors"] == CHUNKS and state["dirty"] == "0"


# ---- a Chroma server that goes away ------------------------------------------------------------------------------

@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator:
    started: list[ChromaServer] = []

    def start() -> ChromaServer:
        started.append(ChromaServer(tmp_path / "chroma-server"))
        return started[-1]

    yield start
    for server in started:
        server.kill()


def test_a_chroma_server_that_is_down_is_one_line_and_the_catalog_still_answers(pristine, tmp_path):
    root, _ = pristine
    data = tmp_path / "data"
    url = f"http://127.0.0.1:{free_port()}"  # nobody listens
    eager = cli("index", str(root), "--data-dir", str(tmp_path / "eager"), "--store", url, "-q", "--json",
                eager=True)  # vectors written by the index (a model embedder)
    assert_survived(eager, rc=4)
    assert eager.stderr.strip().splitlines() == [
        f"ragls: the vector store at {url} is unreachable: [Errno 111] Connection refused; the catalog is up to "
        "date and the vectors are stored by the next run"]
    summary = json.loads(eager.stdout)
    assert summary["files"] == INDEXED and "unreachable" in summary["vectors_error"]
    done = cli("index", str(root), "--data-dir", str(data), "--store", url, "-q", "--json")
    assert_survived(done)  # the static embedder's vectors are owed to the first search: the server is not asked
    assert not done.stderr.strip() and json.loads(done.stdout)["vectors_error"] is None
    db = open_catalog_readonly(data)
    assert db.execute("SELECT value FROM meta WHERE key='vectors_dirty'").fetchone()[0] == "1"
    db.close()

    context = cli("context", str(root / "pkg1/mod_1.py") + ":21:23", "--data-dir", str(data), "--store", url,
                  "--json")
    assert_survived(context)
    assert json.loads(context.stdout)["items"] and not context.stderr.strip(), "code context needs no vectors"
    search = cli("search", "func_3_1", "--repo", str(root), "--data-dir", str(data), "--store", url, "--json")
    assert_survived(search)
    assert json.loads(search.stdout)["items"][0]["symbol"] == "func_3_1"
    assert "vector search unavailable" in search.stderr and "unreachable" in search.stderr


def test_a_chroma_server_killed_mid_index(tmp_path, chroma_server):
    """Vectors written by the index (a model embedder's): the server dies between two batches."""
    ws = generated_repo(tmp_path / "big", 1500)  # batches of 400 files: the server dies after the first's vectors
    data = tmp_path / "data"
    server = chroma_server()
    proc = subprocess.Popen([*EAGER_CLI, "index", str(ws.root), "--data-dir",
                             str(data), "--store", server.url, "-q", "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    try:
        deadline = time.monotonic() + 120
        while _files_indexed(data) <= 400:  # a second batch in the catalog: the first one's vectors were sent
            assert proc.poll() is None, f"the indexer exited before a batch was stored: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no batch was stored in time"
            time.sleep(0.01)
        server.kill()
        out, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    assert_survived(done, rc=4)
    assert len(err.strip().splitlines()) == 1 and "is unreachable" in err
    assert json.loads(out)["files"] == 1525, "the catalog was completed"

    again = chroma_server()  # the same storage, a new port
    assert 0 < len(again.ids()) < 1500 * 6, "the server died with part of the vectors stored"
    done = cli("index", str(ws.root), "--data-dir", str(data), "--store", again.url, "-q", "--json", eager=True)
    assert_survived(done)
    summary = json.loads(done.stdout)
    assert (summary["changed"], summary["embedded"], summary["vectors_error"]) == (0, 0, None)
    state = agreement(ws.root, data, again.url)
    assert state["agree"] and state["vectors"] == 1500 * 6 and state["dirty"] == "0"


def _files_indexed(data: Path) -> int:
    db = open_catalog_readonly(data)
    if db is None:
        return 0
    try:
        return db.execute("SELECT count(*) FROM files").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        db.close()


# ---- the language server -----------------------------------------------------------------------------------------

on_event_loop = pytest.mark.asyncio(loop_scope="function")


async def _status(lsp) -> dict:
    return await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.status"))


async def _complete(lsp, api, uri: str, line: int, character: int):
    api.replies.append("func_3_1(x)")
    return await lsp.text_document_inline_completion_async(types.InlineCompletionParams(
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(line, character),
        context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic)))


@on_event_loop
@pytest.mark.parametrize("damage", ["catalog", "data_level0.bin", "chroma.sqlite3"])
async def test_the_language_server_survives_a_damaged_index(index_copy, api, tmp_path, damage):
    root, data = index_copy
    before = segment_dir(data).name
    if damage == "catalog":
        checkpoint(data / "index.db")
        os.truncate(data / "index.db", 8192)
    elif damage == "chroma.sqlite3":
        garbage(data / "chroma" / damage, seed=6)
    else:
        garbage(segment_dir(data) / damage, seed=7)
    lsp, _ = await start_server(root, api.base_url, tmp_path / "home",
                                options={"index": {"debounceMs": 50, "dataDir": str(data)}})
    try:
        await wait_indexed(lsp, timeout=180)
        status = await _status(lsp)
        assert status["state"] == "ready" and f"indexed {INDEXED} files" in status["folders"][0]["index"], status
        uri = open_doc(lsp, root / "pkg3/mod_3.py")
        result = await _complete(lsp, api, uri, 20, 23)
        assert result is not None and result.items, "a completion is answered"
        api.replies.append("Step 1 adds its argument to a multiple of the module's number.")
        answer = await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.ask",
                                                                                      ["what does step 1 do?"]))
        assert "Step 1 adds" in answer
        asked = json.dumps(api.requests[-1][1])
        assert "def func_" in asked, "the question found definitions by vector search (no word of it is lexical)"
        assert lsp._server.returncode is None, "the server is alive"
    finally:
        await lsp.shutdown_session()
    if damage == "catalog":
        assert (data / "index.db.damaged").exists()
    else:
        assert segment_dir(data).name != before, "the damaged store was detected and rebuilt"
    state = agreement(root, data)
    assert state["agree"] and state["vectors"] == CHUNKS


@on_event_loop
async def test_a_language_server_killed_mid_update_leaves_a_working_index(pristine, api, tmp_path):
    root, _ = pristine
    data = tmp_path / "data"
    lsp, _ = await start_server(root, api.base_url, tmp_path / "home",
                                options={"index": {"debounceMs": 0, "dataDir": str(data)}})
    killed = False
    try:
        await wait_indexed(lsp, timeout=180)
        path = root / "pkg7/mod_7.py"
        text = path.read_text()
        uri = open_doc(lsp, path, text)
        deadline = time.monotonic() + 120
        version = 1
        while _changes(data) < 5:  # the server is busy writing edits: new texts, new vectors
            version += 1
            extra = "".join(f"\n\ndef typed_{version}_{j}(v):\n    '''Typed {version} {j}.'''\n    return v * {j}\n"
                            for j in range(20))
            change_doc(lsp, uri, text + extra, version)
            await asyncio.sleep(0.02)
            assert time.monotonic() < deadline, "the server stored no edits"
        for _ in range(3):  # and more, in flight, as it dies
            version += 1
            change_doc(lsp, uri, text + f"\n\ndef last_{version}(v):\n    return v\n", version)
        await asyncio.sleep(0.01)
        os.kill(lsp._server.pid, signal.SIGKILL)
        killed = True
        assert await asyncio.wait_for(lsp._server.wait(), 10) == -signal.SIGKILL
    finally:
        if not killed:
            await lsp.shutdown_session()
    assert not (data / "chroma").exists(), "edits wrote no vectors (the static embedder's are built on demand)"

    done = cli("index", str(root), "--data-dir", str(data), "-q", "--json")
    assert_survived(done)
    assert json.loads(done.stdout)["files"] == INDEXED
    state = agreement(root, data)
    assert state["agree"] and state["dirty"] == "0" and state["chunks"] == CHUNKS, state
    context = cli("context", str(root / "pkg3/mod_3.py") + ":21:23", "--data-dir", str(data), "--json")
    assert_survived(context)
    assert json.loads(context.stdout)["items"]

    lsp, _ = await start_server(root, api.base_url, tmp_path / "home",
                                options={"index": {"debounceMs": 50, "dataDir": str(data)}})
    try:
        await wait_indexed(lsp, timeout=180)
        assert (await _status(lsp))["state"] == "ready"
        uri = open_doc(lsp, root / "pkg3/mod_3.py")
        assert (await _complete(lsp, api, uri, 20, 23)).items
    finally:
        await lsp.shutdown_session()


def _changes(data: Path) -> int:
    db = open_catalog_readonly(data)
    if db is None:
        return 0
    try:
        return db.execute("SELECT count(*) FROM changes").fetchone()[0]
    except sqlite3.Error:
        return 0
    finally:
        db.close()
