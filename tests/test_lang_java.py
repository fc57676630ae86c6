"""Java support: fields and constants as definitions, imports as javac reads them, declared types of names, and
retrieval on a small fixture repository (tests/fixtures/java/shelf, which javac compiles)."""
from __future__ import annotations

from pathlib import Path

import pytest
import tree_sitter as ts

from ragls.indexer.chunks import chunk_file
from ragls.indexer.lang.java import java_imports, resolve_java
from ragls.indexer.lang.paths import PathIndex
from ragls.indexer.languages import grammar, types_query
from ragls.indexer.model import ImportRef, ParsedFile
from ragls.indexer.retrieve import Query, Retriever
from ragls.indexer.symbols import extract
from ragls.indexer.visible import read

from .conftest import FIXTURES, make_git_repo

SHELF = FIXTURES / "java" / "shelf"
SRC = "src/main/java/com/acme/shelf/"


def parse(path: str, source: str | None = None) -> ParsedFile:
    loaded = grammar("java")
    assert loaded is not None
    data = source.encode() if source is not None else (SHELF / path).read_bytes()
    return extract(loaded, path, data)


def imports_of(source: str) -> list[ImportRef]:
    loaded = grammar("java")
    assert loaded is not None
    tree = loaded.parser().parse(source.encode())
    return [r for node in tree.root_node.named_children if node.type == "import_declaration"
            for r in java_imports(node)]


@pytest.fixture
def shelf_index(tmp_path: Path):
    from ragls.indexer.index import Index

    make_git_repo(SHELF, tmp_path / "shelf")
    index = Index.open(tmp_path / "shelf", data_dir=tmp_path / "data")
    index.refresh(progress=False)
    return index


# Definitions

def test_constants_and_fields_are_definitions() -> None:
    """A static final field, an interface's field and an enum constant are constants; other fields are fields."""
    kinds = {(s.qualname, s.kind) for s in parse(SRC + "model/Book.java").symbols}
    assert {("Book.chapters", "field"), ("Book.Chapter.name", "field"), ("Book.Chapter.pages", "field"),
            ("Book.Format.PAPERBACK", "constant"), ("Book.Format.HARDCOVER", "constant"),
            ("Book.Format.SHORT_PAGES", "constant")} <= kinds
    labels = {(s.qualname, s.kind) for s in parse(SRC + "util/Labels.java").symbols}
    assert labels == {("Labels", "interface"), ("Labels.UNKNOWN", "constant"), ("Labels.NONE", "constant")}
    item = parse(SRC + "model/Item.java")
    constant = next(s for s in item.symbols if s.qualname == "Item.MAX_TITLE")
    assert (constant.kind, constant.start_line, constant.end_line) == ("constant", 5, 6)  # with its Javadoc
    assert constant.doc == "Longest title we print."


@pytest.mark.parametrize(("declaration", "kind"), [
    ("static final int A = 1;", "constant"),
    ("final static int A = 1;", "constant"),
    ("public static @Deprecated final int A = 1;", "constant"),
    ("static int A = 1;", "field"),
    ("final int A = 1;", "field"),
    ('@SuppressWarnings("static") final int A = 1;', "field"),  # a word in an annotation is no modifier
])
def test_a_constant_is_static_and_final(declaration: str, kind: str) -> None:
    parsed = parse("p/K.java", f"package p;\nclass K {{\n    {declaration}\n}}\n")
    assert [(s.qualname, s.kind) for s in parsed.symbols] == [("K", "class"), ("K.A", kind)]


def test_constants_are_chunks_and_fields_are_not() -> None:
    """A constant is retrieved on its own (`Book.MAX_TITLE`); an instance field is no gold of any use outside its
    class and would only crowd the class's members (measured: chunked fields cost recall on the Java benchmark)."""
    path = SRC + "model/Item.java"
    chunks = chunk_file(path, (SHELF / path).read_text().split("\n"), parse(path).symbols)
    by_symbol = {c.symbol: c for c in chunks}
    assert (by_symbol["Item.MAX_TITLE"].start_line, by_symbol["Item.MAX_TITLE"].end_line) == (5, 6)
    assert "Item.title" not in by_symbol


