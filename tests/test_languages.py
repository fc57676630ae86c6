"""Tags queries, import readers and import resolution for every supported language, on small fixtures."""
from __future__ import annotations

from pathlib import Path

import pytest
import tree_sitter as ts

from ragls.indexer.languages import LANGUAGES, LanguageSpec, grammar, language_for
from ragls.indexer.model import ImportRef, ParsedFile, Symbol
from ragls.indexer.lang.paths import PathIndex
from ragls.indexer.symbols import extract

FIXTURES = Path(__file__).parent / "fixtures" / "languages"


def resolve_import(language: str, importer: str, ref: ImportRef, paths: PathIndex) -> list[str]:
    resolver = next(s for s in LANGUAGES if s.name == language).resolve
    return resolver(importer, ref, paths) if resolver is not None and ref.module else []


def parse_source(path: str, source: str | bytes) -> ParsedFile:
    spec = language_for(path)
    assert spec is not None, path
    loaded = grammar(spec.name)
    assert loaded is not None, f"grammar for {spec.name} is not installed"
    return extract(loaded, path, source.encode() if isinstance(source, str) else source)


def parse_fixture(name: str) -> ParsedFile:
    return parse_source(name, (FIXTURES / name).read_bytes())


def kinds(parsed: ParsedFile) -> set[tuple[str, str]]:
    return {(s.qualname, s.kind) for s in parsed.symbols}


def symbol(parsed: ParsedFile, qualname: str, kind: str | None = None) -> Symbol:
    found = [s for s in parsed.symbols if s.qualname == qualname and (kind is None or s.kind == kind)]
    assert len(found) == 1, (qualname, found)
    return found[0]


def lines(sym: Symbol) -> tuple[int, int, int]:
    return sym.start_line, sym.end_line, sym.head_end


@pytest.mark.parametrize("spec", LANGUAGES, ids=lambda s: s.name)
def test_every_query_compiles_for_its_grammar(spec: LanguageSpec) -> None:
    loaded = grammar(spec.name)
    assert loaded is not None
    assert isinstance(loaded.query, ts.Query)
    assert loaded.query.pattern_count > 0


@pytest.mark.parametrize("spec", LANGUAGES, ids=lambda s: s.name)
def test_every_registry_entry_keeps_the_contract(spec: LanguageSpec) -> None:
    """One entry holds all of a language: its extensions are its own, its grammar and query load, the query finds
    definitions and references in the language's sample, its import reader turns the sample's imports into
    ImportRefs, and its resolver answers with indexed paths only."""
    others = [ext for s in LANGUAGES if s is not spec for ext in s.extensions]
    assert spec.extensions and not set(spec.extensions) & set(others)
    assert spec.doc_style in ("docstring", "comment")
    assert all(isinstance(k, str) for k in spec.not_chunked)
    samples = [p for p in sorted(FIXTURES.iterdir()) if language_for(p.name) is spec]
    assert samples, f"tests/fixtures/languages has no sample for {spec.name}"
    parsed = parse_fixture(samples[0].name)
    assert parsed.symbols and parsed.references
    assert spec.read_imports is not None and parsed.imports
    assert all(isinstance(r, ImportRef) and r.line > 0 for r in parsed.imports)
    if spec.resolve is not None:
        paths = PathIndex([samples[0].name])
        for r in parsed.imports:
            assert set(spec.resolve(samples[0].name, r, paths)) <= paths.paths


def test_python() -> None:
    parsed = parse_fixture("sample.py")
    assert not parsed.has_errors
    assert kinds(parsed) == {
        ("log", "constant"), ("LOW_STOCK", "constant"), ("Inventory", "class"), ("Inventory.__init__", "method"),
        ("Inventory.counts", "field"),  # `self.counts = ...` in __init__
        ("Inventory.total", "method"), ("Inventory.add", "method"), ("low_stock", "function"),
    }
    assert lines(symbol(parsed, "Inventory.total")) == (18, 20, 19)  # starts at its decorator
    assert symbol(parsed, "Inventory.add").doc == "Record qty more of item at a location."
    assert parsed.imports == [
        ImportRef("logging", None, None, 4),
        ImportRef("collections", "Counter", "Tally", 5),
        ImportRef(".models", "Item", None, 6),
        ImportRef(".models", "Location", None, 6),
    ]


