"""An Index owns its handles: it closes them (`Index.close`), says whether they are open and pauses its vector
store, and no other module reaches into its (or any object's) `__dict__` for that."""
from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import pytest

from ragls.indexer.index import Index
from ragls.indexer.retrieve import Retriever
from ragls.indexer.vectors import VectorStoreError, in_process

from .conftest import write_tree
from .helpers_repo import close_index

ROOT = Path(__file__).resolve().parents[1]
FILES = {"a.py": "def f():\n    return 1\n", "b.py": "from a import f\n\n\ndef g():\n    return f()\n"}
# `x.__dict__[...]`, `... in x.__dict__`, `x.__dict__.pop(...)` and the like, on anything but `self`
FOREIGN_DICT = re.compile(r"(?<!\bself)\.__dict__\b")


def test_no_module_reads_another_objects_dict() -> None:
    found = [f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
             for package in ("indexer", "server") for path in sorted((ROOT / package).rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if FOREIGN_DICT.search(line)]
    assert not found, "ask the object (Index: store_open, vectors_open, drop_vectors, close...):\n" + "\n".join(found)


def built(tmp_path: Path) -> Index:
    index = Index.open(write_tree(tmp_path / "repo", FILES), data_dir=tmp_path / "data")
    index.refresh(progress=False)
    _ = index.vectors  # built on first use
    return index


def test_close_closes_both_handles_twice_over_and_the_index_opens_them_again(tmp_path: Path) -> None:
    index = built(tmp_path)
    try:
        store, vectors = index.store, index.vectors
        chroma = tmp_path / "data" / "chroma"
        mark = chroma / f".in-use-{os.getpid()}"
        assert index.store_open and index.vectors_open and mark.exists() and vectors in in_process(chroma)
        index.close()
        index.close()  # closing a closed index does nothing
        assert not index.store_open and not index.vectors_open
        assert not mark.exists() and in_process(chroma) == []  # the local store's in-use mark is gone
        with pytest.raises(sqlite3.ProgrammingError):
            store.db.execute("SELECT 1")
        # the next use opens them again, as the first did
        assert index.store.meta("generation") is not None and index.vectors.count() > 0 and mark.exists()
    finally:
        close_index(index)


def test_paused_vectors_refuse_to_open_and_searches_go_on_without_them(tmp_path: Path) -> None:
    index = built(tmp_path)
    try:
        assert index.pause_vectors("being refreshed elsewhere")  # it was open: closed
        assert not index.vectors_open and not index.pause_vectors("again")
        with pytest.raises(VectorStoreError, match="^again$"):
            _ = index.vectors
        assert not index.vectors_open
        assert Retriever(index).search("g")[0].symbol == "g"  # graph and lexical ranking answer
        index.resume_vectors()
        assert index.vectors.count() > 0 and index.vectors_open
    finally:
        close_index(index)