# Imports

def test_imports_yield_one_ref_per_reading_of_the_dotted_name() -> None:
    refs = imports_of("import a.b.Outer.Inner;\nimport static a.b.C.m;\nimport static a.b.C.*;\nimport a.b.*;\n")
    assert ImportRef("a.b.Outer", "Outer.Inner", "Inner", 1) in refs  # a nested type: file a/b/Outer.java
    assert ImportRef("a.b.Outer.Inner", "Inner", None, 1) in refs  # or a type of package a.b.Outer
    assert ImportRef("a.b.C", "C.m", "m", 2) in refs  # a static member of C
    assert all(r.module != "a.b.C.m" for r in refs)  # a static import's last name is a member, never a file
    assert ImportRef("a.b.C", "C.*", None, 3) in refs and ImportRef("a.b.C", "*", None, 3) not in refs
    assert ImportRef("a.b", "*", None, 4) in refs  # the package a.b
    assert {r.binds for r in refs if r.line == 1} == {"Inner"} and {r.binds for r in refs if r.line == 2} == {"m"}


PATHS = PathIndex([SRC + "Shelf.java", SRC + "Catalog.java", SRC + "model/Book.java", SRC + "model/Item.java",
                   SRC + "util/Texts.java", SRC + "util/Labels.java"])


@pytest.mark.parametrize(("ref", "expected"), [
    (ImportRef("com.acme.shelf.model.Book", "Book", None, 1), [SRC + "model/Book.java"]),
    (ImportRef("com.acme.shelf.model.Book", "Book.Chapter", "Chapter", 1), [SRC + "model/Book.java"]),
    (ImportRef("com.acme.shelf.model.Book.Chapter", "Chapter", None, 1), []),
    (ImportRef("com.acme.shelf.model", "model.Book", "Book", 1), []),
    (ImportRef("com.acme.shelf.util", "*", None, 1), [SRC + "util/Labels.java", SRC + "util/Texts.java"]),
    (ImportRef("com.acme.shelf.util.Texts", "Texts.padRight", "padRight", 1), [SRC + "util/Texts.java"]),
    # refs of an index made before these readings
    (ImportRef("com.acme.shelf.model", "Book", None, 1), [SRC + "model/Book.java"]),
    (ImportRef("com.acme.shelf.util.Texts", "padRight", None, 1), [SRC + "util/Texts.java"]),
    (ImportRef("com.acme.shelf.util.Labels", "*", None, 1), [SRC + "util/Labels.java"]),
    (ImportRef("java.util", "List", None, 1), []),
])
def test_resolve_java(ref: ImportRef, expected: list[str]) -> None:
    assert resolve_java(SRC + "Shelf.java", ref, PATHS) == expected


def test_imports_bind_nested_types_and_static_members(shelf_index) -> None:
    g = Retriever(shelf_index).graph
    path = SRC + "Shelf.java"
    bindings, _ = g.bindings(path, "java", g.imports[path])
    bound = {name: t[1].qualname for name, t in bindings.items() if t[0] == "def"}  # type: ignore[union-attr]
    assert bound["Book"] == "Book" and bound["Chapter"] == "Book.Chapter" and bound["padRight"] == "Texts.padRight"


# Declared types

def test_types_query_reads_declarations() -> None:
    source = """class X {
    private Foo foo = new Foo();
    protected a.b.Bar<Baz> bar;
    int count;
    Foo[] many;
    X(Qux q, int n) {
        Local local = make();
        var built = new p.Built<>();
        var guess = make();
        for (Item it : items) {}
        try (Res r = open()) {} catch (Single s) {} catch (A | B e) {}
        if (o instanceof Matched m) {}
        run((Lam l) -> l.go());
    }
}
"""
    q = types_query("java")
    loaded = grammar("java")
    assert q is not None and loaded is not None
    found = {}
    for _, caps in ts.QueryCursor(q).matches(loaded.parser().parse(source.encode()).root_node):
        found[caps["var"][0].text.decode()] = caps["type"][0].text.decode()
    assert found == {"foo": "Foo", "bar": "a.b.Bar<Baz>", "q": "Qux", "local": "Local", "built": "p.Built<>",
                     "it": "Item", "r": "Res", "s": "Single", "m": "Matched", "l": "Lam"}


