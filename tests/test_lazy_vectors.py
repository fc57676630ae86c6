"""Vectors built on demand (the static embedder): an index and its updates neither embed nor open the vector store;
the first search embeds the catalog's chunks and stores them, later searches only what changed since, and a build
interrupted at any point is completed by the next use, leaving the store equal to the catalog."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ragls.indexer import vector_sync as vector_sync_module
from ragls.indexer.analyze import content_hash, split_lines
from ragls.indexer.chunks import chunk_text
from ragls.indexer.index import Index
from ragls.indexer.retrieve import Retriever
from ragls.indexer.vector_sync import VectorSync
from ragls.indexer.vectors import VectorStore

from .conftest import FIXTURES, write_tree
from .helpers_repo import assert_consistent, close_index, ragls_cli, rows, vec_ids

FILES = {f"pkg/mod_{i}.py": "".join(f"def work_{i}_{j}(value):\n    \"\"\"Step {j} of job {i}.\"\"\"\n"
                                     f"    return value * {j} + {i}\n\n\n" for j in range(4))
         for i in range(12)}
EDIT = "def work_3_0(value):\n    return value - 1\n\n\ndef fresh_helper(value):\n    return -value\n"


class Killed(Exception):
    """Stands for the process being killed at that step."""


def flags(index: Index) -> dict[str, str]:
    return dict(rows(index, "SELECT key, value FROM meta WHERE key LIKE 'vectors%'"))


def texts(index: Index) -> int:
    return rows(index, "SELECT count(DISTINCT text_hash) FROM chunks")[0][0]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return write_tree(tmp_path / "repo", FILES)


def test_a_cold_index_writes_no_vectors_and_imports_no_chroma(repo: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    script = ("import sys\nfrom pathlib import Path\nfrom ragls.indexer.index import Index\n"
              f"s = Index.open({str(repo)!r}, data_dir=Path({str(data)!r})).refresh(progress=False)\n"
              "print(s.chunks, s.embedded, sorted(m for m in ('chromadb', 'onnxruntime', "
              "'ragls.indexer.static_vectors') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    chunks, embedded, loaded = out.stdout.split(" ", 2)
    assert int(chunks) >= 48 and int(embedded) == 0 and loaded.strip() == "[]"
    assert not (data / "chroma").exists()
    index = Index.open(repo, data_dir=data)
    try:
        assert rows(index, "SELECT count(*) FROM vectors") == [(0,)]  # nothing embedded, not even cached
        assert flags(index)["vectors_dirty"] == "1"  # owed to the first search
    finally:
        close_index(index)


def test_the_first_search_builds_the_vectors_and_later_ones_only_what_changed(repo: Path, tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    done = ragls_cli("index", str(repo), "--data-dir", data, "-q", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["embedded"] == 0, done.stderr
    assert not (tmp_path / "data" / "chroma").exists()

    done = ragls_cli("search", "job 7 step", "--repo", str(repo), "--data-dir", data, "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["items"]
    index = Index.open(repo, data_dir=Path(data))
    try:
        n = texts(index)
        assert done.stderr.strip() == f"ragls: embedding {n} chunks for search (first use)"
        assert flags(index)["vectors_dirty"] == "0" and "vectors_pending" not in flags(index)
        assert rows(index, "SELECT count(*) FROM vectors") == [(n,)]
        assert_consistent(index)
    finally:
        close_index(index)

    # A later edit: the index notes the new ids without opening the store; the next search embeds just them.
    (repo / "pkg/mod_3.py").write_text(EDIT)
    done = ragls_cli("index", str(repo), "--data-dir", data, "-q", "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["embedded"] == 0, done.stderr
    index = Index.open(repo, data_dir=Path(data))
    try:
        assert "vectors_pending" in flags(index) and flags(index)["vectors_dirty"] == "0"
        before = rows(index, "SELECT count(*) FROM vectors")[0][0]
        found = Retriever(index).search("fresh helper negative")
        assert found and found[0].symbol == "fresh_helper"
        assert index.vector_sync.embedded == 2  # the two new texts, nothing else
        assert rows(index, "SELECT count(*) FROM vectors") == [(before + 2,)]
        assert "vectors_pending" not in flags(index)
        assert_consistent(index)
    finally:
        close_index(index)


def test_editor_updates_note_their_ids_and_a_search_stores_them(repo: Path, tmp_path: Path) -> None:
    """`update_file` (the language server's edits) defers even while this process has the store open."""
    index = Index.open(repo, data_dir=tmp_path / "data")
    try:
        index.refresh(progress=False)
        assert index.vectors.ids() == vec_ids(index)  # the first use: built
        (repo / "pkg/mod_3.py").write_text(EDIT)
        index.update_file("pkg/mod_3.py")
        assert "vectors_pending" in flags(index) and flags(index)["vectors_dirty"] == "0"
        index.update_file("pkg/mod_4.py", b"def only_in_the_buffer(value):\n    return value\n")
        assert Retriever(index).search("fresh helper")[0].symbol == "fresh_helper"
        # the buffer's text is not on the disk: its chunk waits (the store stays dirty) until the disk holds it
        assert flags(index)["vectors_dirty"] == "1"
        assert vec_ids(index, "pkg/mod_3.py") <= index.vectors.ids()
        (repo / "pkg/mod_4.py").write_text("def only_in_the_buffer(value):\n    return value\n")
        _ = index.vectors
        assert flags(index)["vectors_dirty"] == "0"
        assert_consistent(index)
    finally:
        close_index(index)


@pytest.mark.parametrize("where", ["embedding", "storing"])
def test_an_interrupted_first_build_is_completed_by_the_next_use(repo: Path, tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    index = Index.open(repo, data_dir=tmp_path / "data")
    try:
        index.refresh(progress=False)
        monkeypatch.setattr(vector_sync_module, "BUILD_FILES", 3)  # several embedding batches
        with monkeypatch.context() as m:
            if where == "embedding":
                embed, calls = index.embedder.embed, []

                def embed_then_die(texts: list[str]):
                    calls.append(len(texts))
                    if len(calls) == 2:
                        raise Killed
                    return embed(texts)

                m.setattr(index.embedder, "embed", embed_then_die)
            else:
                m.setattr(VectorStore, "upsert", lambda *_a, **_k: (_ for _ in ()).throw(Killed()))
            with pytest.raises(Killed):
                _ = index.vectors
        assert flags(index)["vectors_dirty"] == "1"
        done_before = index.vector_sync.embedded
        assert 0 < done_before <= texts(index)
        index.close()
        again = Index.open(repo, data_dir=tmp_path / "data")
        try:
            assert Retriever(again).search("job 5 step")
            assert flags(again)["vectors_dirty"] == "0"
            assert done_before + again.vector_sync.embedded == texts(again), "what was cached is not embedded again"
            assert_consistent(again)
        finally:
            close_index(again)
    finally:
        close_index(index)


def test_a_refresh_interrupted_after_a_batch_then_searched(repo: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A run killed between two catalog batches leaves the store owed; a search then stores the catalog as it is,
    and the refresh that completes the catalog leaves the rest to the next search."""
    from ragls.indexer import refresh as refresh_module

    index = Index.open(repo, data_dir=tmp_path / "data")
    try:
        index.refresh(progress=False)
        _ = index.vectors
        for i in range(12):
            (repo / f"pkg/mod_{i}.py").write_text(FILES[f"pkg/mod_{i}.py"].replace("value *", "value **"))
        monkeypatch.setattr(refresh_module, "BATCH_FILES", 4)
        writes = []

        def second_batch_dies(self, batch, summary):
            if writes:
                raise Killed
            writes.append(1)
            return original(self, batch, summary)

        original = refresh_module.Refresher._write
        with monkeypatch.context() as m:
            m.setattr(refresh_module.Refresher, "_write", second_batch_dies)
            with pytest.raises(Killed):
                index.refresh(progress=False)
        assert flags(index)["vectors_dirty"] == "1"
        assert Retriever(index).search("job 1 step")
        assert_consistent(index)
        index.refresh(progress=False)
        assert_consistent(index)
        assert flags(index)["vectors_dirty"] == "0"
    finally:
        close_index(index)


def test_a_stale_catalog_builds_what_its_files_still_hold(repo: Path, tmp_path: Path) -> None:
    """A file changed on disk since it was indexed: its texts cannot be read again; the rest are stored, the store
    stays dirty, and once a refresh has read the file the next search completes it."""
    index = Index.open(repo, data_dir=tmp_path / "data")
    try:
        index.refresh(progress=False)
        (repo / "pkg/mod_2.py").write_text(EDIT)
        _ = index.vectors
        assert flags(index)["vectors_dirty"] == "1"
        assert vec_ids(index) - vec_ids(index, "pkg/mod_2.py") <= index.vectors.ids()
        index.refresh(progress=False)
        _ = index.vectors
        assert flags(index)["vectors_dirty"] == "0"
        assert_consistent(index)
    finally:
        close_index(index)


def test_a_model_embedder_keeps_its_vectors_written_by_the_index(tmp_path: Path) -> None:
    assert Index.open(tmp_path, embedder="openai:text-embedding-3-small").vectors_on_demand is False
    assert Index.open(tmp_path).vectors_on_demand is True


@pytest.mark.parametrize("fixture", ["pyrepo", "ts", "go", "java", "languages"])
def test_chunk_texts_read_again_from_the_spans_equal_the_indexed_ones(fixture: str, tmp_path: Path) -> None:
    """The fast path of a build: each chunk's text rebuilt from its file's lines and the catalog's span (no parse)
    hashes as the indexed text did, in every language of the fixtures."""
    index = Index.open(FIXTURES / fixture, data_dir=tmp_path / "data")
    try:
        index.refresh(progress=False)
        spans = rows(index, "SELECT path, start_line, end_line, head_end, symbol, text_hash FROM chunks")
        assert spans
        lines: dict[str, list[str]] = {}
        for path, start, end, head_end, symbol, h in spans:
            if path not in lines:
                lines[path] = split_lines((FIXTURES / fixture / path).read_bytes())
            assert content_hash(chunk_text(lines[path], start, end, head_end, symbol).encode()) == h, (path, start)
    finally:
        close_index(index)


def test_the_reader_waits_for_no_writer(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """While another writer holds the lock, a search answers from the store as it is and builds nothing."""
    index = Index.open(repo, data_dir=tmp_path / "data")
    try:
        index.refresh(progress=False)
        called = []
        monkeypatch.setattr(VectorSync, "catch_up", lambda self, v: called.append(1))
        holder = subprocess.Popen([sys.executable, "-c", (
            "import sys, time\nfrom ragls.indexer.lock import WriteLock\n"
            f"lock = WriteLock(__import__('pathlib').Path({str(tmp_path / 'data' / 'write.lock')!r}))\n"
            "lock.acquire()\nprint('held', flush=True)\ntime.sleep(30)\n")], stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
            assert Retriever(index).search("work_1_2")[0].symbol == "work_1_2"  # by name and words
            assert not called
        finally:
            holder.kill()
            holder.wait(10)
    finally:
        close_index(index)
