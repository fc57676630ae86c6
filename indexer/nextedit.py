"""Where the next edit of a change goes: lines of the repository ranked from the edit history and the cursor.

The signals, each a reason a line is not yet done with the change the history is making:
- a name the edits removed or renamed that the line still uses;
- a name whose definition line the edits changed (a signature), called on the line;
- a line that looks like an edited line did before the edit (the same pattern elsewhere);
- a line that uses the names an added name was added beside (a new parameter next to `config=`: the other places
  that pass `config` along), but not the added name itself;
- the edits' names used on the line, and nearness to the cursor, below first (the next thing down the file);
- where a test of the change goes: in the test files that import an edited file (or a package entry that imports
  it), before or after the tests that use the edits' names most (indexer/nextedit_tests.py); never the first place;
- the other way, where an edited test file leads: the definitions, in the code it imports, of the names the edits use
  (a test changed first, the function it calls changes next);
- a name an added import line takes from a repository file that does not have it yet: that file, beside the names
  the line takes from it too (what the import expects is written next);
- lexical (indexer/nextedit_lexical.py): the windows that read most like the edits (BM25 over identifier pieces),
  the lines that still hold what an edit replaced (the rest of a find-and-replace), and the lines whose names share
  pieces with a name the edits added that nothing uses yet.
Names are weighed by rarity: a name on many of the repository's lines says little about any one of them. Each
signal is a feature of a candidate line; their weights (WEIGHTS) are fitted by bench/train_nextedit.py, and so is
the choice of the file the first place is in (indexer/nextedit_files.py).
"""
from __future__ import annotations

import builtins
import hashlib
import math
import re
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from .hunks import Hunk
from .nextedit_files import POOL, file_rows, first_place
from .nextedit_lexical import (
    Windows,
    fragment_lines,
    fragments,
    history_terms,
    piece_share,
    similar_windows,
    unused_pieces,
    windows,
)
from .nextedit_tests import (
    Modules,
    added_imports,
    code_under_test,
    ends,
    is_test,
    linked_tests,
    missing_imports,
    places,
    scored_tests,
)

_WORD = re.compile(r"[A-Za-z_$][\w$]*")
_MODIFIERS = (r"(?:(?:export|default|pub(?:\([^)]*\))?|public|private|protected|internal|static|final|abstract|"
              r"sealed|open|data|async|unsafe|const|extern(?:\s+\"\w+\")?)\s+)*")
# a definition by its keyword: Go's `func (s *Server) Serve(` is Serve's; C's `struct node *lookup(` is not node's
_DEF = re.compile(rf"^\s*{_MODIFIERS}(?:def|function|class|func|fn|fun|interface|type|struct|enum|trait|record)\s+"
                  r"(?:\([^)]*\)\s*)?([A-Za-z_$][\w$]*)(?![\w$])(?![\s*&]+[A-Za-z_]\w*\s*\()")
_ASSIGNED_FN = re.compile(r"^\s*(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:async\s*)?\(")
_METHOD = re.compile(r"^\s*(?:(?:public|private|protected|static|async|readonly|override)\s+)*([A-Za-z_$][\w$]*)\s*"
                     r"(?:<[^>]*>)?\(.*\)\s*(?::[^{]*)?\{\s*$")
# a function or method declared with its result's type first (Java, C, C++, C#): `public static int size(`,
# `static struct node *lookup(`, `void Cache::evict(`; the "type" of a statement is a keyword (`return f(`)
_TYPED = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|protected|internal|static|final|abstract|"
                    r"synchronized|native|virtual|override|inline|extern|unsafe|default|sealed|const|constexpr)\s+)*"
                    r"(?:<[^>]*>\s*)?(?:(?:struct|enum|union|unsigned|signed|long|short)\s+)*"
                    r"([A-Za-z_][\w.]*(?:<[^()]{0,120}?>)?(?:\[\])*)[\s*&]+(?:[A-Za-z_]\w*::)*([A-Za-z_]\w*)\s*\(")