def test_javascript() -> None:
    parsed = parse_fixture("sample.js")
    assert not parsed.has_errors
    assert kinds(parsed) == {
        ("TAX_RATE", "constant"), ("Cart", "class"), ("Cart.constructor", "method"), ("Cart.add", "method"),
        ("Cart.total", "method"), ("Cart.empty", "method"), ("describe", "function"), ("loadSaved", "function"),
        ("ids", "function"),
    }
    cart = symbol(parsed, "Cart")
    assert lines(cart) == (10, 38, 13)  # from the JSDoc block, through `export class Cart {`
    assert cart.doc == "A cart holding line items and computing totals."
    assert cart.signature == "export class Cart {"
    assert lines(symbol(parsed, "Cart.add")) == (19, 29, 20)
    assert symbol(parsed, "Cart.add").doc == "Add an item, merging quantities of the same sku."
    assert symbol(parsed, "Cart.add").parent == "Cart"
    assert lines(symbol(parsed, "loadSaved")) == (46, 52, 47)
    assert parsed.imports == [
        ImportRef("./money", "formatPrice", "fmt", 2),
        ImportRef("./money", "roundCents", None, 2),
        ImportRef("../log/logger.js", "default", "Logger", 3),
        ImportRef("./events", None, "events", 4),
        ImportRef("fs", "readFile", None, 5),
        ImportRef("./config", None, "config", 6),
    ]
    refs = parsed.references
    assert refs["roundCents"] == 1 and refs["fmt"] == 1 and refs["emit"] == 1
    assert refs["Cart"] == 1 and refs["Logger"] == 1  # `new X`
    assert "require" not in refs


def test_javascript_commonjs_fields_and_reexports() -> None:
    source = (
        "class A {\n  handle = () => {};\n  #priv() {}\n  static count = 0;\n}\n"
        "exports.run = function () {};\nvar legacy = function () {};\n"
        'const { a, b: c } = require("./x"), d = require("./d");\n'
        'export * as ns from "./ns";\nexport { e as f } from "./e";\nexport * from "./all";\n'
    )
    parsed = parse_source("a.js", source)
    assert kinds(parsed) == {
        ("A", "class"), ("A.handle", "method"), ("A.#priv", "method"), ("run", "function"), ("legacy", "function"),
    }
    assert parsed.imports == [
        ImportRef("./x", "a", None, 8),
        ImportRef("./x", "b", "c", 8),
        ImportRef("./d", None, "d", 8),
        ImportRef("./ns", None, "ns", 9),
        ImportRef("./e", "e", "f", 10),
        ImportRef("./all", "*", None, 11),
    ]


def test_typescript() -> None:
    parsed = parse_fixture("sample.ts")
    assert not parsed.has_errors
    assert kinds(parsed) == {
        ("Priority", "enum"), ("TaskId", "type"), ("Task", "interface"), ("Task.run", "method"),
        ("BaseQueue", "class"), ("BaseQueue.size", "method"), ("TaskQueue", "class"),
        ("TaskQueue.constructor", "method"), ("TaskQueue.push", "method"), ("TaskQueue.size", "method"),
        ("TaskQueue.onDrain", "method"), ("byPriority", "function"), ("loadTasks", "function"),
        ("Internal", "namespace"), ("Internal.reset", "method"),
        # fields with a declared type: symbols (their class's lines) through which `x.field.` reaches the type
        ("Task.id", "field"), ("Task.priority", "field"), ("TaskQueue.items", "field"),
        ("TaskQueue.store", "field"),  # `constructor(private store: Store)`: a parameter property, the class's field
        ("TaskQueue.events", "field"),  # `private events = new EventEmitter()`: the type it is given
    }
    assert symbol(parsed, "TaskQueue.events").type == "EventEmitter"
    task = symbol(parsed, "Task")
    assert lines(task) == (17, 24, 20)
    assert task.doc == "Anything that can be run by the queue."
    assert lines(symbol(parsed, "TaskQueue")) == (30, 52, 30)
    assert symbol(parsed, "TaskQueue").signature == "export class TaskQueue<T extends Task> extends BaseQueue {"
    assert lines(symbol(parsed, "TaskQueue.push")) == (38, 43, 39)
    assert lines(symbol(parsed, "loadTasks")) == (58, 61, 58)
    assert parsed.imports == [
        ImportRef("events", "EventEmitter", None, 2),
        ImportRef("./clock", "Clock", None, 3),
        ImportRef("../store", "default", "Store", 4),
        ImportRef("../store", "Record", "Row", 4),
        ImportRef("fs", None, "fs", 5),
        ImportRef("./errors", "*", None, 6),
    ]
    refs = parsed.references
    assert refs["Task"] == 4 and refs["TaskId"] == 1 and refs["Row"] == 2
    assert refs["BaseQueue"] == 1 and refs["EventEmitter"] == 1 and refs["readFileSync"] == 1


