"""Rust, C and C++ on small repositories: re-exports through `pub use`, a binary using its own crate, includes across
folders, typed receivers and inherited members."""
from __future__ import annotations

from pathlib import Path

from ragls.indexer.index import Index
from ragls.indexer.retrieve import Query, Retriever

from .conftest import commit_all


def _index(root: Path, files: dict[str, str], tmp_path: Path) -> Retriever:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    commit_all(root)
    index = Index.open(root, data_dir=tmp_path / "data")
    index.refresh(progress=False)
    return Retriever(index)


RUST = {
    "Cargo.toml": '[package]\nname = "geom-kit"\nversion = "0.1.0"\n',
    "src/lib.rs": "pub mod shapes;\npub use shapes::Circle;\n",
    "src/shapes/mod.rs": "mod circle;\npub use circle::Circle;\n",
    "src/shapes/circle.rs": ("/// A circle of a radius.\npub struct Circle {\n    pub radius: f64,\n}\n\n"
                             "impl Circle {\n    pub fn new(radius: f64) -> Self {\n        Circle { radius }\n"
                             "    }\n\n"
                             "    pub fn area(&self) -> f64 {\n"
                             "        3.14159 * self.radius * self.radius\n    }\n}\n"),
    "src/main.rs": ("use geom_kit::Circle;\n\nfn main() {\n    let c = Circle::new(2.0);\n"
                    "    println!(\"{}\", c.area());\n}\n"),
}


def test_rust_pub_use_chain_and_a_binary_using_its_own_crate(tmp_path):
    r = _index(tmp_path / "geom", RUST, tmp_path)
    bound = r.graph.bindings("src/main.rs", "rust", r.graph.imports["src/main.rs"])[0]["Circle"]
    assert bound[0] == "def" and bound[1].path == "src/shapes/circle.rs"  # lib.rs -> shapes/mod.rs -> circle.rs
    items = r.context(Query("src/main.rs", 3, end_line=6), join=False)
    assert {"Circle", "Circle.new", "Circle.area"} <= {i.symbol for i in items[:3]}
    source = (tmp_path / "geom" / "src/main.rs").read_text().replace("c.area()", "c.")
    items = r.context(Query("src/main.rs", 5, len('    println!("{}", c.')), source=source, join=False)
    assert items[0].symbol in ("Circle.area", "Circle.new") and "receiver=1.00" in items[0].why


ERRORS = {
    "Cargo.toml": '[package]\nname = "parse-kit"\nversion = "0.1.0"\n',
    "src/lib.rs": "pub mod error;\npub mod limits;\npub mod parse;\npub mod show;\n",
    "src/error.rs": ("/// What went wrong.\npub enum ErrorKind {\n" + "".join(
        f"    /// The input had problem number {i}, described at length so that the enum is long.\n"
        f"    Problem{i},\n" for i in range(40)) + "    /// A group was opened and never closed.\n"
        "    GroupUnclosed { depth: usize },\n}\n"),
    "src/limits.rs": "/// How deep groups nest.\npub const MAX_DEPTH: usize = 250;\npub const MAX_NAME: usize = 64;\n",
    "src/parse.rs": ("use crate::error::ErrorKind;\nuse crate::limits::MAX_DEPTH;\n\n"
                     "pub fn check(depth: usize) -> Result<(), ErrorKind> {\n    if depth > MAX_DEPTH {\n"
                     "        return Err(ErrorKind::GroupUnclosed { depth });\n    }\n    Ok(())\n}\n"),
}


