"""Next edit's link to tests: the test files importing an edited file, and where a new test of the change goes."""
from __future__ import annotations

import re

from ragls.indexer.hunks import parse
from ragls.indexer.nextedit import FEATURES, Corpus, candidates, locate, scan
from ragls.indexer.nextedit_tests import (
    Modules,
    code_under_test,
    ends,
    linked_tests,
    added_imports,
    missing_imports,
    places,
    scored_tests,
)

RETRY = "export function retry(limit: number) {\n\treturn limit;\n}\n"
INDEX = "import {retry} from './core/retry.js';\nexport default {retry};\n"
HOOKS_TEST = ("import ky from '../source/index.js';\n\ntest('hooks run', async t => {\n\tt.pass();\n});\n\n"
              "test('retry limit is kept', async t => {\n\tconst limit = ky.retry(2);\n\tt.is(limit, 2);\n\tt.pass();\n"
              "\tt.pass();\n\tt.pass();\n});\n\n"
              "test('headers', async t => {\n\tt.pass();\n});\n")
OTHER_TEST = "import {other} from '../source/other.js';\n\ntest('other', t => {\n\tt.is(other(), 1);\n});\n"


def test_python_and_typescript_imports_resolve_to_the_repository_files():
    paths = ["src/pkg/__init__.py", "src/pkg/routing.py", "src/pkg/util.py", "tests/test_routing.py",
             "source/index.ts", "source/core/retry.ts", "test/hooks.ts", "index.d.ts", "index.test-d.ts"]
    m = Modules(paths)
    assert m.imports("tests/test_routing.py", ["from pkg.routing import Map", "import pkg"]) == {
        "src/pkg/routing.py", "src/pkg/__init__.py"}
    assert m.imports("src/pkg/__init__.py", ["from .routing import Map", "from . import util"]) == {
        "src/pkg/routing.py", "src/pkg/util.py"}
    assert m.imports("test/hooks.ts", ["import ky from '../source/index.js';"]) == {"source/index.ts"}
    assert m.imports("source/index.ts", ["export {retry} from './core/retry.js';"]) == {"source/core/retry.ts"}
    assert m.imports("index.test-d.ts", ["import ky from '.';"]) == {"index.d.ts"}


def test_a_test_file_imports_an_edited_file_through_its_package_entry():
    files = {"source/core/retry.ts": RETRY, "source/index.ts": INDEX, "source/other.ts": "export const other = 1;\n",
             "test/hooks.ts": HOOKS_TEST, "test/other.ts": OTHER_TEST}
    assert linked_tests({"source/core/retry.ts"}, sorted(files), lambda p: files[p].split("\n")) == {"test/hooks.ts"}
    assert linked_tests({"source/other.ts"}, sorted(files), lambda p: files[p].split("\n")) == {"test/other.ts"}


def test_a_new_test_goes_beside_the_test_using_the_edits_names_most():
    s = scan(HOOKS_TEST)
    files = {"test/hooks.ts": (s.lines, s.names)}
    found = places(files, scored_tests(files, {"retry": 2.0, "limit": 1.0}), k=2)
    # after the retry test (the next test's first line), then before it
    assert [(p.path, p.line + 1, p.rank) for p in found] == [("test/hooks.ts", 15, 0), ("test/hooks.ts", 7, 1)]
    assert places(files, scored_tests(files, {"unused": 1.0})) == []


def test_next_edit_offers_the_new_test_place_but_never_first():
    edited = RETRY.replace("(limit: number)", "(limit: number, delay: number)")
    files = {"source/core/retry.ts": edited, "source/index.ts": INDEX, "test/hooks.ts": HOOKS_TEST,
             "test/other.ts": OTHER_TEST}
    history = parse("source/core/retry.ts", "@@ -1,3 +1,3 @@\n-export function retry(limit: number) {\n"
                                            "+export function retry(limit: number, delay: number) {\n"
                                            " \treturn limit;\n }\n")
    found = locate(Corpus(sorted(files), files.get), "source/core/retry.ts", 1, history, k=10)
    assert found[0].path != "test/hooks.ts" or "test of the change" not in found[0].why
    assert any(loc.path == "test/hooks.ts" and loc.why == "where a test of the change goes" for loc in found)
    assert all(loc.path != "test/other.ts" for loc in found)