def test_tsx() -> None:
    parsed = parse_fixture("sample.tsx")
    assert not parsed.has_errors
    assert kinds(parsed) == {
        ("TaskListProps", "interface"), ("Filter", "type"), ("TaskList", "function"), ("TaskRow", "function"),
        ("Counter", "class"), ("Counter.increment", "method"), ("Counter.render", "method"), ("makeQueue", "function"),
        ("TaskListProps.tasks", "field"), ("TaskListProps.title", "field"),  # not a parameter's inline type's
    }
    task_list = symbol(parsed, "TaskList")
    assert lines(task_list) == (14, 31, 17)
    assert task_list.doc == "Renders the tasks with a filter toggle."
    assert lines(symbol(parsed, "TaskRow")) == (33, 34, 34)
    assert symbol(parsed, "TaskRow").doc == "One row of the list."
    assert parsed.imports == [
        ImportRef("react", "default", "React", 2),
        ImportRef("react", "useState", None, 2),
        ImportRef("./sample", "TaskQueue", None, 3),
        ImportRef("./sample", "Task", None, 3),
        ImportRef("./styles.css", None, None, 4),  # side-effect import
    ]
    refs = parsed.references
    assert refs["useState"] == 1 and refs["TaskQueue"] == 2 and refs["Component"] == 1 and refs["increment"] == 1


def test_go() -> None:
    parsed = parse_fixture("sample.go")
    assert not parsed.has_errors
    assert kinds(parsed) == {
        ("DefaultSize", "constant"), ("ErrMissing", "constant"), ("Entry", "struct"), ("Store", "interface"),
        ("Store.Save", "method"), ("Keys", "type"), ("Cache", "struct"), ("New", "function"), ("Cache.Get", "method"),
        ("Cache.Len", "method"), ("evict", "function"), ("Entry.Key", "field"), ("Entry.Value", "field"),
        ("Entry.expires", "field"), ("Cache.items", "field"), ("Cache.size", "field"), ("Cache.order", "field"),
    }
    entry = symbol(parsed, "Entry")
    assert lines(entry) == (20, 25, 21)
    assert entry.doc == "Entry is one cached value with its deadline."
    get = symbol(parsed, "Cache.Get")
    assert lines(get) == (49, 57, 50)
    assert get.doc == "Get returns the value stored under key and marks it recently used."
    assert get.signature == "func (c *Cache) Get(key string) (any, error) {"
    assert lines(symbol(parsed, "Cache.Len")) == (59, 61, 59)
    assert parsed.imports == [
        ImportRef("container/list", None, "list", 5),
        ImportRef("fmt", None, "fmt", 6),
        ImportRef("time", None, "tm", 7),
        ImportRef("github.com/acme/proj/internal/util", None, "util", 9),
        ImportRef("github.com/acme/proj/internal/metrics", None, "_", 10),
        ImportRef("strings", "*", None, 13),
    ]
    assert [ref.binds for ref in parsed.imports] == ["list", "fmt", "tm", "util", "_", None]
    refs = parsed.references
    assert refs["Cache"] == 5 and refs["Entry"] == 3 and refs["Check"] == 1 and refs["ToLower"] == 1


def test_go_grouped_declarations() -> None:
    source = (
        "package p\n\n// Shapes.\n"
        "type (\n\tPoint struct{ X int }\n\tShape interface{ Area() int }\n\tID = string\n)\n\n"
        'const (\n\tA = 1\n\tB = 2\n)\n\nimport "gopkg.in/yaml.v3"\nimport "github.com/acme/proj/v2"\n'
    )
    parsed = parse_source("g.go", source)
    assert kinds(parsed) == {
        ("Point", "struct"), ("Point.X", "field"), ("Shape", "interface"), ("Shape.Area", "method"), ("ID", "type"),
        ("A", "constant"), ("B", "constant"),
    }
    assert [ref.binds for ref in parsed.imports] == ["yaml", "proj"]