def test_rust_enum_variants_and_constants_are_retrieved_as_their_own_lines(tmp_path):
    """A variant of a long enum is a member of it with its own lines (`ErrorKind::` ranks the variants, the one a
    selection names shows its lines, not the enum's head); a `const` is a definition, not a module window."""
    r = _index(tmp_path / "kit", ERRORS, tmp_path)
    items = r.context(Query("src/parse.rs", 4, end_line=9), join=False)
    shown = {(i.symbol, i.start_line, i.end_line) for i in items}
    assert ("ErrorKind.GroupUnclosed", 83, 84) in shown  # its doc comment and its line
    assert any(s == "MAX_DEPTH" and a <= 2 <= b for s, a, b in shown)
    source = (tmp_path / "kit/src/parse.rs").read_text().replace("ErrorKind::GroupUnclosed { depth }", "ErrorKind::")
    items = r.context(Query("src/parse.rs", 6, len("        return Err(ErrorKind::")), source=source, join=False)
    assert [i for i in items[:10] if i.symbol.startswith("ErrorKind.")]  # the variants, members of the enum
    assert all(i.end_line - i.start_line < 5 for i in items if i.symbol.startswith("ErrorKind."))
    # `use ErrorKind::*` (a type's name, CapWords) brings its variants, not the module's items, into scope
    (tmp_path / "kit/src/show.rs").write_text(
        "use crate::error::ErrorKind;\n\npub fn show(k: &ErrorKind) -> usize {\n    use crate::error::ErrorKind::*;\n"
        "    match *k {\n        GroupUnclosed { depth } => depth,\n        _ => 0,\n    }\n}\n")
    r.index.refresh(progress=False)
    r = Retriever(r.index)
    stars = r.graph.bindings("src/show.rs", "rust", r.graph.imports["src/show.rs"])[1]
    assert [t[1].qualname for t in stars if t[0] == "def"] == ["ErrorKind"]
    items = r.context(Query("src/show.rs", 3, end_line=9), join=False)
    assert any(i.symbol == "ErrorKind.GroupUnclosed" for i in items[:5])


SETS = {
    "Cargo.toml": '[package]\nname = "sets"\nversion = "0.1.0"\n',
    "src/lib.rs": "pub mod interval;\npub mod class;\n",
    "src/interval.rs": ("pub struct IntervalSet {\n    ranges: Vec<(u32, u32)>,\n}\n\nimpl IntervalSet {\n"
                        "    pub fn union(&mut self, other: &IntervalSet) {\n"
                        "        self.ranges.extend(other.ranges.iter().copied());\n    }\n\n"
                        "    pub fn negate(&mut self) {\n        self.ranges.reverse();\n    }\n}\n"),
    "src/class.rs": ("use crate::interval::IntervalSet;\n\npub struct Class {\n    set: IntervalSet,\n}\n\n"
                     "impl Class {\n    pub fn union(&mut self, other: &Class) {\n        self.set.union(&other.set);\n"
                     "    }\n}\n"),
}


def test_rust_self_field_reaches_its_declared_type_s_methods(tmp_path):
    """In a method of an `impl` block (apart from its struct), `self` is the struct: `self.set.` ranks the methods of
    the field's declared type."""
    r = _index(tmp_path / "sets", SETS, tmp_path)
    source = (tmp_path / "sets/src/class.rs").read_text().replace("self.set.union(&other.set);", "self.set.")
    items = r.context(Query("src/class.rs", 9, len("        self.set.")), source=source, join=False)
    assert items[0].symbol.startswith("IntervalSet.") and "receiver=1.00" in items[0].why


C = {
    "include/mylib/api.h": ("#ifndef API_H\n#define API_H\n/* Sum of n numbers. */\n"
                            "int api_sum(const int *xs, int n);\n#endif\n"),
    "src/api.c": ("#include \"mylib/api.h\"\n\nint api_sum(const int *xs, int n) {\n    int s = 0;\n"
                  "    for (int i = 0; i < n; i++) s += xs[i];\n    return s;\n}\n"),
    "app/main.c": ("#include <stdio.h>\n#include \"mylib/api.h\"\n\nint main(void) {\n    int xs[] = {1, 2};\n"
                   "    printf(\"%d\\n\", api_sum(xs, 2));\n    return 0;\n}\n"),
    "include/shapes/base.hpp": ("class Shape {\npublic:\n    virtual double area() const = 0;\n"
                                "    double scaled(double k) const { return k * area(); }\n};\n"),
    "src/square.cpp": ("#include \"shapes/base.hpp\"\n\nclass Square : public Shape {\npublic:\n"
                       "    double side;\n    double area() const override { return side * side; }\n"
                       "    double twice() const { return scaled(2.0); }\n};\n"),
}


def test_c_includes_across_folders_and_cpp_inherited_members(tmp_path):
    r = _index(tmp_path / "clib", C, tmp_path)
    bound = r.graph.bindings("app/main.c", "c", r.graph.imports["app/main.c"])
    assert ("files", ("include/mylib/api.h",)) in bound[1]  # `#include "mylib/api.h"` from another folder
    items = r.context(Query("app/main.c", 4, end_line=8))
    assert items and items[0].symbol == "api_sum"
    items = r.context(Query("src/square.cpp", 7, end_line=7), same_file=True)  # `scaled` is Shape's: this->scaled
    assert "Shape.scaled" in [i.symbol for i in items[:3]]


