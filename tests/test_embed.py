"""Embedders: the offline static model, and an OpenAI-compatible /v1/embeddings endpoint chosen by settings."""
from __future__ import annotations

import numpy as np
import pytest

from ragls.indexer.embed import StaticEmbedder, make_embedder
from ragls.indexer.retrieve import Query, Retriever

from .fake_openai import FakeOpenAI


def test_static_embedder_is_offline_and_unit_length():
    vectors = StaticEmbedder().embed(["def parse_url(text): ...", "class HttpClient: ..."])
    assert vectors.shape == (2, 64)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)


def test_static_embedder_reproduces_the_wheels_vectors_for_code():
    """The cut vocabulary segments ASCII text exactly as the wheel's full one: same vectors."""
    import static_model

    texts = ["def parse_url(text: str) -> Url:\n    return Url(*text.split('://', 1))",
             'class HttpClient:\n    """Sends requests; retries 3 times."""\n    timeout = 30',
             "for (let i = 0; i < xs.length; i++) { total += xs[i] * 2; }", "x"]
    ours = StaticEmbedder().embed(texts)
    theirs = np.asarray(static_model.get_embeddings(texts), dtype=np.float32)
    theirs /= np.linalg.norm(theirs, axis=1, keepdims=True)
    assert np.allclose(ours, theirs, atol=1e-5)
    odd = StaticEmbedder().embed(["", "   ", "naïve café — ünïcode 日本語"])  # nothing to embed, non-ASCII: no error
    assert not odd[0].any() and odd.shape == (3, 64)


def test_python_segmentation_is_the_library_s(tmp_path) -> None:
    """A small update segments its words in Python (no trie loaded): the same pieces as the tokenizers library for
    code's words and random printable ASCII, so the same vectors; a large batch loads the library."""
    import random
    import shutil
    from pathlib import Path

    import ragls.indexer.static_vectors as sv
    from tokenizers import Tokenizer

    vectors = sv.StaticVectors()
    plain = Path(tmp_path / vectors._plain.name)
    shutil.copy(vectors._plain, plain)
    pieces = sv._Pieces(plain)  # derived here, then read back from its marshal file
    assert sv._Pieces(plain).ids == pieces.ids
    for kept in tmp_path.glob("*.marshal"):  # damaged, or of an older layout: derived again
        kept.write_bytes(__import__("marshal").dumps({"old": (1, 2.0)}))
    assert sv._Pieces(plain).ids == pieces.ids
    model = Tokenizer.from_file(str(plain)).model
    rng = random.Random(7)
    alphabet = [chr(c) for c in range(33, 127)]
    words = set(Path(sv.__file__).read_text().split()) | {"x", "\\", "||", "a" * 200}
    words |= {"".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(3_000)}
    for w in sorted(words):
        assert pieces.tokenize("\u2581" + w) == [t.id for t in model.tokenize("\u2581" + w)], w
    texts = ["def parse_url(text: str) -> Url:\n    return Url(*text.split('://', 1))", "x = {'a': [1, 2]}"]
    small = sv.StaticVectors()
    assert np.allclose(small.embed(texts), StaticEmbedder().embed(texts), atol=1e-6)
    assert small._library is None and small._python is not None
    many = [" ".join(rng.choice(sorted(words)) for _ in range(40)) for _ in range(200)]
    assert np.allclose(sv.StaticVectors().embed(many), np.concatenate([small.embed(many[:10]), small.embed(many[10:])]),
                       atol=1e-6)


def test_unknown_embedder_is_a_clear_error():
    with pytest.raises(ValueError, match="static"):
        make_embedder("word2vec")


def test_openai_compatible_embeddings_index_and_retrieve(shop_repo, tmp_path, monkeypatch):
    from ragls.indexer.index import Index

    with FakeOpenAI() as api:
        monkeypatch.setenv("MY_EMBED_KEY", "sk-test")
        index = Index.open(shop_repo.working_tree_dir, data_dir=tmp_path / "data", embedder="openai:test-embed",
                           embed_base_url=api.base_url, embed_api_key_env="MY_EMBED_KEY")
        assert "sk-test" not in repr(index.embedder)
        summary = index.refresh(progress=False)
        assert summary.embedded > 0
        paths = {p for p, _ in api.requests}
        assert paths == {"/v1/embeddings"}
        assert all(body["model"] == "test-embed" for _, body in api.requests)
        assert api.headers[-1]["authorization"] == "Bearer sk-test"  # read from the variable named
        items = Retriever(index).context(Query("shop/checkout.py", 12, 10))
        assert "apply_discount" in [i.symbol for i in items][:3]
        assert len(index.vectors.ids()) == summary.chunks


