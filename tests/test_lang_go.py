"""Go support: imports resolved as the go command does (go.mod's module path, local replaces, go.work), a package's
files seeing each other, package-level constants, variables and types as chunks, declared types of names, and
retrieval on a small module (tests/fixtures/go/shop, which `go vet` accepts)."""
from __future__ import annotations

from pathlib import Path

import pytest
from ragls.indexer.chunks import chunk_file
from ragls.indexer.index import Index
from ragls.indexer.lang.go import go_module, parse_go_mod, resolve_go
from ragls.indexer.lang.paths import PathIndex
from ragls.indexer.languages import grammar, types_query
from ragls.indexer.model import ImportRef, ParsedFile
from ragls.indexer.retrieve import Query, Retriever
from ragls.indexer.symbols import extract
from ragls.indexer.visible import read

from .conftest import FIXTURES, make_git_repo

SHOP = FIXTURES / "go" / "shop"


def parse(path: str, source: str | None = None) -> ParsedFile:
    loaded = grammar("go")
    assert loaded is not None
    return extract(loaded, path, source.encode() if source is not None else (SHOP / path).read_bytes())


def ref(module: str) -> ImportRef:
    return ImportRef(module, None, module.rsplit("/", 1)[-1], 1)


def receiver_members(r: Retriever, path: str, lines: list[str], line: int, receiver: str) -> tuple[set[str], list]:
    """Cut `path`'s text just after `receiver` on `line` (1-based) and ask for the cursor there: the symbols ranked
    as the receiver's members, and every item."""
    text = "\n".join(lines[:line - 1] + [lines[line - 1][:lines[line - 1].index(receiver) + len(receiver)]])
    items = r.context(Query(path, line, len(text.rsplit("\n", 1)[-1])), source=text, join=False)
    return {i.symbol for i in items if "receiver=1.00" in i.why}, items


def used_symbols(items: list) -> set[str]:
    """The items a selection uses, directly or through a declared type."""
    return {i.symbol for i in items if any(w.startswith(("used=", "used_typed=")) for w in i.why)}


def module_repo(tmp_path: Path, files: dict[str, str]) -> tuple[Path, Retriever]:
    """A Go module `example.com/m` of `files`, indexed: its root and a retriever over it."""
    from .conftest import index_of, write_tree

    root = write_tree(tmp_path / "repo", {"go.mod": "module example.com/m\n\ngo 1.21\n", **files})
    return root, Retriever(index_of(root, tmp_path / "data"))


@pytest.fixture
def shop(tmp_path: Path) -> Retriever:
    make_git_repo(SHOP, tmp_path / "shop")
    index = Index.open(tmp_path / "shop", data_dir=tmp_path / "data")
    index.refresh(progress=False)
    return Retriever(index)




# Import resolution


GO_MOD = """// the shop
module example.com/shop // trailing comment

go 1.21

require example.com/lib v1.2.0

replace example.com/lib => ./third_party/lib

replace example.com/shop/vendored => ./third_party/vendored

replace (
\texample.com/far v1.0.0 => ../far
\texample.com/pinned => example.com/pinned v1.1.0
)
"""
FILES = ["main.go", "third_party/vendored/v.go", "cart/cart.go", "cart/cart_test.go", "third_party/lib/lib.go",
         "cmd/tool/main.go", "internal/encoding/json/json.go", "nested/x.go"]


def test_go_mod_module_path_and_local_replaces() -> None:
    module = parse_go_mod("", GO_MOD)
    assert module is not None and module.path == "example.com/shop"
    # ../far leaves the repository; pinned is another version, not a folder
    assert module.replaces == (("example.com/lib", "third_party/lib"),
                               ("example.com/shop/vendored", "third_party/vendored"))
    paths = PathIndex(FILES, {"go.mod": GO_MOD, "nested/go.mod": "module example.com/nested\n"}.get)
    assert resolve_go("cmd/tool/main.go", ref("example.com/shop/cart"), paths) == ["cart/cart.go"]
    assert resolve_go("cmd/tool/main.go", ref("example.com/shop"), paths) == ["main.go"]  # the module's root package
    assert resolve_go("cart/cart.go", ref("example.com/lib"), paths) == ["third_party/lib/lib.go"]
    # a replaced module inside the module's path: the longest prefix wins
    assert resolve_go("cart/cart.go", ref("example.com/shop/vendored"), paths) == ["third_party/vendored/v.go"]
    # the standard library and other modules are not this repository's folders, whatever their path ends with
    assert resolve_go("cmd/tool/main.go", ref("encoding/json"), paths) == []
    assert resolve_go("cmd/tool/main.go", ref("github.com/other/cart"), paths) == []
    assert resolve_go("cmd/tool/main.go", ref("example.com/shop/missing"), paths) == []
    nested = go_module("nested/x.go", paths)
    assert nested is not None and (nested.directory, nested.path) == ("nested", "example.com/nested")