def test_rust() -> None:
    parsed = parse_fixture("sample.rs")
    assert not parsed.has_errors
    assert kinds(parsed) == {
        ("MAX_BUCKETS", "constant"), ("map", "macro"), ("Bucket", "struct"), ("Bucket.tokens", "field"),
        ("Bucket.refilled", "field"), ("Decision", "enum"),
        ("Decision.Allow", "variant"), ("Decision.Deny", "variant"), ("Limiter", "trait"), ("Limiter.check", "method"),
        ("Bucket", "impl"), ("Bucket.new", "method"), ("Bucket.refill", "method"), ("Bucket.check", "method"),
        ("buckets", "function"),
    }
    bucket = symbol(parsed, "Bucket", "struct")
    assert lines(bucket) == (21, 26, 23)  # from the doc comment, over #[derive]
    assert bucket.doc == "A bucket refilled at a fixed rate."
    new = symbol(parsed, "Bucket.new")
    assert lines(new) == (39, 42, 40)
    assert new.doc == "A full bucket." and new.parent == "Bucket"
    assert lines(symbol(parsed, "map")) == (12, 19, 13)
    assert [s.start_line for s in parsed.symbols if s.kind == "impl"] == [38, 51]
    deny = symbol(parsed, "Decision.Deny")
    assert lines(deny)[:2] == (30, 30) and deny.parent == "Decision"
    assert parsed.imports == [
        ImportRef("std::collections", "HashMap", None, 2),
        ImportRef("std::time", "Duration", None, 3),
        ImportRef("std::time", "Instant", "Clock", 3),
        ImportRef("crate::config", "Settings", None, 4),
        ImportRef("super::metrics", "*", None, 5),
        ImportRef("window", None, "window", 7),
    ]
    refs = parsed.references
    assert refs["Bucket"] == 5 and refs["refill"] == 1 and refs["map"] == 1 and refs["record_size"] == 1
    assert refs["Limiter"] == 1  # impl Limiter for Bucket


def test_rust_use_trees() -> None:
    source = (
        "use a::{self, b::{c as d, *}};\nuse ::std::fmt;\nextern crate foo as bar;\npub(crate) use x;\nmod inline { }\n"
    )
    parsed = parse_source("lib.rs", source)
    assert parsed.imports == [
        ImportRef("a", None, None, 1),
        ImportRef("a::b", "c", "d", 1),
        ImportRef("a::b", "*", None, 1),
        ImportRef("std", "fmt", None, 2),
        ImportRef("foo", None, "bar", 3),
        ImportRef("x", None, None, 4),
    ]
    assert kinds(parsed) == {("inline", "module")}


def test_java() -> None:
    parsed = parse_fixture("sample.java")
    assert not parsed.has_errors
    assert kinds(parsed) == {
        ("InvoiceService", "class"), ("InvoiceService.InvoiceService", "method"), ("InvoiceService.issue", "method"),
        ("InvoiceService.toString", "method"), ("InvoiceService.TaxPolicy", "interface"),
        ("InvoiceService.TaxPolicy.taxFor", "method"), ("InvoiceService.Status", "enum"),
        ("InvoiceService.Status.isFinal", "method"), ("InvoiceService.Line", "class"),
        ("InvoiceService.Line.Line", "method"), ("InvoiceService.sum", "method"),
        ("InvoiceService.ledger", "field"), ("InvoiceService.policy", "field"),
        ("InvoiceService.Status.DRAFT", "constant"), ("InvoiceService.Status.SENT", "constant"),
    }
    service = symbol(parsed, "InvoiceService")
    assert lines(service) == (8, 55, 11)
    assert service.doc == "Issues invoices and keeps a running ledger."
    assert lines(symbol(parsed, "InvoiceService.issue")) == (19, 25, 20)
    assert lines(symbol(parsed, "InvoiceService.toString")) == (27, 30, 28)  # the annotation is part of the method
    assert parsed.imports == [  # one ref per reading of the dotted name: the file of its top-level type, the name in it
        ImportRef("java.util", "util.ArrayList", "ArrayList", 3),
        ImportRef("java.util.ArrayList", "ArrayList", None, 3),
        ImportRef("java.util", "util.List", "List", 4),
        ImportRef("java.util.List", "List", None, 4),
        ImportRef("com.acme.billing.model", "*", None, 5),
        ImportRef("com.acme", "acme.billing.model.*", None, 5),
        ImportRef("com.acme.billing", "billing.model.*", None, 5),
        ImportRef("com.acme.billing.model", "model.*", None, 5),
        ImportRef("com.acme", "acme.billing.util.Money.round", "round", 6),
        ImportRef("com.acme.billing", "billing.util.Money.round", "round", 6),
        ImportRef("com.acme.billing.util", "util.Money.round", "round", 6),
        ImportRef("com.acme.billing.util.Money", "Money.round", "round", 6),
    ]
    refs = parsed.references
    assert refs["Invoice"] == 4 and refs["TaxPolicy"] == 2 and refs["round"] == 1 and refs["taxFor"] == 1


