"""Refresh on real repositories: only what changed is parsed, only new texts are embedded, removed files leave no
rows or vectors, odd files never stop a run, a killed run is completed by the next one, and one writer at a time."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ragls.indexer.lock import IndexLocked, WriteLock
from ragls.indexer.retrieve import Query, Retriever

from .helpers_repo import (  # noqa: F401  (the *_fixture names are fixtures)
    SMALL_PROJECT,
    Workspace,
    assert_consistent,
    close_index,
    indexed_paths,
    open_catalog_readonly,
    eager_vectors_fixture,
    open_index_fixture,
    ragls_cli,
    rows,
    rows_about,
    skip_reasons,
    symbols,
    vec_ids,
    workspace_fixture,
)

# Tests marked EAGER embed and store their vectors as they go, as a model embedder's are; vectors built on demand (the
# static embedder's, which the other tests and the command line use) are tested in test_lazy_vectors.py.
EAGER = pytest.mark.usefixtures("eager_vectors")

SECRETS = "may hold secrets"


@EAGER
def test_first_index_counts_files_symbols_and_chunks(workspace, open_index):
    index = open_index(workspace.root)
    s = index.refresh(progress=False)
    assert s.files == len(SMALL_PROJECT) and s.changed == len(SMALL_PROJECT) and s.removed == 0
    assert indexed_paths(index) == set(SMALL_PROJECT)
    assert s.symbols == rows(index, "SELECT count(*) FROM symbols")[0][0] > 0
    assert s.chunks == rows(index, "SELECT count(*) FROM chunks")[0][0] > 0
    assert s.embedded == rows(index, "SELECT count(DISTINCT text_hash) FROM chunks")[0][0]
    assert {("app/models.py", "User"), ("app/models.py", "User.greet"), ("app/service.py", "make_user"),
            ("app/service.py", "old_helper"), ("app/util.py", "clamp")} <= symbols(index)
    assert_consistent(index)


def test_second_refresh_changes_and_embeds_nothing(workspace, open_index):
    index = open_index(workspace.root)
    first = index.refresh(progress=False)
    before = rows(index, "SELECT * FROM chunks ORDER BY id"), rows(index, "SELECT * FROM symbols ORDER BY id")
    again = index.refresh(progress=False)
    assert (again.changed, again.removed, again.embedded) == (0, 0, 0)
    assert (again.files, again.symbols, again.chunks) == (first.files, first.symbols, first.chunks)
    assert (rows(index, "SELECT * FROM chunks ORDER BY id"), rows(index, "SELECT * FROM symbols ORDER BY id")) == before


def test_an_index_made_by_other_analysis_code_is_read_again_without_embedding(workspace, open_index, tmp_path):
    """After an upgrade (other queries, other symbol rules) every file is parsed again, so no stale qualified name
    lingers; the vectors are reused (chunk texts are cached by hash). A catalog older than the `type` column gets it."""
    index = open_index(workspace.root)
    first = index.refresh(progress=False)
    index.store.set_meta("extractor", "an older ragls")
    with index.store.transaction() as db:
        db.execute("ALTER TABLE symbols DROP COLUMN type")
    close_index(index)
    again = open_index(workspace.root)
    s = again.refresh(progress=False)
    assert (s.changed, s.embedded) == (first.files, 0)
    assert again.store.meta("extractor") not in (None, "an older ragls")
    assert rows(again, "SELECT count(*) FROM symbols WHERE type IS NOT NULL")[0][0] == s.symbols
    assert_consistent(again)
    assert again.refresh(progress=False).changed == 0


@EAGER
def test_editing_one_file_reindexes_only_it(workspace, open_index):
    index = open_index(workspace.root)
    index.refresh(progress=False)
    others = rows(index, "SELECT id, path FROM chunks WHERE path != 'app/service.py' ORDER BY id")
    source = (workspace.root / "app/service.py").read_text()
    workspace.write({"app/service.py": source.replace("def old_helper(x):", "def renamed_helper(x):")})

    s = index.refresh(progress=False)
    assert (s.changed, s.removed) == (1, 0)
    assert s.embedded == 1, "only the edited function's text is new"
    assert ("app/service.py", "renamed_helper") in symbols(index)
    assert not rows(index, "SELECT path FROM symbols WHERE name='old_helper'")
    assert rows(index, "SELECT id, path FROM chunks WHERE path != 'app/service.py' ORDER BY id") == others
    assert_consistent(index)


def test_deleted_files_lose_their_rows_and_vectors(workspace, open_index):
    index = open_index(workspace.root)
    index.refresh(progress=False)
    gone = ["app/util.py", "app/models.py"]
    old_chunks = [r[0] for r in rows(index, "SELECT id FROM chunks WHERE path IN (?, ?)", *gone)]
    old_vecs = vec_ids(index, gone[0]) | vec_ids(index, gone[1])
    assert old_chunks and old_vecs <= index.vectors.ids()

    workspace.git.rm("-q", gone[0])  # removed and committed
    workspace.commit("drop util")
    os.remove(workspace.root / gone[1])  # deleted from the work tree only: git still lists it as tracked

    s = index.refresh(progress=False)
    assert s.removed == 2
    for path in gone:
        assert rows_about(index, path) == dict.fromkeys(("files", "symbols", "chunks", "imports", "refs"), 0)
    marks = ",".join("?" * len(old_chunks))
    assert rows(index, f"SELECT count(*) FROM chunks_fts WHERE rowid IN ({marks})", *old_chunks) == [(0,)]
    assert not rows(index, "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'clamp'")
    assert not old_vecs & index.vectors.ids()
    assert indexed_paths(index) == set(SMALL_PROJECT) - set(gone)
    assert_consistent(index)


@EAGER
def test_a_large_run_writes_the_vectors_once_after_parsing(workspace, open_index, monkeypatch):
    """A run of many files stores a local store's vectors in one pass at its end (the parser workers gone), removals
    included; until then the catalog marks them dirty."""
    from ragls.indexer import refresh as refresh_module
    from ragls.indexer.vectors import VectorStore

    monkeypatch.setattr(refresh_module, "LATE_MIN_FILES", 2)
    monkeypatch.setattr(refresh_module, "BATCH_FILES", 1)  # several catalog batches, none writing vectors
    writes: list[tuple[int, str | None]] = []
    upsert = VectorStore.upsert

    def spy(self, ids, vectors, hashes=None):
        writes.append((len(ids), self_index.store.meta("vectors_dirty")))
        return upsert(self, ids, vectors, hashes)

    monkeypatch.setattr(VectorStore, "upsert", spy)
    self_index = index = open_index(workspace.root)
    s = index.refresh(progress=False)
    assert writes == [(s.embedded, "1")], "one write of every vector, while the catalog still calls them dirty"
    assert index.store.meta("vectors_dirty") == "0"
    assert_consistent(index)

    workspace.write({"app/util.py": "def clamp(x, lo, hi):\n    return min(hi, max(x, lo))\n",
                     "app/extra.py": "def extra():\n    return 1\n"})
    os.remove(workspace.root / "app/models.py")
    writes.clear()
    s = index.refresh(progress=False)
    assert (s.changed, s.removed) == (2, 1) and len(writes) == 1
    assert not vec_ids(index, "app/models.py") and vec_ids(index, "app/extra.py")
    assert_consistent(index)


def test_git_mv_moves_symbols_without_embedding(workspace, open_index):
    index = open_index(workspace.root)
    index.refresh(progress=False)
    workspace.git.mv("app/util.py", "app/numeric.py")
    workspace.commit("rename")

    s = index.refresh(progress=False)
    assert (s.changed, s.removed, s.embedded) == (1, 1, 0)
    assert ("app/numeric.py", "clamp") in symbols(index)
    assert not symbols(index, "app/util.py") and "app/util.py" not in indexed_paths(index)
    assert_consistent(index)


@EAGER
def test_branch_switch_embeds_only_new_texts(workspace, open_index):
    index = open_index(workspace.root)
    index.refresh(progress=False)
    main = symbols(index)
    root = workspace.root

    workspace.git.checkout("-q", "-b", "feature")
    models = (root / "app/models.py").read_text().replace("f'hi {self.name}'", "f'hello, {self.name}!'")
    util = (root / "app/util.py").read_text().replace("max(lo, min(x, hi))", "min(max(x, lo), hi)  # same")
    util += "\n\ndef lerp(a, b, t):\n    return a + (b - a) * t\n"
    service = (root / "app/service.py").read_text().replace("return x * 2", "return x + x + 0")
    workspace.write({"app/models.py": models, "app/util.py": util, "app/service.py": service})
    workspace.commit("feature work")

    s = index.refresh(progress=False)
    assert (s.changed, s.removed) == (3, 0)
    assert s.embedded == 4, "greet, clamp, old_helper changed and lerp is new"
    feature = symbols(index)
    assert feature == main | {("app/util.py", "lerp")}

    workspace.git.checkout("-q", "main")
    s = index.refresh(progress=False)
    assert (s.changed, s.embedded) == (3, 0)
    assert symbols(index) == main

    workspace.git.checkout("-q", "feature")
    s = index.refresh(progress=False)
    assert (s.changed, s.embedded) == (3, 0)
    assert symbols(index) == feature
    assert_consistent(index)


def test_untracked_files_count_and_gitignored_ones_do_not(workspace, open_index):
    workspace.write({".gitignore": "build/\nscratch_*.py\n"})
    workspace.commit("ignore rules")
    workspace.write({"app/fresh.py": "def fresh():\n    return 1\n",  # untracked, not ignored
                     "build/generated.py": "def built():\n    return 2\n",
                     "scratch_notes.py": "def scratch():\n    return 3\n"})
    index = open_index(workspace.root)
    index.refresh(progress=False)
    paths = set(rows(index, "SELECT path FROM files"))
    assert ("app/fresh.py",) in paths and ("app/fresh.py", "fresh") in symbols(index)
    assert not {("build/generated.py",), ("scratch_notes.py",)} & paths
    assert not rows(index, "SELECT * FROM symbols WHERE name IN ('built', 'scratch')")


def test_raglsignore_excludes_tracked_files_and_reincludes_ignored_ones(workspace, open_index):
    workspace.write({".gitignore": "generated/\n",
                     "vendor/lib.py": "def vendored():\n    return 1\n",
                     "generated/api.py": "def generated_api():\n    return 2\n",
                     "generated/other.py": "def other_generated():\n    return 3\n"})
    workspace.commit("vendor")
    assert "vendor/lib.py" in workspace.tracked() and "generated/api.py" not in workspace.tracked()
    workspace.write({".raglsignore": "vendor/\n!generated/api.py\n"})

    index = open_index(workspace.root)
    s = index.refresh(progress=False)
    assert s.skipped["ignored by .raglsignore"] == 1
    assert "vendor/lib.py" not in indexed_paths(index) and not symbols(index, "vendor/lib.py")
    assert ("generated/api.py", "generated_api") in symbols(index)
    assert "generated/other.py" not in indexed_paths(index)

    # Dropping the rule brings the tracked file back; the re-included file goes when the rule goes.
    (workspace.root / ".raglsignore").unlink()
    s = index.refresh(progress=False)
    assert ("vendor/lib.py", "vendored") in symbols(index)
    assert "generated/api.py" not in indexed_paths(index) and s.removed == 1
    assert_consistent(index)


def test_secret_files_are_never_indexed(workspace, open_index):
    secret = "API_TOKEN=zqxsupersecretvalue\n"
    workspace.write({".env": secret, "config/.env": secret, "id_rsa": "-----BEGIN KEY-----\nzqxsupersecretvalue\n",
                     "certs/server.pem": "-----BEGIN CERTIFICATE-----\nzqxsupersecretvalue\n"})
    workspace.commit("oops, secrets")
    index = open_index(workspace.root)
    s = index.refresh(progress=False)
    assert s.skipped[SECRETS] == 4
    listed = {r[0] for r in rows(index, "SELECT path FROM files")}
    assert not {".env", "config/.env", "id_rsa", "certs/server.pem"} & listed
    assert not rows(index, "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'zqxsupersecretvalue'")

    # Nor through the editor's path: an open .env buffer is not indexed.
    s = index.update_file(".env", data=secret.encode())
    assert s.removed == 0 and not rows(index, "SELECT * FROM files WHERE path='.env'")
    assert not rows(index, "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'zqxsupersecretvalue'")


def test_symbolic_links_are_not_followed(workspace, open_index, tmp_path):
    outside = tmp_path / "home" / ".aws" / "credentials"
    outside.parent.mkdir(parents=True)
    outside.write_text("aws_secret_access_key = zqxleakedkey\n")
    (workspace.root / "notes.txt").symlink_to(outside)  # a harmless name for a file outside the repository
    (workspace.root / "app" / "alias.py").symlink_to("util.py")
    workspace.commit("links")
    index = open_index(workspace.root)
    s = index.refresh(progress=False)
    assert s.skipped["symbolic link"] == 2
    assert indexed_paths(index) == set(SMALL_PROJECT)
    assert not rows(index, "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'zqxleakedkey'")
    assert index.refresh(progress=False).skipped["symbolic link"] == 2

    s = index.update_file("notes.txt")
    assert s.removed == 1 and "notes.txt" not in indexed_paths(index)


def test_odd_files_never_abort_a_run(workspace, open_index):
    latin1 = ("# -*- coding: latin-1 -*-\nGREETING = 'caf\xe9 cr\xe8me'\n\n\ndef legacy_greeting():\n"
              "    return GREETING\n").encode("latin-1")
    broken = ("def parses_fine(a, b):\n    return a + b\n\n\ndef broken(:\n    pass\n\n\n"
              "class AlsoFine:\n    def method(self):\n        return 1\n")
    workspace.write({
        "assets/blob.txt": b"header\0\x01\x02binary payload\0" * 20,
        "data/huge.py": "X = 1\n" * 200_000,  # 1.2 MB
        "web/bundle.js": "var a=" + ";".join(f"f{i}=function(){{return {i}}}" for i in range(300)) + ";",
        "legacy/latin.py": latin1,
        "broken.py": broken,
    })
    workspace.commit("odd files")
    assert len((workspace.root / "web/bundle.js").read_text().splitlines()) == 1
    assert (workspace.root / "web/bundle.js").stat().st_size > 5_000

    index = open_index(workspace.root)
    s = index.refresh(progress=False)
    assert s.skipped["binary"] == 1 and s.skipped["larger than 1000000 bytes"] == 1 and s.skipped["minified"] == 1
    assert skip_reasons(index) == {"assets/blob.txt": "binary", "data/huge.py": "larger than 1000000 bytes",
                                   "web/bundle.js": "minified"}
    assert not rows(index, "SELECT * FROM chunks WHERE path IN ('assets/blob.txt', 'data/huge.py', 'web/bundle.js')")
    assert ("legacy/latin.py", "legacy_greeting") in symbols(index)
    assert {("broken.py", "parses_fine"), ("broken.py", "AlsoFine.method")} <= symbols(index)
    assert rows(index, "SELECT has_errors FROM files WHERE path='broken.py'") == [(1,)]
    assert indexed_paths(index) == set(SMALL_PROJECT) | {"legacy/latin.py", "broken.py"}

    # Skipped files stay skipped (and reported) on the next run, without being read again.
    again = index.refresh(progress=False)
    assert again.changed == 0 and again.skipped == s.skipped
    assert_consistent(index)


def test_plain_directory_honours_nested_gitignores(tmp_path, open_index):
    ws = Workspace(tmp_path / "plain", use_git=False)
    ws.write({
        ".gitignore": "out/\ntop_only.py\n",
        "main.py": "def main():\n    pass\n",
        "top_only.py": "def top_only():\n    pass\n",
        "out/gen.py": "def gen():\n    pass\n",
        "pkg/.gitignore": "private.py\n!keep_*.py\nlocal_*.py\n",
        "pkg/mod.py": "def mod():\n    pass\n",
        "pkg/private.py": "def private():\n    pass\n",
        "pkg/local_a.py": "def local_a():\n    pass\n",
        "pkg/deeper/private.py": "def deeper_private():\n    pass\n",
        "pkg/deeper/ok.py": "def deeper_ok():\n    pass\n",
        "other/private.py": "def other_private():\n    pass\n",  # pkg's rules do not reach here
        "other/out/gen.py": "def other_gen():\n    pass\n",  # `out/` matches at any depth
    })
    index = open_index(ws.root)
    index.refresh(progress=False)
    assert indexed_paths(index) == {"main.py", "pkg/mod.py", "pkg/deeper/ok.py", "other/private.py"}


@EAGER
def test_update_file_indexes_a_buffer_and_forgets_a_deleted_file(workspace, open_index):
    index = open_index(workspace.root)
    index.refresh(progress=False)
    util = workspace.root / "app/util.py"
    disk = util.read_bytes()
    old = time.time_ns() - 3600 * 10**9
    os.utime(util, ns=(old, old))  # saved an hour ago
    index.refresh(progress=False)

    buffer = disk + b"\n\ndef typed_not_saved(v):\n    return v\n"
    s = index.update_file("app/util.py", data=buffer)
    assert s.changed == 1 and ("app/util.py", "typed_not_saved") in symbols(index)
    assert_consistent(index)
    # The buffer was closed unsaved: a refresh goes back to the disk.
    index.refresh(progress=False)
    assert ("app/util.py", "typed_not_saved") not in symbols(index)

    # Same length as the disk's text but different: still not mistaken for the disk's.
    same_size = disk.replace(b"def clamp(", b"def clomp(")
    assert len(same_size) == len(disk)
    index.update_file("app/util.py", data=same_size)
    assert ("app/util.py", "clomp") in symbols(index)
    index.refresh(progress=False)
    assert ("app/util.py", "clamp") in symbols(index) and ("app/util.py", "clomp") not in symbols(index)

    vecs = vec_ids(index, "app/service.py")
    os.remove(workspace.root / "app/service.py")
    s = index.update_file("app/service.py")
    assert s.removed == 1
    assert rows_about(index, "app/service.py") == dict.fromkeys(("files", "symbols", "chunks", "imports", "refs"), 0)
    assert vecs and not vecs & index.vectors.ids()
    assert_consistent(index)


def test_a_rewrite_in_the_same_clock_tick_is_not_missed(workspace, open_index):
    """Same size and same mtime (a coarse filesystem clock): the file was indexed while 'racy', so it is hashed
    again rather than trusted."""
    util = workspace.root / "app/util.py"
    index = open_index(workspace.root)
    index.refresh(progress=False)
    st = util.stat()
    util.write_bytes(util.read_bytes().replace(b"def clamp(", b"def clomp("))
    os.utime(util, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (util.stat().st_size, util.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    s = index.refresh(progress=False)
    assert s.changed == 1 and ("app/util.py", "clomp") in symbols(index)


@EAGER
@pytest.mark.parametrize("first_opened_by", ["refresh", "reader"])
def test_an_unreadable_vector_store_is_rebuilt_from_the_cached_vectors(workspace, open_index, tmp_path,
                                                                      first_opened_by):
    index = open_index(workspace.root)
    index.refresh(progress=False)
    unchanged = vec_ids(index) - vec_ids(index, "app/util.py")
    close_index(index)
    (tmp_path / "data" / "chroma" / "chroma.sqlite3").write_bytes(b"not a database, after a crash" * 100)

    if first_opened_by == "reader":  # a reader (the language server) notices first; the next refresh repairs it
        reader = open_index(workspace.root)
        Retriever(reader).search("clamp")
        close_index(reader)
        index = open_index(workspace.root)
    else:
        index = open_index(workspace.root)
        workspace.write({"app/util.py": "def clamp(x, lo, hi):\n    return min(max(x, lo), hi)\n"})
    s = index.refresh(progress=False)
    assert s.embedded <= 1
    assert_consistent(index)
    assert unchanged <= index.vectors.ids(), "the unchanged files' vectors were restored"
    assert index.store.meta("vectors_dirty") == "0"


def test_collection_names_stay_distinct_per_embedder_when_long(tmp_path):
    from ragls.indexer.index import Index

    short = Index.open(tmp_path, data_dir=tmp_path / "data")
    assert short.collection_name == "ragls-data-static-64-ascii"
    long_dir = tmp_path / ("a-rather-long-repository-name-for-tests-" + "x" * 14)
    names = {Index.open(tmp_path, data_dir=long_dir, embedder=e).collection_name
             for e in (None, "openai:text-embedding-3-small", "openai:text-embedding-3-large")}
    assert len(names) == 3 and all(len(n) <= 60 and n[0].isalnum() and n[-1].isalnum() for n in names)


# ---- processes ------------------------------------------------------------------------------------------------

def _generated_repo(root: Path, files: int) -> Workspace:
    ws = Workspace(root)
    body = {}
    for i in range(files):
        funcs = "".join(f"def func_{i}_{j}(x):\n    '''Step {j} of module {i}.'''\n    return x + {i * j}\n\n\n"
                        for j in range(3))
        body[f"pkg{i % 25}/mod_{i}.py"] = funcs + f"class Thing{i}:\n    def run(self):\n        return func_{i}_0(1)\n"
    ws.write(body)
    ws.commit("generated")
    return ws


def _files_indexed(data_dir: Path) -> int:
    db = open_catalog_readonly(data_dir)
    if db is None:
        return 0
    try:
        return db.execute("SELECT count(*) FROM files").fetchone()[0]
    except sqlite3.Error:  # schema not created yet, or the writer holds the lock right now
        return 0
    finally:
        db.close()


def test_a_killed_run_leaves_a_usable_index_and_the_next_run_completes_it(tmp_path, open_index):
    total = 1500
    ws = _generated_repo(tmp_path / "big", total)
    data = tmp_path / "data"
    proc = subprocess.Popen([sys.executable, "-m", "ragls.indexer.cli", "index", str(ws.root), "--data-dir",
                             str(data), "-q"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"}, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while _files_indexed(data) == 0:
            assert proc.poll() is None, f"the indexer exited before any batch was stored: {proc.stderr.read()}"
            assert time.monotonic() < deadline, "no batch was stored in time"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)  # the indexer only: its parser workers must notice and go
        assert proc.wait(10) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        proc.stderr.close()
    done = _files_indexed(data)
    assert 0 < done < total, "the run was not interrupted mid-way: generate more files"

    # The interrupted index answers.
    index = open_index(ws.root, data)
    some = rows(index, "SELECT path FROM files WHERE skip_reason IS NULL LIMIT 1")[0][0]
    Retriever(index).context(Query(some, 4, 4))
    assert rows(index, "SELECT count(*) FROM chunks")[0][0] > 0
    close_index(index)

    # The next run completes it (no stale lock, no duplicate rows) and the vector store matches the catalog.
    done_run = ragls_cli("index", str(ws.root), "--data-dir", str(data), "-q", "--json")
    assert done_run.returncode == 0, done_run.stderr
    summary = json.loads(done_run.stdout)
    assert summary["files"] == total and summary["changed"] == total - done
    index = open_index(ws.root, data)
    assert {r[0] for r in rows(index, "SELECT path FROM files")} == ws.tracked()
    assert rows(index, "SELECT count(*), count(DISTINCT path) FROM symbols WHERE name LIKE 'func_%_0'")[0] == (total,
                                                                                                               total)
    assert index.store.meta("vectors_dirty") == "1", "the vectors are owed to the first search"
    assert_consistent(index)  # that first use builds them: the store then holds exactly the catalog's chunks
    assert index.store.meta("vectors_dirty") == "0"
    assert not _leftover_processes(proc.pid), "parser workers outlived the killed indexer"


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"  # zombies have exited
    except (OSError, IndexError):
        return False


def _leftover_processes(session: int) -> list[int]:
    """Processes still running in the killed indexer's session (its orphaned workers); killed here if any."""
    left = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == session and _alive(int(entry.name)):
                    left.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                pass
    deadline = time.monotonic() + 3  # they poll their parent every half second
    while left and time.monotonic() < deadline:
        time.sleep(0.1)
        left = [p for p in left if _alive(p)]
    if left:
        os.killpg(session, signal.SIGKILL)
    return left