def test_go_work_modules_see_each_other() -> None:
    files = {"go.work": "go 1.21\n\nuse (\n\t./api\n\t./server // the server\n)\n",
             "api/go.mod": "module example.com/api\n", "server/go.mod": "module example.com/server\n"}
    paths = PathIndex(["api/types.go", "api/v1/v1.go", "server/main.go"], files.get)
    assert resolve_go("server/main.go", ref("example.com/api/v1"), paths) == ["api/v1/v1.go"]
    assert resolve_go("server/main.go", ref("example.com/api"), paths) == ["api/types.go"]


def test_without_a_readable_go_mod_the_longest_path_suffix() -> None:
    paths = PathIndex(FILES)  # no project files readable: the path rules alone
    assert resolve_go("main.go", ref("github.com/acme/shop/cart"), paths) == ["cart/cart.go"]
    assert resolve_go("main.go", ref("fmt"), paths) == []


# Definitions and chunks


def test_package_level_constants_variables_and_types_are_chunks() -> None:
    parsed = parse("money/money.go")
    chunks = chunk_file("money/money.go", (SHOP / "money/money.go").read_text().split("\n"), parsed.symbols)
    kinds = {(c.symbol, c.kind) for c in chunks}
    assert {("Cents", "constant"), ("Zero", "constant"), ("Amount", "type"), ("Parse", "function")} <= kinds
    cents = next(c for c in chunks if c.symbol == "Cents")
    assert (cents.start_line, cents.end_line) == (9, 10)  # its doc comment and its line


def test_a_declaration_of_several_names_defines_each() -> None:
    parsed = parse("p.go", "package p\n\ntype conv struct {\n\tname string\n\tkeyConv, valConv Converter\n}\n\n"
                           "var x, y int\n")
    found = {s.qualname: (s.kind, s.type, s.parent) for s in parsed.symbols}
    assert found["conv.keyConv"] == found["conv.valConv"] == ("field", "Converter", "conv")
    assert found["x"] == found["y"] == ("constant", "int", None)


def test_the_blank_identifier_declares_nothing() -> None:
    parsed = parse("p.go", "package p\n\nvar _ io.Writer = (*T)(nil)\n\nconst (\n\t_ = iota\n\tB\n)\n\n"
                           "var (\n\t_ = 1\n\tc T\n)\n")
    assert [s.qualname for s in parsed.symbols] == ["B", "c"]


def test_types_query_reads_what_go_writes_out() -> None:
    assert types_query("go") is not None
    source = (
        "package p\n\nimport \"example.com/shop/cart\"\n\n"
        "func (s *Server) Handle(a, b int, c *cart.Cart, rest ...Opt) (n Reply, err error) {\n"
        "\tx := &cart.Item{Name: \"tea\"}\n"
        "\ty := Config{}\n"
        "\tvar z cart.Store\n"
        "\tw := new(Buffer)\n"
        "\tv, ok := any(x).(*cart.Cart)\n"
        "\tu := (*Header)(nil)\n"
        "\tl := List[int]{}\n"
        "\tm := cart.New()\n"
        "\tf := c.Items().Get(0)\n"
        "\tvar g = cart.New()\n"
        "\te := &c.Lines[0]\n"
        "\tfor i, nums := 0, c.Numbers(); i < nums.Len(); i++ {\n\t}\n"
        "\tt := any(x).(cart.Typed).Type()\n"
        "\t_ = ok\n"
    )
    v = read("p.go", source, 21, 0, None)
    assert v.types == {
        "s": ["Server"], "a": ["int"], "b": ["int"], "c": ["cart", "Cart"], "rest": ["Opt"], "n": ["Reply"],
        "err": ["error"], "x": ["cart", "Item"], "y": ["Config"], "z": ["cart", "Store"], "w": ["Buffer"],
        "v": ["cart", "Cart"], "u": ["Header"], "l": ["List"], "m": ["cart", "New"], "g": ["cart", "New"],
        "f": ["c", "Items", "Get"],  # through calls: each call's value is what its function returns
        "e": ["c", "Lines", "[]"], "nums": ["c", "Numbers"],  # an element's address; the second of two
        "t": ["cart", "Typed", "Type"],  # a type assertion's type, and on from it
    }


def test_types_query_reads_containers_and_their_elements() -> None:
    """A slice, array, map or channel holds elements of a type; ranging over one or indexing it gives an element."""
    source = (
        "package p\n\nfunc f(items []*cart.Item, byName map[string]Price, ch <-chan Event) {\n"
        "\tfor _, it := range items {\n\t}\n"
        "\tfor k, p := range byName {\n\t}\n"
        "\tfor i := range items {\n\t}\n"
        "\tfirst := items[0]\n"
        "\tfor _, f := range s.Fields() {\n\t}\n"
        "\t_ = k\n"
    )
    v = read("p.go", source, 13, 0, None)
    assert v.types["items"] == ["[]", "cart", "Item"] and v.types["byName"] == ["[]", "Price"]
    assert v.types["ch"] == ["[]", "Event"]
    assert v.types["it"] == ["items", "[]"] and v.types["p"] == ["byName", "[]"] and "i" not in v.types
    assert v.types["first"] == ["items", "[]"] and v.types["f"] == ["s", "Fields", "[]"]