def _searched(monkeypatch) -> list[str]:
    """The names the re-export search looks for file by file from now on (one entry per file it asks)."""
    from ragls.indexer.graph import Graph

    searched: list[str] = []
    passes_on = Graph._passes_on

    def counted(self, path, name, depth):
        searched.append(name)
        return passes_on(self, path, name, depth)

    monkeypatch.setattr(Graph, "_passes_on", counted)
    return searched


def test_c_names_no_header_defines_are_not_searched_through_the_includes(tmp_path, monkeypatch):
    """A function's locals and fields are names no included header defines: they are answered by the set of names
    the includes reach (headers included by headers, a cycle among them), not by a search of every header; a
    function declared three includes deep is still found."""
    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {
        "inc/a.h": "#include \"b.h\"\nint top_level(int x);\n",
        "inc/b.h": "#include \"c.h\"\n#include \"a.h\"\n",
        "inc/c.h": "int deep_helper(int value);\nstruct point { int x; int y; };\n",
        "src/c.c": "#include \"c.h\"\nint deep_helper(int value) { return value * 2; }\n",
        "src/main.c": "#include \"../inc/a.h\"\n\nint run(int count) {\n    int local_total = count;\n"
                      "    local_total += top_level(count);\n    return deep_helper(local_total",
    })
    r = Retriever(index_of(root, tmp_path / "data"))
    g = r.graph
    _, stars = g.bindings("src/main.c", "c", g.imports.get("src/main.c", []))
    names = g.star_names(stars)
    assert names is not None and {"deep_helper", "top_level", "point"} <= names
    assert "local_total" not in names and "count" not in names
    searched = _searched(monkeypatch)
    source = (root / "src/main.c").read_text()
    last = source.count("\n") + 1
    items = r.context(Query("src/main.c", last, len("    return deep_helper(local_total")))
    assert "deep_helper" in [i.symbol for i in items]
    assert "local_total" not in searched and "count" not in searched


def test_c_library_calls_are_not_searched_for_when_edges_are_resolved(tmp_path, monkeypatch):
    """Resolving the stored edges, a call of a name no file defines (the C library's `memcpy`) is not searched
    for through every include; a call of a function a header declares still becomes a `uses` edge (through the
    include cycle a.h <-> b.h)."""
    from .conftest import write_tree

    root = write_tree(tmp_path / "repo", {
        "inc/a.h": "#include \"b.h\"\n",
        "inc/b.h": "#include \"a.h\"\nint helper(int value);\n",
        "src/b.c": "#include \"../inc/b.h\"\nint helper(int value) { return value; }\n",
        "src/main.c": "#include <string.h>\n#include \"../inc/a.h\"\n\nint run(char *d, const char *s) {\n"
                      "    memcpy(d, s, 4);\n    return helper(1);\n}\n",
    })
    searched = _searched(monkeypatch)
    index = Index.open(root, data_dir=tmp_path / "data")
    index.refresh(progress=False)
    edges = set(index.store.db.execute("SELECT src, name, dst_symbol, kind FROM edges WHERE kind = 'uses'"))
    assert ("src/main.c", "helper", "helper", "uses") in edges  # found in the include closure (a.h -> b.h)
    assert "memcpy" not in searched


