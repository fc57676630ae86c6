"""One-file updates stay cheap: a small refresh neither imports chroma nor writes the vector store (the next process
that opens the store writes what it deferred), and the vectors end up exactly the catalog's."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ragls.indexer.index import Index

from .conftest import write_tree
from .helpers_repo import close_index, eager_vectors_fixture, rows  # noqa: F401  (a fixture)

FILES = {"a.py": "def f():\n    return 1\n", "b.py": "from a import f\n\n\ndef g():\n    return f()\n"}
EDIT = "def f():\n    return 2\n\n\ndef h():\n    return 3\n"


CHUNKS = ("SELECT c.start_line, c.end_line, c.head_end, c.kind, c.symbol, c.text_hash, c.tokens, f.terms "
          "FROM chunks c JOIN chunks_fts f ON f.rowid = c.id")


def fresh_rows(root: Path, rel: str, text: str, data_dir: Path, queries: list[str] | tuple[str, ...],
               sort: bool = False) -> list[list[tuple]]:
    """The rows `queries` give from a fresh index of the repository with `rel` holding `text`."""
    (root / rel).write_text(text)
    fresh = Index.open(root, data_dir=data_dir)
    try:
        fresh.refresh(progress=False)
        return [sorted(rows(fresh, q)) if sort else rows(fresh, q) for q in queries]
    finally:
        close_index(fresh)


def built(tmp_path: Path) -> Path:
    root = write_tree(tmp_path / "repo", FILES)
    index = Index.open(root, data_dir=tmp_path / "data")
    index.refresh(progress=False)
    close_index(index)
    return root


@pytest.mark.usefixtures("eager_vectors")  # a model embedder's path; with the static one see test_lazy_vectors.py
def test_a_small_refresh_leaves_its_vector_writes_to_the_next_reader(tmp_path: Path) -> None:
    root = built(tmp_path)
    (root / "a.py").write_text(EDIT)
    index = Index.open(root, data_dir=tmp_path / "data")
    try:
        summary = index.refresh(progress=False)
        assert summary.changed == 1 and summary.vectors_error is None
        assert not index.vectors_open  # the store was not opened
        assert index.store.meta("vectors_pending") is not None and index.store.meta("vectors_dirty") == "0"
        want = {v for v, in rows(index, "SELECT vec_id FROM chunks")}
        assert index.vectors.ids() == want  # opening it stored what was deferred
        assert index.store.meta("vectors_pending") is None
    finally:
        close_index(index)


@pytest.mark.usefixtures("eager_vectors")
def test_update_file_defers_while_no_store_is_open_and_writes_at_once_when_one_is(tmp_path: Path) -> None:
    root = built(tmp_path)
    index = Index.open(root, data_dir=tmp_path / "data")
    try:
        index.update_file("a.py", EDIT.encode())
        assert not index.vectors_open and index.store.meta("vectors_pending") is not None
        want = {v for v, in rows(index, "SELECT vec_id FROM chunks")}
        assert index.vectors.ids() == want
        index.update_file("a.py", FILES["a.py"].encode())  # the store is open now: written at once
        assert index.store.meta("vectors_pending") is None
        assert index.vectors.ids() == {v for v, in rows(index, "SELECT vec_id FROM chunks")}
    finally:
        close_index(index)


def test_a_one_file_refresh_imports_no_chroma(tmp_path: Path) -> None:
    root = built(tmp_path)
    (root / "a.py").write_text(EDIT)
    script = ("import sys\nfrom pathlib import Path\nfrom ragls.indexer.index import Index\n"
              f"Index.open({str(root)!r}, data_dir=Path({str(tmp_path / 'data')!r})).refresh(progress=False)\n"
              "print(sorted(m for m in ('chromadb', 'onnxruntime') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stderr[-2000:]


def test_an_edit_rewrites_only_the_chunks_it_changed(tmp_path: Path) -> None:
    """A line inserted at the top of a file moves every chunk: their rows keep their ids and postings, only the
    changed chunk is rewritten, and the catalog ends up as a fresh index of the same text has it."""
    body = "".join(f"def fn_{i}(x):\n    \"\"\"Step {i}.\"\"\"\n    return x + {i}\n\n\n" for i in range(40))
    root = write_tree(tmp_path / "repo", {"big.py": body})
    index = Index.open(root, data_dir=tmp_path / "data")
    try:
        index.refresh(progress=False)
        before = dict(rows(index, "SELECT vec_id, id FROM chunks WHERE path='big.py'"))
        edited = "import os\n" + body.replace("return x + 7\n", "return x + seven_fold\n")
        index.update_file("big.py", edited.encode())
        after = dict(rows(index, "SELECT vec_id, id FROM chunks WHERE path='big.py'"))
        kept = {v for v in after if v in before and after[v] == before[v]}
        assert len(kept) >= len(before) - 2 and len(after) >= len(before)  # fn_7's chunk (and a module one) new
        assert [i for i, in rows(index, "SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH 'seven'")]
        got = sorted(rows(index, CHUNKS))
        assert rows(index, "SELECT count(*) FROM chunks_fts") == [(len(after),)]
    finally:
        close_index(index)
    assert [got] == fresh_rows(root, "big.py", edited, tmp_path / "fresh", [CHUNKS], sort=True)


def test_an_opened_file_is_reparsed_incrementally_and_indexed_as_a_fresh_index_has_it(tmp_path: Path) -> None:
    """Opening a file the index holds keeps its parse; each edit after that re-reads only what changed, and the
    symbols, imports and references end up as a fresh index of the same text has them."""
    body = "import os\n\n" + "".join(f"# step {i}\ndef fn_{i}(x):\n    return os.path.join(x, '{i}')\n\n\n"
                                      for i in range(30))
    root = write_tree(tmp_path / "repo", {"big.py": body})
    symbols = ("SELECT name, qualname, kind, start_line, end_line, head_end, signature FROM symbols "
               "WHERE path='big.py' ORDER BY start_line")
    queries = (symbols,
               "SELECT module, name, alias, line FROM imports WHERE path='big.py' ORDER BY line, name",
               "SELECT name, count FROM refs WHERE path='big.py' ORDER BY name")
    index = Index.open(root, data_dir=tmp_path / "data")
    try:
        index.refresh(progress=False)
        assert not index.update_file("big.py", body.encode()).changed  # opened: nothing to write, its parse kept
        assert index.reextractor.holds("big.py", body.encode())
        edited = body.replace("def fn_3(x):", "def fn_three(x, y):").replace("# step 20\n", "import sys\n# step 20\n\n")
        for text in (edited, edited + "def tail():\n    return sys.argv\n"):
            index.update_file("big.py", text.encode())
            assert index.reextractor.holds("big.py", text.encode())
        got = [rows(index, q) for q in queries]
    finally:
        close_index(index)
    assert got == fresh_rows(root, "big.py", text, tmp_path / "fresh", queries)
    assert any(r[0] == "fn_three" for r in got[0]) and any(r[0] == "sys" for r in got[1])