_NOT_A_TYPE = frozenset([
    "return", "new", "throw", "else", "elif", "case", "await", "yield", "delete", "typeof", "goto", "in", "of", "do",
    "import", "from", "package", "using", "if", "while", "for", "switch", "catch", "assert", "not", "and", "or", "is",
    "raise", "del", "with", "except", "print", "exec", "lambda", "export", "echo", "defer", "go", "let", "var",
    "const", "sizeof", "typedef"])
_CLASS = re.compile(rf"^\s*{_MODIFIERS}class\s+([A-Za-z_$][\w$]*)")
STOP = frozenset([  # keywords and builtins: names that point nowhere
    "self", "this", "cls", "return", "if", "else", "elif", "for", "while", "in", "is", "not", "and", "or",
    "None", "True", "False", "null", "undefined", "true", "false", "new", "def", "class", "function", "const",
    "let", "var", "import", "from", "as", "export", "default", "async", "await", "yield", "try", "except",
    "finally", "catch", "throw", "raise", "with", "pass", "break", "continue", "lambda", "typeof", "instanceof",
    "void", "delete", "super", "static", "public", "private", "protected", "readonly", "interface", "type",
    "enum", "extends", "implements", "of", "get", "set", "int", "str", "bool", "float", "dict", "list", "tuple",
    "object", "string", "number", "boolean", "any", "unknown", "never", "print", "len", "range", "isinstance",
])
GLOBALS = frozenset(dir(builtins)) | frozenset([  # names a language defines, never a repository
    "Object", "String", "Number", "Boolean", "Array", "Symbol", "BigInt", "Promise", "Error", "TypeError",
    "RangeError", "SyntaxError", "Map", "Set", "WeakMap", "WeakSet", "JSON", "Math", "Date", "RegExp", "Reflect",
    "Proxy", "Intl", "console", "window", "document", "globalThis", "process", "require", "module", "exports",
    "Buffer", "setTimeout", "clearTimeout", "setInterval", "clearInterval", "fetch", "Request", "Response",
    "Headers", "URL", "URLSearchParams", "AbortController", "AbortSignal", "ReadableStream", "FormData", "Blob",
    "Partial", "Required", "Readonly", "Record", "Pick", "Omit", "Exclude", "Extract", "NonNullable",
    "ReturnType", "Parameters", "InstanceType", "Awaited", "Uint8Array", "ArrayBuffer", "TextEncoder", "TextDecoder",
    "make", "append", "cap", "panic", "recover", "error", "string", "byte", "rune", "fmt", "errors", "context",
])
COMMON_LINE_SHARE = 0.01  # a name on more of the repository's lines than this is too common to point anywhere
COMMON_MIN = 30  # ...and on more lines than this (in a small repository every name is on 1% of its lines)
REGION = 10  # lines of the region a location predicts the edit in: its line and the lines around it
REGION_ABOVE = 4  # ...of them above its line
SPACING = REGION  # the lines of two locations in a file are at least this far apart: their regions never overlap
NEAR_LINES = 60  # nearness to the cursor fades over about this many lines
NEAR_SPAN = 200  # lines each side of the cursor that nearness alone makes candidates
SIMILAR = 0.5  # a line this similar (Jaccard of names) to an edited line before its edit repeats its pattern
SIMILAR_MIN = 3  # ...sharing at least this many names with it
DEFINITION_CHARS = 1000  # of a line read for a definition (a minified line is not read whole)
BEFORE_MAX = 32  # edited lines (the most recent) that other lines are compared with


_STRING = re.compile(r"""(?:[rbufRBUF]{0,2})("[^"\\]*(?:\\.[^"\\]*)*"|'[^'\\]*(?:\\.[^'\\]*)*'|`[^`]*`)""")
_COMMENT = re.compile(r"(?:#|//).*$")
_NAME_ONLY = re.compile(r"""^["'`][A-Za-z_$][\w$-]*["'`]$""")


def _code(line: str) -> str:
    """A line without its comment and without prose strings (a string that is one name, a key, stays)."""
    line = _STRING.sub(lambda m: m.group(1) if _NAME_ONLY.match(m.group(1)) else '""', line)
    return _COMMENT.sub("", line)