C_HEADERS = {
    "src/buf.h": ("#ifndef BUF_H\n#define BUF_H\n#define BUF_MAX 4096\n#define BUF_MIN 16\n#define BUF_STEP 8\n"
                  "#define BUF_API\n"
                  "extern int buf_count;\nBUF_API int (*buf_hook)(void);\n"
                  "#define buf_len(b) ((b)->used)\n"
                  "typedef unsigned long buf_size_t;\n"
                  "typedef struct buf { char *data; buf_size_t used; } buf;\n"
                  "typedef enum {\n  BUF_OK,\n  BUF_FULL\n} buf_status;\n"
                  "/* Appends n bytes. */\nint buf_append(buf *b, const char *s, int n);\n#endif\n"),
    "src/buf.c": ("#include <string.h>\n#include \"buf.h\"\nint buf_count = 0;\n"
                  "int buf_append(buf *b, const char *s, int n) {\n"
                  "    memcpy(b->data + b->used, s, n);\n    b->used += n;\n    return n;\n}\n"),
    "src/main.c": ("#include \"buf.h\"\n\n"
                   "int fill(buf *b) {\n    buf_size_t room = BUF_MAX - buf_len(b) - BUF_STEP;\n"
                   "    if (room == 0) return BUF_FULL;\n    buf_count++;\n"
                   "    return buf_append(b, \"x\", room > 0);\n}\n"),
    "include/kv/batch.h": ("#define KV_EXPORT __attribute__((visibility(\"default\")))\n"
                           "namespace kv {\nclass Lock {\n public:\n  void Acquire();\n};\n"
                           "class KV_EXPORT Batch {\n public:\n  void Put(int key);\n"
                           "  int Count() const;\n  int Size() const;\n private:\n  int n_;\n  Lock lock_;\n};\n}\n"),
    "db/batch.cc": ("#include \"kv/batch.h\"\n\nnamespace kv {\n"
                    "void Batch::Put(int key) { lock_.Acquire(); n_ += key; }\n\n"
                    "int Batch::Count() const { return n_ + Size(); }\n}\n"),
    "db/size.cc": "#include \"kv/batch.h\"\n\nnamespace kv {\nint Batch::Size() const { return n_; }\n}\n",
    "db/use.cc": ("#include \"kv/batch.h\"\n\nnamespace kv {\nint Fill(Batch* b) {\n  b->Put(1);\n"
                  "  return b->Count();\n}\n}\n"),
}


def test_c_macros_typedefs_and_definitions_behind_header_prototypes(tmp_path):
    r = _index(tmp_path / "cbuf", C_HEADERS, tmp_path)
    # a macro, a #define constant and a typedef are items of their own, an enum's constant is shown with its enum;
    # a function the header declares is shown where it is defined (src/buf.c), as clangd's go-to-definition goes,
    # not as its prototype
    items = r.context(Query("src/main.c", 3, end_line=8), join=False)
    where = {i.symbol: (i.path, i.start_line) for i in reversed(items)}  # the best-ranked of a name
    assert {"BUF_MAX", "buf_len", "buf_size_t", "buf", "buf_status"} <= set(where)
    # a run of #define constants on consecutive lines is one snippet, named by its first; each of them is shown by it
    defines = next(i for i in items if i.symbol == "BUF_MAX")
    assert (defines.path, defines.start_line, defines.end_line) == ("src/buf.h", 3, 5)
    buf_h = r.graph.defs["src/buf.h"]
    assert buf_h["BUF_STEP"].chunk == buf_h["BUF_MAX"].chunk is not None
    assert r.graph.def_of_chunk[buf_h["BUF_MAX"].chunk].name == "BUF_MAX"
    assert where["buf_append"] == ("src/buf.c", 4)
    assert where["buf_count"] == ("src/buf.c", 3)  # a global the header declares `extern`: where it is defined
    # a macro before a declaration's type leaves the parser reading the type as the variable's name: not a variable
    assert "int" not in r.graph.defs["src/buf.h"] and "buf_count" in r.graph.defs["src/buf.h"]
    # C++: `class KV_EXPORT Batch` is the class Batch (the export macro is not its name), and its methods called
    # through a pointer are the out-of-line definitions in db/batch.cc
    assert "kv.Batch" in r.graph.defs["include/kv/batch.h"]
    # inside `namespace kv`, `Batch` names kv.Batch through the include
    bound = r.graph.in_scope("db/use.cc", "Batch")
    assert bound is not None and bound[1].qualname == "kv.Batch"
    items = r.context(Query("db/use.cc", 4, end_line=7), join=False)
    found = {(i.path, i.start_line) for i in items[:4]}
    assert {("db/batch.cc", 4), ("db/batch.cc", 6)} <= found
    # in a method defined outside its class, the class's members are in scope as in its body: `Size()` is Batch's
    # (defined in db/size.cc), `lock_` its field, of type Lock
    items = r.context(Query("db/batch.cc", 6, end_line=6), join=False)
    size = next(i for i in items if (i.path, i.start_line) == ("db/size.cc", 4))
    assert any(w.startswith(("used=", "used_typed=")) for w in size.why), size.why  # a use of Batch::Size
    items = r.context(Query("db/batch.cc", 4, end_line=4), join=False)
    assert "kv.Lock.Acquire" in [i.symbol for i in items[:3]]


