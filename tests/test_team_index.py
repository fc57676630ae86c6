"""The team index: clones of one repository share one collection and its embeddings on a real `chroma run`."""
from __future__ import annotations

import http.server
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import git
import numpy as np
import pytest

from ragls.indexer import refresh as refresh_mod
from ragls.indexer.index import normalize_remote, repository_identity
from ragls.indexer.retrieve import Retriever
from ragls.indexer.vectors import TOKEN_ENV, VectorStore, VectorStoreError, VectorStoreGone

from .helpers_repo import (  # noqa: F401  (the *_fixture names are fixtures)
    ChromaServer,
    Workspace,
    chroma_server_fixture,
    close_index,
    eager_vectors_fixture,
    free_port,
    indexed_paths,
    open_index_fixture,
    rows,
    vec_ids,
)

FILES = 30
FUNCS = 4


def _module(i: int) -> str:
    return "".join(f"def step_{i}_{j}(value, factor={j}):\n"
                   f"    \"\"\"Stage {j} of pipeline {i}: scale and shift the value.\"\"\"\n"
                   f"    total = value * factor + {i}\n"
                   f"    return total - {j}\n\n\n" for j in range(FUNCS))


def built(index) -> int:
    """Bring the index's vectors up to the catalog as a search does first; how many texts that embedded."""
    before = index.vector_sync.embedded
    _ = index.vectors
    return index.vector_sync.embedded - before


@pytest.fixture
def clones(tmp_path: Path) -> tuple[Path, Path]:
    """Two clones of one repository (its origin a folder of this test)."""
    origin = Workspace(tmp_path / "origin")
    origin.write({f"pipeline/stage_{i}.py": _module(i) for i in range(FILES)})
    origin.commit("initial")
    one, two = tmp_path / "alice", tmp_path / "bob"
    for clone in (one, two):
        git.Repo.clone_from(origin.root, clone)
        with git.Repo(clone).config_writer() as cw:
            cw.set_value("user", "name", "ragls tests")
            cw.set_value("user", "email", "tests@ragls.invalid")
            cw.set_value("commit", "gpgsign", "false")
    return one, two


def test_two_clones_share_one_collection(chroma_server, clones, tmp_path, open_index):
    one, two = clones
    first = open_index(one, tmp_path / "data-alice", store_url=chroma_server.url)
    second = open_index(two, tmp_path / "data-bob", store_url=chroma_server.url)
    assert first.collection_name == second.collection_name
    assert "data-" not in first.collection_name and len(first.collection_name) <= 60

    # The static embedder's vectors are built by the first search that needs them (`built`), not by the index.
    s1 = first.refresh(progress=False)
    assert s1.chunks >= FILES * FUNCS and s1.embedded == 0
    assert built(first) > 0
    s2 = second.refresh(progress=False)
    assert s2.chunks == s1.chunks and s2.embedded == 0
    assert built(second) <= s2.chunks // 100  # the second clone embeds (almost) nothing
    collection = chroma_server.client().get_collection(first.collection_name)
    assert collection.count() == s1.chunks  # one copy
    # the second clone's own cache holds the vectors it fetched (a wiped server is restored from it)
    assert rows(second, "SELECT count(*) FROM vectors")[0][0] == rows(
        second, "SELECT count(DISTINCT text_hash) FROM chunks")[0][0]

    # A branch with one changed file embeds only that file's new texts; the old ones stay for the other clone.
    changed = "pipeline/stage_3.py"
    before = {h for (h,) in rows(second, "SELECT text_hash FROM chunks WHERE path=?", changed)}
    repo = git.Repo(two)
    repo.git.checkout("-q", "-b", "feature")
    text = _module(3).replace("total - 0", "total - 100") + "def brand_new_stage(value):\n    return -value\n"
    (two / changed).write_text(text)
    repo.git.commit("-q", "-am", "change one stage")
    s3 = second.refresh(progress=False)
    after = {h for (h,) in rows(second, "SELECT text_hash FROM chunks WHERE path=?", changed)}
    assert s3.changed == 1 and 0 < built(second) == len(after - before)
    held = set(collection.get(include=[])["ids"])
    assert vec_ids(first) <= held and vec_ids(second) <= held
    assert collection.count() == s1.chunks + len(vec_ids(second, changed) - vec_ids(first, changed))

    # The other clone checks the branch out: nothing to embed, everything was stored by its teammate.
    mine = git.Repo(one)
    mine.git.fetch("-q", str(two), "feature:feature")
    mine.git.checkout("-q", "feature")
    s4 = first.refresh(progress=False)
    assert s4.changed == 1 and built(first) == 0

    # Retrieval from each clone: vector evidence from the shared collection, only chunks its catalog knows.
    for index in (first, second):
        found = Retriever(index).search("brand_new_stage value")
        assert found and found[0].symbol == "brand_new_stage"
        ids = {vid for vid, _ in index.vectors.query(index.embedder.embed(["brand_new_stage"])[0], 400)}
        assert ids - vec_ids(index), "the shared collection also holds vectors this catalog does not know"
        assert all(i.path in indexed_paths(index) for i in Retriever(index).search("scale and shift", k=20))

    # Stale vectors are collected by dropping the collection: a clone's next run restores its live vectors from its
    # own cache, embedding nothing.
    chroma_server.client().delete_collection(first.collection_name)
    close_index(second)
    again = open_index(two, tmp_path / "data-bob", store_url=chroma_server.url)
    s5 = again.refresh(progress=False)
    assert (s5.changed, s5.embedded) == (0, 0) and built(again) == 0
    assert set(chroma_server.client().get_collection(first.collection_name).get(include=[])["ids"]) == vec_ids(again)