def words(line: str) -> list[str]:
    """The names a line of code uses (comments, prose in strings and keywords left out)."""
    stripped = line.lstrip()
    if stripped.startswith(("*", "/*", '"""', "'''")):
        return []
    return [w for w in _WORD.findall(_code(line)) if w not in STOP and len(w) > 1]


@dataclass(frozen=True, slots=True)
class Location:
    """Where the next edit goes: the region of REGION lines (`start`..`end`, 1-based, within the file) and in it
    the line most likely to change."""

    path: str
    line: int  # 1-based
    score: float
    why: str
    start: int
    end: int


def region(line: int, length: int) -> tuple[int, int]:
    """The REGION lines around a 1-based line of a file of `length` lines (fewer in a shorter file)."""
    start = max(1, min(line - REGION_ABOVE, length - REGION + 1))
    return start, max(start, min(length, start + REGION - 1))


@dataclass(slots=True)
class _Scan:
    """One file's text as names per line, and where each name is."""

    lines: list[str]
    # Tuples, not sets nor lists: a tuple of strings (or numbers) drops out of the cyclic collector's sight after
    # its first collection. A server's scans of 150,000 lines as sets and lists were 237,000 tracked objects, and a
    # full collection took 72 ms instead of 1, with every thread, the event loop too, standing still.
    names: list[tuple[str, ...]]  # the names of each line, each once
    where: dict[str, tuple[int, ...]]  # name -> 0-based lines
    _windows: Windows | None = None

    def windows(self) -> Windows:
        """The file's windows for lexical search, made on first use (scans are shared across states)."""
        if self._windows is None:
            self._windows = windows(self.lines)
        return self._windows


def scan(text: str) -> _Scan:
    lines = text.split("\n")
    names: list[tuple[str, ...]] = []
    where: dict[str, list[int]] = {}
    in_doc = False
    for i, line in enumerate(lines):
        quotes = line.count('"""') + line.count("'''")
        found = tuple(dict.fromkeys(words(line))) if len(line) < 1000 and not in_doc else ()
        if quotes % 2:
            in_doc = not in_doc
        names.append(found)
        for w in found:
            where.setdefault(w, []).append(i)
    return _Scan(lines, names, {w: tuple(at) for w, at in where.items()})


class ScanCache:
    """Scans of texts by their hash, the least recently used dropped past `max_lines` lines or `max_chars`
    characters in all (a file of a few long lines, minified or pasted, weighs by its characters)."""

    def __init__(self, max_lines: int = 1_000_000, max_chars: int = 64_000_000) -> None:
        self.max_lines = max_lines
        self.max_chars = max_chars
        self._scans: OrderedDict[str, tuple[_Scan, int]] = OrderedDict()
        self._lines = 0
        self._chars = 0

    def get(self, text: str) -> _Scan:
        key = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        hit = self._scans.get(key)
        if hit is not None:
            self._scans.move_to_end(key)
            return hit[0]
        s = scan(text)
        self._scans[key] = (s, len(text))
        self._lines += len(s.lines)
        self._chars += len(text)
        while (self._lines > self.max_lines or self._chars > self.max_chars) and len(self._scans) > 1:
            _, (old, chars) = self._scans.popitem(last=False)
            self._lines -= len(old.lines)
            self._chars -= chars
        return s


class Corpus:
    """The files a next-edit query may point into, each scanned once per text (the many states of one repository
    share what is equal). `candidates(names)`, when given, names the files worth reading for a query's names, best
    first (an index's references); otherwise every file is read."""

    def __init__(self, paths: list[str], read: Callable[[str], str | None],
                 candidates: Callable[[set[str]], list[str]] | None = None,
                 cache: ScanCache | None = None) -> None:
        self.paths = paths
        self.read = read
        self.candidates = candidates
        self._cache = cache if cache is not None else ScanCache()
        self._by_path: dict[str, _Scan | None] = {}

    def scan(self, path: str) -> _Scan | None:
        if path not in self._by_path:
            text = self.read(path)
            self._by_path[path] = self._cache.get(text) if text is not None else None
        return self._by_path[path]

    def files_for(self, names: set[str]) -> list[str]:
        if self.candidates is None:
            return self.paths
        known = set(self.paths)
        return [p for p in self.candidates(names) if p in known]