def test_the_link_reads_at_most_its_limit_entries_first_then_tests_named_like_the_edit():
    files = {"source/core/retry.ts": RETRY, "source/index.ts": INDEX, "test/hooks.ts": HOOKS_TEST,
             "test/retry.ts": HOOKS_TEST, "test/other.ts": OTHER_TEST}
    read: list[str] = []

    def lines_of(p: str) -> list[str]:
        read.append(p)
        return files[p].split("\n")

    assert linked_tests({"source/core/retry.ts"}, sorted(files), lines_of, limit=2) == {"test/retry.ts"}
    assert read == ["source/index.ts", "test/retry.ts"]


def test_a_python_test_starts_at_its_decorators_and_a_source_file_decorators_start_nothing():
    text = ("import pytest\nfrom pkg.retry import retry\n\n\ndef test_plain():\n    assert True\n\n\n"
            "@pytest.mark.parametrize('n', [1, 2])\n@pytest.mark.slow\ndef test_retry(n):\n    assert retry(n)\n"
            "    assert n\n    assert n\n    assert n\n    assert n\n    assert n\n\n\n"
            "def test_other():\n    assert 1\n")
    s = scan(text)
    files = {"tests/test_retry.py": (s.lines, s.names)}
    found = places(files, scored_tests(files, {"retry": 1.0}), k=2)
    assert [p.line + 1 for p in found] == [20, 9]  # after test_retry; before it, at its first decorator
    source = scan("class A:\n    @property\n    def retry(self):\n        return 1\n")
    files = {"pkg/test.py": (source.lines, source.names)}
    assert places(files, scored_tests(files, {"retry": 1.0})) == []


def test_a_test_file_s_end_is_a_place_with_its_best_test_s_weight():
    hooks, other = scan(HOOKS_TEST + "\n\n"), scan(OTHER_TEST)
    files = {"test/hooks.ts": (hooks.lines, hooks.names), "test/other.ts": (other.lines, other.names)}
    found = ends(files, scored_tests(files, {"retry": 2.0, "limit": 1.0}))
    # the last line that is not blank; the weight of the edits' names the file's best test uses
    assert found == {("test/hooks.ts", 16): 3.0, ("test/other.ts", 4): 0.0}


def test_go_java_and_c_tests_are_linked_by_folder_package_and_header_and_their_tests_found():
    paths = ["web/server.go", "web/server_test.go", "web/other_test.go", "api/api_test.go",
             "src/main/java/shop/Pricing.java", "src/test/java/shop/PricingTest.java",
             "src/test/java/report/ReportTest.java", "src/test/java/misc/MiscTest.java",
             "src/table.c", "src/table.h", "tests/test_table.c", "tests/test_misc.c"]
    texts = {"src/test/java/report/ReportTest.java": "package report;\nimport shop.Pricing;\n",
             "tests/test_table.c": '#include "../src/table.h"\n', "tests/test_misc.c": '#include "misc.h"\n'}
    lines = lambda p: texts.get(p, "").split("\n")  # noqa: E731
    assert linked_tests({"web/server.go"}, paths, lines) == {"web/server_test.go", "web/other_test.go"}
    assert linked_tests({"src/main/java/shop/Pricing.java"}, paths, lines) == {
        "src/test/java/shop/PricingTest.java", "src/test/java/report/ReportTest.java"}
    assert linked_tests({"src/table.c"}, paths, lines) == {"tests/test_table.c"}
    go = "func TestServe(t *testing.T) {\n\ts.Serve(\":80\")\n}\n\nfunc TestOther(t *testing.T) {\n}\n"
    java = "class PricingTest {\n    @Test\n    void discounts() {\n        Pricing.discounted(10);\n    }\n}\n"
    for text, first in ((go, 0), (java, 1)):
        split = text.split("\n")
        files = {"t": (split, [frozenset(re.findall(r"\w+", ln)) for ln in split])}
        [(score, _, start, _)] = [t for t in scored_tests(files, {"Serve": 1.0, "discounted": 1.0})]
        assert score == 1.0 and start == first