def test_switching_embedder_re_embeds_into_a_new_space(shop_repo, tmp_path, monkeypatch):
    from ragls.indexer.index import Index

    data = tmp_path / "data"
    Index.open(shop_repo.working_tree_dir, data_dir=data).refresh(progress=False)
    with FakeOpenAI() as api:
        index = Index.open(shop_repo.working_tree_dir, data_dir=data, embedder="openai:other",
                           embed_base_url=api.base_url)
        summary = index.refresh(progress=False)
        assert summary.embedded == summary.chunks > 0


def test_warming_loads_the_segmenter_of_small_updates_only() -> None:
    """The server warms its embedder after indexing: the first edit's words then find their segmenter loaded (the
    Python one, not the library's trie), and vectors are the same as a cold embedder's."""
    import ragls.indexer.static_vectors as sv

    warm = StaticEmbedder()
    warm.warm()
    assert isinstance(warm._model._python, sv._Pieces) and warm._model._library is None
    texts = ["def parse_url(text: str) -> Url:", "x = {'a': [1, 2]}"]
    assert np.allclose(warm.embed(texts), StaticEmbedder().embed(texts), atol=1e-6)


def test_an_embeddings_endpoint_that_stops_answering_fails_the_batch_instead_of_hanging_it():
    import openai
    from ragls.indexer.embed import EmbeddingError, OpenAIEmbedder

    with FakeOpenAI() as api:
        embedder = OpenAIEmbedder("test-embed", api.base_url, "sk-test", timeout_s=0.5, max_retries=0)
        assert embedder.embed(["def f():\n    return 1\n"]).shape == (1, api.dim)
        client = embedder.client()
        api.delay_s = 5.0  # the server hangs
        with pytest.raises(EmbeddingError, match="failed") as caught:
            embedder.embed(["def g():\n    return 2\n"])
        assert isinstance(caught.value.__cause__, openai.APITimeoutError)
        assert embedder.client() is client  # one client for the embedder's life


def test_an_embeddings_reply_that_is_not_one_vector_per_text_is_an_error():
    """Fewer vectors than texts (or vectors of two lengths) never reshape into wrong rows: a clear error."""
    from types import SimpleNamespace

    from ragls.indexer.embed import EmbeddingError, OpenAIEmbedder

    def reply(*lengths: int) -> SimpleNamespace:
        return SimpleNamespace(data=[SimpleNamespace(index=i, embedding=[0.5] * n) for i, n in enumerate(lengths)])

    embedder = OpenAIEmbedder("test-embed", "http://127.0.0.1:1/v1", batch_size=4)
    answers: list[SimpleNamespace] = []
    embedder._client = SimpleNamespace(embeddings=SimpleNamespace(create=lambda **_: answers.pop(0)))
    answers.append(reply(8, 8))
    with pytest.raises(EmbeddingError, match="answered 2 vectors for 4 texts"):
        embedder.embed(["a", "b", "c", "d"])
    answers.extend([reply(8, 8, 8, 8), reply(4)])
    with pytest.raises(EmbeddingError, match="different lengths"):
        embedder.embed(["a", "b", "c", "d", "e"])
    answers.append(reply(8, 8))
    assert embedder.embed(["a", "b"]).shape == (2, 8)


def test_an_embeddings_endpoint_that_is_down_is_one_line_and_exit_4(shop_repo, tmp_path):
    import socket
    import subprocess
    import sys

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = subprocess.run([sys.executable, "-m", "ragls.indexer.cli", "index", shop_repo.working_tree_dir,
                          "--data-dir", str(tmp_path / "data"), "--embedder", "openai:e",
                          "--embed-base-url", f"http://127.0.0.1:{port}/v1"], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 4, out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith(f"ragls: the embeddings endpoint http://127.0.0.1:{port}/v1")
    assert "Traceback" not in out.stderr