@dataclass(slots=True)
class _Signals:
    """What the history says, each name with its weight (recent edits weigh more, rare names more)."""

    gone: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # removed, not added back
    defined: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))  # edited definitions
    siblings: dict[str, defaultdict[str, float]] = field(default_factory=dict)  # added name -> names beside it
    before: list[tuple[frozenset[str], float]] = field(default_factory=list)  # edited lines as they were
    edited: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # path -> changed new-side spans
    undefined: set[str] = field(default_factory=set)  # definitions (or assignments) the edits removed


def _definition(line: str) -> str | None:
    line = line[:DEFINITION_CHARS]
    for pattern in (_DEF, _ASSIGNED_FN, _METHOD):
        if (m := pattern.match(line)) is not None and m.group(1) not in STOP:
            return m.group(1)
    if (m := _TYPED.match(line)) is not None and m.group(1) not in _NOT_A_TYPE and m.group(2) not in STOP:
        return m.group(2)
    return None


_ASSIGNED = re.compile(r"^\s*(?:(?:export\s+)?(?:const|let|var)\s+)?([A-Za-z_$][\w$]*)\s*(?::[^=]*)?=[^=]")


def _assigned(line: str) -> str | None:
    return m.group(1) if (m := _ASSIGNED.match(line)) is not None and m.group(1) not in STOP else None


def _signature_owner(lines: list[str], i: int) -> str | None:
    """The function whose parameter list holds line i (0-based), from the definition line a few lines up."""
    depth = 0
    for j in range(i - 1, max(-1, i - 16), -1):
        line = lines[j]
        depth += line.count("(") - line.count(")")
        if (name := _definition(line)) is not None:
            return name if depth > 0 else None
    return None


def _called_as(name: str, lines: list[str], i: int) -> str:
    """How a function is called: a constructor (`__init__`, `constructor`) by its class's name."""
    if name not in ("__init__", "constructor", "__new__"):
        return name
    for j in range(i, max(-1, i - 400), -1):
        if (m := _CLASS.match(lines[j])) is not None:
            return m.group(1)
    return name


def _renamed_lines(removed: list[str], added: list[str], new: set[str], gone: set[str]) -> set[str]:
    """The added lines that are a removed line with names renamed (the same other names, in order)."""
    before = {tuple(w for w in words(ln) if w not in gone) for ln in removed}
    return {ln for ln in added if tuple(w for w in words(ln) if w not in new) in before}


def signals(history: list[Hunk], lines_of: Callable[[str], list[str] | None] = lambda p: None) -> _Signals:
    out = _Signals()
    n = len(history)
    for i, h in enumerate(history):
        recency = 0.6 ** (n - 1 - i)
        removed, added = h.removed, h.added
        gone_words = {w for ln in removed for w in words(ln)}
        added_words = {w for ln in added for w in words(ln)}
        for w in gone_words:
            if w not in added_words:
                out.gone[w] += recency
        for ln in removed:
            if ws := frozenset(words(ln)):
                out.before.append((ws, recency))
        for ln in [*removed, *added]:
            if (name := _definition(ln)) is not None:
                out.defined[name] += recency
        for ln in removed:
            if (name := _definition(ln) or _assigned(ln)) is not None and name not in added_words:
                out.undefined.add(name)
        first, _ = h.changed_span()
        lines = lines_of(h.path)
        if lines is not None and 0 < first <= len(lines) and (owner := _signature_owner(lines, first - 1)):
            out.defined[_called_as(owner, lines, first - 1)] += recency
        new_words = {w for w in added_words if w not in gone_words}
        renamed = _renamed_lines(removed, added, new_words, gone_words - added_words)
        for ln in added:  # the names on the line a new name was added to (not a line that only renamed one)
            if ln in renamed:
                continue
            names = words(ln)
            for w in new_words.intersection(names):
                sib = out.siblings.setdefault(w, defaultdict(float))
                for b in names:
                    if b not in new_words:
                        sib[b] += recency
        out.edited.setdefault(h.path, []).append(h.changed_span())
    # every line of the repository is compared with each edited line as it was: the most recent BEFORE_MAX of them
    # (a large rewrite would make that comparison run for seconds)
    out.before = sorted(out.before, key=lambda b: -b[1])[:BEFORE_MAX]
    return out