def test_c() -> None:
    parsed = parse_fixture("sample.c")
    assert not parsed.has_errors
    assert kinds(parsed) == {
        ("RING_DEFAULT_CAP", "constant"), ("RING_MIN", "macro"), ("ring_status", "enum"), ("ring", "struct"),
        ("ring_t", "type"), ("ring_visitor", "type"), ("ring_new", "function"), ("ring_used", "function"),
        ("ring_write", "function"), ("ring_free", "function"), ("ring_status.RING_OK", "enumerator"),
        ("ring_status.RING_FULL", "enumerator"), ("ring_status.RING_EMPTY", "enumerator"),
    }
    # the prototype on line 29 is not a definition in a .c file
    assert [s.start_line for s in parsed.symbols if s.qualname == "ring_used"] == [44]
    ring_new = symbol(parsed, "ring_new")
    assert lines(ring_new) == (31, 42, 33)
    assert ring_new.doc.startswith("Allocate a ring holding up to cap bytes.")
    assert lines(symbol(parsed, "ring")) == (17, 23, 18)
    assert symbol(parsed, "RING_MIN").start_line == 8
    assert parsed.imports == [ImportRef("ring.h", "*", None, 4), ImportRef("util/log.h", "*", None, 5)]
    refs = parsed.references
    assert refs["ring_t"] == 6 and refs["ring_used"] == 1 and refs["RING_MIN"] == 1 and refs["log_debug"] == 1


def test_c_typedefs_and_header_guards() -> None:
    source = (
        "#ifndef T_H\n#define T_H\n"
        "typedef struct node { int v; struct node *next; } node_t;\n"
        "typedef struct { int w; } anon_t;\n"
        "typedef enum { A, B } ab_t;\n"
        "struct outer { struct inner { int a; } in; };\n"
        "#endif\n"
    )
    parsed = parse_source("t.c", source)
    assert kinds(parsed) == {
        ("node_t", "struct"), ("anon_t", "struct"), ("ab_t", "enum"), ("outer", "struct"), ("outer.inner", "struct"),
        ("ab_t.A", "enumerator"), ("ab_t.B", "enumerator"),
    }


def test_cpp() -> None:
    parsed = parse_fixture("sample.cpp")
    assert not parsed.has_errors
    assert kinds(parsed) == {
        ("SQUARE", "macro"), ("geo", "namespace"), ("geo.Scalar", "type"), ("geo.Winding", "enum"),
        ("geo.Polygon", "class"), ("geo.Polygon.Polygon", "method"), ("geo.Polygon.~Polygon", "method"),
        ("geo.Polygon.area", "method"), ("geo.Polygon.winding", "method"), ("geo.Box", "struct"),
        ("geo.Box.contains", "method"), ("geo.clamp_max", "method"), ("winding", "method"),
        ("perimeter_hint", "function"), ("geo.Winding.Clockwise", "enumerator"),
        ("geo.Winding.CounterClockwise", "enumerator"), ("geo.Polygon.points_", "field"), ("geo.Box.min", "field"),
        ("geo.Box.max", "field"),
    }
    polygon = symbol(parsed, "geo.Polygon")
    assert lines(polygon) == (14, 35, 15)
    assert polygon.doc == "A closed polygon stored as a list of vertices."
    area = symbol(parsed, "geo.Polygon.area")
    assert lines(area) == (20, 29, 21)
    assert area.doc == "Twice the signed area, via the shoelace formula."
    assert lines(symbol(parsed, "geo.clamp_max")) == (43, 47, 45)  # doc comment and template<> included
    out_of_line = symbol(parsed, "winding")
    assert out_of_line.start_line == 51 and out_of_line.signature.startswith("geo::Winding geo::Polygon::winding()")
    assert parsed.imports == [ImportRef("geometry/vec.h", "*", None, 3), ImportRef("shapes.hpp", "*", None, 4)]
    refs = parsed.references
    assert refs["Vec2"] == 7 and refs["Shape"] == 1 and refs["cross"] == 1 and refs["SQUARE"] == 1