def test_a_pointer_to_a_container_holds_its_elements(tmp_path: Path) -> None:
    """`ext *map[int32]Field` ranged over as `*ext`, `var xs *[]T`: the pointer's container holds elements of that
    type, so `x.Type()` in the loop is Field's method, which the selection uses."""
    source = "package p\n\nfunc f(ext *map[int32]Field) {\n\tvar xs *[]Item\n\tfor _, x := range *ext {\n\t}\n}\n"
    v = read("p.go", source, 8, 0, None)
    assert v.types["ext"] == ["[]", "Field"] and v.types["xs"] == ["[]", "Item"] and v.types["x"] == ["ext", "[]"]
    _, r = module_repo(tmp_path, {
        "field.go": "package m\n\n// Field is an extension field.\ntype Field struct{}\n\n"
                    "// Type is its type.\nfunc (f Field) Type() int { return 0 }\n",
        "use.go": "package m\n\nfunc size(ext *map[int32]Field) (n int) {\n\tfor _, x := range *ext {\n"
                  "\t\tn += x.Type()\n\t}\n\treturn n\n}\n",
    })
    items = r.context(Query("use.go", 3, end_line=8), k=20, join=False)
    assert "Field.Type" in used_symbols(items), [(i.symbol, i.why) for i in items]


# Retrieval on the shop module


def test_imports_by_module_path_and_not_the_standard_library(shop: Retriever) -> None:
    bindings, _ = shop.graph.bindings("cmd/shop/main.go", "go", shop.graph.imports["cmd/shop/main.go"])
    assert bindings["money"] == ("files", ("money/money.go",))
    assert "json" not in bindings  # encoding/json is the standard library's, not internal/encoding/json
    source = (SHOP / "cmd/shop/main.go").read_text().replace('money.Parse("2.50")', "money.")
    line = 13
    items = shop.context(Query("cmd/shop/main.go", line, len("\tprice, err := money.")), source=source, join=False)
    members = {i.symbol for i in items if "receiver=1.00" in i.why}
    assert {"Parse", "Amount", "Cents", "Zero"} <= members
    assert members == {"Parse", "Amount", "Cents", "Zero"}


def test_a_package_sees_its_other_files(shop: Retriever) -> None:
    # Add uses MaxItems and Item.Total of item.go
    items = shop.context(Query("cart/cart.go", 24, end_line=31), join=False)
    symbols = [i.symbol for i in items]
    assert "MaxItems" in symbols[:3] and "Item" in symbols
    assert all(i.path != "cart/cart.go" for i in items)


def test_a_package_name_not_used_yet_is_in_scope(shop: Retriever) -> None:
    """At the start of a statement nothing names the package's other files yet: their top-level names are
    candidates still (in scope as a star import's are), not left to text similarity alone."""
    source = (SHOP / "cart/store.go").read_text().replace("\treturn c.Sum(), nil\n", "\t\n")
    items = shop.context(Query("cart/store.go", 18, 1), source=source, join=False)
    scoped = {i.symbol for i in items if any(w.startswith("star=") for w in i.why)}
    assert {"Cart", "New", "Item"} <= scoped


def test_methods_belong_to_their_receiver_type_across_files(shop: Retriever) -> None:
    cart = shop.graph.defs["cart/cart.go"]["Cart"]
    members = {d.qualname for d in shop.graph.module_members(("def", cart))}
    assert {"Cart.Add", "Cart.Sum", "Cart.Count"} <= members  # Count is declared in count.go
    source = (SHOP / "cart/store.go").read_text().replace("return c.Sum(), nil", "return c.")
    items = shop.context(Query("cart/store.go", 18, len("\treturn c.")), source=source,
                         join=False)  # c *Cart, a parameter
    assert {i.symbol for i in items[:3]} == {"Cart.Add", "Cart.Sum", "Cart.Count"}
    assert all("receiver=1.00" in i.why for i in items[:3])


def test_a_value_has_the_type_its_function_returns(shop: Retriever) -> None:
    source = (SHOP / "cmd/shop/main.go").read_text().replace("if err := c.Add(", "if err := c.")
    items = shop.context(Query("cmd/shop/main.go", 17, len("\tif err := c.")), source=source)  # c := cart.New()
    assert items[0].symbol in ("Cart.Add", "Cart.Sum", "Cart.Count") and "receiver=1.00" in items[0].why


def test_fields_and_embedded_types_lead_to_members(tmp_path: Path) -> None:
    """`m.Desc.` ranks the members of the field's type, with those of the interfaces it embeds (promoted)."""
    _, r = module_repo(tmp_path, {
        "desc/desc.go": "package desc\n\n// Base names a descriptor.\ntype Base interface {\n"
                        "\t// Name is its short name.\n\tName() string\n}\n\n// Message describes a message.\n"
                        "type Message interface {\n\tBase\n\t// Fields counts its fields.\n\tFields() int\n}\n",
        "gen.go": 'package m\n\nimport "example.com/m/desc"\n\n// Msg is a message to generate.\ntype Msg struct {\n'
                  "\tDesc desc.Message\n}\n\nfunc gen(m *Msg) int {\n\treturn m.Desc.\n}\n",
    })
    items = r.context(Query("gen.go", 11, len("\treturn m.Desc.")), join=False)
    assert {i.symbol for i in items[:2]} == {"Message.Fields", "Base.Name"}
    assert all("receiver=1.00" in i.why for i in items[:2])
    first = r.context(Query("gen.go", 11, len("\treturn m.Desc.")))[0]  # a few lines apart: one snippet
    assert {first.symbol, *first.joined} >= {"Message.Fields", "Base.Name"}


