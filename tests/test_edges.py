"""Incremental edges: after each edit (a definition added, removed or renamed, an import dropped, files added and
removed), through `refresh` and through the language server's `update_file`, the stored edges equal a full rebuild."""
from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from ragls.indexer.graph import Graph, resolve_edges
from ragls.indexer import refresh as refresh_module
from ragls.indexer.index import Index

from .conftest import FIXTURES, write_tree
from .helpers_repo import close_index

REEXPORTS = {  # a Python package whose names pass through aliases, star imports and package re-exports
    "pkg/__init__.py": "from .b import g as public\nfrom .c import *\n",
    "pkg/a.py": "def f():\n    return 1\n\n\nclass K:\n    pass\n\n\nLIMIT = 3\n",
    "pkg/b.py": "from .a import f as g\nfrom .a import K, LIMIT\n\n\ndef h():\n    return g()\n",
    "pkg/c.py": "from .b import *\nfrom pkg.a import K as Kind\n\n\ndef use():\n    return g() + h()\n",
    "pkg/d.py": "from .c import g, Kind\nfrom pkg import public\nimport pkg.a\n\n\ndef run():\n"
                "    return g() + public() + Kind() + pkg.a.f()\n",
    "pkg/sub/__init__.py": "",
    "pkg/sub/e.py": "from ..c import *\nfrom .. import d\n\n\ndef go():\n    return use() + d.run() + K()\n",
    "main.py": "from pkg.d import run\nfrom pkg import *\n\nrun()\npublic()\n",
}
C_TREE = {
    "include/base.h": "#ifndef BASE_H\n#define BASE_H\nstruct point { int x; int y; };\nint norm(struct point p);\n"
                      "#include \"more.h\"\n#endif\n",
    "include/more.h": "#ifndef MORE_H\n#define MORE_H\n#include \"base.h\"\nint twice(int v);\n#endif\n",
    "src/geo.c": "#include \"base.h\"\nint norm(struct point p) { return p.x * p.x + p.y * p.y; }\n",
    "src/main.c": "#include \"more.h\"\nint main(void) { struct point p = {1, 2}; return norm(p) + twice(3); }\n",
}


def stored(index: Index) -> Counter:
    return Counter(index.store.db.execute("SELECT src, name, dst, dst_symbol, kind FROM edges").fetchall())


def full(index: Index) -> Counter:
    refs: dict[str, dict[str, int]] = {}
    for path, name, count in index.store.db.execute("SELECT path, name, count FROM refs"):
        refs.setdefault(path, {})[name] = count
    return Counter(resolve_edges(Graph(index.store, index.root.name, index.root), refs))


def check(index: Index, what: str) -> None:
    got, want = stored(index), full(index)
    assert got == want, (what, sorted((got - want).elements()), sorted((want - got).elements()))


def most_used(index: Index) -> tuple[str, str]:
    """The top-level definition other files use most: (its file, its name)."""
    row = index.store.db.execute(
        "SELECT dst, dst_symbol, count(*) n FROM edges WHERE dst_symbol != '' AND instr(dst_symbol, '.') = 0 "
        "AND src != dst GROUP BY dst, dst_symbol ORDER BY n DESC, dst, dst_symbol LIMIT 1").fetchone()
    assert row is not None, "the fixture has no edges across files"
    return row[0], row[1]