def test_cpp_header_prototypes_and_members() -> None:
    source = (
        '#pragma once\nextern "C" { int cfun(int); }\nnamespace a::b { int g(); }\n'
        "class A {\n struct Node { int x; };\n public:\n  A();\n  ~A();\n  const int& get() const;\n"
        "  A& operator=(const A&);\n  template <typename T> T h(T t);\n};\n"
        "void f() { Widget w(other); }\n"
        "A::~A() {}\n"
    )
    parsed = parse_source("a.h", source)
    assert kinds(parsed) == {
        ("cfun", "function"), ("a::b", "namespace"), ("a::b.g", "method"), ("A", "class"), ("A.Node", "struct"),
        ("A.A", "method"), ("A.~A", "method"), ("A.get", "method"), ("A.operator=", "method"), ("A.h", "method"),
        ("f", "function"), ("~A", "method"), ("A.Node.x", "field"),
    }


BROKEN_JS = (
    "function good(a) {\n  return a + 1;\n}\n\n"
    "function broken(a) {\n  return a + * 2;\n}\n\n"
    "class Kept {\n  method() { return 1; }\n}\n"
)
BROKEN_C = "int good(void) { return 1; }\n\nint broken(void) { return 1 + * ; }\n\nstruct kept { int a; };\n"
BROKEN_JS_KEPT = {("good", "function"), ("Kept", "class"), ("Kept.method", "method")}
BROKEN_C_KEPT = {("good", "function"), ("kept", "struct")}


@pytest.mark.parametrize(("name", "source", "kept"), [
    ("e.js", BROKEN_JS, BROKEN_JS_KEPT),
    ("e.ts", BROKEN_JS, BROKEN_JS_KEPT),
    ("e.tsx", BROKEN_JS, BROKEN_JS_KEPT),
    ("e.go", "package p\n\nfunc Good() int { return 1 }\n\nfunc Broken() int { return 1 + ; }\n\n"
             "type Kept struct{ A int }\n",
     {("Good", "function"), ("Kept", "struct")}),
    ("e.rs", "fn good() -> i32 { 1 }\n\nfn broken() -> i32 { let x = 1 + * ; x }\n\nstruct Kept { a: i32 }\n",
     {("good", "function"), ("Kept", "struct")}),
    ("e.java", "class Kept {\n  int good() { return 1; }\n\n  int broken() { return 1 + * 2; }\n\n"
               "  int method() { return 2; }\n}\n",
     {("Kept", "class"), ("Kept.good", "method"), ("Kept.method", "method")}),
    ("e.c", BROKEN_C, BROKEN_C_KEPT),
    ("e.cpp", BROKEN_C, BROKEN_C_KEPT),
])
def test_syntax_errors_keep_the_definitions_that_parse(name: str, source: str, kept: set[tuple[str, str]]) -> None:
    parsed = parse_source(name, source)
    assert parsed.has_errors
    assert kept <= kinds(parsed)


# Import resolution

REPO = PathIndex([
    # JavaScript / TypeScript
    "web/src/app.ts", "web/src/money.ts", "web/src/events/index.js", "web/src/config.json", "web/src/util.js",
    "web/src/types.d.ts", "web/src/esm.ts", "web/log/logger.js",
    # Go
    "go.mod", "internal/util/check.go", "internal/util/check_test.go", "internal/util/doc.go", "util/other.go",
    "cmd/tool/main.go",
    # Rust
    "engine/Cargo.toml", "engine/src/lib.rs", "engine/src/config.rs", "engine/src/net/mod.rs",
    "engine/src/net/tcp.rs", "engine/src/net/metrics.rs", "engine/src/net/window.rs", "engine/tests/it.rs",
    "engine/tests/common/mod.rs", "crates/shared-types/src/lib.rs", "crates/shared-types/src/ids.rs",
    # Java
    "billing/src/main/java/com/acme/billing/InvoiceService.java",
    "billing/src/main/java/com/acme/billing/model/Invoice.java",
    "billing/src/main/java/com/acme/billing/model/Customer.java",
    "billing/src/main/java/com/acme/billing/model/package-info.txt",
    "billing/src/main/java/com/acme/billing/util/Money.java",
    # C / C++
    "native/ring.c", "native/ring.h", "native/util/log.h", "include/geometry/vec.h", "src/geometry/vec.h",
    "src/shapes.cpp",
])


def ref(module: str, name: str | None = None, alias: str | None = None) -> ImportRef:
    return ImportRef(module, name, alias, 1)


