"""The test files that test an edited file (they import it, or a package entry that imports it; in Go a test file of
its folder, in Java one of its package, in C one including its header), and the places a new test of the change
goes there: beside the tests that use the edits' names most."""
from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Container, Iterable
from dataclasses import dataclass

_PY_FROM = re.compile(r"^\s*from\s+(\.*[\w.]*)\s+import\s+\(?\s*([\w., ]*)")
_PY_IMPORT = re.compile(r"^\s*import\s+([\w.]+(?:\s*,\s*[\w.]+)*)")
_TS_SPEC = re.compile(r"""(?:\bfrom|^\s*import|\brequire\(|\bimport\()\s*['"](\.[^'"]*)['"]""")
_TS_NAMED = re.compile(r"""^\s*(?:import|export)\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?\{([^}]*)\}\s*from\s*['"]""")
_STAR = re.compile(r"^\s*(?:export\s+(?:type\s+)?\*|from\s+\S+\s+import\s+\*)")  # what passes on another's names
_TS_EXT = re.compile(r"\.(?:[mc]?js|[mc]?ts|tsx|jsx)$")
_TS_FILES = (".ts", ".tsx", ".d.ts", ".mts", ".cts", "/index.ts", "/index.tsx", "/index.d.ts")
_JAVA_IMPORT = re.compile(r"^\s*import\s+(?:static\s+)?([\w.]+)\s*;")
_C_INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
_JVM = (".java", ".kt")
_C = (".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh")
TEST_START = re.compile(r"^\s*(?:async\s+def\s+test|def\s+test|class\s+Test|(?:test|it)(?:\.\w+)*\(|"
                        r"func\s+(?:Test|Benchmark|Example|Fuzz)\w*\s*\(|@(?:Parameterized|Repeated)?Test\b|"
                        r"#\[(?:\w+::)?test\]|TEST(?:_F|_P)?\s*\()")  # Python, JS/TS, Go, Java, Rust, gtest
_DECORATOR = re.compile(r"^\s*@")
APART = 7  # two places closer than this are one (3 lines each side: they would take one edit)
LINK_FILES = 400  # test and package-entry files a query reads at most for the link
PLACES = 4  # new-test places a query ranks (before and after each of its best tests)


def is_test(path: str) -> bool:
    low = path.lower()
    return "test" in low.rsplit("/", 1)[-1] or "/test" in low or low.startswith("test") or "spec." in low


def is_entry(path: str) -> bool:
    """A package's entry (`__init__.py`, `index.ts`): importing it imports what it re-exports."""
    base = path.rsplit("/", 1)[-1]
    return base == "__init__.py" or base.split(".", 1)[0] == "index"


_IMPORT_LINES: dict[int, tuple[list[str], list[str]]] = {}  # id(a file's lines) -> (those lines, its imports')
_IMPORT_LINES_MAX = 4096  # files


def _import_lines(lines: list[str]) -> list[str]:
    """The lines of a file that may import (a multi-line import's last line holds its `from`), kept per file
    text: equal files of a repository's states share one list of lines (ScanCache)."""
    if (hit := _IMPORT_LINES.get(id(lines))) is not None and hit[0] is lines:
        return hit[1]
    if len(_IMPORT_LINES) >= _IMPORT_LINES_MAX:
        _IMPORT_LINES.clear()
    found = [line for line in lines if "import" in line or "from" in line or "require(" in line or "include" in line]
    _IMPORT_LINES[id(lines)] = (lines, found)
    return found


