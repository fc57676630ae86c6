"""A vector store left damaged by a killed writer is rebuilt from the vectors cached in SQLite."""
from __future__ import annotations

import subprocess
import sys

from ragls.indexer.index import Index


def test_damaged_store_of_a_dead_process_is_rebuilt(shop_repo, tmp_path):
    data = tmp_path / "data"
    root = shop_repo.working_tree_dir
    first = Index.open(root, data_dir=data)
    chunks = first.refresh(progress=False).chunks
    first.vectors.close()
    chroma = data / "chroma"
    for f in chroma.rglob("*"):  # damage every file of the store, as a half-finished write might
        if f.is_file() and not f.name.startswith(".in-use"):
            f.write_bytes(b"\0garbage" * 64)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (chroma / f".in-use-{dead.stdout.strip()}").touch()  # the writer died without closing the store

    again = Index.open(root, data_dir=data)
    summary = again.refresh(progress=False)
    assert summary.embedded == 0  # restored from the cache, not re-embedded
    assert len(again.vectors.ids()) == chunks
    again.vectors.close()
    assert not list(chroma.glob(".in-use-*"))