@pytest.mark.parametrize(("language", "importer", "imported", "expected"), [
    ("typescript", "web/src/app.ts", ref("./money", "Money"), ["web/src/money.ts"]),
    ("typescript", "web/src/app.ts", ref("./events", None, "events"), ["web/src/events/index.js"]),
    ("typescript", "web/src/app.ts", ref("../log/logger.js", "default", "Logger"), ["web/log/logger.js"]),
    ("typescript", "web/src/app.ts", ref("./config.json", "default", "config"), ["web/src/config.json"]),
    ("typescript", "web/src/app.ts", ref("./types", "T"), ["web/src/types.d.ts"]),
    ("typescript", "web/src/app.ts", ref("./esm.js", "x"), ["web/src/esm.ts"]),  # ESM TypeScript writes .js
    ("tsx", "web/src/app.ts", ref(".", "x"), []),
    ("javascript", "web/src/util.js", ref("react", "default", "React"), []),
    ("javascript", "web/src/util.js", ref("./missing", "x"), []),
    ("javascript", "web/src/util.js", ref("../../../outside", "x"), []),
])
def test_resolve_js(language: str, importer: str, imported: ImportRef, expected: list[str]) -> None:
    assert resolve_import(language, importer, imported, REPO) == expected


@pytest.mark.parametrize(("imported", "expected"), [
    (ref("github.com/acme/proj/internal/util", None, "util"), ["internal/util/check.go", "internal/util/doc.go"]),
    (ref("github.com/acme/proj/util", None, "util"), ["util/other.go"]),  # exact directory beats internal/util
    (ref("fmt", None, "fmt"), []),
    (ref("container/list", None, "list"), []),
    (ref("github.com/other/lib", None, "lib"), []),
])
def test_resolve_go(imported: ImportRef, expected: list[str]) -> None:
    assert resolve_import("go", "cmd/tool/main.go", imported, REPO) == expected


@pytest.mark.parametrize(("importer", "imported", "expected"), [
    ("engine/src/net/tcp.rs", ref("crate::config", "Settings"), ["engine/src/config.rs"]),
    ("engine/src/net/tcp.rs", ref("crate::net", "tcp"), ["engine/src/net/tcp.rs"]),  # the named item is a module
    ("engine/src/net/tcp.rs", ref("crate", "Engine"), ["engine/src/lib.rs"]),
    ("engine/src/net/tcp.rs", ref("super::metrics", "*"), ["engine/src/net/metrics.rs"]),
    ("engine/src/net/tcp.rs", ref("self::inner", "X"), ["engine/src/net/tcp.rs"]),
    ("engine/src/net/mod.rs", ref("window", None, "window"), ["engine/src/net/window.rs"]),  # mod window;
    ("engine/src/lib.rs", ref("net", None, "net"), ["engine/src/net/mod.rs"]),
    ("engine/src/lib.rs", ref("super", "x"), []),
    ("engine/src/net/tcp.rs", ref("std::collections", "HashMap"), []),
    ("engine/tests/it.rs", ref("common", None, "common"), ["engine/tests/common/mod.rs"]),
    ("engine/tests/it.rs", ref("engine::config", "Settings"), ["engine/src/config.rs"]),
    ("engine/src/config.rs", ref("shared_types::ids", "Id"), ["crates/shared-types/src/ids.rs"]),
])
def test_resolve_rust(importer: str, imported: ImportRef, expected: list[str]) -> None:
    assert resolve_import("rust", importer, imported, REPO) == expected


JAVA_ROOT = "billing/src/main/java/com/acme/billing/"


@pytest.mark.parametrize(("imported", "expected"), [
    (ref("com.acme.billing.model", "Invoice"), [JAVA_ROOT + "model/Invoice.java"]),
    (ref("com.acme.billing.model", "*"), [JAVA_ROOT + "model/Customer.java", JAVA_ROOT + "model/Invoice.java"]),
    (ref("com.acme.billing.util.Money", "round"), [JAVA_ROOT + "util/Money.java"]),  # static import
    (ref("com.acme.billing.util.Money", "*"), [JAVA_ROOT + "util/Money.java"]),
    (ref("java.util", "List"), []),
])
def test_resolve_java(imported: ImportRef, expected: list[str]) -> None:
    assert resolve_import("java", JAVA_ROOT + "InvoiceService.java", imported, REPO) == expected


@pytest.mark.parametrize(("language", "importer", "imported", "expected"), [
    ("c", "native/ring.c", ref("ring.h", "*"), ["native/ring.h"]),
    ("c", "native/ring.c", ref("util/log.h", "*"), ["native/util/log.h"]),
    ("cpp", "src/shapes.cpp", ref("geometry/vec.h", "*"), ["src/geometry/vec.h"]),  # beside the importer first
    ("cpp", "native/ring.c", ref("geometry/vec.h", "*"), ["include/geometry/vec.h", "src/geometry/vec.h"]),
    ("cpp", "src/shapes.cpp", ref("../native/ring.h", "*"), ["native/ring.h"]),
    ("c", "native/ring.c", ref("missing.h", "*"), []),
])
def test_resolve_c(language: str, importer: str, imported: ImportRef, expected: list[str]) -> None:
    assert resolve_import(language, importer, imported, REPO) == expected