def _idf(df: int, total: int) -> float:
    return math.log(1 + total / (1 + df))


FEATURES = ("gone", "defined", "sibling", "similar", "history", "below", "below_near", "above", "here", "definition",
            "test", "broken", "new_test", "new_test_first", "lexical", "lexical_rank", "unused", "fragment", "test_end",
            "test_end_affinity", "tested", "missing")
# fitted by `python bench/train_nextedit.py --work WORK --train-work TWORK --train-repos requests.train,werkzeug.train,
# ky.train,trpc.train,apollo-client.train`: a listwise logistic regression on 1,558 queries mined from the next-edit
# benchmark's repositories (other commits than the benchmark's) and from the TypeScript retrieval benchmark's trpc and
# apollo-client (bench/nextedit_trainset.py), for the lines whose region holds the next edit. Each benchmark repository
# measured by the fit on the other repositories' queries (macro): R@1 0.420, R@5 0.600, R@10 0.640, file@1 0.633 (the
# lines alone: R@1 0.360, R@5 0.520). Each feature's weight in a candidate line's score; "broken" lines come first.
WEIGHTS = {"gone": 0.611, "defined": 0.823, "sibling": 0.04, "similar": -0.223, "history": 0.832, "below": 3.461,
           "below_near": -4.482, "above": -5.926, "here": 1.842, "definition": 0.428, "test": 0.3, "broken": 1.702,
           "new_test": 1.352, "new_test_first": 1.181, "lexical": 3.249, "lexical_rank": -0.899, "unused": 2.017,
           "fragment": 1.279, "test_end": 3.788, "test_end_affinity": 0.497, "tested": 1.824, "missing": 1.643}


@dataclass(slots=True)
class Candidates:
    """The lines a query ranks, each with its features (FEATURES order) and the strongest reason to be there."""

    lines: list[tuple[str, int]] = field(default_factory=list)  # (path, 0-based line)
    features: list[list[float]] = field(default_factory=list)
    why: list[str] = field(default_factory=list)


def _defines(s: _Scan, name: str) -> bool:
    """Whether a file defines `name`: a definition, an assignment at a line's start, a parameter (an import only
    binds what another file defines)."""
    assign = re.compile(rf"^\s*(?:(?:const|let|var)\s+|(?:self|this|cls)\.)?{re.escape(name)}\s*(?::[^=]*)?=[^=]")
    for i in s.where.get(name, ()):
        line = s.lines[i]
        if _definition(line) == name or assign.match(line) or _is_parameter(line, name):
            return True
    return False


def _is_parameter(line: str, name: str) -> bool:
    m = _DEF.match(line) or _METHOD.match(line) or _TYPED.match(line)
    return m is not None and re.search(rf"[(,]\s*{re.escape(name)}\b", line) is not None