def test_visible_code_knows_the_declared_types() -> None:
    path = SRC + "Shelf.java"
    source = (SHELF / path).read_text()
    v = read(path, source, 21, len("        String label = padRight(book."), None)
    assert v.receiver == ["book"]
    assert v.types["book"] == ["Book"] and v.types["catalog"] == ["Catalog"]


# Retrieval

def test_a_typed_receiver_ranks_its_class_members(shelf_index) -> None:
    r = Retriever(shelf_index)
    path = SRC + "Shelf.java"
    source = (shelf_index.root / path).read_text().replace("return label + book.pageCount();", "return book.")
    items = r.context(Query(path, 22, len("        return book.")), source=source, join=False)
    members = [i.symbol for i in items if "receiver=1.00" in i.why]
    assert members == [i.symbol for i in items[:len(members)]]  # Book's members first: its own and inherited ones
    assert {"Book.pageCount", "Book.addChapter", "Item.shortTitle"} <= set(members)
    assert "Book.Book" not in members and "Item.Item" not in members  # `book.` never calls a constructor


def test_a_selection_gets_constants_static_imports_and_same_package_classes(shelf_index) -> None:
    r = Retriever(shelf_index)
    items = r.context(Query(SRC + "Shelf.java", 16, end_line=23))  # describe()
    top = {i.symbol for i in items[:10]}
    assert {"Texts.padRight", "Item.MAX_TITLE", "Catalog.find", "Book.pageCount"} <= top


def test_a_call_picks_the_overload_its_arguments_fit(shelf_index) -> None:
    """javac's first step: of `padRight(s)` and `padRight(s, width)`, a two-argument call means the second."""
    r = Retriever(shelf_index)
    items = r.context(Query(SRC + "Shelf.java", 16, end_line=23))  # describe(): padRight(book.shortTitle(), ...)
    pads = [i for i in items if i.symbol == "Texts.padRight"]
    assert [i.start_line for i in pads][:1] == [13]  # the two-argument one (its doc comment first)
    d = r.graph.defs[SRC + "util/Texts.java"]["Texts.padRight"]
    assert [o.start_line for o in r.graph.overloads_of(d, 1)] == [8]
    assert [o.start_line for o in r.graph.overloads_of(d, 2)] == [13]
    assert [o.start_line for o in r.graph.overloads_of(d, None)] == [8, 13]  # unknown: either


@pytest.mark.parametrize(("signature", "arity"), [
    ("public static String padRight(String s, int width)", (2, 2)),
    ("static <K, V> Map<K, V> of(Map<K, V> m, Pair<K, V>... more)", (1, None)),
    ("Texts()", (0, 0)),
    ("void run(", None),
])
def test_java_arity(signature: str, arity) -> None:
    from ragls.indexer.lang.java import java_arity

    name = signature.split("(")[0].split()[-1]
    assert java_arity(name, signature) == arity


def test_a_call_s_result_type_leads_to_its_members(shelf_index) -> None:
    """`catalog.find(title).` ranks Book's members: `find` is declared to return a Book."""
    r = Retriever(shelf_index)
    path = SRC + "Shelf.java"
    source = (shelf_index.root / path).read_text().replace("return label + book.pageCount();",
                                                           "return catalog.find(title).")
    items = r.context(Query(path, 22, len("        return catalog.find(title).")), source=source, join=False)
    members = [i.symbol for i in items if "receiver=1.00" in i.why]
    assert members == [i.symbol for i in items[:len(members)]]
    assert {"Book.pageCount", "Book.addChapter", "Item.shortTitle"} <= set(members)