class Modules:
    """The files of a repository by the names an import gives them (a Python module by every suffix of its dotted
    path, so `src/werkzeug/routing.py` is `werkzeug.routing`)."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths = set(paths)
        self.python: dict[str, list[str]] = {}
        self.folders: dict[str, list[str]] = {}  # a folder -> its Go files, its Java package's classes
        self.classes: dict[str, list[str]] = {}  # a Java class by its package path (`org/jsoup/nodes/Document`)
        self.headers: dict[str, list[str]] = {}  # a C file name (`table.h`) -> the files of that name and stem
        for p in self.paths:
            if p.endswith(".go") and not p.endswith("_test.go"):
                self.folders.setdefault(posixpath.dirname(p), []).append(p)
            elif p.endswith(_JVM):
                self.classes.setdefault(cls := _jvm_class(p), []).append(p)
                self.folders.setdefault(posixpath.dirname(cls), []).append(p)
            elif p.endswith(_C):
                stem = posixpath.basename(p).rsplit(".", 1)[0]
                for name in {posixpath.basename(p), f"{stem}.h", f"{stem}.hpp"}:
                    self.headers.setdefault(name, []).append(p)
            if p.endswith((".py", ".pyi")):
                parts = p.rsplit(".", 1)[0].split("/")
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                for k in range(len(parts)):
                    self.python.setdefault(".".join(parts[k:]), []).append(p)

    def _module(self, dotted: str) -> list[str]:
        return self.python.get(dotted, [])

    def imports(self, path: str, lines: list[str]) -> set[str]:
        """The repository's files that `path` (its text as `lines`) imports."""
        return self.resolve(path, _import_lines(lines))

    def resolve(self, path: str, lines: Iterable[str]) -> set[str]:
        """The repository's files that these lines of `path` import (a file's lines, or one line of it: never
        kept in the cache of files' import lines)."""
        got: set[str] = set()
        if path.endswith((".py", ".pyi")):
            package = path.split("/")[:-1]
            for line in lines:
                if (m := _PY_FROM.match(line)) is not None:
                    mod, names = m.group(1), _listed(m.group(2))
                    if mod.startswith("."):
                        up = len(mod) - len(mod.lstrip(".")) - 1
                        base = package[:len(package) - up] if up <= len(package) else []
                        rest = mod.lstrip(".")
                        full = "/".join(base + rest.split(".") if rest else base)
                        for stem in (full, *(f"{full}/{n}" if full else n for n in names)):
                            got.update(x for x in (f"{stem}.py", f"{stem}/__init__.py") if x in self.paths)
                    else:
                        for dotted in (mod, *(f"{mod}.{n}" for n in names)):
                            got.update(self._module(dotted))
                elif (m := _PY_IMPORT.match(line)) is not None:
                    for dotted in m.group(1).split(","):
                        dotted = dotted.strip()
                        while dotted:
                            got.update(self._module(dotted))
                            dotted = dotted.rpartition(".")[0]
        elif path.endswith(".go"):  # a test file is of its folder's package, and sees all of it
            got.update(self.folders.get(posixpath.dirname(path), ()))
        elif path.endswith(_JVM):  # a class sees its package's classes without an import
            got.update(self.folders.get(posixpath.dirname(_jvm_class(path)), ()))
            for line in lines:
                if (m := _JAVA_IMPORT.match(line)) is not None:
                    got.update(self.classes.get(m.group(1).replace(".", "/"), ()))
        elif path.endswith(_C):
            for line in lines:
                if (m := _C_INCLUDE.match(line)) is not None:
                    got.update(self.headers.get(posixpath.basename(m.group(1)), ()))
        else:
            folder = posixpath.dirname(path)
            for line in lines:
                for spec in _TS_SPEC.findall(line):
                    stem = _TS_EXT.sub("", posixpath.normpath(posixpath.join(folder, spec)))
                    found = next((stem + e for e in _TS_FILES if stem + e in self.paths), None)
                    if found is None and stem == ".":
                        found = next((e[1:] for e in _TS_FILES if e.startswith("/") and e[1:] in self.paths), None)
                    if found is not None:
                        got.add(found)
        got.discard(path)
        return got


def _jvm_class(path: str) -> str:
    """A Java (or Kotlin) file's class by its package path: what follows the source root (`src/main/java/`,
    `src/test/java/`, `src/`), without the extension; the path itself where there is no such root."""
    stem = path.rsplit(".", 1)[0]
    for root in ("/java/", "/kotlin/", "src/"):
        if (at := stem.rfind(root)) >= 0 and (root != "src/" or at == 0 or stem[at - 1] == "/"):
            return stem[at + len(root):]
    return stem