def test_a_receiver_typed_by_a_type_of_the_same_file(shop: Retriever) -> None:
    """In `func (c *Cart) Sum()`, `c.` ranks Cart's members, though Cart is declared in this very file (and its
    method Count in another of the package)."""
    source = (SHOP / "cart/cart.go").read_text().replace("\treturn c.total\n", "\treturn c.\n")
    items = shop.context(Query("cart/cart.go", 36, len("\treturn c.")), source=source)
    assert "Cart.Count" in {i.symbol for i in items if "receiver=1.00" in i.why}


def test_a_defined_type_s_methods_follow_a_call(tmp_path: Path) -> None:
    """`type Value value` has methods of its own: `conv.Of(x).` ranks them (Of returns a Value)."""
    _, r = module_repo(tmp_path, {
        "val/val.go": "package val\n\ntype value struct{ n int }\n\n// Value is one value.\ntype Value value\n\n"
                      "// Key is the value as a key.\nfunc (v Value) Key() string { return \"\" }\n",
        "conv.go": 'package m\n\nimport "example.com/m/val"\n\n// Conv converts.\ntype Conv interface {\n'
                   "\tOf(x int) val.Value\n}\n\nfunc use(c Conv) string {\n\treturn c.Of(1).\n}\n",
    })
    items = r.context(Query("conv.go", 11, len("\treturn c.Of(1).")))
    assert items[0].symbol == "Value.Key" and "receiver=1.00" in items[0].why


def test_types_flow_through_locals_calls_and_elements(tmp_path: Path) -> None:
    """What a local holds is followed as a type checker would: `fds := m.Descriptor().Fields()`, `fd := fds.Get(i)`,
    `g := gen.NewFile()`, `for _, e := range file.Enums`, `for _, f := range msg.All()`: each `x.` then ranks the
    members of the type it holds, and a selection's calls on them count as used."""
    root, r = module_repo(tmp_path, {
        "desc/desc.go": "package desc\n\n// Field describes a field.\ntype Field interface {\n\tNumber() int\n}\n\n"
                        "// Fields lists fields.\ntype Fields interface {\n\tLen() int\n\tGet(i int) Field\n}\n\n"
                        "// Message describes a message.\ntype Message interface {\n\tFields() Fields\n}\n",
        "gen/gen.go": "package gen\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/m/desc\"\n)\n\n"
                      "// Enum is an enum to generate.\ntype Enum struct {\n\tName string\n}\n\n"
                      "// Title is the enum's title.\n"
                      "func (e *Enum) Title() string { return e.Name }\n\n// File is a file to generate.\n"
                      "type File struct {\n\tEnums []*Enum\n\tDesc  desc.Message\n}\n\n"
                      "// Out is generated output.\ntype Out struct {\n\tlines []string\n}\n\n// P prints a line.\n"
                      "func (o *Out) P(v ...any) {\n\to.lines = append(o.lines, fmt.Sprint(v...))\n}\n\n"
                      "// Plugin runs generators.\ntype Plugin struct{}\n\n"
                      "// NewFile starts an output file.\nfunc (p *Plugin) NewFile(name string) *Out { return nil }\n\n"
                      "// All lists the file's enums.\nfunc (f *File) All() []*Enum { return f.Enums }\n",
        "main.go": 'package main\n\nimport "example.com/m/gen"\n\n'
                   "func run(p *gen.Plugin, file *gen.File) {\n"
                   "\tg := p.NewFile(\"x\")\n"
                   "\tfds := file.Desc.Fields()\n"
                   "\tfor i := 0; i < fds.Len(); i++ {\n"
                   "\t\tfd := fds.Get(i)\n"
                   "\t\tg.P(fd.Number())\n"
                   "\t}\n"
                   "\tfor _, e := range file.Enums {\n"
                   "\t\tg.P(e.Title())\n"
                   "\t}\n"
                   "\tfor _, e2 := range file.All() {\n"
                   "\t\te2.\n",
    })
    source = (root / "main.go").read_text()
    lines = source.splitlines()
    for line, receiver, member in ((10, "fd.", "Field.Number"), (9, "fd := fds.", "Fields.Get"),
                                   (13, "g.P(e.", "Enum.Title"), (16, "e2.", "Enum.Title"), (10, "g.", "Out.P")):
        members, items = receiver_members(r, "main.go", lines, line, receiver)
        assert member in members, (receiver, [i.symbol for i in items])
    explained = r.context(Query("main.go", 5, 0, 15), k=20, source=source.replace("\te2.\n", "\t_ = e2\n}\n"),
                          join=False)
    used = {i.symbol for i in explained if "used_typed" in " ".join(i.why)}
    assert {"Out.P", "Fields.Len", "Fields.Get", "Field.Number", "Enum.Title"} <= used