def candidates(corpus: Corpus, cursor_path: str, cursor_line: int, history: list[Hunk]) -> Candidates:
    """Every line a signal points at, and the lines around the cursor, with their features."""
    sig = signals(history, lambda p: s.lines if (s := corpus.scan(p)) is not None else None)
    touched = {w for h in history for ln in (*h.removed, *h.added) for w in words(ln)}
    names = set(sig.gone) | set(sig.defined) | {b for s in sig.siblings.values() for b in s} | touched
    files = corpus.files_for(names)
    if cursor_path not in files:
        files = [cursor_path, *files]
    # how common each name is: over the files read (all of them, without an index to narrow them)
    line_count = 0
    df: Counter[str] = Counter()
    scans: dict[str, _Scan] = {}
    for p in files:
        s = corpus.scan(p)
        if s is None:
            continue
        scans[p] = s
        line_count += len(s.lines)
        for w in names:
            if (at := s.where.get(w)) is not None:
                df[w] += len(at)
    total = max(line_count, 1)
    common = {w for w in names if df[w] > max(COMMON_LINE_SHARE * total, COMMON_MIN)}
    weight = {w: _idf(df[w], total) for w in names if w not in common}

    raw: dict[tuple[str, int], list[float]] = {}
    why: dict[tuple[str, int], tuple[float, str]] = {}

    def add(p: str, i: int, f: int, v: float, reason: str) -> None:
        row = raw.setdefault((p, i), [0.0] * 5)
        row[f] += v
        if v > why.get((p, i), (0.0, ""))[0]:
            why[(p, i)] = (v, reason)

    test_history = all(is_test(h.path) for h in history) if history else False
    # a removed name that nothing defines any more: its remaining uses are broken code
    undefined = {w for w in sig.undefined if w in weight and w not in GLOBALS
                 and not any(_defines(s, w) for s in scans.values())}
    bare = {w: re.compile(rf"(?<![\w.$]){re.escape(w)}\b") for w in undefined}  # not an attribute: `x.name`
    broken = {(p, i) for p, s in scans.items() for w in undefined for i in s.where.get(w, ())
              if bare[w].search(_STRING.sub('""', _COMMENT.sub("", s.lines[i])))}
    for p, s in scans.items():
        for w, r in sig.gone.items():
            if w in weight:
                for i in s.where.get(w, ()):
                    add(p, i, 0, 3.0 * r * weight[w], f"still uses {w}")
        for w, r in sig.defined.items():
            if w in weight:
                for i in s.where.get(w, ()):
                    if _definition(s.lines[i]) != w:
                        add(p, i, 1, 2.0 * r * weight[w], f"uses {w}, whose definition changed")
        for new, sib in sig.siblings.items():
            for b, r in sib.items():
                if b in weight:
                    for i in s.where.get(b, ()):
                        if new not in s.names[i]:
                            add(p, i, 2, r * weight[b], f"uses {b} like the line {new} was added to")
        if sig.before:
            for i, ws in enumerate(s.names):
                if len(ws) < 2:
                    continue
                best: float = 0.0
                for before, r in sig.before:
                    inter = len(before.intersection(ws))
                    if inter >= SIMILAR_MIN:
                        best = max(best, r * inter / (len(ws) + len(before) - inter))
                if best >= SIMILAR:
                    add(p, i, 3, 4.0 * best, "looks like an edited line before its edit")
        for w in touched:
            if w in weight:
                for i in s.where.get(w, ()):
                    add(p, i, 4, weight[w], "")
    # the test files importing what the edits changed, and the places a new test of the change goes there
    def lines_of(path: str) -> list[str] | None:
        return s.lines if (s := corpus.scan(path)) is not None else None

    edited_files = {h.path for h in history} | {cursor_path}
    modules = Modules(corpus.paths)
    tested_by = linked_tests(edited_files, corpus.paths, lines_of, modules=modules)
    test_scans = {p: s for p in sorted(tested_by) if (s := corpus.scan(p)) is not None}
    test_files = {p: (s.lines, s.names) for p, s in test_scans.items()}
    tests = scored_tests(test_files, {w: weight[w] for w in touched if w in weight})
    new_test = {(pl.path, pl.line): pl for pl in places(test_files, tests)}
    for key, pl in new_test.items():
        raw.setdefault(key, [0.0] * 5)
        if pl.affinity > why.get(key, (0.0, ""))[0]:
            why[key] = (pl.affinity, "where a test of the change goes")
    test_ends = ends(test_files, tests)
    # the definitions, in the code an edited test file tests, of the names the edits use: where that code changes
    code_scans = {p: s for p in sorted(code_under_test(edited_files, modules, lines_of))
                  if (s := corpus.scan(p)) is not None}
    tested: defaultdict[tuple[str, int], float] = defaultdict(float)
    for p, s in code_scans.items():
        for w in touched:
            if w in weight:
                for i in s.where.get(w, ()):
                    if _definition(s.lines[i]) == w:
                        tested[(p, i)] += weight[w]
    for key, v in tested.items():
        raw.setdefault(key, [0.0] * 5)
        if v > why.get(key, (0.0, ""))[0]:
            why[key] = (v, "defines what an edited test uses")
    # a name an added import line takes from a repository file that does not have it yet: where it is to be written,
    # beside the definitions of the names the line takes from there too (else at the file's end)
    to_write: dict[tuple[str, int], str] = {}
    statements = [(h.path, st) for h in history for st in added_imports(h.added_at(), lines_of(h.path))]
    for p, (gone, beside) in missing_imports(statements, modules, lines_of,
                                             lambda p: s.where if (s := corpus.scan(p)) is not None else {}
                                             ).items():
        if (s := corpus.scan(p)) is None:
            continue
        code_scans.setdefault(p, s)
        written = (_definition(ln) or (_assigned(ln) if ln[:1] not in " \t" else None) for ln in s.lines)
        spots = [i for i, name in enumerate(written) if name in beside] \
            or [max((i for i, ln in enumerate(s.lines) if ln.strip()), default=0)]
        for i in spots:
            to_write[(p, i)] = ", ".join(sorted(gone))
            raw.setdefault((p, i), [0.0] * 5)
            why[(p, i)] = (math.inf, f"where {to_write[(p, i)]} is to be written")
    for key in test_ends:
        raw.setdefault(key, [0.0] * 5)
        why.setdefault(key, (0.0, "where a new test goes: the end of a test file"))
    here = scans.get(cursor_path)
    n = len(here.lines) if here is not None else 0
    for i in range(max(0, cursor_line - 1 - NEAR_SPAN), min(n, cursor_line - 1 + NEAR_SPAN)):
        raw.setdefault((cursor_path, i), [0.0] * 5)
    done = {(p, line - 1) for p, spans in sig.edited.items() for first, last in spans
            for line in range(first, last + 1)}
    # windows that read like the edits, what the edits replaced still found elsewhere, uses of a name added unused
    lexical = similar_windows({p: s.windows() for p, s in scans.items()}, history_terms(history))
    replaced = fragment_lines(((p, s.lines, s.windows().vocabulary) for p, s in scans.items()),
                              fragments(history), done)
    for key in lexical.best_lines:
        raw.setdefault(key, [0.0] * 5)
        why.setdefault(key, (0.0, "reads like the edits"))
    for key, v in replaced.items():
        raw.setdefault(key, [0.0] * 5)
        if v > why.get(key, (0.0, ""))[0]:
            why[key] = (v, "still has what the edits replaced")
    unused = unused_pieces(history, df, words)
    out = Candidates()
    for (p, i), row in raw.items():
        if (p, i) in done:
            continue
        d = i + 1 - cursor_line
        same = p == cursor_path
        s = scans.get(p) or test_scans.get(p) or code_scans.get(p)
        line = s.lines[i] if s is not None and i < len(s.lines) else ""
        place = new_test.get((p, i))
        out.lines.append((p, i))
        out.features.append([
            *(math.log1p(v) for v in row),
            math.exp(-d / NEAR_LINES) if same and d > 0 else 0.0,
            math.exp(-d / 10) if same and d > 0 else 0.0,
            math.exp(d / NEAR_LINES) if same and d <= 0 else 0.0,
            1.0 if same else 0.0,
            1.0 if _definition(line) is not None else 0.0,
            1.0 if is_test(p) and not test_history else 0.0,
            1.0 if (p, i) in broken else 0.0,
            math.log1p(place.affinity) if place is not None else 0.0,
            1.0 / (1 + place.rank) if place is not None else 0.0,
            *lexical.score.get((p, i), (0.0, 0.0)),
            piece_share(line, unused),
            math.log1p(replaced.get((p, i), 0.0)),
            1.0 if (p, i) in test_ends else 0.0,
            math.log1p(test_ends.get((p, i), 0.0)),
            math.log1p(tested.get((p, i), 0.0)),
            1.0 if (p, i) in to_write else 0.0,
        ])
        out.why.append(why.get((p, i), (0.0, ""))[1])
    return out