def test_a_second_writer_is_refused_while_the_lock_is_held(workspace, tmp_path):
    data = tmp_path / "data"
    lock = WriteLock(data / "write.lock")
    lock.acquire()
    try:
        blocked = ragls_cli("index", str(workspace.root), "--data-dir", str(data), "-q")
        assert blocked.returncode == 3
        assert str(data / "write.lock") in blocked.stderr and f"pid {os.getpid()}" in blocked.stderr
        assert "another ragls process" in blocked.stderr
    finally:
        lock.release()
    ok = ragls_cli("index", str(workspace.root), "--data-dir", str(data), "-q", "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["files"] == len(SMALL_PROJECT)


_HOLD_AND_FORK = """
import os, sys, time
from pathlib import Path
from ragls.indexer.lock import WriteLock
WriteLock(Path(sys.argv[1])).acquire()
if os.fork() == 0:
    print(os.getpid(), flush=True)  # after the fork hooks ran
    time.sleep(60)
    os._exit(0)
time.sleep(60)
"""


def test_the_lock_dies_with_its_holder_even_if_a_forked_child_lives_on(tmp_path):
    path = tmp_path / "write.lock"
    holder = subprocess.Popen([sys.executable, "-c", _HOLD_AND_FORK, str(path)], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    try:
        child = int(holder.stdout.readline())
        with pytest.raises(IndexLocked, match="write.lock"):
            WriteLock(path).acquire()
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(10)
        os.kill(child, 0)  # the forked child is still alive...
        with WriteLock(path):  # ...and does not keep the index locked
            pass
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait(10)
        holder.stdout.close()


def test_an_unignored_virtual_environment_is_skipped(tmp_path):
    from ragls.indexer.files import discover

    (tmp_path / "app.py").write_text("x = 1\n")
    venv = tmp_path / "env-3.12"
    (venv / "lib" / "site-packages" / "pkg").mkdir(parents=True)
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (venv / "lib" / "site-packages" / "pkg" / "mod.py").write_text("def f():\n    pass\n")
    found = discover(tmp_path)
    assert found.files == ["app.py"]
    assert found.skipped["env-3.12/lib/site-packages/pkg/mod.py"] == "virtual environment"


def test_a_progress_bar_starts_no_thread_so_the_parse_workers_fork() -> None:
    """The parse workers fork only from a single-threaded process (else they are spawned and import everything
    again); tqdm's monitor thread made every `ragls index` spawn them."""
    import subprocess
    import sys

    script = ("import threading; from ragls.indexer.parse_pool import progress_bar as _progress; "
              "bars = [_progress(100, False), _progress(100, True)]; print(threading.active_count())")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "1"


def test_an_analysis_crosses_to_the_indexer_as_it_was_made() -> None:
    """What a parse worker sends (symbols, imports and chunks pickled as their fields) arrives equal."""
    import pickle

    from ragls.indexer.analyze import analyze_bytes
    from ragls.indexer.config import Limits

    source = b"import os\nfrom .b import c as d\n\n\nclass A:\n    def f(self, x):\n        return d(x)\n"
    sent = analyze_bytes("pkg/a.py", source, Limits())
    got = pickle.loads(pickle.dumps(sent, protocol=pickle.HIGHEST_PROTOCOL))
    assert sent.parsed is not None and got.parsed is not None
    assert got.parsed.symbols == sent.parsed.symbols and got.parsed.imports == sent.parsed.imports
    assert got.parsed.chunks == sent.parsed.chunks and [s.qualname for s in got.parsed.symbols] == ["A", "A.f"]
    assert got.text_hashes == sent.text_hashes and got.terms == sent.terms