def test_constants_take_their_value_s_type() -> None:
    """A constant or variable declared without a type has its value's, as go/types gives it: a literal's kind, a
    conversion's or composite literal's type, `errors.New`'s error; a group's later specs repeat the one before."""
    source = ('package p\n\nimport "errors"\n\nconst debug = false\n\nconst (\n\tRaw Kind = iota\n\t// RLE runs.\n'
              '\tRLE\n\tmaxSize = 1 << 17\n\tname = "p"\n\tneg = -maxSize\n)\n\nvar errShort = errors.New("short")\n'
              'var limit = uint32(5)\nvar zero = &Kind{}\n\ntype Kind uint8\n')
    types = {s.qualname: s.type for s in parse("p.go", source).symbols}
    assert types == {"debug": "bool", "Raw": "Kind", "RLE": "Kind", "maxSize": "untyped int", "name": "string",
                     "neg": "untyped int", "errShort": "error", "limit": "uint32", "zero": "Kind", "Kind": ""}


def test_a_long_constant_expression_is_read_once() -> None:
    """A mask of many `|` terms nests one level a term: its type is read in one pass (reading each operand twice
    would take 2^40 steps here); operands past the depth bound are unknown, never a RecursionError."""
    for terms, kind in ((40, "untyped int"), (3000, "untyped int")):
        source = "package p\n\nconst mask = " + " | ".join(f"flag{i}" for i in range(terms)) + "\n"
        assert [s.type for s in parse("p.go", source).symbols] == [kind]


def test_what_fits_the_expected_type_ranks_first(tmp_path: Path) -> None:
    """Of a package's many names, the ones whose type fits the slot at a bare cursor rank first: `if ` a bool
    constant, `s.Reuse == ` and `case ` in `switch s.Reuse` the constants of the field's type, a composite
    literal's `kind: ` those of the field's type, `return 0, ` an error variable."""
    consts = "".join(f"// big{i} is a size.\nconst big{i} = {i} << 10\n\n" for i in range(12))
    root, r = module_repo(tmp_path, {
        "defs.go": 'package m\n\nimport "errors"\n\n' + consts
                   + "// debugScratch turns on checks.\nconst debugScratch = false\n\n"
                     "// Policy says when to reuse a table.\ntype Policy uint8\n\n"
                     "const (\n\t// PolicyAllow reuses it.\n\tPolicyAllow Policy = iota\n\t// PolicyNone never.\n"
                     "\tPolicyNone\n)\n\n// Scratch is a work area.\ntype Scratch struct {\n\tReuse Policy\n"
                     "\tn     int\n}\n\n// errShort is a short input.\nvar errShort = errors.New(\"short\")\n\n"
                     "// apply sets a policy.\nfunc apply(s *Scratch, p Policy) {\n\ts.Reuse = p\n}\n",
        "use.go": "package m\n\nfunc reuse(s *Scratch) (int, error) {\n\tif s.n > 0 {\n\t\ts.n++\n\t}\n"
                  "\tSLOT\n}\n",
    })
    base = (root / "use.go").read_text()
    for slot, wanted in (("if ", {"debugScratch"}), ("if s.Reuse == ", {"PolicyAllow", "PolicyNone"}),
                         ("switch s.Reuse {\n\tcase ", {"PolicyAllow", "PolicyNone"}),
                         ("t := Scratch{Reuse: ", {"PolicyAllow", "PolicyNone"}), ("return 0, ", {"errShort"}),
                         ("apply(s, ", {"PolicyAllow", "PolicyNone"})):
        text = base.split("SLOT")[0] + slot
        last = text.rsplit("\n", 1)[-1]
        items = r.context(Query("use.go", text.count("\n") + 1, len(last)), source=text, join=False)
        top = {i.symbol for i in items[:len(wanted)]}
        assert top == wanted, (slot, [(i.symbol, i.why) for i in items[:4]])
        assert all("fits=1.00" in i.why for i in items[:len(wanted)])