def rename(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    path.write_text(re.sub(rf"\b{re.escape(old)}\b", new, path.read_text()))


def drop_line(root: Path, rel: str, line: int) -> None:
    path = root / rel
    lines = path.read_text().splitlines(keepends=True)
    del lines[line - 1]
    path.write_text("".join(lines))


def edits(index: Index, root: Path, server: bool) -> None:
    """A series of edits, each followed by a check; `server` applies them through update_file first."""
    def apply(rels: list[str], what: str) -> None:
        if server:
            for rel in rels:
                index.update_file(rel)
        index.refresh(progress=False)
        check(index, what)

    check(index, "first build")
    dst, name = most_used(index)
    rename(root, dst, name, name + "Renamed")
    apply([dst], f"rename {name} in {dst}")
    rename(root, dst, name + "Renamed", name)
    apply([dst], f"rename {name} back in {dst}")
    row = index.store.db.execute("SELECT i.path, i.line FROM imports i JOIN edges e ON e.src = i.path "
                                 "WHERE e.dst != i.path ORDER BY i.path, i.line LIMIT 1").fetchone()
    if row is not None:
        saved = (root / row[0]).read_text()
        drop_line(root, row[0], row[1])
        apply([row[0]], f"drop import line {row[1]} of {row[0]}")
        (root / row[0]).write_text(saved)
        apply([row[0]], f"restore {row[0]}")
    saved = (root / dst).read_text()
    (root / dst).unlink()
    apply([dst], f"remove {dst}")
    (root / dst).write_text(saved)
    apply([dst], f"add {dst} back")
    copy = str(Path(dst).with_name("extra_" + Path(dst).name))
    shutil.copy(root / dst, root / copy)
    apply([copy], f"add {copy}")
    (root / copy).unlink()
    apply([copy], f"remove {copy}")


def make(tmp_path: Path, name: str) -> Path:
    root = tmp_path / "repo"
    if name == "reexports":
        write_tree(root, REEXPORTS)
    elif name == "c":
        write_tree(root, C_TREE)
    else:
        shutil.copytree({"python": FIXTURES / "pyrepo", "typescript": FIXTURES / "ts",
                         "go": FIXTURES / "go" / "shop", "java": FIXTURES / "java" / "shelf"}[name], root)
    return root


@pytest.mark.parametrize("server", [False, True], ids=["refresh", "update_file"])
@pytest.mark.parametrize("name", ["reexports", "python", "typescript", "go", "java", "c"])
def test_incremental_edges_equal_a_full_rebuild(tmp_path: Path, name: str, server: bool,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(refresh_module, "FULL_EDGES_FRACTION", 1.0)  # never the full pass, however few files
    root = make(tmp_path, name)
    index = Index.open(root, data_dir=tmp_path / "data")
    try:
        index.refresh(progress=False)
        edits(index, root, server)
    finally:
        close_index(index)


def test_reexport_chain_edits_resolve_only_the_files_they_reach(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Renaming a definition re-resolves the files its name reaches through aliases and stars, not the others;
    a body-only edit re-resolves the edited file alone."""
    from ragls.indexer.edges import Change, affected

    root = make(tmp_path, "reexports")
    index = Index.open(root, data_dir=tmp_path / "data")
    try:
        monkeypatch.setattr(refresh_module, "FULL_EDGES_FRACTION", 1.0)
        index.refresh(progress=False)
        assert affected(index.store, [Change("pkg/a.py")], "repo") == {"pkg/a.py"}
        reach = affected(index.store, [Change("pkg/a.py", {"f"})], "repo")
        assert reach == {"pkg/a.py", "pkg/b.py", "pkg/c.py", "pkg/d.py", "pkg/__init__.py", "main.py"}  # not e.py:
        # it star-imports c, which passes g on, but never uses g
        assert affected(index.store, [Change("pkg/a.py", {"LIMIT"})], "repo") == {
            "pkg/a.py", "pkg/b.py"}  # c.py star-imports b but does not use LIMIT; nothing imports it further
        for edit in ("def f():\n    return 2\n", "def f():\n    return 2\n\n\ndef extra():\n    pass\n"):
            (root / "pkg/a.py").write_text(edit)
            index.refresh(progress=False)
            check(index, edit)
    finally:
        close_index(index)


def test_a_lazily_read_graph_follows_every_barrel_a_full_one_does(tmp_path: Path) -> None:
    """Resolving one file through a graph that reads files as resolution asks for them gives what the whole graph
    gives, however many barrels' trees the search reads one after another (ruling a barrel's tree out by the names
    its files hold must see every file of it, not only those read so far)."""
    from ragls.indexer.edges import LazyGraph

    from .conftest import index_of

    root = write_tree(tmp_path / "repo", {
        "p/index.ts": "export * from './x';\n",
        "p/x.ts": "export class X {}\n",
        "q/index.ts": "export * from './inner';\n",
        "q/inner/index.ts": "export * from './y';\n",
        "q/inner/y.ts": "export class Y {}\n",
        "main.ts": "import { X } from './p';\nimport { Y } from './q';\n\nnew X();\nnew Y();\n",
    })
    index = index_of(root, tmp_path / "data")
    try:
        refs = {"main.ts": {"X": 1, "Y": 1}}
        lazy = resolve_edges(LazyGraph(index.store, index.root.name, index.root), refs, ["main.ts"])
        whole = resolve_edges(Graph(index.store, index.root.name, index.root), refs, ["main.ts"])
        assert sorted(lazy) == sorted(whole)
        assert ("main.ts", "Y", "q/inner/y.ts", "Y", "imports") in whole
    finally:
        close_index(index)


def test_an_edit_keeps_the_barrels_name_index_as_a_rebuild_would(tmp_path: Path) -> None:
    """The names each file defines or imports, which rule barrels out of a search, follow an editor's edits in
    place: a name an edit adds behind a barrel is found through it, one it removes no longer is."""
    from ragls.indexer.retrieve import Retriever

    from .conftest import index_of

    root = write_tree(tmp_path / "repo", {
        "p/index.ts": "export * from './x';\n",
        "p/x.ts": "export class X {}\n",
        "main.ts": "import { X, Z } from './p';\n\nnew X();\n",
    })
    index = index_of(root, tmp_path / "data")
    try:
        r = Retriever(index)
        graph = r.graph
        barrel = ("files", ("p/index.ts",))
        assert graph.resolve_attr(barrel, "Z") is None  # the index of names is built here
        index.update_file("p/x.ts", b"export class X {}\nexport class Z {}\n")
        assert r.graph is graph  # patched in place
        found = graph.resolve_attr(barrel, "Z")
        assert found is not None and found[1].path == "p/x.ts"  # type: ignore[union-attr]
        index.update_file("p/x.ts", b"export class Y {}\n")
        assert r.graph is graph and graph.resolve_attr(barrel, "X") is None
        fresh = Graph(index.store, index.root.name, index.root)
        assert {n: f for n, f in graph._holders().items() if f} == {n: f for n, f in fresh._holders().items() if f}
    finally:
        close_index(index)


def test_pending_changes_merge_per_file_and_give_up_past_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    from ragls.indexer import edges
    from ragls.indexer.edges import Change, record_pending

    class Meta:  # what read_pending asks of a Store
        def __init__(self, db: sqlite3.Connection) -> None:
            self.db = db

        def meta(self, key: str) -> str | None:
            row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
            return row[0] if row else None

    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)")
    record_pending(db, [])
    assert edges.read_pending(Meta(db)) == []
    record_pending(db, [Change("a.py", {"f"})])
    record_pending(db, [Change("a.py", {"g"}), Change("b.py", set(), True)])
    assert sorted((c.path, sorted(c.names), c.moved) for c in edges.read_pending(Meta(db))) == [
        ("a.py", ["f", "g"], False), ("b.py", [], True)]
    monkeypatch.setattr(edges, "PENDING_MAX", 3)
    record_pending(db, [Change("c.py", {"x", "y"})])
    assert edges.read_pending(Meta(db)) is None  # too many: the next refresh resolves every file
    record_pending(db, [Change("d.py", {"z"})])
    assert edges.read_pending(Meta(db)) is None


class Killed(Exception):
    """Stands for the process being killed at that step."""


def _kill(*_args, **_kwargs):
    raise Killed


@pytest.mark.parametrize("step", ["refresh after its batch", "refresh after a removal", "update between commits"])
def test_a_run_killed_after_writing_the_catalog_is_settled_by_the_next_refresh(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str) -> None:
    """A run stopped after committing new text but before its edges and generation: the next refresh, although no
    file changed since, resolves the edges anew and moves the generation on, so a running reader reloads."""
    from ragls.indexer.retrieve import Retriever

    root = make(tmp_path, "reexports")
    index = Index.open(root, data_dir=tmp_path / "data")
    try:
        index.refresh(progress=False)
        reader = Retriever(index)
        assert "f" in reader.graph.defs["pkg/a.py"]
        generation = index.store.meta("generation")
        with monkeypatch.context() as m:
            if step == "update between commits":
                rename(root, "pkg/a.py", "f", "f2")
                m.setattr(refresh_module, "record_pending", _kill)
                with pytest.raises(Killed):
                    index.update_file("pkg/a.py")
            else:
                if step == "refresh after its batch":
                    rename(root, "pkg/a.py", "f", "f2")
                else:
                    (root / "pkg/a.py").unlink()
                m.setattr(refresh_module.Refresher, "store_edges", _kill)
                with pytest.raises(Killed):
                    index.refresh(progress=False)
        assert index.store.meta("unsettled") == "1"
        index.refresh(progress=False)  # nothing changed on disk since the stopped run
        check(index, step)
        assert index.store.meta("unsettled") is None and index.store.meta("generation") != generation
        assert "f" not in reader.graph.defs.get("pkg/a.py", {})  # the reader saw the new generation
    finally:
        close_index(index)


def test_the_change_log_is_cut_when_the_generation_moves_on(tmp_path: Path) -> None:
    root = make(tmp_path, "reexports")
    index = Index.open(root, data_dir=tmp_path / "data")
    try:
        index.refresh(progress=False)
        for n in range(5):
            rename(root, "pkg/a.py", f"f{n}" if n else "f", f"f{n + 1}")
            index.update_file("pkg/a.py")
        rows = index.store.db.execute("SELECT seq FROM changes ORDER BY seq").fetchall()
        assert len(rows) == 5
        index.refresh(progress=False)  # the edges the updates left pending are resolved; readers reload
        assert index.store.db.execute("SELECT seq FROM changes").fetchall() == [rows[-1]]  # the last seq kept
        check(index, "after the updates")
    finally:
        close_index(index)