def test_a_go_change_is_offered_a_place_for_its_test_in_the_folder_s_test_file():
    server = "package web\n\nfunc (s *Server) Serve(addr string, timeout int) error {\n\treturn nil\n}\n"
    tests = ("package web\n\nfunc TestStart(t *testing.T) {\n\tstart()\n}\n\n"
             "func TestServe(t *testing.T) {\n\ts := &Server{}\n\ts.Serve(\":80\")\n}\n")
    files = {"web/server.go": server, "web/server_test.go": tests, "api/api_test.go": tests}
    history = parse("web/server.go", "@@ -2,3 +2,3 @@\n \n-func (s *Server) Serve(addr string) error {\n"
                                     "+func (s *Server) Serve(addr string, timeout int) error {\n \treturn nil\n")
    found = locate(Corpus(sorted(files), files.get), "web/server.go", 3, history, k=10)
    assert any(loc.path == "web/server_test.go" and "test" in loc.why for loc in found), found
    assert all(loc.path != "api/api_test.go" or "test" not in loc.why for loc in found)


HTTP = ("COOKIE_LIMIT = 4093\n\n\ndef quote(value):\n    return value\n\n\n"
        "def dump_cookie(key, value):\n    header = f'{key}={quote(value)}'\n    return header\n")
HTTP_TEST = ("from shop import http\n\n\ndef test_cookie():\n    assert http.dump_cookie('a', 'b') == 'a=b'\n\n\n"
             "def test_cookie_limit():\n    value = http.dump_cookie('a', 'b' * 5000, max_size=512)\n"
             "    assert len(value) <= 512\n")


def test_an_edited_test_points_at_the_definitions_it_uses_in_the_code_it_tests():
    """A test changed first (a new keyword argument): the function it calls, in the module it imports, changes
    next; not a definition of that module the test does not use, nor a file the test does not import."""
    files = {"shop/__init__.py": "", "shop/http.py": HTTP, "shop/other.py": "def dump_cookie():\n    return 1\n",
             "tests/test_http.py": HTTP_TEST}
    assert code_under_test({"tests/test_http.py"}, Modules(files), lambda p: files[p].split("\n")) == {
        "shop/http.py", "shop/__init__.py"}
    history = parse("tests/test_http.py", "@@ -8,2 +8,2 @@\n def test_cookie_limit():\n"
                                          "-    value = http.dump_cookie('a', 'b' * 5000)\n"
                                          "+    value = http.dump_cookie('a', 'b' * 5000, max_size=512)\n")
    corpus = Corpus(sorted(files), files.get)
    found = candidates(corpus, "tests/test_http.py", 9, history)
    tested = {line: row[FEATURES.index("tested")] for line, row in zip(found.lines, found.features, strict=True)}
    assert tested[("shop/http.py", 7)] > 0  # def dump_cookie
    assert tested.get(("shop/http.py", 3), 0.0) == 0 and tested.get(("shop/other.py", 0), 0.0) == 0
    located = locate(corpus, "tests/test_http.py", 9, history, k=5)
    assert any(loc.path == "shop/http.py" and loc.start <= 8 <= loc.end for loc in located)