def ranking(corpus: Corpus, cursor_path: str, cursor_line: int, history: list[Hunk], k: int = 10,
            weights: dict[str, float] | None = None,
            found: Candidates | None = None) -> list[tuple[Location, list[float]]]:
    """The k best places of the next edit by the line weights, each with its region and its line's features: at
    least SPACING lines apart in a file, but for lines that no longer resolve and new tests' places (only those a
    region holds are left out). `found`: the query's candidates, when already known."""
    c = found if found is not None else candidates(corpus, cursor_path, cursor_line, history)
    w = weights or WEIGHTS
    vec = [w[f] for f in FEATURES]
    # uses of a name the edits removed and nothing defines any more come first: that code no longer resolves
    broken, new_test, end = FEATURES.index("broken"), FEATURES.index("new_test"), FEATURES.index("test_end")
    ranked = sorted(((sum(a * b for a, b in zip(vec, f, strict=True)), p, i + 1, why, f[broken], f[new_test] or f[end],
                      f) for (p, i), f, why in zip(c.lines, c.features, c.why, strict=True)),
                    key=lambda t: (-t[4], -t[0], t[1], t[2]))
    # a new test's place is never first: the server writes the model's edit there, and a place among a file's many
    # tests is a guess (leave-one-repository-out R@1 and file@1 fell when it could be first)
    if (first := next((n for n, t in enumerate(ranked) if not t[5]), 0)) > 0:
        ranked.insert(0, ranked.pop(first))
    out: list[tuple[Location, list[float]]] = []
    taken: dict[str, list[Location]] = {}
    for score, p, line, why, is_broken, is_place, features in ranked:
        # a line that no longer resolves, or the place of a new test, is a place of its own unless a region holds it
        # already; other places keep SPACING from those taken (their regions never overlap)
        exact = is_broken or is_place
        if any(o.start <= line <= o.end if exact else abs(line - o.line) < SPACING for o in taken.get(p, ())):
            continue
        scanned = corpus.scan(p)
        start, end = region(line, len(scanned.lines) if scanned is not None else line)
        loc = Location(p, line, round(score, 4), why or ("near the cursor" if p == cursor_path else ""), start, end)
        taken.setdefault(p, []).append(loc)
        out.append((loc, features))
        if len(out) >= k:
            break
    return out