def test_resolve_python_is_left_to_the_python_resolver() -> None:
    assert resolve_import("python", "pkg/a.py", ref(".b", "x"), PathIndex(["pkg/a.py", "pkg/b.py"])) == []


def test_path_index_lookups() -> None:
    index = PathIndex(["./a/b/c.h", "x/a/b/c.h", "a/d.c"])
    assert index.has("a/b/c.h") and not index.has("./a/b/c.h")
    assert index.ending_with("b/c.h") == ["a/b/c.h", "x/a/b/c.h"]
    assert index.ending_with("a/b/c.h") == ["a/b/c.h", "x/a/b/c.h"]
    assert index.dirs_ending_with("a/b") == ["a/b", "x/a/b"]
    assert index.files_in("a") == ["a/d.c"]
    assert index.is_dir("x/a") and not index.is_dir("a/d.c")


def test_tsx_counts_jsx_components_as_references() -> None:
    parsed = parse_source("view.tsx", "export function Page() {\n  return <Layout><Card.Body /></Layout>;\n}\n")
    assert parsed.references.get("Layout") == 1
    assert parsed.references.get("Body") == 1


def test_macro_ends_on_its_own_line_and_one_line_docs_are_clean() -> None:
    parsed = parse_source("m.c", "/** Twice x. */\n#define TWICE(x) ((x) * 2)\nint y;\n")
    macro = symbol(parsed, "TWICE")
    assert (macro.start_line, macro.end_line) == (1, 2)
    assert macro.doc == "Twice x."


@pytest.mark.parametrize("path,code", [
    ("long_doc.ts", "export function total(items: Item[]): number {\n  return items.length;\n}\n"),
    ("LongDoc.java", "public class LongDoc {\n  int x;\n}\n"),
    ("long_doc.go", "func Total(items []int) int {\n\treturn len(items)\n}\n"),
])
def test_a_long_leading_comment_never_hides_the_code(path: str, code: str) -> None:
    """Of a 30-line doc comment the 8 lines nearest the definition are its; the collapsed view reaches the
    signature (it used to stop inside the comment, so retrieval showed documentation instead of code)."""
    comment = "/**\n" + "".join(f" * line {i} of a long explanation\n" for i in range(28)) + " */\n"
    if path.endswith(".go"):
        comment = "".join(f"// line {i} of a long explanation\n" for i in range(30))
    parsed = parse_source(path, "package p;\n\n" * path.endswith(".java") + "package p\n\n" * path.endswith(".go")
                          + comment + code)
    first = parsed.symbols[0]
    code_line = (comment + code).split("\n").index(code.split("\n")[0]) + 1 + 2 * (not path.endswith(".ts"))
    assert first.start_line == code_line - 8
    assert first.head_end >= code_line


def test_one_long_literal_among_code_is_not_minified() -> None:
    from ragls.indexer.files import Limits, check_content

    code = "".join(f"export const line{i} = {i};\n" for i in range(40))
    svg = 'export const Icon = () => <path d="' + "M0 0L1 1 " * 600 + '" />;\n'
    assert check_content((code + svg + code).encode(), Limits()) is None  # an inline SVG path in a component
    assert check_content((("var a=1;" * 800 + "\n") * 3).encode(), Limits()) == "minified"


def test_generated_marker_counts_in_comments_only() -> None:
    """A generated file says so in a comment; a code generator's own source holds the marker in a string it writes."""
    from ragls.indexer.files import Limits, check_content

    generated = b"// Code generated by protoc-gen-go. DO NOT EDIT.\npackage x\n"
    assert check_content(generated, Limits()) == "generated"
    assert check_content(b'"""Docs."""\n# @generated by tool\nX = 1\n', Limits()) == "generated"
    assert check_content(b"/*\n * @generated\n */\nexport const x = 1;\n", Limits()) == "generated"
    generator = b'package main\n\nvar preamble = []string{\n\t"// Code generated by gen. DO NOT EDIT.",\n}\n'
    assert check_content(generator, Limits()) is None
    assert check_content(b'HEADER = "# @generated"\n', Limits()) is None