def test_a_name_added_to_an_import_over_several_lines_points_where_it_is_to_be_written():
    """A formatter writes a long import one name a line, so adding a name adds only its line (`\tSearchInit,`):
    the whole statement is read from the file, and the module that lacks the name is where it goes. A line of names
    that no import opens (an object literal) imports nothing."""
    types_ts = "export type Input = string;\n\nexport interface Options {\n\tretry: number;\n}\n"
    cases = [
        ("src/core.ts", "import type {\n\tInput,\n\tOptions,\n\tSearchInit,\n} from './types.js';\n", "\tSearchInit,",
         4, "src/types.ts", types_ts, {0, 2}),
        ("pkg/core.py", "from .types import (\n    Input,\n    SearchInit,  # new\n)\n", "    SearchInit,  # new", 3,
         "pkg/types.py", "Input = str\n\n\nclass Options:\n    retry = 0\n", {0}),
        ("src/core.ts", "const options = {\n\tInput,\n\tSearchInit,\n};\n", "\tSearchInit,", 3, "src/types.ts",
         types_ts, set()),
    ]
    for path, text, line, number, target, target_text, beside in cases:
        files = {path: text, target: target_text}
        history = parse(path, f"@@ -{number},0 +{number},1 @@\n+{line}\n")
        found = candidates(Corpus(sorted(files), files.get), path, number, history)
        marked = {key for key, row in zip(found.lines, found.features, strict=True) if row[FEATURES.index("missing")]}
        assert marked == {(target, i) for i in beside}, (path, marked)
    assert added_imports([(1, "x" * 5000 + " (")], ["x" * 5000 + " ("]) == []  # a long line is no list of names
    names = [f"    name{i}," for i in range(60)]  # every line of one statement added: the statement, once
    assert added_imports([(n, ln) for n, ln in enumerate(names, 2)], ["from .m import (", *names, ")"]) == [
        "from .m import ( " + " ".join(ln.strip() for ln in names) + " )"]


def test_an_added_import_of_a_name_its_module_lacks_points_where_it_is_to_be_written():
    """`import {SearchInit} from './types.js'` before types.ts has it (TypeScript and Python alike): the places
    beside the names the line imports from there too; not for a name the module has, one a star export may pass on,
    or a module of its own."""
    types_ts = "export type Input = string;\n\nexport interface Options {\n\tretry: number;\n}\n"
    cases = [
        ("src/core.ts", "import type {Input, Options, SearchInit} from './types.js';", "src/types.ts", types_ts,
         {0, 2}),
        ("pkg/core.py", "from .types import Input, SearchInit", "pkg/types.py",
         "Input = str\n\n\nclass Options:\n    retry = 0\n", {0}),
    ]
    for path, line, target, text, beside in cases:
        files = {path: f"{line}\n\nexport const x = 1;\n", target: text, "pkg/sub/__init__.py": "",
                 "src/other.ts": "export const y = 2;\n"}
        history = parse(path, f"@@ -1,1 +1,1 @@\n-{line.replace(', SearchInit', '')}\n+{line}\n")
        found = candidates(Corpus(sorted(files), files.get), path, 1, history)
        marked = {key for key, row in zip(found.lines, found.features, strict=True) if row[FEATURES.index("missing")]}
        assert marked == {(target, i) for i in beside}, (path, marked)
        assert all("SearchInit" in why for key, why in zip(found.lines, found.why, strict=True) if key in marked)
    modules = Modules(["src/core.ts", "src/types.ts", "src/all.ts", "pkg/__init__.py", "pkg/sub/__init__.py"])
    texts = {"src/types.ts": ["/** import * as it says */", *types_ts.split("\n")],
             "src/all.ts": ["export * from './types.js';"],
             "pkg/__init__.py": ["x = 1"]}
    names = {"src/types.ts": {"Input", "Options"}, "src/all.ts": set(), "pkg/__init__.py": {"x"}}
    assert missing_imports([("src/core.ts", "import {Later} from './types.js';")], modules, texts.get,
                           names.__getitem__) == {"src/types.ts": ({"Later"}, set())}  # a comment passes nothing on
    assert missing_imports([("src/core.ts", "import {Input} from './types.js';"),
                            ("src/core.ts", "import {Later} from './all.js';"),
                            ("pkg/core.py", "from pkg import sub")], modules, texts.get, names.__getitem__) == {}