def test_a_cpp_selection_uses_what_a_namespace_holds_not_the_namespace(tmp_path):
    r = _index(tmp_path / "kv", {
        "include/kv/port.h": ("namespace kv {\nnamespace port {\nclass Mutex {\n public:\n  void Lock();\n};\n"
                              "int Cores();\n}  // namespace port\n}  // namespace kv\n"),
        "db/guard.cc": ("#include \"kv/port.h\"\n\nnamespace kv {\nint Guard() {\n  port::Mutex mu;\n"
                        "  mu.Lock();\n  return port::Cores();\n}\n}  // namespace kv\n"),
    }, tmp_path)
    items = r.context(Query("db/guard.cc", 4, end_line=8), join=False)
    used = {i.symbol for i in items if any(w.startswith("used=") for w in i.why)}
    assert {"kv.port.Mutex", "kv.port.Cores"} <= used and not used & {"kv", "kv.port"}, [(i.symbol, i.why)
                                                                                        for i in items]


def test_a_c_typedef_and_a_define_of_one_name_are_one_item(tmp_path):
    """`typedef struct Str Str;` and, a few lines below, `#define Str obj` (what the preprocessor makes of the name
    where it is defined): a use of `Str` shows both declarations, one snippet."""
    r = _index(tmp_path / "mod", {
        "src/mod.h": ("#ifndef MOD_H\n#define MOD_H\ntypedef struct Str Str;\n"
                      + "".join(f"/* note {i} */\n" for i in range(20)) + "#define Str obj\n#endif\n"),
        "src/use.c": "#include \"mod.h\"\n\nint length(Str *s) {\n    return s == 0;\n}\n",
    }, tmp_path)
    assert r.graph.defs["src/mod.h"]["Str"].start_line == 3  # the typedef is the one kept
    apart = r.context(Query("src/use.c", 3, end_line=5), join=False)  # each declaration a use of the name
    assert [(i.end_line, any(w.startswith("used=") for w in i.why)) for i in apart if i.symbol == "Str"] == [
        (3, True), (24, True)], [(i.symbol, i.start_line, i.why) for i in apart]  # (the #define's with its comments)
    items = r.context(Query("src/use.c", 3, end_line=5))
    assert [(i.start_line, i.end_line) for i in items if i.symbol == "Str"] == [(3, 24)], [
        (i.symbol, i.start_line, i.end_line) for i in items]


def test_cpp_typed_receivers(tmp_path):
    r = _index(tmp_path / "kv", C_HEADERS, tmp_path)
    # `Batch* b` and `Batch local`: their members rank first after `b->` and `local.` (cpp-types.scm)
    source = (tmp_path / "kv" / "db/use.cc").read_text().replace("  b->Put(1);\n", "  Batch local;\n  local.\n")
    items = r.context(Query("db/use.cc", 6, len("  local.")), source=source, join=False)
    assert items[0].symbol.rsplit(".", 1)[-1] in ("Put", "Count") and "receiver=1.00" in items[0].why
    assert r.context(Query("db/use.cc", 4, end_line=7), join=False)  # the unchanged file still answers


def test_c_a_header_function_is_its_one_definition_that_is_not_static(tmp_path):
    r = _index(tmp_path / "st", {
        "lib.h": "int step(int x);\n",
        "lib.c": "#include \"lib.h\"\nint step(int x) { return x + 1; }\n",
        "other.c": "static int step(int x) { return x; }\nint twice(int x) { return step(step(x)); }\n",
        "main.c": "#include \"lib.h\"\nint run(void) {\n    return step(1);\n}\n",
    }, tmp_path)
    proto = r.graph.defs["lib.h"]["step"]
    assert r.graph.implementation(proto).path == "lib.c"  # other.c's `static int step` is its own
    items = r.context(Query("main.c", 2, end_line=4), join=False)
    assert items and (items[0].path, items[0].start_line) == ("lib.c", 2)


def test_cpp_a_struct_s_fields_in_a_function_stay_where_they_are() -> None:
    """A struct declared in a function's body (leveldb's `struct LogReporter { Env* env; }` in
    `DBImpl::RecoverLogFile`): its fields keep the names their byte ranges give them; only a language whose methods
    give their instance attributes (Python, JavaScript) moves a field found in a method to the class around it."""
    from ragls.indexer.languages import grammar
    from ragls.indexer.symbols import extract

    loaded = grammar("cpp")
    assert loaded is not None
    source = b"namespace kv {\nvoid Recover() {\n  struct Reporter {\n    Env* env;\n  };\n}\n}\n"
    fields = {s.qualname for s in extract(loaded, "db/recover.cc", source).symbols if s.kind == "field"}
    assert "kv.env" not in fields and fields, fields