def test_a_server_down_mid_build_is_one_line_and_the_next_search_stores_what_was_embedded(
        tmp_path, clones, open_index, monkeypatch, caplog):
    """Vectors built on demand: the server goes away while the first search stores them."""
    one, _ = clones
    server = ChromaServer(tmp_path / "chroma-down")
    try:
        index = open_index(one, tmp_path / "data-down", store_url=server.url)
        s = index.refresh(progress=False)
        assert s.vectors_error is None and s.embedded == 0  # the index itself never reaches the server
        stored = VectorStore.upsert

        def die_then_upsert(self, *args, **kwargs):
            server.kill()  # the server goes away as the built vectors are sent
            stored(self, *args, **kwargs)

        monkeypatch.setattr(VectorStore, "upsert", die_then_upsert)
        caplog.set_level(logging.WARNING)
        # the local index keeps answering (lexical and graph retrieval), with one line about the store
        assert Retriever(index).search("step_7_2")[0].symbol == "step_7_2"
        monkeypatch.setattr(VectorStore, "upsert", stored)
        warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warned) == 2 and not any(r.exc_info for r in caplog.records), warned
        assert "(first use)" in warned[0] and "unreachable" in warned[1]
        assert rows(index, "SELECT value FROM meta WHERE key='vectors_dirty'") == [("1",)]
        assert index.vector_sync.embedded > 0  # embedded and cached before the write failed

        # The server is back: the next search stores the missing vectors, embedding nothing.
        server = ChromaServer(server.path, port=server.port)
        index._store_down = None  # the retry pause is over (the language server waits STORE_RETRY_S)
        index.drop_vectors()
        assert built(index) == 0
        assert Retriever(index).search("step_7_2")[0].symbol == "step_7_2"
        assert vec_ids(index) <= server.ids()
        assert rows(index, "SELECT value FROM meta WHERE key='vectors_dirty'") == [("0",)]
    finally:
        server.kill()


@pytest.mark.usefixtures("eager_vectors")  # a model embedder's vectors are written by the index itself
def test_a_server_down_mid_index_is_one_line(tmp_path, clones, open_index, monkeypatch, caplog):
    one, _ = clones
    server = ChromaServer(tmp_path / "chroma-down")
    try:
        index = open_index(one, tmp_path / "data-down", store_url=server.url)
        monkeypatch.setattr(refresh_mod, "BATCH_FILES", 5)
        stored = VectorStore.upsert

        def upsert_then_die(self, *args, **kwargs):
            stored(self, *args, **kwargs)
            server.kill()  # the server goes away after the first batch's vectors

        monkeypatch.setattr(VectorStore, "upsert", upsert_then_die)
        caplog.set_level(logging.WARNING)
        s = index.refresh(progress=False)
        monkeypatch.setattr(VectorStore, "upsert", stored)
        assert s.vectors_error and "unreachable" in s.vectors_error
        assert len(indexed_paths(index)) == FILES  # the catalog is complete
        assert rows(index, "SELECT value FROM meta WHERE key='vectors_dirty'") == [("1",)]
        warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warned) == 1 and not any(r.exc_info for r in caplog.records)
        # the local index keeps answering (lexical and graph retrieval)
        assert Retriever(index).search("step_7_2")[0].symbol == "step_7_2"

        # The server is back: the next run stores the missing vectors, embedding nothing.
        server = ChromaServer(server.path, port=server.port)
        index._store_down = None  # the retry pause is over (the language server waits STORE_RETRY_S)
        index.drop_vectors()
        s = index.refresh(progress=False)
        assert s.vectors_error is None and s.embedded == 0
        assert vec_ids(index) <= server.ids()
        assert rows(index, "SELECT value FROM meta WHERE key='vectors_dirty'") == [("0",)]
    finally:
        server.kill()