def _stem_words(path: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", path.rsplit("/", 1)[-1].split(".", 1)[0].lower()) if len(w) > 2}


def linked_tests(edited: set[str], paths: list[str], lines_of: Callable[[str], list[str] | None],
                 limit: int = LINK_FILES, modules: Modules | None = None) -> set[str]:
    """The test files that import an edited file, directly or through package entries that import it. At most
    `limit` test and entry files are read: the entries, then the tests named like an edited file, then the rest in
    path order (a large repository's other tests wait for a later query to be named like them)."""
    modules = modules if modules is not None else Modules(paths)
    named = set().union(*(_stem_words(e) for e in edited)) - {"test", "tests", "spec", "index", "init"}
    linkable = sorted((p for p in paths if is_test(p) or is_entry(p)),
                      key=lambda p: (not is_entry(p), not (_stem_words(p) & named), p))
    imports: dict[str, set[str]] = {}
    for p in linkable[:limit]:
        lines = lines_of(p)
        imports[p] = modules.imports(p, lines) if lines is not None else set()
    reached = set(edited)
    for _ in range(3):  # an entry importing the edited file, an entry importing that entry, ...
        more = {p for p, got in imports.items() if is_entry(p) and got & reached} - reached
        if not more:
            break
        reached |= more
    return {p for p, got in imports.items() if is_test(p) and got & reached and p not in edited}


def code_under_test(edited: set[str], modules: Modules, lines_of: Callable[[str], list[str] | None]) -> set[str]:
    """The code the edited test files test: the files they import that are not tests themselves (a test changed
    first, the code it calls is often changed next)."""
    got: set[str] = set()
    for p in sorted(edited):
        if is_test(p) and p in modules.paths and (lines := lines_of(p)) is not None:
            got |= {m for m in modules.imports(p, lines) if not is_test(m)}
    return got - edited


def imported_names(line: str) -> list[str]:
    """The names an import line takes from a module by name (Python's `from m import a, b as c`, TypeScript's
    `import {a, type b as c} from 'm'` and `export {a} from 'm'`): `a`, `b`; nothing for other lines."""
    if (m := _PY_FROM.match(line)) is not None:
        return _listed(m.group(2))
    if (m := _TS_NAMED.match(line)) is not None:
        return _listed(m.group(1))
    return []


def _listed(found: str) -> list[str]:
    """The names of an import's list (`a, b as c, type d`): `a`, `b`, `d`; a star is none."""
    names = (re.sub(r"^type\s+", "", n.strip()).split(" as ")[0].strip() for n in found.split(","))
    return [n for n in names if n and n != "*"]


# A line opening an import whose names go on over the lines below (`from m import (`, `import {`, `export type {`),
# and a line of such a list (names, `as` aliases, `type` markers, commas, a trailing comment).
_OPENS_IMPORT = re.compile(r"^\s*(?:from\s+\S+\s+import\s*\(|(?:import|export)\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?\{)"
                           r"[\w$,\s]*(?:#.*|//.*)?$")
_NAME = r"(?:type\s+)?[\w$]+(?:\s+as\s+[\w$]+)?"  # commas between names: no run of words splits two ways
_LISTED_LINE = re.compile(rf"^\s*(?:{_NAME}(?:\s*,\s*{_NAME})*\s*,?)?\s*(?:#.*|//.*)?$")
STATEMENT_LINES = 80  # lines of an import statement read above and below an added line of it
LISTED_CHARS = 300  # a line of an import's names is short: a longer one (minified code) is not read as one


def _listed_line(line: str) -> bool:
    return len(line) <= LISTED_CHARS and _LISTED_LINE.match(line) is not None


def added_imports(added: list[tuple[int, str]], lines: list[str] | None) -> list[str]:
    """The import statements that a file's added lines (1-based line in its current text `lines`, text) write, each
    as one line: an import line as it is, and a line of the names of an import that spans lines (`from m import (`
    ... `)`, `import {` ... `} from 'm'`) as its whole statement, joined (a formatter puts each name on a line of its
    own, so adding one adds only its line)."""
    out: list[str] = []
    read: list[tuple[int, int]] = []  # the runs of listed lines read so far: each is read once, whatever it holds
    for number, text in added:
        if imported_names(text):
            out.append(text)
            continue
        at = number - 1
        if lines is None or not 0 <= at < len(lines) or lines[at] != text or not _listed_line(text) \
                or any(lo < at < hi for lo, hi in read):
            continue
        first = next((i for i in range(at - 1, max(-1, at - STATEMENT_LINES), -1)
                      if not _listed_line(lines[i])), None)
        last = next((i for i in range(at + 1, min(len(lines), at + STATEMENT_LINES))
                     if not _listed_line(lines[i])), None)
        read.append((at - STATEMENT_LINES if first is None else first, at + STATEMENT_LINES if last is None else last))
        if first is None or last is None or not _OPENS_IMPORT.match(lines[first]) \
                or not lines[last].lstrip().startswith((")", "}")):
            continue
        statement = " ".join(re.sub(r"\s*(?:#|//).*$", "", ln).strip() for ln in lines[first:last + 1])
        if imported_names(statement) and statement not in out:
            out.append(statement)
    return out


def missing_imports(added: list[tuple[str, str]], modules: Modules, lines_of: Callable[[str], list[str] | None],
                    names_of: Callable[[str], Container[str]]) -> dict[str, tuple[set[str], set[str]]]:
    """The repository files that lines the edits added (path, line) import a name from that they do not have yet
    (no line of theirs names it, nor does a star export pass it on, nor is it a module of its own): each with the
    missing names and the others the line imports from it (a new definition often goes beside those). The next edit
    is often to write what the import expects."""
    out: dict[str, tuple[set[str], set[str]]] = {}
    for path, line in added:
        if not (wanted := imported_names(line)):
            continue
        for target in modules.resolve(path, [line]):
            if (lines := lines_of(target)) is None or any("*" in ln and _STAR.match(ln) for ln in lines):
                continue
            has = names_of(target)
            folder = posixpath.dirname(target)
            gone = {n for n in wanted if n not in has and not any(
                p.startswith((posixpath.join(folder, f"{n}."), posixpath.join(folder, n, ""))) for p in modules.paths)}
            if gone:
                missing, beside = out.setdefault(target, (set(), set()))
                missing |= gone
                beside |= set(wanted) - gone
    return out


@dataclass(frozen=True, slots=True)
class Place:
    """Where a new test may go: before or after one of a test file's tests, with how much that test has to do
    with the change (the weight of the edits' names it uses) and its rank among the query's places."""

    path: str
    line: int  # 0-based
    affinity: float
    rank: int


Files = dict[str, tuple[list[str], list[tuple[str, ...]]]]  # test files, each as its lines and their names
Scored = list[tuple[float, str, int, int]]  # tests: (weight of the edits' names used, path, first line, end line)


def scored_tests(files: Files, weight: dict[str, float]) -> Scored:
    """The tests of the test files (each given as its lines and their names) that use some weight of the edits'
    names: (that weight, path, first line, end line), 0-based, best first."""
    tests: list[tuple[float, str, int, int]] = []
    for path, (lines, names) in files.items():
        starts: list[int] = []
        for i, line in enumerate(lines):
            if TEST_START.match(line):
                while i > 0 and _DECORATOR.match(lines[i - 1]):  # a test's decorators are its first lines
                    i -= 1
                starts.append(i)
        starts.append(len(lines))
        for a, b in zip(starts, starts[1:], strict=False):
            used = frozenset().union(*names[a:b])
            if (score := sum(weight.get(w, 0.0) for w in used)) > 0:
                tests.append((score, path, a, b))
    return sorted(tests, key=lambda t: (-t[0], t[1], t[2]))


def places(files: Files, tests: Scored, k: int = PLACES) -> list[Place]:
    """The k best new-test places of the test files, at the tests that use the most weight of the edits' names
    (`scored_tests`), each test's end before its start."""
    out: list[Place] = []
    for score, path, a, b in tests:
        for at in (min(b, len(files[path][0]) - 1), a):
            if all(o.path != path or abs(o.line - at) >= APART for o in out):
                out.append(Place(path, at, score, len(out)))
        if len(out) >= k:
            break
    return out[:k]


def ends(files: Files, tests: Scored) -> dict[tuple[str, int], float]:
    """The end of each test file (its last line that is not blank, 0-based), where a new test is often appended
    (a fifth of the training queries with an edit to come in another test file), with the weight of the edits'
    names its best test uses (0 when none uses any)."""
    best: dict[str, float] = {}
    for score, path, _, _ in tests:  # best first
        best.setdefault(path, score)
    out: dict[tuple[str, int], float] = {}
    for path, (lines, _) in files.items():
        last = len(lines) - 1
        while last > 0 and not lines[last].strip():
            last -= 1
        out[(path, last)] = best.get(path, 0.0)
    return out
