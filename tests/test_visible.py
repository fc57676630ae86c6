"""Reading the visible code is bounded by line windows and linear in the line: no request freezes on a long line."""
from __future__ import annotations

import random
import re

from ragls.indexer.visible import LINE_WINDOW, read, receiver

# the anchored expression ragls used before: the same answers, but quadratic in the line's length
_OLD = re.compile(r"([A-Za-z_$][\w$]*(?:[ \t]*(?:\.|::|->)[ \t]*[A-Za-z_$][\w$]*)*)[ \t]*(?:\.|::|->)[ \t]*$")


def _old_receiver(line: str) -> list[str] | None:
    m = _OLD.search(line)
    return re.split(r"[ \t]*(?:\.|::|->)[ \t]*", m.group(1)) if m else None


def test_receiver_agrees_with_the_regular_expression():
    rng = random.Random(3)
    alphabet = list("ab1_$ \t.:->xé") + ["self.", "::", "->"]  # calls: test_a_call_s_value_continues_a_chain
    for _ in range(50_000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert receiver(line) == _old_receiver(line), repr(line)


def test_a_megabyte_line_is_read_through_a_window():
    line = "ICON = \"" + "A" * 1_000_000 + "\" + obj.attr."
    v = read("big.py", "import os\n" + line + "\nprint(1)\n", 2, len(line), None)
    assert v.receiver == ["obj", "attr"]
    assert all(len(ln) <= LINE_WINDOW for ln in v.lines)
    assert v.lines[-1].endswith("obj.attr.") and [r.module for r in v.imports] == ["os"]
    sel = read("big.py", "import os\n" + line + "\nprint(1)\n", 2, 0, 3)
    assert all(len(ln) <= LINE_WINDOW for ln in sel.lines) and sel.lines[-1] == "print(1)"


def test_a_large_file_is_read_through_its_head_and_the_code_before_the_cursor():
    head = "import os\nfrom pkg.mod import helper\n"
    body = "".join(f"value_{i} = helper({i})\n" for i in range(20_000))  # ~450 KB
    source = head + body + "result = os.path.\n"
    last = source.count("\n")
    v = read("big.py", source, last, len("result = os.path."), None)
    assert len(v.lines) == last  # line numbers are kept
    assert sum(map(len, v.lines)) < 100_000  # but the middle of the file is not read
    assert [r.module for r in v.imports] == ["os", "pkg.mod"] and v.receiver == ["os", "path"]
    assert any(u[1] == last - 1 and u[0] == ("helper",) for u in v.uses)
    sel = read("big.py", source, 5_000, 0, 5_100)  # a selection in the middle sees its own lines
    assert any(u[1] == 5_050 for u in sel.uses)


def _parses(text: str) -> bool:
    from ragls.indexer.languages import grammar

    return not grammar("python").parser().parse(text.encode()).root_node.has_error


def test_a_deep_cursor_reads_a_window_that_parses() -> None:
    """Deep in a long class whose module docstring outgrows the head, the window still parses as code: the head
    closes its string (the imports after it read), the tail starts on a whole block."""
    doc = '"""Module.\n\n' + "".join(f"Line {i} of a long module docstring.\n" for i in range(1_500)) + '"""\n'
    methods = "".join(f"    def m{i}(self, x: Helper) -> int:\n        \"\"\"Method {i}.\"\"\"\n"
                      f"        if x:\n            return x.run({i})\n        return {i}\n\n" for i in range(3_000))
    source = (doc + "import os\nfrom pkg.mod import Helper\n\n\nclass Big:\n" + methods
              + "    def last(self, h: Helper):\n")
    source += "        return h.\n"
    last = source.count("\n")
    v = read("big.py", source, last, len("        return h."), None)
    assert len(v.lines) == last and sum(map(len, v.lines)) < 120_000
    assert _parses("\n".join(v.lines[:-1]) + "\n        pass\n")  # the cursor's own line is unfinished
    assert [r.module for r in v.imports] == ["os", "pkg.mod"] and v.receiver == ["h"]
    assert v.types.get("h") == ["Helper"]
    assert any(u[1] == last - 3 for u in v.uses)  # the code right before the cursor is read


def _tree(language: str, text: str):
    from ragls.indexer.languages import grammar

    return grammar(language).parser().parse(text.encode()).root_node


_STATEMENTS = "".join(f"        const v{i} = compute(x{i}, other.values[{i}]) * 2;\n" for i in range(900))


def test_a_deep_cursor_in_a_language_of_braces_reads_whole_blocks() -> None:
    """Where the tail would start inside a method's parameter list of a long class, the window reads from that
    method's first line, under the class's line (kept where it is): the parser reads the members, not one error
    over the whole window, and the parameters of the function around the cursor have their declared types, however
    far above the tail its signature is."""
    source = ("import { Repository } from './repo'\n\n/** A service. */\nexport class Service {\n"
              "    private name = 'x'\n\n    setup(): void {\n" + _STATEMENTS + "    }\n\n    async first(\n" + "".join(
                  f"        p{i}: number,\n" for i in range(1_000)) + "    ): Promise<void> {\n" + _STATEMENTS
              + "    }\n\n    async run(\n        repo: Repository,\n        limit: number,\n    ): Promise<void> {\n"
              + _STATEMENTS + "        repo.\n")
    lines = source.split("\n")
    last = len(lines) - 1
    v = read("a.ts", source, last, len("        repo."), None)
    assert v.gap is not None and len(v.lines) == last and sum(map(len, v.lines)) < 60_000
    assert v.lines[3] == "export class Service {" and v.lines[2] == "/** A service. */"  # where they are
    assert v.types.get("repo") == ["Repository"] and v.types.get("limit") == ["number"]
    assert [r.module for r in v.imports] == ["./repo"] and v.receiver == ["repo"]
    closed = "\n".join(v.lines[:-1]) + "\n    }\n}\n"  # the cursor's line unfinished, the blocks left open
    assert not _tree("typescript", closed).has_error  # whole statements: no error to recover from

    # a cursor deep in a long list: the line that opens it is kept where it is, whatever its distance
    in_list = "\n".join(lines[:lines.index("    async first(") + 900])
    w = read("a.ts", in_list, in_list.count("\n") + 1, 0, None)
    assert w.gap is not None and w.lines[w.gap[1]].startswith("        p")
    assert w.lines[lines.index("    async first(")] == "    async first(" and w.lines[3] == "export class Service {"
    closed = "\n".join(w.lines[:-1]) + "\n    ): void {}\n}\n"
    assert not _tree("typescript", closed).has_error


def test_a_deep_cursor_in_c_and_go_reads_its_function_s_header() -> None:
    """A tail inside a long C or Go function keeps the function's header (a K&R `{` on a line of its own, a Go
    receiver): the body parses as statements, and Go's parameters have their types."""
    body = "".join(f"    total += table[{i}] * weight({i});\n" for i in range(1_200))
    before = "static int\nother(void)\n{\n    int total = 0;\n" + body + "    return total;\n}\n\n"
    c = ("#include \"table.h\"\n\n" + before + "static int\nsum(struct table *t)\n{\n    int total = 0;\n" + body
         + "    t->")
    v = read("sum.c", c, c.count("\n") + 1, len("    t->"), None)
    at = c.split("\n").index("sum(struct table *t)")
    assert v.gap is not None and v.gap[0] < at and [v.lines[i] for i in range(at - 1, at + 2)] == [
        "static int", "sum(struct table *t)", "{"]
    assert v.receiver == ["t"] and not _tree("c", "\n".join(v.lines[:-1]) + "\n}\n").has_error
    assert [r.module for r in v.imports] == ["table.h"]
    go = ("package srv\n\nimport \"net/http\"\n\nfunc other() int {\n\ttotal := 0\n" + body.replace("    ", "\t")
          + "\treturn total\n}\n\nfunc (s *Server) handle(w http.ResponseWriter) {\n" + body.replace("    ", "\t")
          + "\tw.")
    g = read("srv.go", go, go.count("\n") + 1, len("\tw."), None)
    at = go.split("\n").index("func (s *Server) handle(w http.ResponseWriter) {")
    assert g.gap is not None and g.gap[0] < at and g.lines[at] == "func (s *Server) handle(w http.ResponseWriter) {"
    assert g.types.get("w") == ["http", "ResponseWriter"] and g.types.get("s") == ["Server"]


def test_declared_types_of_names():
    from ragls.indexer.visible import type_chain

    assert type_chain("Optional[pkg.Baz]") == ["pkg", "Baz"] and type_chain("Foo | None") == ["Foo"]
    assert type_chain("*Server") == ["Server"] and type_chain("Readonly<Config>") == ["Config"]
    assert type_chain("Connection.@Nullable Response") == ["Connection", "Response"]  # Java type-use annotations
    assert type_chain("[]Foo") is None and type_chain("list[Foo]") is None and type_chain("A | B") is None  # containers
    # C and C++: qualifiers and the keywords of elaborated types are no part of the name (a field `struct command
    # *cmd` is stored as `struct command`)
    assert type_chain("const Slice&") == ["Slice"] and type_chain("const std::string&") == ["std", "string"]
    assert type_chain("struct command") == ["command"] and type_chain("const struct redisServer *") == ["redisServer"]
    assert type_chain("enum Kind") == ["Kind"] and type_chain("constant") == ["constant"]
    # a name, or a dotted one, is read without the general reading's steps, and read the same
    from ragls.indexer.lang.types import _written_type_chain

    for name in ["Foo", "pkg.Foo", "$store.Item", "None", "null", "func", "funcs.Handler", "chan", "chan.T",
                 "channel", "T", "a.b.c"]:
        assert type_chain(name) == _written_type_chain(name), name
    src = "def f(cart: Cart, other: 'Widget' = None):\n    x = mod.Thing()\n    self.y = Gadget(1)\n    z = make()\n"
    v = read("a.py", src, 5, 0, None)
    assert v.types == {"cart": ["Cart"], "other": ["Widget"], "x": ["mod", "Thing"], "y": ["Gadget"], "z": ["make"]}


def test_value_chains_and_container_elements() -> None:
    """A value is reached through calls and indexing (`a.f().g()`, `xs[i].y`); a container type has an element type;
    Python and TypeScript loops over an annotated container give its elements."""
    from ragls.indexer.lang.types import elem_chain, value_chain

    assert value_chain("m.Descriptor().Fields()") == ["m", "Descriptor", "Fields"]
    assert value_chain("xs[i].y") == ["xs", "[]", "y"] and value_chain("&pkg.T{A: f(\")\")}") == ["pkg", "T"]
    assert value_chain("v.(*desc.T)") == ["desc", "T"] and value_chain("a?.b\n  .c()") == ["a", "b", "c"]
    assert value_chain("a + b.c") == ["a"] and value_chain("<-ch") is None and value_chain("-x") is None
    assert elem_chain("[]*pkg.T") == ["pkg", "T"] and elem_chain("map[string][4]V") is None
    assert elem_chain("map[K]*V") == ["V"] and elem_chain("<-chan E") == ["E"] and elem_chain("...T") == ["T"]
    assert elem_chain("list[Foo]") == ["Foo"] and elem_chain("Sequence[pkg.Foo]") == ["pkg", "Foo"]
    assert elem_chain("dict[str, Foo]") == ["Foo"] and elem_chain("Foo[]") == ["Foo"]
    assert elem_chain("List<Foo>") == ["Foo"] and elem_chain("Foo") is None and elem_chain("Optional[Foo]") is None
    py = ("def f(self, xs: list[pkg.Bar]):\n    for x in xs:\n        pass\n    for y in self.items:\n"
          "        first = xs[0]\n")
    assert read("a.py", py, 6, 0, None).types == {
        "xs": ["[]", "pkg", "Bar"], "x": ["xs", "[]"], "y": ["self", "items", "[]"], "first": ["xs", "[]"]}
    ts_src = "function f(xs: Foo[]) {\n  for (const x of xs) {}\n  for (const k in xs) {}\n  const y = xs[0];\n}\n"
    assert read("a.ts", ts_src, 6, 0, None).types == {"xs": ["[]", "Foo"], "x": ["xs", "[]"], "y": ["xs", "[]"]}


def test_a_called_chain_knows_its_argument_count() -> None:
    """Where overloads are picked by arity (Java): each use called right there carries its number of arguments
    (commas in nested calls, arrays and strings do not count), over lines too; a call still open has none. Other
    languages do not count them."""
    from ragls.indexer.visible import read

    source = 'a.f(x, g(1, 2), new int[] {3, 4}, "p, q");\nh();\nk ( y,\n  w );\nm.n(z,\n'
    v = read("M.java", source, 6, 0, None)
    args = {".".join(u[0]): u[2] for u in v.uses}
    assert args == {"a.f": 4, "g": 2, "x": None, "new": None, "int": None, "h": 0, "k": 2, "y": None, "w": None,
                    "m.n": None, "z": None}
    assert {u[2] for u in read("m.py", "f(1, 2)\n", 2, 0, None).uses} == {None}


def test_optional_and_non_null_chains_and_a_chain_continued_on_the_next_line() -> None:
    assert receiver("  client?.") == ["client"]
    assert receiver("  a.b!.") == ["a", "b"]
    v = read("m.ts", "const q = client?.watchQuery(opts);\nthis.manager\n  .", 3, 3, None)
    assert ("client", "watchQuery") in [u[0] for u in v.uses]
    assert v.receiver == ["this", "manager"]
    # over several lines, each continuing the chain (a builder): the whole chain
    source = "Connection c = Jsoup.connect(url)\n    .data(formData())\n    .timeout(3)\n    ."
    assert read("M.java", source, 4, 5, None).receiver == ["Jsoup", "connect", "data", "timeout"]


def test_a_call_s_value_continues_a_chain() -> None:
    """`a.f(x).g`: the value of the call leads on (its declared result type has `g`), at the cursor and in uses;
    the names inside the arguments are uses of their own."""
    assert receiver("  return catalog.find(title).") == ["catalog", "find"]
    assert receiver("m.Desc.Fields().Get(i).") == ["m", "Desc", "Fields", "Get"]
    assert receiver("f(g(x)) .") == ["f"]
    assert receiver("a).") is None
    # a value in parentheses: the type it is asserted or cast to (Go's `v.(*T)` too), else its own chain; a call's
    # arguments (`f(x as Bar)`, `(f)(x)`, `fs[0](x)`, `f<T>(x)`) are the call's value
    assert receiver("  (e as CustomEvent).") == ["CustomEvent"] and receiver("  f(x as Bar).") == ["f"]
    assert receiver("  return (this.c as ns.Cache<T>).data.") == ["ns", "Cache", "data"]
    assert receiver("  ((Foo) obj).") == ["Foo"] and receiver("  ((struct foo *) p)->") == ["foo"]
    assert receiver("\tn := v.(*pkg.Node).") == ["pkg", "Node"] and receiver("(x).") == ["x"]
    assert receiver("  (await this.client.get(id)).") == ["this", "client", "get"]
    assert receiver("  (new Store()).") == ["Store"] and receiver("  (await loadAll())[0].") == ["loadAll", "[]"]
    for call in ("  (a)(b).", "  fs[0](x).", "  f<T>(x)."):
        assert receiver(call) is None, call
    assert receiver("(" * 600 + "x" + ")" * 600 + ".") is None  # read PARENTHESES deep, no deeper
    v = read("m.go", "n := m.Desc.Fields().Get(len(xs)).Name()\n", 2, 0, None)
    chains = [list(u[0]) for u in v.uses]
    assert ["m", "Desc", "Fields", "Get", "Name"] in chains and ["len"] in chains
    assert ["xs"] in chains and ["m", "Desc", "Fields"] in chains
    # a chain continued on the next line (`fetch(url)\n  .then(...)`, `client\n  .mutation(...)`) is one chain
    v = read("m.ts", "const p = fetch(url)\n  .then(parse)\n  .catch(fail);\nreturn client\n  .mutation(x);\n",
             6, 0, None)
    chains = [u[0] for u in v.uses]
    assert ("fetch", "then", "catch") in chains and ("client", "mutation") in chains
    assert ("then",) not in chains and ("mutation",) not in chains


def test_the_lines_before_the_tail_count_the_names_they_use() -> None:
    """Between the head and the tail, the lines nearest the tail are read for their name chains only: each counts
    before the function around the cursor, or within it when that function starts there; strings and comments
    name nothing."""
    from ragls.indexer.visible import FAR_CHARS
    from ragls.indexer.window import HEAD_CHARS, TAIL_CHARS

    filler = "".join(f"value_{i} = {i}\n" for i in range((HEAD_CHARS + TAIL_CHARS) // 10))
    early = "".join(f"early_{i} = far.helper({i})  # not_a_use\n" for i in range(50))
    body = "".join(f"    step_{i} = inner.tool('no_use', {i})\n" for i in range(TAIL_CHARS // 20))
    source = ("import far\n" + early + filler + "def long_function():\n" + body + "    result = inner.")
    last = source.count("\n") + 1
    v = read("big.py", source, last, len("    result = inner."), None)
    assert v.gap is not None and v.gap[0] > 1 and v.gap[1] < last
    start = source.split("\n").index("def long_function():") + 1
    assert v.function_start == start  # found in the unread lines too
    uses = [(u[0], u[1]) for u in v.uses] + [(c, line) for c, line, n in v.far for _ in range(n)]
    before = [line for chain, line in uses if chain == ("far", "helper")]
    assert len(before) == 50 and all(line < start for line in before)
    within = [line for chain, line in uses if chain == ("inner", "tool")]
    assert within and all(line >= start for line in within)
    assert not any("not_a_use" in chain or "no_use" in chain for chain, _ in uses)
    assert FAR_CHARS > 0


def test_the_names_of_the_lines_before_a_short_tail_never_count_as_near_the_cursor() -> None:
    """A tail that starts at the function around the cursor (a new block at the least indentation) has the unread
    lines right above it: their chains stand at the first line of their part, not the last, so that none reads as
    used within the lines nearest the cursor."""
    from ragls.indexer.retrieve import WINDOW_LINES
    from ragls.indexer.window import HEAD_CHARS, TAIL_CHARS

    body = "".join(f"    v_{i} = helper.make({i})\n" for i in range((HEAD_CHARS + 2 * TAIL_CHARS) // 20))
    source = "import helper\n\n\ndef big():\n" + body + "\n\ndef work():\n    result = "
    last = source.count("\n") + 1
    v = read("big.py", source, last, len("    result = "), None)
    assert v.gap is not None and v.far and last - v.gap[1] < WINDOW_LINES  # the unread lines end near the cursor
    assert [line for chain, line, _ in v.far if chain == ("helper", "make")] == [v.gap[0]]
    assert all(line <= v.gap[0] + 1 for _, line, _ in v.far)


def test_strings_and_comments_are_blanked_with_their_prefixes():
    """Comments read as blank lines, strings as `0` (prefix and all), f-strings keep their expressions; a word
    that merely ends in a prefix letter is a name. Spans cover the prefix."""
    from ragls.indexer.visible import blanked

    spans: list[tuple[int, int]] = []
    text = 'a = rb"x" + f"{b.c}" + u\'\'\'d\ne\'\'\'  # note\nelf"y" // z\n'
    assert blanked(text, spans) == 'a = 0 + f"{b.c}" + 0\n  \nelf0 \n'
    assert [text[s:e] for s, e in spans] == ['rb"x"', 'f"{b.c}"', "u'''d\ne'''", "# note", '"y"', "// z"]
    assert blanked("x = 'it\\'s' # c", [], 0) == "x = 0 "


def test_a_file_of_few_long_lines_is_read_through_its_window():
    """The tail starts at a multiple of TAIL_QUANTUM lines (reused while the cursor moves), but not when that
    would read far more than TAIL_CHARS: a file of fewer lines than that, of 900 characters each, is not read
    whole."""
    from ragls.indexer.window import TAIL_CHARS, TAIL_QUANTUM

    lines = [f"c_{i} = " + " + ".join(f"x{j}" for j in range(220)) for i in range(TAIL_QUANTUM - 10)]
    assert len(lines) < TAIL_QUANTUM and sum(map(len, lines)) > 4 * TAIL_CHARS
    source = "import os\n" + "\n".join(lines) + "\nresult = os.path."
    last = source.count("\n") + 1
    v = read("long.py", source, last, len("result = os.path."), None)
    assert v.gap is not None and sum(map(len, v.lines)) < 2 * TAIL_CHARS + 5_000
    assert v.receiver == ["os", "path"] and [r.module for r in v.imports] == ["os"]


def test_typing_in_the_tail_reads_the_lines_before_it_once(monkeypatch):
    """Deep in a large file, a second query (a character typed at the cursor) finds the chains of the lines before
    the tail as the first read them, without reading them again."""
    from ragls.indexer import visible
    from ragls.indexer.visible import Scans
    from ragls.indexer.window import HEAD_CHARS, TAIL_CHARS

    filler = "".join(f"value_{i} = helper.make({i})\n" for i in range((HEAD_CHARS + 2 * TAIL_CHARS) // 20))
    source = "import helper\n" + filler + "def work():\n    result = helper."
    last = source.count("\n") + 1
    scans = Scans()
    first = read("big.py", source, last, len("    result = helper."), None, scans)
    assert first.gap is not None and first.far
    reads: list[int] = []
    blanked = visible.blanked
    monkeypatch.setattr(visible, "blanked", lambda text, *a, **k: reads.append(len(text)) or blanked(text, *a, **k))
    typed = source + "m"
    second = read("big.py", typed, last, len("    result = helper.m"), None, scans)
    assert second.far == first.far
    assert all(n < TAIL_CHARS for n in reads)  # only the tail's changed line was read again
    fresh = read("big.py", typed, last, len("    result = helper.m"), None)
    assert fresh.far == second.far
    assert [u[:2] for u in fresh.uses] == [u[:2] for u in second.uses]


def test_a_header_is_read_for_declared_types_only_when_its_code_is_cpp() -> None:
    # a `.h` is parsed as C++; a C header's declared types lead only to fields, so they are not read (the types query
    # over a large C header cost a deep query in it several milliseconds); a header with C++ in its code is read
    c_header = "/* a class of keys; the operator's template */\nstruct db;\nint f(client *c) {\n    client *d = c;\n"
    assert read("x.h", c_header, 4, len(c_header.splitlines()[-1]), None).types == {}
    cpp_header = "namespace kv {\nclass Batch;\nint f(Batch *b) {\n    Batch *d = b;\n"
    types = read("y.h", cpp_header, 4, len(cpp_header.splitlines()[-1]), None).types
    assert types.get("d") == ["Batch"] and types.get("b") == ["Batch"]


def test_random_texts_of_brace_languages_keep_their_lines() -> None:
    """Whatever the text (brackets, quotes and comments unbalanced, indentation at random), a cursor anywhere reads a
    window of the same line numbers whose lines are the file's own or blank: the head, the tail and the headers kept
    between them are real lines where they are."""
    rng = random.Random(5)
    pieces = ["{", "}", "(", ")", "[", "]", "/*", "*/", "//", '"', "'", "`", "#if", "fn f(", ") {", "class A {",
              "x = y;", "foo(bar,", "baz)", "} else {", "if (a) {", "=>", "\\", "\n", "\n", "\n", "é", "\r"]
    for _ in range(300):
        text = "".join(rng.choice(pieces) + " " * rng.randint(0, 3) for _ in range(rng.randint(200, 3000)))
        text = "\n".join(" " * rng.randint(0, 24) + line for line in text.split("\n"))
        lines = text.split("\n")
        line = rng.randint(1, len(lines))
        path = rng.choice(["a.ts", "a.go", "a.c", "a.rs", "a.java", "a.cpp"])
        v = read(path, text, line, rng.randint(0, len(lines[line - 1])), None)
        assert len(v.lines) == line
        assert all(shown in ("", lines[i][:LINE_WINDOW]) for i, shown in enumerate(v.lines[:-1])), path


def test_block_comments_are_blanked_in_languages_of_braces_only() -> None:
    """A C, Java or TypeScript block comment reads as blank lines (its words are no names the code uses); in
    Python `/*` means nothing. A `/*` right after `\\` or `/` (a regular expression's `/\\/*$/`) starts none."""
    from ragls.indexer.visible import blanked

    text = "a = f(x); /* see g(y)\n and h */ b = k;\nr = s.replace(/\\/*$/, ''); t = u; /* w */\n"
    spans: list[tuple[int, int]] = []
    assert blanked(text, spans, language="c") == "a = f(x); \n b = k;\nr = s.replace(/\\/*$/, 0); t = u; \n"
    assert [text[s:e] for s, e in spans] == ["/* see g(y)\n and h */", "''", "/* w */"]
    assert blanked("a = b /* c */\n", language="python") == "a = b /* c */\n"
    chains = [u[0] for u in read("x.c", "int f() {\n  /* old(x) */ g(y);\n  ", 3, 2, None).uses]
    assert ("g",) in chains and ("old",) not in chains and ("x",) not in chains


def test_incremental_reads_of_a_c_file_match_fresh_reads_as_comments_open_and_close() -> None:
    """The scan cache re-reads a C file from where its text changed, and from further up where a `/*` that nothing
    closed (or a block comment the change cuts) may now read differently: the same name chains as a fresh read
    while `/*`, `*/` and code are typed anywhere."""
    text = "".join(f"int f{i}(struct s *p) {{\n    /* step {i} */\n    return g{i}(p->v, h(p));\n}}\n"
                   for i in range(40))
    cached_reads_match_fresh_reads("a.c", text, ["/*", "*/", "x", "k(q);", "// z", "\n"], 0.5, seed=11)


def cached_reads_match_fresh_reads(path: str, text: str, typed: list[str], edits: float, seed: int) -> None:
    """300 queries at random places, `typed` inserted at a random place before a share `edits` of them: the scan
    cache's reads (from where the text changed) give the name chains a fresh read does."""
    from ragls.indexer.visible import Scans

    rng = random.Random(seed)
    scans = Scans()
    for _ in range(300):
        lines = text.split("\n")
        if rng.random() < edits:
            ln = rng.randrange(len(lines))
            col = rng.randrange(len(lines[ln]) + 1)
            lines[ln] = lines[ln][:col] + rng.choice(typed) + lines[ln][col:]
            text = "\n".join(lines)
            lines = text.split("\n")
        ln = rng.randrange(1, len(lines) + 1)
        col = rng.randrange(len(lines[ln - 1]) + 1)
        cached = read(path, text, ln, col, None, scans)
        fresh = read(path, text, ln, col, None)
        assert [u[:2] for u in cached.uses] == [u[:2] for u in fresh.uses]


def test_incremental_reads_match_fresh_reads_as_chains_go_on_over_lines() -> None:
    """A chain that goes on over a line break (`client\n  .mutation(x)`) is re-read whole when the change is on a
    line it goes on to: the scan cache gives the same name chains as a fresh read while `.`, names and line breaks
    are typed anywhere."""
    text = "".join(f"function f{i}(client: C) {{\n  return client\n    .mutation(x{i})\n    .then(done);\n}}\n"
                   for i in range(30))
    cached_reads_match_fresh_reads("a.ts", text, [".", "\n", "\n  .", "k", "?.", ";"], 0.6, seed=5)


def test_a_c_file_s_includes_are_read_off_its_lines_and_never_from_a_comment() -> None:
    """C's includes are preprocessor lines: read without a parse (the C preprocessor includes a file wherever the
    line is, in an initializer's braces too: the X-macro idiom), never from inside a block comment or a string."""
    source = ('#include "a.h"\n  # include "b/c.h"\n/* #include "old.h"\n */\n#include <stdio.h>\n'
              'static const int table[] = {\n#include "list.h"\n};\n'
              'const char *s = "#include \\"no.h\\"";\nint f() {\n  ')
    lines = source.split("\n")
    v = read("x.c", source, len(lines), len(lines[-1]), None)
    assert [(r.module, r.line) for r in v.imports] == [("a.h", 1), ("b/c.h", 2), ("list.h", 7)]
    header = read("y.h", source, len(lines), len(lines[-1]), None)  # a header whose code has nothing of C++
    assert [r.module for r in header.imports] == ["a.h", "b/c.h", "list.h"]


def test_a_cursor_in_an_unclosed_docstring_or_comment_parses_the_text_with_it_closed() -> None:
    """Writing documentation leaves a docstring (or a block comment) open at the cursor: the parser would read it to
    the end as an error, at several times the cost of the parse. It parses the text with the string closed after
    the cursor: the same imports and declared types, a tree without errors."""
    from ragls.indexer.visible import Scans, _rescan

    py = 'import os\nfrom pkg import tools\n\ndef f(x: tools.Kit) -> None:\n    """Doc.\n\n    >>> f(os.'
    scan = _rescan(None, py, "python")
    assert scan.data.endswith(b'os."""') and scan.tree is not None and not scan.tree.root_node.has_error
    closed = _rescan(None, py + '"""\n', "python")
    assert scan.imports == closed.imports and [(t.name, t.chain) for t in scan.typed] == [
        (t.name, t.chain) for t in closed.typed]
    ts_text = "import { a } from './a';\n\n/** The sum of\n * {@link a"
    ts_scan = _rescan(None, ts_text, "typescript")
    assert ts_scan.data.endswith(b"a*/") and not ts_scan.tree.root_node.has_error
    assert [r.module for _, r in ts_scan.imports] == ["./a"]
    scans = Scans()  # typing on in the docstring, then closing it: incremental scans as fresh ones
    for text in (py, py + "path", py + 'path"""\n', py + 'path"""\n    return x\n'):
        lines = text.split("\n")
        cached = read("m.py", text, len(lines), len(lines[-1]), None, scans)
        fresh = read("m.py", text, len(lines), len(lines[-1]), None)
        assert cached.imports == fresh.imports and cached.types == fresh.types


def test_a_python_head_ends_between_top_level_statements() -> None:
    """A deep cursor's head (the file's first HEAD_CHARS characters) is cut between top-level statements: a
    statement its end would cut (`TABLE = (` and its items) is read whole or not at all, never left open for the
    parser to read the gap's blank lines as its continuation."""
    from ragls.indexer.window import HEAD_CHARS

    items = "".join(f"    'name_{i}': {i},\n" for i in range(HEAD_CHARS // 20))
    filler = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(2000))
    source = "import os\n\nTABLE = {\n" + items + "}\n\n" + filler + "def last():\n    return os.path."
    lines = source.split("\n")
    v = read("t.py", source, len(lines), len(lines[-1]), None)
    assert v.gap is not None
    head = "\n".join(v.lines[:v.gap[0] - 1])
    assert head.count("{") == head.count("}") and [r.module for r in v.imports] == ["os"]


def test_reach_counts_the_lines_that_fit_as_a_line_by_line_count_does():
    """`reach` sums blocks of lines at a time: the count is the one taking them one by one, in either order, for
    budgets ending inside a block, on its edge and past the lines."""
    from ragls.indexer.window import REACH_BLOCK, reach

    def one_by_one(lines: list[str], order: range, chars: int) -> int:
        n = 0
        for i in order:
            chars -= len(lines[i]) + 1
            if chars < 0:
                break
            n += 1
        return n

    rnd = random.Random(7)
    for _ in range(300):
        lines = ["x" * rnd.randint(0, 40) for _ in range(rnd.randint(0, 3 * REACH_BLOCK))]
        n = len(lines)
        a, b = sorted((rnd.randint(0, n), rnd.randint(0, n)))
        edge = sum(map(len, lines[:REACH_BLOCK])) + min(n, REACH_BLOCK)  # the first block exactly
        for order in (range(n), range(n - 1, -1, -1), range(a, b), range(b - 1, a - 1, -1)):
            for chars in (0, rnd.randint(0, 30 * n + 10), edge, edge - 1, 10**9):
                assert reach(lines, order, chars) == one_by_one(lines, order, chars)