def locate(corpus: Corpus, cursor_path: str, cursor_line: int, history: list[Hunk], k: int = 10,
           weights: dict[str, float] | None = None, file_weights: dict[str, float] | None = None,
           found: Candidates | None = None) -> list[Location]:
    """The k most likely places of the next edit, best first: the ranking of the lines (`ranking`), led by the best
    place of the file the file weights favour (indexer/nextedit_files.py), unless it is led by a use of a name that
    nothing defines any more."""
    ranked = ranking(corpus, cursor_path, cursor_line, history, max(k, POOL), weights, found)
    rows = choice_rows(ranked, cursor_path, history, room_below(corpus, cursor_path, cursor_line))
    if (lead := first_place(rows, FEATURES, file_weights)) > 0:
        ranked.insert(0, ranked.pop(lead))
    return [o for o, _ in ranked[:k]]


def room_below(corpus: Corpus, path: str, line: int) -> int:
    """The lines of code (lines with a name: not blank, not only brackets, comments or docstrings) below a 1-based
    line of a file."""
    s = corpus.scan(path)
    return sum(1 for found in s.names[line:] if found) if s is not None else 0


def choice_rows(ranked: list[tuple[Location, list[float]]], cursor_path: str,
                history: list[Hunk], room: int) -> list[tuple[int, list[float]]]:
    """What the file choice weighs in a ranking (nextedit_files.file_rows); nothing where the ranking is led by a
    use of a name that nothing defines any more: that code stays first."""
    if not ranked or ranked[0][1][FEATURES.index("broken")]:
        return []
    return file_rows([o.path for o, _ in ranked], [o.score for o, _ in ranked], [f for _, f in ranked], cursor_path,
                     {h.path for h in history}, room)


def locations_json(found: Iterable[Location]) -> list[dict]:
    """Each location as its region (`start_line`..`end_line`) and the line in it most likely to change (`focus`)."""
    return [{"path": o.path, "start_line": o.start, "end_line": o.end, "focus": o.line, "score": o.score,
             "why": o.why} for o in found]