def test_ranging_over_a_defined_container_type_and_a_field_of_several_names(tmp_path: Path) -> None:
    """`for _, x := range *m` where `type Fields map[int32]Field` gives x Field's methods; `c.conv.valConv.`, a field
    declared as `keyConv, valConv Converter`, gives Converter's; and a defined container type keeps its own methods."""
    root, r = module_repo(tmp_path, {
        "x/x.go": "package x\n\n// Field is one field.\ntype Field struct{}\n\n// Type is its type.\n"
                  "func (f Field) Type() int { return 0 }\n\n// Fields by number.\ntype Fields map[int32]Field\n\n"
                  "// Len counts them.\nfunc (m *Fields) Len() int { return len(*m) }\n\n"
                  "// Converter converts.\ntype Converter interface {\n\tPBValueOf(v any) int\n}\n\n"
                  "type mapConv struct {\n\tname             string\n\tkeyConv, valConv Converter\n}\n\n"
                  "// Info has a converter.\ntype Info struct {\n\tconv *mapConv\n}\n",
        "use.go": 'package main\n\nimport "example.com/m/x"\n\n'
                  "func run(m *x.Fields, c *x.Info) {\n"
                  "\tfor _, f := range *m {\n"
                  "\t\t_ = f.Type()\n"
                  "\t}\n"
                  "\t_ = c.conv.valConv.PBValueOf(1)\n"
                  "\t_ = m.Len()\n"
                  "}\n",
    })
    lines = (root / "use.go").read_text().splitlines()
    for line, receiver, member in ((7, "f.", "Field.Type"), (9, "valConv.", "Converter.PBValueOf"),
                                   (10, "m.", "Fields.Len")):
        members, items = receiver_members(r, "use.go", lines, line, receiver)
        assert member in members, (receiver, [i.symbol for i in items])


def test_type_switch_cases_assertions_and_types_the_code_never_writes(tmp_path: Path) -> None:
    """In `switch x := v.(type)` each case's `x.M()` is that case's type's method; `y.(*T).M()` is T's; and a
    local's type counts as used only where the code writes it (`fs := m.Fields()` uses Fields.Len, not Fields)."""
    _, r = module_repo(tmp_path, {
        "kinds/kinds.go": "package kinds\n\n// Numbers lists numbers.\ntype Numbers interface {\n\tLen() int\n}\n\n"
                          "// Names lists names.\ntype Names struct{}\n\n// Count counts them.\n"
                          "func (n *Names) Count() int { return 0 }\n\n// Fields lists fields.\n"
                          "type Fields interface {\n\tSize() int\n}\n\n// Message has fields.\n"
                          "type Message interface {\n\tFields() Fields\n}\n",
        "use.go": 'package main\n\nimport "example.com/m/kinds"\n\n'
                  "func describe(v any, in any, m kinds.Message) int {\n"
                  "\tswitch x := v.(type) {\n"
                  "\tcase kinds.Numbers:\n"
                  "\t\treturn x.Len()\n"
                  "\tcase *kinds.Names:\n"
                  "\t\treturn x.Count()\n"
                  "\t}\n"
                  "\tfs := m.Fields()\n"
                  "\treturn in.(*kinds.Names).Count() + fs.Size()\n"
                  "}\n",
    })
    items = r.context(Query("use.go", 5, end_line=15), k=20, join=False)
    used = used_symbols(items)
    assert {"Numbers.Len", "Names.Count", "Message.Fields", "Fields.Size", "Numbers", "Names", "Message"} <= used, used
    assert "Fields" not in used  # no line of describe writes it


def test_a_one_line_interface_s_chunk_holds_its_line() -> None:
    source = "package p\n\n// Proto is implemented by messages.\ntype Proto interface{ Reflect() int }\n"
    parsed = parse("p.go", source)
    chunks = {c.symbol: c for c in chunk_file("p.go", source.split("\n"), parsed.symbols)}
    assert (chunks["Proto"].start_line, chunks["Proto"].end_line) == (3, 4)
    assert (chunks["Proto.Reflect"].start_line, chunks["Proto.Reflect"].end_line) == (4, 4)


def test_an_element_s_member_through_an_index(tmp_path: Path) -> None:
    """`w.enc.codes[i].len()`: codes is a []hcode field, so len is hcode's method (and hcode, written nowhere in
    the function, is not counted as used)."""
    _, r = module_repo(tmp_path, {
        "code.go": "package m\n\n// hcode is a code.\ntype hcode uint32\n\n// len is its length.\n"
                   "func (h hcode) len() uint8 { return uint8(h) }\n\n// encoder holds codes.\n"
                   "type encoder struct {\n\tcodes []hcode\n}\n",
        "writer.go": "package m\n\ntype writer struct {\n\tenc *encoder\n}\n\n"
                     "func (w *writer) size(i int) int {\n\treturn int(w.enc.codes[i].len())\n}\n\n"
                     "func bits(le, oe []hcode) int {\n\tlits := le[:256]\n\tc := lits[3]\n\treturn int(c.len())\n}\n",
    })
    for first, last in ((7, 9), (11, 15)):  # an index in a chain; a slice of a container, then an element of it
        items = r.context(Query("writer.go", first, end_line=last), k=20, join=False)
        used = used_symbols(items)
        assert "hcode.len" in used, (first, [(i.symbol, i.why) for i in items])
        assert ("hcode" in used) == (first == 11)  # bits' signature writes it; size's code never does


