"""Incremental re-extraction of an edited file equals a full extraction, in every language, over random edits and
the edits that move a definition's doc comments or break the file's parse; and it re-reads only what changed."""
from __future__ import annotations

import random
from pathlib import Path

import pytest
from ragls.indexer import reextract
from ragls.indexer import symbols as symbols_module
from ragls.indexer.languages import grammar, language_for
from ragls.indexer.model import ParsedFile
from ragls.indexer.reextract import Reextractor
from ragls.indexer.symbols import extract

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
TYPED = ("x", "(", ")", "{", "}", '"', "'", " ", "/*", "*/", "#", "//", "y = 1", "\t", ";", ":")


def _sources() -> list[Path]:
    files = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and language_for(str(p)) is not None)
    return files + [ROOT / "indexer" / "retrieve.py", ROOT / "indexer" / "visible.py"]


def _comment(language: str) -> str:
    return "# a note" if language == "python" else "// a note"


def _edit(rng: random.Random, text: str, language: str) -> str:
    lines = text.split("\n")
    k = rng.randrange(len(lines))
    op = rng.randrange(8)
    if op == 0:  # a line copied elsewhere
        lines.insert(k, lines[rng.randrange(len(lines))])
    elif op == 1:
        del lines[k:k + rng.randint(1, 3)]
    elif op == 2:  # typing, often a syntax error
        c = rng.randrange(len(lines[k]) + 1)
        lines[k] = lines[k][:c] + rng.choice(TYPED) + lines[k][c:]
    elif op == 3:
        lines.insert(k, _comment(language))
    elif op == 4:
        lines.insert(k, "")
    elif op == 5 and lines[k]:
        c = rng.randrange(len(lines[k]))
        lines[k] = lines[k][:c] + lines[k][c + 1:]
    elif op == 6 and k + 1 < len(lines):
        lines[k:k + 2] = [lines[k] + lines[k + 1]]
    else:  # two edits far apart in one update (a replace-all, a formatter)
        lines.insert(k, lines[rng.randrange(len(lines))])
        lines.insert(rng.randrange(len(lines)), _comment(language))
    return "\n".join(lines)


def _same(got: ParsedFile, want: ParsedFile) -> None:
    assert got.symbols == want.symbols
    assert got.imports == want.imports
    assert got.references == want.references
    assert got.has_errors == want.has_errors


@pytest.mark.parametrize("split", [False, True], ids=["whole", "members"])
@pytest.mark.parametrize("path", _sources(), ids=lambda p: p.name)
def test_random_edits_extract_as_a_full_parse_does(path: Path, split: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Also with every class and function read member by member (the fixtures' are below the size that is)."""
    if split:
        monkeypatch.setattr(reextract, "SPLIT_BYTES", 0)
    spec = language_for(str(path))
    g = grammar(spec.name) if spec else None
    if g is None:
        pytest.skip(f"no grammar for {path.name}")
    text = path.read_text(encoding="utf-8")
    again = Reextractor()
    again.extract(g, path.name, text.encode())
    rng = random.Random(path.name)
    for _ in range(60):
        text = _edit(rng, text, g.spec.name)
        data = text.encode()
        _same(again.extract(g, path.name, data), extract(g, path.name, data))


@pytest.mark.parametrize(("name", "before", "after"), [
    ("a.go", "package a\n\n// Old says old.\nfunc Old() {}\n\nfunc B() {}\n",
     "package a\n\n// Old says new.\nfunc Old() {}\n\nfunc B() {}\n"),  # a doc comment edited
    ("a.go", "package a\n\n// Old says old.\nfunc Old() {}\n", "package a\n\n// Old says old.\n\nfunc Old() {}\n"),
    ("a.ts", "// one\n// two\nexport function f() {}\n", "// one\nconst x = 1;\nexport function f() {}\n"),
    ("a.rs", "/// doc\nfn f() {}\n", "fn g() {}\nfn f() {}\n"),  # the comment above became code
    ("a.go", "package a\n\nvar X int\n\nfunc F() {}\n", "package a\n\nvar X int\n\nfunc F() {\n"),  # root broken
    ("a.go", "package a\n\nvar X int\n\nfunc F() {\n", "package a\n\nvar X int\n\nfunc F() {}\n"),  # and mended
    ("a.py", "x = 1; def f(): pass\n", "y = 2; def f(): pass\n"),  # a definition sharing its line
    ("a.ts", "let a = 1; function f() {}\n", "let bb = 1; function f() {}\n"),
], ids=["doc-edited", "doc-detached", "doc-run-broken", "doc-became-code", "root-broken", "root-mended",
        "shared-line-py", "shared-line-ts"])
def test_edits_around_a_definition_are_seen(name: str, before: str, after: str) -> None:
    spec = language_for(name)
    g = grammar(spec.name) if spec else None
    if g is None:
        pytest.skip(f"no grammar for {name}")
    again = Reextractor()
    again.extract(g, name, before.encode())
    _same(again.extract(g, name, after.encode()), extract(g, name, after.encode()))


@pytest.mark.parametrize("indent", ["", "    "], ids=["module", "class"])
def test_an_edit_reads_only_the_regions_it_touched(indent: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A one-line edit in a long file, or in a long class, queries the definition it is in (and the class's head),
    not the other hundreds."""
    g = grammar("python")
    assert g is not None
    text = "import os\n\n" + ("class Big:\n" if indent else "") + "".join(
        f"{indent}def f{i}(x):\n{indent}    return os.path.join(x, g{i}(x))\n\n\n" for i in range(300))
    again = Reextractor()
    again.extract(g, "long.py", text.encode())
    taken: list[int] = []  # one per match read
    take_all = symbols_module.Collector.take_all

    def counted(self, matches):  # type: ignore[no-untyped-def]
        matches = list(matches)
        taken.extend(1 for _ in matches)
        take_all(self, matches)

    monkeypatch.setattr(symbols_module.Collector, "take_all", counted)
    edited = text.replace("def f150(x):", "def f150_renamed(x, y):", 1)
    got = again.extract(g, "long.py", edited.encode())
    edited_only = len(taken)
    taken.clear()
    _same(got, extract(g, "long.py", edited.encode()))
    assert 0 < edited_only < len(taken) / 50
    assert [s.name for s in got.symbols].count("f150_renamed") == 1


def test_files_beyond_the_kept_few_are_parsed_whole_and_still_right() -> None:
    g = grammar("python")
    assert g is not None
    again = Reextractor(files=2)
    texts = {f"m{i}.py": f"def f{i}(x):\n    return x\n" for i in range(4)}
    for name, text in texts.items():
        again.extract(g, name, text.encode())
    assert not again.holds("m0.py", texts["m0.py"].encode()) and again.holds("m3.py", texts["m3.py"].encode())
    for name, text in texts.items():
        edited = (text + "\ndef g(y):\n    return y\n").encode()
        _same(again.extract(g, name, edited), extract(g, name, edited))