def test_an_overload_a_base_class_declares_and_a_fully_qualified_type(tmp_path: Path) -> None:
    """`el.attr("k")` where Element declares only a two-argument attr and its base Node the one-argument one means
    Node's (javac searches the hierarchy); `org.acme.nodes.Node n` (a fully qualified type) is Node."""
    from .conftest import index_of, write_tree

    pkg = "src/main/java/org/acme/nodes/"
    root = write_tree(tmp_path / "repo", {
        pkg + "Node.java": "package org.acme.nodes;\n\npublic class Node {\n"
                           "    /** The attribute's value. */\n    public String attr(String key) {\n"
                           "        return key;\n    }\n\n    /** The outer HTML. */\n    public String outerHtml() {\n"
                           "        return \"\";\n    }\n}\n",
        pkg + "Element.java": "package org.acme.nodes;\n\npublic class Element extends Node {\n"
                              "    /** Sets an attribute. */\n    public Element attr(String key, String value) {\n"
                              "        return this;\n    }\n}\n",
        "src/main/java/org/acme/app/App.java": "package org.acme.app;\n\nimport org.acme.nodes.Element;\n\n"
                                               "public class App {\n    static String title(Element el) {\n"
                                               "        return el.attr(\"title\");\n    }\n\n"
                                               "    static String html(org.acme.nodes.Node n) {\n"
                                               "        return n.outerHtml();\n    }\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    app = "src/main/java/org/acme/app/App.java"
    d = r.graph.defs[pkg + "Element.java"]["Element.attr"]
    assert [(o.qualname, o.start_line) for o in r.graph.overloads_of(d, 1)] == [("Node.attr", 4)]
    assert [o.qualname for o in r.graph.overloads_of(d, 2)] == ["Element.attr"]
    why = {i.symbol: " ".join(i.why) for i in r.context(Query(app, 6, end_line=8))}
    assert "used_typed" in why["Node.attr"] and "used" not in why.get("Element.attr", "")
    why = {i.symbol: " ".join(i.why) for i in r.context(Query(app, 10, end_line=12))}
    assert "used_typed" in why["Node.outerHtml"]


def test_a_call_inside_a_chain_picks_its_overload_by_its_arguments(tmp_path: Path) -> None:
    """`parser.tagSet().valueOf(name)`: of `tagSet(TagSet)` (returns the Parser) and `tagSet()` (returns a TagSet),
    the call with no argument is the getter, so `valueOf` is TagSet's and only the getter counts as used (though a
    field shares the methods' name)."""
    from .conftest import index_of, write_tree

    pkg = "src/main/java/org/acme/parse/"
    root = write_tree(tmp_path / "repo", {
        pkg + "TagSet.java": "package org.acme.parse;\n\npublic class TagSet {\n"
                             "    /** The tag of that name. */\n    public String valueOf(String name) {\n"
                             "        return name;\n    }\n}\n",
        pkg + "Parser.java": "package org.acme.parse;\n\npublic class Parser {\n    private TagSet tagSet;\n\n"
                             "    /** Sets the tags. */\n    public Parser tagSet(TagSet tags) {\n"
                             "        this.tagSet = tags;\n        return this;\n    }\n\n"
                             "    /** The tags. */\n    public TagSet tagSet() {\n        return tagSet;\n    }\n}\n",
        "src/main/java/org/acme/app/App.java": "package org.acme.app;\n\nimport org.acme.parse.Parser;\n\n"
                                               "public class App {\n    static String tag(Parser parser, String n) {\n"
                                               "        return parser.tagSet().valueOf(n);\n    }\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    items = r.context(Query("src/main/java/org/acme/app/App.java", 6, end_line=8), join=False)
    used = {(i.symbol, i.start_line) for i in items if "used_typed" in " ".join(i.why)}
    assert ("TagSet.valueOf", 4) in used and ("Parser.tagSet", 12) in used
    assert ("Parser.tagSet", 6) not in used


def test_super_static_star_imports_enum_constants_and_a_method_named_as_a_field(tmp_path: Path) -> None:
    """What javac resolves and ragls now follows: `super(n)` is the base class's one-argument constructor;
    `import static a.Ids.*` brings Ids's constants (`case ID_A:`); `Feature.A.enabledIn(f)` is the enum's method (its
    constants have the enum's members); `pow10(n)` is the method, though a field shares its name."""
    from .conftest import index_of, write_tree

    pkg = "src/main/java/org/acme/core/"
    root = write_tree(tmp_path / "repo", {
        pkg + "Base.java": "package org.acme.core;\n\npublic class Base {\n    /** Empty. */\n    public Base() {\n"
                           "    }\n\n    /** Sized. */\n    public Base(int size) {\n    }\n}\n",
        pkg + "Ids.java": "package org.acme.core;\n\npublic interface Ids {\n    /** A. */\n    int ID_A = 1;\n"
                          "    /** B. */\n    int ID_B = 2;\n}\n",
        pkg + "Feature.java": "package org.acme.core;\n\npublic enum Feature {\n    A, B;\n\n"
                              "    /** Whether it is on in flags. */\n    public boolean enabledIn(int flags) {\n"
                              "        return (flags & 1) != 0;\n    }\n}\n",
        pkg + "MathUtils.java": "package org.acme.core;\n\npublic final class MathUtils {\n"
                                "    private static final long[] pow10 = {1L, 10L};\n\n"
                                "    /** Ten to the n. */\n    public static long pow10(int n) {\n"
                                "        return pow10[n];\n    }\n}\n",
        "src/main/java/org/acme/app/Reader.java":
            "package org.acme.app;\n\nimport org.acme.core.Base;\nimport org.acme.core.Feature;\n"
            "import static org.acme.core.Ids.*;\nimport static org.acme.core.MathUtils.pow10;\n\n"
            "public class Reader extends Base {\n    Reader(int n, int flags) {\n        super(n);\n"
            "        switch (n) {\n            case ID_A:\n                break;\n        }\n"
            "        boolean on = Feature.A.enabledIn(flags);\n        long big = pow10(n);\n    }\n}\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    items = r.context(Query("src/main/java/org/acme/app/Reader.java", 9, end_line=17), k=20, join=False)
    used = {(i.symbol, i.start_line) for i in items if "used" in " ".join(i.why)}
    assert {("Base.Base", 8), ("Ids.ID_A", 4), ("Feature.enabledIn", 6), ("MathUtils.pow10", 6)} <= used, used
    assert ("Base.Base", 4) not in used  # an item's lines start at its doc comment


def test_the_variable_of_an_open_typed_loop_has_its_type(tmp_path: Path) -> None:
    """`for (Element el : els) {` then `el.` on the next lines (Java), `for (const Slice& key : keys) {` then
    `key.` (C++): the block is still open at the cursor, which the parse leaves in pieces, so the loop is read from
    the text; `for (var x : xs)` and `for (auto& x : xs)` are elements of what they go over."""
    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "src/Element.java": "package p;\n\npublic class Element {\n  /** Its name. */\n  public String tagName() {\n"
                            "    return \"\";\n  }\n}\n",
        "src/Other.java": "package p;\n\npublic class Other {\n  /** Its name too. */\n  public String tagName() {\n"
                          "    return \"\";\n  }\n}\n",
        "src/Use.java": "package p;\n\nimport java.util.List;\n\npublic class Use {\n"
                        "  void run(List<Element> els) {\n    for (Element el : els) {\n      if (el != null)\n",
        "db/slice.h": "class Slice {\n public:\n  // Its size.\n  int size() const { return 0; }\n};\n",
        "db/other.h": "class Other {\n public:\n  // Its size too.\n  int size() const { return 0; }\n};\n",
        "db/use.cc": "#include \"slice.h\"\n\nvoid run(const Slice* keys, int n) {\n"
                     "  for (const Slice& key : KeysOf(keys, n)) {\n",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    for path, text, want in (("src/Use.java", "        el.", "Element.tagName"),
                             ("db/use.cc", "    key.", "Slice.size")):
        source = (root / path).read_text() + text
        items = r.context(Query(path, source.count("\n") + 1, len(text)), source=source, join=False)
        assert items[0].symbol.endswith(want) and "receiver=1.00" in items[0].why, (path, items[:2])
    for text, path in (("  void f(java.util.List<Element> xs) {\n    for (var x : xs) {\n      x.", "A.java"),
                       ("void f() {\n  for (auto& it : db->iters()) {\n    it->", "a.cc")):
        v = read(path, text, text.count("\n") + 1, None, None)
        name = "x" if path == "A.java" else "it"
        assert v.types[name][-1] == "[]", v.types