def test_a_name_declared_again_from_itself_and_a_channel_receive(tmp_path: Path) -> None:
    """`var br [4]reader` then `br := &br[i]`: br is a reader; `b := <-d.pool`: an element of the channel."""
    _, r = module_repo(tmp_path, {
        "types.go": "package m\n\n// reader reads bits.\ntype reader struct{}\n\n// remaining counts bits left.\n"
                    "func (r *reader) remaining() int { return 0 }\n\n// block decodes.\ntype block struct{}\n\n"
                    "// reset clears it.\nfunc (b *block) reset() {}\n\n// decoder pools blocks.\n"
                    "type decoder struct {\n\tpool chan *block\n}\n",
        "use.go": "package m\n\nfunc run(d *decoder) int {\n\tvar br [4]reader\n\tb := <-d.pool\n\tb.reset()\n"
                  "\tn := 0\n\tfor i := range br {\n\t\tbr := &br[i]\n\t\tn += br.remaining()\n\t}\n\treturn n\n}\n",
    })
    items = r.context(Query("use.go", 3, end_line=13), k=20, join=False)
    used = used_symbols(items)
    assert {"reader.remaining", "block.reset"} <= used, [(i.symbol, i.why) for i in items]


def test_an_element_of_a_container_whose_name_is_declared_again(tmp_path: Path) -> None:
    """`var br [4]reader`, `br[0].init()`, then `br := &br[i]` in a loop: the name has two types in the function,
    and indexing the array one (`br[0].init`) gives a reader, whose method the selection uses."""
    _, r = module_repo(tmp_path, {
        "types.go": "package m\n\n// reader reads bits.\ntype reader struct{}\n\n// init starts it.\n"
                    "func (r *reader) init(b []byte) error { return nil }\n\n"
                    "// remaining counts bits left.\nfunc (r *reader) remaining() int { return 0 }\n",
        "use.go": "package m\n\nfunc run(src []byte) int {\n\tvar br [4]reader\n\tif err := br[0].init(src); "
                  "err != nil {\n\t\treturn 0\n\t}\n\tn := 0\n\tfor i := range br {\n\t\tbr := &br[i]\n"
                  "\t\tn += br.remaining()\n\t}\n\treturn n\n}\n",
    })
    items = r.context(Query("use.go", 3, end_line=15), k=20, join=False)
    used = used_symbols(items)
    assert {"reader.init", "reader.remaining"} <= used, [(i.symbol, i.why) for i in items]


def test_a_package_variable_takes_its_call_s_type(tmp_path: Path) -> None:
    """`const timePkg = gen.ImportPath("time")` (a conversion) and `var std = gen.NewPrinter()` (a function):
    each is typed by what its value gives, so `timePkg.` and `std.` rank that type's methods."""
    root, r = module_repo(tmp_path, {
        "gen/gen.go": "package gen\n\n// ImportPath is a package path.\ntype ImportPath string\n\n"
                      "// Ident names a member.\nfunc (p ImportPath) Ident(n string) string { return n }\n\n"
                      "// Printer prints.\ntype Printer struct{}\n\n"
                      "// P prints a line.\nfunc (p *Printer) P(v string) {}\n\n"
                      "// NewPrinter makes one.\nfunc NewPrinter() *Printer { return &Printer{} }\n",
        "vars.go": 'package main\n\nimport "example.com/m/gen"\n\nconst timePkg = gen.ImportPath("time")\n\n'
                   "var std = gen.NewPrinter()\n",
        "main.go": "package main\n\nfunc run() {\n\tstd.P(timePkg.Ident(\"Now\"))\n}\n",
    })
    lines = (root / "main.go").read_text().splitlines()
    for receiver, member in (("timePkg.", "ImportPath.Ident"), ("std.", "Printer.P")):
        members, items = receiver_members(r, "main.go", lines, 4, receiver)
        assert member in members, (receiver, [i.symbol for i in items])


def test_a_called_function_literal_s_result_and_a_name_of_the_same_file(tmp_path: Path) -> None:
    """`var desc = func() *Desc { ... }()` has the literal's result type, and in the same file `desc.Messages()`
    leads to that type's method in another file, which a selection uses."""
    _, r = module_repo(tmp_path, {
        "desc.go": "package m\n\n// Desc describes a file.\ntype Desc struct{}\n\n"
                   "// Messages lists its messages.\nfunc (d *Desc) Messages() int { return 0 }\n",
        "use.go": "package m\n\nfunc count() int { return desc.Messages() }\n\n"
                  "var desc = func() *Desc { return &Desc{} }()\n",
    })
    items = r.context(Query("use.go", 3, end_line=3), k=20, join=False)
    assert "Desc.Messages" in used_symbols(items), [(i.symbol, i.why) for i in items]


def test_a_function_value_s_result_and_a_parenthesized_literal_lead_to_members(tmp_path: Path) -> None:
    """`var next func() (Value, error)` then `v, err := next()`: v is a Value; `w := (Maker{}).Make()`: w is what
    Make returns. A selection uses both types' methods."""
    _, r = module_repo(tmp_path, {
        "types.go": "package m\n\n// Value is a value.\ntype Value struct{}\n\n"
                    "// IsValid reports whether it is set.\nfunc (v Value) IsValid() bool { return true }\n\n"
                    "// Result is made.\ntype Result struct{}\n\n"
                    "// Done reports whether it is done.\nfunc (r *Result) Done() bool { return true }\n\n"
                    "// Maker makes a Result.\ntype Maker struct{}\n\n"
                    "// Make makes one.\nfunc (Maker) Make() *Result { return &Result{} }\n",
        "use.go": "package m\n\nfunc run() bool {\n\tvar next func() (Value, error)\n\tnext = func() (Value, error) "
                  "{ return Value{}, nil }\n\tv, _ := next()\n\tw := (Maker{}).Make()\n"
                  "\treturn v.IsValid() && w.Done()\n}\n",
    })
    items = r.context(Query("use.go", 3, end_line=9), k=20, join=False)
    assert {"Value.IsValid", "Result.Done"} <= used_symbols(items), [(i.symbol, i.why) for i in items]


