"""A shared vector store: index into a real `chroma run` server instead of the embedded on-disk store."""
from __future__ import annotations

from pathlib import Path

import pytest

from ragls.indexer.retrieve import Retriever

from .helpers_repo import (  # noqa: F401  (the *_fixture names are fixtures)
    ChromaServer,
    chroma_server_fixture,
    close_index,
    indexed_paths,
    open_index_fixture,
    rows,
    vec_ids,
)


@pytest.fixture(scope="module")
def chroma_url(chroma_server: ChromaServer) -> str:
    return chroma_server.url


def test_index_into_a_chroma_server(chroma_url, shop_repo, tmp_path, open_index):
    import chromadb
    from chromadb.config import Settings

    data = tmp_path / "server-index"
    index = open_index(shop_repo.working_tree_dir, data, store_url=chroma_url)
    s = index.refresh(progress=False)
    assert s.files > 0 and s.chunks > 0
    assert not (data / "chroma").exists(), "a server-backed index must not create an embedded store"

    ids = index.vectors.ids()
    assert ids and ids == vec_ids(index)

    host, port = chroma_url.removeprefix("http://").split(":")
    other = chromadb.HttpClient(host=host, port=int(port), settings=Settings(anonymized_telemetry=False))
    name = index.vectors.collection.name
    assert name in [c.name for c in other.list_collections()]
    seen = other.get_collection(name)
    assert seen.count() == len(ids)
    assert set(seen.get(include=[])["ids"]) == ids

    # A deleted file's vectors stay on the server (another clone or branch may still use them), and a no-op
    # refresh sends nothing.
    path = "shop/pricing.py"
    gone = vec_ids(index, path)
    (Path(shop_repo.working_tree_dir) / path).unlink()
    s = index.refresh(progress=False)
    assert s.removed == 1 and path not in indexed_paths(index)
    assert gone and gone <= set(seen.get(include=[])["ids"])
    assert set(seen.get(include=[])["ids"]) == vec_ids(index) | gone
    again = index.refresh(progress=False)
    assert (again.changed, again.embedded) == (0, 0)
    assert rows(index, "SELECT count(*) FROM chunks")[0][0] + len(gone) == seen.count()

    # The server lost the collection (restarted without storage, say): the first query restores the vectors from
    # those cached in the catalog (the static embedder's vectors are built by searches), without embedding anything.
    other.delete_collection(name)
    close_index(index)
    index = open_index(shop_repo.working_tree_dir, data, store_url=chroma_url)
    assert "format_money" in [i.symbol for i in Retriever(index).search("format_money")]
    assert index.vector_sync.embedded == 0
    s = index.refresh(progress=False)
    assert s.embedded == 0
    assert set(other.get_collection(name).get(include=[])["ids"]) == vec_ids(index)
