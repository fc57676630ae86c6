"""A parse that runs past its time limit is given up, never a frozen request: the query, the index and an editor's
update go on without its tree."""
from __future__ import annotations

from pathlib import Path

import pytest

from ragls.indexer import languages
from ragls.indexer.languages import grammar
from ragls.indexer.retrieve import Query, Retriever
from ragls.indexer.symbols import extract
from ragls.indexer.visible import read

from .conftest import index_of, write_tree

PATHOLOGICAL = Path(__file__).parent / "fixtures" / "parse" / "pathological.ts"  # random tokens: minutes to parse


def _given_up(self, data, old_tree=None, parser=None):  # noqa: ANN001, ANN202  (Grammar.parse's signature)
    return None


@pytest.fixture
def no_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every parse is given up, as one past its limit is."""
    monkeypatch.setattr(languages.Grammar, "parse", _given_up)


def test_a_parse_past_its_limit_is_halted(monkeypatch: pytest.MonkeyPatch) -> None:
    g = grammar("typescript")
    assert g is not None
    big = "".join(f"export function f{i}(x: number): number {{ return x + {i}; }}\n" for i in range(20_000)).encode()
    assert g.parse(big) is not None
    monkeypatch.setattr(languages, "PARSE_FLOOR_SECONDS", -1.0)  # over the limit at its first progress report
    monkeypatch.setattr(languages, "PARSE_BYTES_PER_SECOND", 1e12)
    assert g.parse(big) is None
    monkeypatch.undo()
    assert g.parse(big) is not None  # the parser starts afresh after a halt


class _Counting:
    """A parser that counts its parses."""

    def __init__(self, parser) -> None:  # noqa: ANN001
        self.parser, self.parses = parser, 0

    def parse(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        self.parses += 1
        return self.parser.parse(*args, **kwargs)

    def reset(self) -> None:
        self.parser.reset()


def test_a_slow_parse_is_not_repeated_over_the_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A parse far slower than its size (error recovery: garbage) reuses nothing when repeated over the bytes for
    faster reading of its nodes' text, and no limit can be given to that second parse: its tree is kept."""
    g = grammar("go")
    assert g is not None
    source = b"package p\n\nfunc F() int { return 1 }\n"
    fast = _Counting(g.parser())
    tree = g.parse(source, parser=fast)
    assert tree is not None and fast.parses == 2  # the usual parse: once from the reader, once over the bytes
    monkeypatch.setattr(languages, "REPARSE_SECONDS", -1.0)  # every parse as slow as garbage
    slow = _Counting(g.parser())
    tree = g.parse(source, parser=slow)
    assert tree is not None and slow.parses == 1
    functions = [n for n in tree.root_node.children if n.type == "function_declaration"]
    assert [f.child_by_field_name("name").text for f in functions] == [b"F"]  # its text read through the reader
    assert [s.qualname for s in extract(g, "p.go", source).symbols] == ["F"]  # extraction reads it all the same


def test_a_pathological_text_is_given_up_within_its_limit() -> None:
    """tree-sitter's error recovery on these 6 KB of random tokens runs for minutes; the request returns."""
    text = PATHOLOGICAL.read_text()
    lines = text.split("\n")
    v = read("garbage.ts", text, len(lines), len(lines[-1]), None)
    assert not v.parsed and v.imports == [] and v.types == {}
    assert v.uses  # what needs no tree is still read


def test_a_given_up_parse_degrades_each_reader(tmp_path: Path, no_time: None) -> None:
    source = "import { Repo } from './repo'\n\nexport class Service {\n    run(repo: Repo): void {\n        repo.\n"
    g = grammar("typescript")
    assert g is not None
    parsed = extract(g, "a.ts", source.encode())  # indexed as text: line windows
    assert parsed.symbols == [] and parsed.has_errors
    from ragls.indexer.reextract import Reextractor

    again = Reextractor()  # an editor's update of the file
    assert again.extract(g, "a.ts", source.encode()).symbols == []
    assert again.extract(g, "a.ts", (source + "        repo.save(1)\n").encode()).has_errors
    v = read("a.ts", source, 5, len("        repo."), None)
    assert not v.parsed and v.receiver == ["repo"]
    from ragls.server.features.fixes import problems

    assert problems("a.ts", source) is None  # no syntax errors claimed of a text not parsed


def test_a_query_in_a_file_whose_parse_is_given_up_uses_the_catalog_s_imports(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Indexed normally, then every parse is given up: the query reads the imports the catalog holds."""
    root = write_tree(tmp_path / "repo", {
        "repo.ts": "/** Stores things. */\nexport class Repo {\n    save(x: number): void {}\n}\n",
        "service.ts": "import { Repo } from './repo'\n\nexport function run(r: Repo) {\n    return new Re\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    monkeypatch.setattr(languages.Grammar, "parse", _given_up)
    items = r.context(Query("service.ts", 4, len("    return new Re")), join=False)
    assert items and items[0].symbol == "Repo" and "imported=1.00" in items[0].why