def test_an_unreachable_server_from_the_command_line(tmp_path, clones):
    from .helpers_repo import ragls_cli

    one, _ = clones
    dead = f"http://127.0.0.1:{free_port()}"
    data = str(tmp_path / "data-cli")
    done = ragls_cli("index", str(one), "--store", dead, "--data-dir", data, "-q")
    assert done.returncode == 0 and not done.stderr.strip(), "the static embedder's vectors wait for a search"
    # the catalog was written: search answers from it (lexical and graph), with one line about the store
    done = ragls_cli("search", "step_4_1", "--repo", str(one), "--store", dead, "--data-dir", data)
    assert done.returncode == 0 and "step_4_1" in done.stdout, done.stderr
    lines = [x for x in done.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "unreachable" in lines[0] and "Traceback" not in done.stderr


def test_repository_identity(clones, tmp_path):
    one, two = clones
    assert repository_identity(one) == repository_identity(two) is not None  # the root commit, not the path
    shallow = tmp_path / "shallow"
    git.Repo.clone_from(f"file://{one}", shallow, depth=1)
    assert repository_identity(shallow) == f"remote {one}\n"  # a shallow clone's oldest commit depends on its depth
    (tmp_path / "plain").mkdir()
    assert repository_identity(tmp_path / "plain") is None  # outside git: a collection per data folder
    same = {normalize_remote(u) for u in ("git@github.com:org/repo.git", "ssh://git@github.com/org/repo",
                                           "https://user:pw@github.com/org/repo/", "https://github.com/org/repo.git")}
    assert same == {"github.com/org/repo"}
    assert normalize_remote("/srv/git/repo.git") == "/srv/git/repo"


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
        type(self).seen.append(self.headers.get("Authorization"))
        self.send_response(200 if self.path.endswith("/heartbeat") else 401)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"nanosecond heartbeat": 1}' if self.path.endswith("/heartbeat") else b'{"error": "no"}')

    do_POST = do_GET

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    _Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def test_the_store_token_is_sent(recorder, monkeypatch):
    """Chroma's server has no token check of its own: a proxy in front of it does, and ragls sends the token."""
    monkeypatch.setenv(TOKEN_ENV, "s3cret")
    with pytest.raises(VectorStoreError, match="refused"):
        VectorStore.remote("ragls-token-test", recorder)
    assert "Bearer s3cret" in _Recorder.seen


def test_vectors_by_id_and_by_text(chroma_server):
    store = VectorStore.remote("ragls-lookup-test", chroma_server.url)
    vecs = np.eye(3, 8, dtype=np.float32)
    store.upsert(["a", "b"], vecs[:2], ["ha", "hb"])
    store.upsert(["a"], vecs[2:], ["hc"])  # an id already held keeps its vector
    assert set(store.fetch(["a", "b", "zz"])) == {"a", "b"}
    assert np.allclose(store.fetch(["a"])["a"], vecs[0])
    assert set(store.by_hash(["hb", "hz"])) == {"hb"}
    assert store.present(["a", "zz"]) == {"a"}
    chroma_server.client().delete_collection("ragls-lookup-test")  # collected while in use
    with pytest.raises(VectorStoreGone):
        store.fetch(["a"])


@pytest.mark.asyncio(loop_scope="function")
async def test_the_language_server_with_a_store_that_is_down(clones, tmp_path):
    """The editor's index: the catalog is built, completions and questions are answered, one warning is logged."""
    from lsprotocol import types

    from .fake_openai import FakeOpenAI
    from .lsp_helpers import open_doc, start_server, wait_indexed

    one, _ = clones
    dead = f"http://127.0.0.1:{free_port()}"
    with FakeOpenAI() as api:
        lsp, _ = await start_server(one, api.base_url, tmp_path / "home", options={
            "index": {"debounceMs": 50, "dataDir": str(tmp_path / "data-lsp"), "store": dead}})
        try:
            assert f"indexed {FILES} files" in await wait_indexed(lsp, timeout=180)
            uri = open_doc(lsp, one / "pipeline/stage_2.py")
            api.replies.append("step_1_0(value)")
            done = await lsp.text_document_inline_completion_async(types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri), position=types.Position(3, 4),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic)))
            assert done is not None and done.items
            api.replies.append("It scales the value.")
            answer = await lsp.workspace_execute_command_async(types.ExecuteCommandParams(
                "ragls.ask", ["what does step_4_1 do?"]))
            assert "scales" in answer and "def step_4_1" in json.dumps(api.requests[-1][1])
            assert lsp._server.returncode is None, "the server is alive"
        finally:
            await lsp.shutdown_session()