def test_build_constraints_as_the_go_command_reads_them() -> None:
    from ragls.indexer.lang.gobuild import constraints_allow, go_minor, name_allows, satisfied

    tag = satisfied("linux", "amd64", go_minor("module m\n\ngo 1.19\n"))
    assert constraints_allow("//go:build amd64 && !noasm && gc\n\npackage m\n", tag)
    assert not constraints_allow("// Copyright\n\n//go:build !amd64 || appengine\n\npackage m\n", tag)
    assert constraints_allow("//go:build !go1.21\npackage m\n", tag)
    assert not constraints_allow("//go:build go1.21\npackage m\n", tag)
    assert constraints_allow("//go:build (darwin && cgo) || unix\npackage m\n", tag)
    assert not constraints_allow("// +build !appengine,gc\n// +build noasm\n\npackage m\n", tag)
    assert constraints_allow("package m\n\n//go:build ignore\n", tag)  # after the package clause: no constraint
    assert not constraints_allow("//go:build ignore\n\npackage main\n", tag)
    assert [name_allows(f"p/{n}", "linux", "amd64") for n in (
        "a_amd64.go", "a_arm64.go", "a_linux.go", "a_windows_amd64.go", "a_generic.go", "a_linux_amd64_test.go")] == [
        True, False, True, False, True, True]


def test_of_two_files_declaring_a_name_the_default_build_s_is_used(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """`matchLen` is declared for amd64 in one file and for every other platform in another: on linux/amd64 a use
    is the amd64 file's, and the other file's declaration is not part of the package."""
    monkeypatch.setenv("GOOS", "linux")
    monkeypatch.setenv("GOARCH", "amd64")
    _, r = module_repo(tmp_path, {
        "match_amd64.go": "//go:build amd64 && !noasm\n\npackage m\n\n// matchLen in assembly.\n"
                          "func matchLen(a, b []byte) int\n",
        "match_generic.go": "//go:build !amd64 || noasm\n\npackage m\n\n// matchLen in Go.\n"
                            "func matchLen(a, b []byte) int {\n\treturn 0\n}\n",
        "use.go": "package m\n\nfunc run(a, b []byte) int {\n\treturn matchLen(a, b)\n}\n",
    })
    items = r.context(Query("use.go", 3, end_line=5), k=20, join=False)
    assert [i.path for i in items if i.symbol == "matchLen" and "used=1.10" in i.why] == ["match_amd64.go"], [
        (i.path, i.symbol, i.why) for i in items]


def test_a_local_hides_a_package_level_name_of_its_spelling(tmp_path: Path) -> None:
    """`debug := ...` and a function's own `const (tableBits = 16)` hide the package's `debug` and `tableBits`; a
    parameter `r *reader` still leads to its type's methods, and a package name used before any local is the
    package's."""
    _, r = module_repo(tmp_path, {
        "consts.go": "package m\n\nconst debug = false\n\nconst tableBits = 15\n\nconst maxSize = 10\n\n"
                     "// reader reads.\ntype reader struct{}\n\n"
                     "// next reads on.\nfunc (r *reader) next() int { return 0 }\n",
        "use.go": "package m\n\nfunc run(r *reader, verbose bool) int {\n\tn := maxSize\n\tconst (\n"
                  "\t\ttableBits = 16\n\t)\n\tdebug := verbose\n\tif debug {\n\t\tn += tableBits\n\t}\n"
                  "\treturn n + r.next()\n}\n",
    })
    items = r.context(Query("use.go", 3, end_line=13), k=20, join=False)
    used = used_symbols(items)
    assert {"maxSize", "reader.next"} <= used and not {"debug", "tableBits"} & used, [(i.symbol, i.why) for i in items]


def test_a_type_assertion_at_the_cursor_has_the_asserted_type(shop: Retriever) -> None:
    """`v.(*cart.Cart).` in a function given an `any`: Cart's methods first (Go's type assertion)."""
    source = ("package main\n\nimport \"example.com/shop/cart\"\n\nfunc count(v any) int {\n"
              "\treturn v.(*cart.Cart).")
    items = shop.context(Query("cmd/shop/count.go", 6, len("\treturn v.(*cart.Cart).")), source=source, join=False)
    assert items[0].symbol in ("Cart.Add", "Cart.Sum", "Cart.Count") and "receiver=1.00" in items[0].why, \
        [(i.symbol, i.why) for i in items[:3]]
