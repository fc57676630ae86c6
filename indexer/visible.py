"""Read the code a query may see (before the cursor, or up to the selection's end): its imports, the name chains
it uses, and the syntax right before the cursor."""
from __future__ import annotations

import bisect
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from functools import cache

import tree_sitter as ts

from .lang.spec import LineImports
from .lang.types import ELEMENT, elem_chain, type_chain, value_chain
from .languages import Grammar, grammar, language_for, query_source, spec, types_query
from .model import ImportRef
from .reextract import common_prefix, point
from .window import FUNCTION_LOOKBACK, INDENTED, LINE_WINDOW, bounded, reach, windowed

# Of the lines between the head and the tail, those nearest the tail are read for the names they use (only).
FAR_CHARS = 96_000
# Of the text before a cursor, kept whole (no gap) for searches of the file's own text: what came next (nextname.py)
BEFORE_CHARS = 64_000
FAR_PARTS_KEPT = 8  # the far parts' chains kept by text (Scans.far)
_SEPARATOR = r"[ \t]*(?:[?!]?\.|::|->)[ \t]*"  # between a chain's names: `.`, `?.`, `!.`, `::`, `->`
_CHAIN = re.compile(rf"[A-Za-z_$][\w$]*(?:{_SEPARATOR}[A-Za-z_$][\w$]*)*")
# In a language of braces a `.` may also start the next line (`client\n  .mutation(...)`, builders): Python
# continues a line only inside brackets, and the longer pattern costs its scans of indented lines a third more.
_SEPARATOR_LINES = r"[ \t]*(?:[?!]?\.|::|->|\n[ \t]*[?!]?\.)[ \t]*"
_CHAIN_LINES = re.compile(rf"[A-Za-z_$][\w$]*(?:{_SEPARATOR_LINES}[A-Za-z_$][\w$]*)*")
_CONTINUED = re.compile(r"[ \t]*[?!]?\.")  # a line that may continue the chain above it
_CPP_SYNTAX = re.compile(  # code (strings and comments blanked) only C++ writes
    r"\w::\w|\b(?:class\s+\w+\s*[:{]|namespace\s+\w*\s*\{|template\s*<|(?:public|private|protected)\s*:)")
_FUNC_START = re.compile(r"^\s*(?:async\s+)?(?:def|function|func|fn)\b|^\s*(?:public|private|protected|static)\b.*\(")
# A string or a comment. A string's prefix (`rb"..."`, `f'...'`) is read back from the text before it, not matched:
# a pattern that starts with an optional prefix is tried at every character (13x slower on 96,000 characters).
# A one-line string's body is a run of plain characters, then escapes each followed by such a run ("unrolled"): a
# choice at every character cost half again as much on strings full of escapes (LaTeX: sympy's test_latex.py).
_STRINGS = r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"[^"\\\n]*(?:\\.[^"\\\n]*)*"|\'[^\'\\\n]*(?:\\.[^\'\\\n]*)*\''
_STRING_OR_COMMENT = re.compile(_STRINGS + r"|#[^\n]*|//[^\n]*")
# In a language of braces also a block comment (`/* */`, Javadoc, JSDoc): half the name chains of a C file's far lines
# were its comments' words. Not after a `\` or a `/` (a regular expression's `/\/*$/`: no comment starts there),
# which is looked behind from after the `/`: every alternative then starts with a literal character, which the
# engine scans for (a pattern with an alternative starting with a lookbehind is tried at every character: 5x slower).
_STRING_OR_ANY_COMMENT = re.compile(_STRINGS + r"|#[^\n]*|/(?:/[^\n]*|(?<![\\/]/)\*[\s\S]*?\*/)")
_OPENING = re.compile(r"\"\"\"|\'\'\'|/\*")  # where a string or a block comment may start that a later text closes
_PREFIX = frozenset("rRbBuUfF")


def _is_word_char(c: str) -> bool:
    return c.isalnum() or c == "_"  # what `\w` matches


def _prefix(text: str, at: int, low: int) -> int:
    """How many characters before the quote at `at` (and from `low` on) are its string's prefix: one or two of
    `_PREFIX` that start a word."""
    if at - 1 < low or text[at - 1] not in _PREFIX:
        return 0
    if at - 2 >= low and text[at - 2] in _PREFIX and (at == 2 or not _is_word_char(text[at - 3])):
        return 2
    return 1 if at == 1 or not _is_word_char(text[at - 2]) else 0


def blanked(text: str, spans: list[tuple[int, int]] | None = None, offset: int = 0, language: str | None = None
            ) -> str:
    """`text` with comments as blank lines and strings as a `0` (an argument still, no name), line numbers kept;
    f-strings keep their expressions. The spans of the strings and comments (prefix included, shifted by `offset`)
    are appended to `spans`. Block comments count as comments in a `language` other than Python."""
    out: list[str] = []
    pos = 0
    pattern = _STRING_OR_ANY_COMMENT if _braces(language) else _STRING_OR_COMMENT
    for m in pattern.finditer(text):
        start, end = m.span()
        found = m.group()
        if found[0] in "#/":
            out += (text[pos:start], "\n" * found.count("\n"))
        else:
            start -= (k := _prefix(text, start, pos) if start and text[start - 1] in _PREFIX else 0)
            if k and "f" in text[start:start + k].lower():
                out.append(text[pos:end])
            else:
                out += (text[pos:start], "0" + "\n" * found.count("\n"))
        if spans is not None:
            spans.append((offset + start, offset + end))
        pos = end
    out.append(text[pos:])
    return "".join(out)


# A name chain the code uses: (chain `("a", "b", "c")`, line, the number of arguments when the chain is called right
# there or None, the argument counts of the calls inside it: `a.f(x).g` has link i called with arities[i], whether
# its head is followed by `::`: a path, whose head names a module, a type or a namespace, never a local). A plain
# tuple of strings, numbers and tuples: once the cyclic collector has seen one it stops tracking it, so the thousands
# an analysis keeps (Scans) cost later collections little (100 deep queries, time in collections: redis 121 -> 70
# ms, typeorm 68 -> 31 ms).
Use = tuple[tuple[str, ...], int, int | None, tuple[int | None, ...], bool]


@dataclass(slots=True)
class Visible:
    """What the query's own file shows: `text` is all a query may use of that file."""

    path: str
    language: str | None
    text: str
    lines: list[str]
    cursor_line: int
    selection: tuple[int, int] | None
    imports: list[ImportRef] = field(default_factory=list)
    uses: list[Use] = field(default_factory=list)
    far: list[tuple[tuple[str, ...], int, int]] = field(default_factory=list)  # the gap's chains: (chain, line, uses)
    receiver: list[str] | None = None  # the chain before a trailing "." / "::" / "->" at the cursor
    types: dict[str, list[str]] = field(default_factory=dict)  # name -> the type chain declared for it last
    type_lines: dict[str, int] = field(default_factory=dict)  # name -> the line of that declaration
    declared: dict[str, list[int]] = field(default_factory=dict)  # name -> the lines declaring it, typed or not
    # name -> the types it is declared with in the function (or selection) when it is given several: each case of
    # Go's `switch x := y.(type)`, a name reassigned; a use `x.m` may mean the member of any of them
    alternatives: dict[str, list[list[str]]] = field(default_factory=dict)
    # name -> the other type chains its last declaration gives it: a value that is one of two (`a or B()`, `c ? a :
    # b`), read where the last chain names no type
    options: dict[str, list[list[str]]] = field(default_factory=dict)
    receiver_resolved: bool = False  # set by retrieval when the receiver is a known module or class
    line_prefix: str = ""
    function_start: int = 1  # first line of the function around the cursor (heuristic)
    gap: tuple[int, int] | None = None  # the lines left unread between the head and the tail (1-based, inclusive)
    before: str = ""  # at a cursor: the last BEFORE_CHARS characters before it, gap included
    parsed: bool = True  # False when the parse was given up (Grammar.parse): no import nor declared type was read


@cache
def _import_query(g: Grammar) -> ts.Query | None:
    """The tags query narrowed to its import patterns (cheaper to run on every request)."""
    q = ts.Query(g.language, _source_of(g))
    src = _source_of(g)
    keep = False
    for i in range(q.pattern_count):
        if "@import" in src[q.start_byte_for_pattern(i):q.end_byte_for_pattern(i)]:
            keep = True
        else:
            q.disable_pattern(i)
    return q if keep else None


@cache
def _source_of(g: Grammar) -> str:
    return query_source(g.spec)


def prepare(language: str) -> None:
    """Compile the language's queries now (50-200 ms each), not in a user's first request."""
    if (g := grammar(language)) is not None:
        _import_query(g)
        types_query(language)


def read(path: str, source: str, line: int, col: int | None, end_line: int | None,
         scans: Scans | None = None) -> Visible:
    """Cut `source` to what the query may see and analyse it. `line` is 1-based, `col` a 0-based character
    column; a selection (end_line) sees whole lines up to end_line. With `scans`, the analysis of the same file's
    previous query is reused up to where the two texts differ."""
    all_lines = source.split("\n", max(line, end_line or 0))  # the rest of the file stays one piece, unread
    if end_line is not None:
        lines = all_lines[:end_line]
        selection = (line, end_line)
        cursor_line = end_line
    else:
        lines = all_lines[:line]
        if lines:
            lines[-1] = lines[-1][: col if col is not None else len(lines[-1])]
        selection, cursor_line = None, line
    spec = language_for(path)
    whole = bounded(lines, tail_last=selection is None)
    lines, gap = windowed(whole, selection[0] - 1 if selection else None,
                         indented=spec is not None and spec.name in INDENTED)
    text = "\n".join(lines)
    v = Visible(path, spec.name if spec else None, text, lines, cursor_line, selection, gap=gap)
    scan = (scans or Scans(0)).scan(path, text, spec.name if spec else None)
    v.imports = [ref for _, ref in scan.imports]
    v.parsed = not scan.gave_up
    typed = sorted(scan.typed, key=lambda t: t.line)
    for t in typed:
        v.declared.setdefault(t.name, []).append(t.line)
    typed = [t for t in typed if t.chain]
    v.types = {t.name: t.chain for t in typed}
    v.type_lines = {t.name: t.line for t in typed}
    for t in typed:
        if t.line == v.type_lines[t.name] and t.chain != v.types[t.name]:
            v.options.setdefault(t.name, []).append(t.chain)
    v.uses = scan.uses
    if selection is None and lines:
        v.line_prefix = lines[-1]
        last, above = lines[-1], len(lines) - 2
        while last.lstrip().startswith(".") and above >= max(0, len(lines) - 1 - CHAIN_LINES):
            last = lines[above].rstrip() + last.lstrip()  # a chain continued on this line: `x\n  .f()\n  .`
            above -= 1
        v.receiver = receiver(last)
        v.before = text if gap is None else "\n".join(whole[len(whole) - reach(whole, range(len(whole) - 1, -1, -1),
                                                                                  BEFORE_CHARS):])
        for i in range(len(whole) - 1, max(-1, len(whole) - 1 - FUNCTION_LOOKBACK), -1):  # the gap's lines too
            if _FUNC_START.match(whole[i]):
                v.function_start = i + 1
                break
        if spec is not None and spec.name in _JS_LIKE:
            _open_elements(v, whole)
        elif spec is not None and spec.name in _TYPED_LOOPS:
            _open_typed_loops(v, whole)
    elif selection is not None:
        v.function_start = selection[0]
    kinds: dict[str, list[list[str]]] = {}
    for t in typed:
        if t.line >= v.function_start and t.chain not in (seen := kinds.setdefault(t.name, [])):
            seen.append(t.chain)
    v.alternatives = {name: chains for name, chains in kinds.items() if len(chains) > 1}
    if gap is not None:
        v.far = _far_uses(whole, gap, v.function_start, scans.far if scans is not None and scans.size else None,
                          v.language)
    return v


_JS_LIKE = frozenset({"javascript", "typescript", "tsx"})
OPEN_LINES = 80  # lines above a cursor read for the loops and callbacks it may be in
CHAIN_LINES = 8  # lines above a cursor's line starting with `.` read for the chain it continues
_EACH_CALL = re.compile(  # `.forEach((x) =>`, `?.map(x =>`: the chain before it is read backwards (_CALLED_CHAIN)
    r"\??\.(?:forEach|map|flatMap|filter|find|findLast|findIndex|findLastIndex|some|every)"
    r"\(\s*(?:async\s+)?(?:\(\s*([A-Za-z_$][\w$]*)\s*(?:,[^():]*)?\)|([A-Za-z_$][\w$]*))\s*=>")
_CALLED_CHAIN = re.compile(r"(?:this\.)?[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*|\([^()]*\))*$")
CALLED_CHARS = 80  # of a line before `.forEach(` read for the chain it is called on (bounded: every start is tried)
CALLBACKS_PER_LINE = 4  # the first callbacks of a line read (a minified line may hold hundreds)
_OPEN_FOR_OF = re.compile(r"\bfor\s*(?:await\s*)?\(\s*(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s+of\s+"
                          r"((?:this\.)?[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*|\([^()]*\)){0,16})\s*\)")


def _open_elements(v: Visible, lines: list[str]) -> None:
    """The names a loop or an iterating callback above a cursor binds to an element of what it goes over (`for
    (const x of xs)`, `xs.forEach((x) =>`, as js-values.scm reads them where the parse has them), read from the text:
    the block around a cursor is still open, which the parse's error recovery leaves in pieces that the types query
    cannot match. A type the parse gave on the same or a later line stays."""
    first = max(0, len(lines) - OPEN_LINES)
    for i in range(first, len(lines)):
        line = lines[i]
        if "=>" in line:
            for _, m in zip(range(CALLBACKS_PER_LINE), _EACH_CALL.finditer(line), strict=False):
                if (called := _CALLED_CHAIN.search(line, max(0, m.start() - CALLED_CHARS), m.start())) is not None:
                    _bind_element(v, m.group(1) or m.group(2), called.group(), i + 1)
        if "for" in line:
            for m in _OPEN_FOR_OF.finditer(line):
                _bind_element(v, m.group(1), m.group(2), i + 1)


_TYPED_LOOPS = frozenset({"java", "cpp"})
# `for (Element el : els)`, `for (final Map.Entry<K, V> e : m.entrySet())`, `for (const Slice& key : keys)`, `for
# (var x : xs)`, `for (auto& x : xs)`: the type written, or (var, auto) an element of what the loop goes over
_OPEN_FOR_TYPED = re.compile(r"\bfor\s*\(\s*(?:final\s+)?((?:const\s+)?[A-Za-z_$][\w$]*"
                             r"(?:\s*(?:\.|::)\s*[A-Za-z_$][\w$]*)*(?:\s*<[^()]*>)?(?:\s*[*&])*)\s*(?<![\w$])"
                             r"([A-Za-z_$][\w$]*)\s*:(?!:)\s*"
                             r"((?:this\.)?[A-Za-z_$][\w$]*(?:\s*(?:\.|->)\s*[A-Za-z_$][\w$]*|\([^()]*\)){0,16})\s*\)")


def _open_typed_loops(v: Visible, lines: list[str]) -> None:
    """The variables of the typed loops above a cursor (Java's enhanced `for`, C++'s range `for`), read from the
    text as `_open_elements` reads JavaScript's: the block the cursor is in is still open, and the parse's error
    recovery leaves the loop in pieces that the types query cannot match. A type the parse gave on the same or a
    later line stays."""
    for i in range(max(0, len(lines) - OPEN_LINES), len(lines)):
        if "for" not in lines[i]:
            continue
        for m in _OPEN_FOR_TYPED.finditer(lines[i]):
            written, name = m.group(1).strip(), m.group(2)
            if written.rstrip("&* ") in ("var", "auto", "const auto"):
                _bind_element(v, name, m.group(3), i + 1)
            elif (chain := type_chain(written)) is not None:
                _bind(v, name, chain, i + 1)


def _bind_element(v: Visible, name: str, iterated: str, line: int) -> None:
    if (chain := value_chain(iterated)) is not None:
        _bind(v, name, [*chain, ELEMENT], line)


def _bind(v: Visible, name: str, chain: list[str], line: int) -> None:
    """`name` has type `chain` from `line` on, unless the parse gave it one on that line or a later one."""
    if v.type_lines.get(name, 0) < line:
        v.types[name] = chain
        v.type_lines[name] = line
        v.declared.setdefault(name, []).append(line)


def _far_uses(lines: list[str], gap: tuple[int, int], function_start: int,
              seen: OrderedDict[str, list[tuple[tuple[str, ...], int]]] | None = None, language: str | None = None
              ) -> list[tuple[tuple[str, ...], int, int]]:
    """The name chains of the unread lines nearest the tail (FAR_CHARS), read the cheap way: strings and comments
    blanked, chains found, no calls' argument counts, and each given the first line of its part (before the function
    around the cursor, or within it) rather than its own: all that the uses before the tail count for, and never a
    claim to be near the cursor (a short tail, under a function's first line, is right below such a part). Each chain
    comes once per part, with that line and how often it is used there. `seen`: the chains of parts read before, by
    their text (a user typing in the tail leaves them as they were)."""
    lo, hi = gap
    lo = max(lo, hi - reach(lines, range(hi - 1, lo - 2, -1), FAR_CHARS) + 1)
    parts = [(lo, hi)] if not lo < function_start <= hi else [(lo, function_start - 1), (function_start, hi)]
    out: list[tuple[tuple[str, ...], int, int]] = []
    for first, end in parts:
        text = "\n".join(lines[first - 1:end])
        if seen is not None and (counted := seen.get(text)) is not None:
            seen.move_to_end(text)
        else:
            found = Counter(_chain_patterns(language)[0].findall(blanked(text, language=language)))
            counted = [(tuple(_split_chain(chain)), n) for chain, n in found.items()]
            if seen is not None:
                seen[text] = counted
                while len(seen) > FAR_PARTS_KEPT:
                    seen.popitem(last=False)
        out += [(chain, first, n) for chain, n in counted]
    return out


def _is_name_char(c: str) -> bool:
    return c.isalnum() or c in "_$"


def _is_name_start(c: str) -> bool:
    return c.isascii() and (c.isalpha() or c in "_$")


def receiver(line: str, depth: int = 0) -> list[str] | None:
    """The name chain before a trailing "." / "::" / "->" at the end of `line` (`a.b.` -> ["a", "b"]), or None.
    One backward pass: a regular expression anchored at the end is tried from every start, quadratic in the line.
    `depth`: parentheses read into so far (a value in parentheses is read as if it stood alone, PARENTHESES deep)."""
    s = line[-LINE_WINDOW:]
    end = len(s)
    parts: list[str] = []
    while True:
        end = len(s[:end].rstrip(" \t"))
        if s.endswith(".", 0, end):
            end -= 1
            if s.endswith(("?", "!"), 0, end):  # `a?.` (optional chaining), `a!.` (TypeScript's non-null)
                end -= 1
        elif s.endswith(("::", "->"), 0, end):
            end -= 2
        else:
            break
        end = len(s[:end].rstrip(" \t"))
        elements = 0
        while s.endswith("]", 0, end) and (opened := _call_start(s, end - 1, "[]")) > 0:  # `xs[i].`: an element
            end, elements = len(s[:opened].rstrip(" \t")), elements + 1
        if s.endswith(")", 0, end):  # a call's value: `a.f(x).` reads as `a.f` (its result type has the members)
            close, opened = end - 1, _call_start(s, end - 1)
            end = len(s[:opened].rstrip(" \t")) if opened > 0 else 0
            if s[opened:opened + 1] == "(" and depth < PARENTHESES \
                    and (held := _parenthesized(s, end, s[opened + 1:close], depth)) is not None:
                parts += [ELEMENT] * elements + held[::-1]  # `(await loadAll())[0].`: an element of its value
                break
        start = end
        while start > 0 and _is_name_char(s[start - 1]):
            start -= 1
        while start < end and not _is_name_start(s[start]):
            start += 1
        if start == end:
            break
        parts += [ELEMENT] * elements
        parts.append(s[start:end])
        end = start
    return parts[::-1] or None


# A parenthesized value with the type it is asserted to have: TypeScript's `x as Store` (the last of `x as unknown as
# Store`), a cast `(Store) x` (Java, C#) or `(struct store *) p` (C, C++)
_AS = re.compile(r"\bas\s+([A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*)*)\s*(?:<[^()]*>)?\s*$")
_CAST = re.compile(r"^\s*\(\s*((?:(?:const|struct|union|enum)\s+)*[A-Za-z_$][\w$]*(?:\s*(?:\.|::)\s*[A-Za-z_$][\w$]*)*)"
                   r"\s*(?:<[^()]*>)?[\s*&]*\)\s*[A-Za-z_$]")


PARENTHESES = 4  # values in parentheses read into, one in another (`((await (x as T).load()))`)
_NOT_CALLED = frozenset({"return", "await", "yield", "typeof", "void", "throw", "case", "else", "do", "in", "of"})


def _word_before(s: str, end: int) -> str:
    """The name that ends at `end` of `s` ("" when none does): a function called, or a keyword before a value."""
    start = end
    while start > 0 and _is_name_char(s[start - 1]):
        start -= 1
    return s[start:end]


def _parenthesized(s: str, end: int, inner: str, depth: int) -> list[str] | None:
    """The chain of the value in parentheses whose `(` follows `s[:end]` (None when they are a call's arguments, or
    hold no chain): a type asserted (`(x as Store)`, `((Store) x)`, Go's `v.(*Store)`), else the chain of what they
    hold (`(await load())`, `(new Store())`: read as if it stood alone)."""
    before = s[end - 1] if end > 0 else ""
    if before == ".":  # Go's `v.(*T)`
        return type_chain(inner)
    if before and (before in ")]>" or (_is_name_char(before) and _word_before(s, end) not in _NOT_CALLED)):
        return None  # a call's arguments: `f(x)`, `f<T>(x)`, `(f)(x)`, `fs[0](x)` (but `return (x)`)
    return _asserted(inner) or receiver(inner.strip() + ".", depth + 1)


def _asserted(inner: str) -> list[str] | None:
    """The type chain a parenthesized value `(inner)` is asserted or cast to, or None."""
    m = _AS.search(inner) or _CAST.match(inner)
    return type_chain(m.group(1)) if m is not None else None


def _call_start(s: str, close: int, brackets: str = "()") -> int:
    """Where the `(` matching the `)` at `close` is (or the `[` of a `]`: `brackets`), or 0 when the line holds none
    (one backward pass)."""
    opening, closing = brackets[0], brackets[1]
    depth = 0
    for i in range(close, -1, -1):
        ch = s[i]
        if ch == closing:
            depth += 1
        elif ch == opening:
            depth -= 1
            if depth == 0:
                return i
    return 0


_BRACKET = re.compile(r"[()\[\]{},]")
# a chain, and the `(` of a call of it when one follows (blanks between): one match finds both
_CHAIN_CALL = re.compile(rf"({_CHAIN.pattern})[ \t]*(\()?")
_CHAIN_CALL_LINES = re.compile(rf"({_CHAIN_LINES.pattern})[ \t]*(\()?")
# a call on one line, its arguments nested up to three deep (first characters disjoint: no backtracking)
_ONE_LINE_CALL = re.compile(r"[ \t]*\((?:[^()\n]|\((?:[^()\n]|\([^()\n]*\))*\))*\)")
_AFTER_CALL = re.compile(rf"{_SEPARATOR}(?=[A-Za-z_$])")
_AFTER_CALL_LINES = re.compile(rf"{_SEPARATOR_LINES}(?=[A-Za-z_$])")
_ONE_LINE_INDEX = re.compile(r"\[(?:[^\[\]\n]|\[(?:[^\[\]\n]|\[[^\[\]\n]*\])*\])*\]")  # `[i]`, `[a[b[c]]]`


def _call_arguments(code: str) -> dict[int, tuple[int, int]]:
    """Where each closed `(` of `code` (strings and comments blanked) is -> how many arguments it holds and where
    its `)` is, read in one pass over the brackets and commas: a comma counts only directly inside its parentheses."""
    out: dict[int, tuple[int, int]] = {}
    stack: list[list[int]] = []  # [where it opens, commas directly inside, 1 if a paren]
    for m in _BRACKET.finditer(code):
        ch, at = m.group(), m.start()
        if ch in "([{":
            stack.append([at, 0, ch == "("])
        elif ch == ",":
            if stack:
                stack[-1][1] += 1
        elif stack:
            start, commas, paren = stack.pop()
            if paren:
                out[start] = (commas + 1 if commas or code[start + 1:at].strip() else 0, at)
    return out


def _call_after(code: str, at: int, calls: dict[int, tuple[int, int]]) -> tuple[int, int] | None:
    """The call whose `(` follows `at` (after blanks): its argument count and where it closes; None when none."""
    i = at
    while i < len(code) and code[i] in " \t":
        i += 1
    return calls.get(i)


_CHAIN_SEPARATOR = re.compile(_SEPARATOR_LINES)


def _braces(language: str | None) -> bool:
    """Whether `language` is one of braces, not of indented blocks: block comments are comments (`blanked`), and a
    name chain may go on over a line break (`_SEPARATOR_LINES`)."""
    return language is not None and language not in INDENTED


def _chain_patterns(language: str | None) -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """A language's patterns of a chain, of a chain and its call's `(`, and of what continues a call's value."""
    return (_CHAIN_LINES, _CHAIN_CALL_LINES, _AFTER_CALL_LINES) if _braces(language) \
        else (_CHAIN, _CHAIN_CALL, _AFTER_CALL)


def _split_chain(chain: str) -> list[str]:
    if "." not in chain and ":" not in chain and ">" not in chain:  # most chains are one name
        return [chain]
    return _CHAIN_SEPARATOR.split(chain)


@dataclass(frozen=True, slots=True)
class Typed:
    """`name` has type `chain` (["pkg", "Type"]; [] when only declared) from `line` on; `end` is the name's end byte
    (incremental scans)."""

    end: int
    name: str
    chain: list[str]
    line: int


@dataclass(slots=True)
class _Scan:
    """One text's imports (with their end byte), name-chain uses, blanked string and comment spans, and tree."""

    text: str
    data: bytes  # what the tree is of: the text and what closes a string it leaves open (none parsed: empty)
    tree: ts.Tree | None
    imports: list[tuple[int, ImportRef]]
    uses: list[Use]
    blanks: list[tuple[int, int]]  # character spans of strings and comments
    typed: list[Typed] = field(default_factory=list)  # declared types of names, by the language's types query
    gave_up: bool = False  # the parse ran past its time (Grammar.parse): no imports or declared types were read


def _unclosed(text: str, blanks: list[tuple[int, int]], before: int) -> int | None:
    """The first triple quote or `/*` before `before` that no blanked span holds whole: a string or a comment the
    scan saw no end of (text after it may close it, which changes everything in between)."""
    starts = [s for s, _ in blanks]
    for m in _OPENING.finditer(text, 0, before):
        i = bisect.bisect_right(starts, m.start()) - 1
        if i < 0 or blanks[i][1] < m.end():
            return m.start()
    return None


def _closer(text: str, blanks: list[tuple[int, int]], language: str | None) -> str:
    """What closes a docstring or a block comment that `text` leaves open (a cursor in one: writing documentation):
    the parser reads what follows an unclosed one to the end as an error, at 3 to 8 times the cost of the parse
    (27 ms for 15,000 characters of sympy's latex.py); closed after the cursor, it parses as usual."""
    if (at := _unclosed(text, blanks, len(text))) is None:
        return ""
    if text.startswith("/*", at):
        return "*/" if language not in INDENTED else ""
    return text[at:at + 3] if language in INDENTED else ""


class Scans:
    """The last analysis of each of a few files: a query in the same file as an earlier one (the user typing on, or
    the cursor moving) re-reads only from the line where the texts differ, and re-parses incrementally."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._last: OrderedDict[str, _Scan] = OrderedDict()
        self.far: OrderedDict[str, list[tuple[tuple[str, ...], int]]] = OrderedDict()  # see _far_uses

    def scan(self, path: str, text: str, language: str | None) -> _Scan:
        old = self._last.pop(path, None)
        new = _rescan(old, text, language)
        if self.size:
            self._last[path] = new
            while len(self._last) > self.size:
                self._last.popitem(last=False)
        return new


def _rescan(old: _Scan | None, text: str, language: str | None) -> _Scan:
    same = common_prefix(old.text, text) if old is not None else 0
    restart = text.rfind("\n", 0, same) + 1  # a line start, where no name chain goes on from the line above
    while old is not None and restart > 0:
        moved = restart
        for s, e in old.blanks:  # nor may a string: re-read from the line where one that crosses it starts
            if s < restart < e:
                restart = old.text.rfind("\n", 0, s) + 1
                break
        if (opening := _unclosed(old.text, old.blanks, restart)) is not None:  # a string left open there may
            restart = old.text.rfind("\n", 0, opening) + 1  # be closed now
        while _braces(language) and 0 < restart and (_CONTINUED.match(old.text, restart)
                                                        or _CONTINUED.match(text, restart)):
            restart = old.text.rfind("\n", 0, restart - 1) + 1  # nor a chain going on from the line above
        if restart == moved:
            break
    if old is None or restart == 0:
        old, restart = None, 0
    # strings, comments and name chains from `restart` on
    first_line = text.count("\n", 0, restart) + 1
    uses = [u for u in old.uses if u[1] < first_line] if old else []
    blanks = [(s, e) for s, e in old.blanks if e <= restart] if old else []
    tail = text[restart:]
    code = blanked(tail, blanks, restart, language)
    line_no, pos = first_line, 0
    # argument counts where a language picks overloads by them; else only one-line calls, for a call's value
    calls = _call_arguments(code) if language and spec(language).arity is not None else None
    # where a chain continues a call's value (`a.f(x).g`) -> `a.f` and the argument counts of its calls
    after_call: dict[int, tuple[tuple[str, ...], tuple[int | None, ...], bool]] = {}
    split: dict[str, tuple[tuple[str, ...], bool]] = {}  # a chain as written -> its names, whether a path (`a::b`)
    _, chain_call, after_call_sep = _chain_patterns(language)
    for m in chain_call.finditer(code):
        start, e = m.start(), m.end(1)
        line_no += code.count("\n", pos, start)
        pos = start
        if (known := split.get(written := m.group(1))) is None:  # code repeats its chains: each is split once
            names = tuple(_split_chain(written))
            known = split[written] = (names, len(names) > 1 and written[len(names[0]):].lstrip(" \t").startswith("::"))
        chain, scoped = known
        arities: tuple[int | None, ...] = ()
        if after_call and (prior := after_call.pop(start, None)) is not None:
            chain, arities, scoped = prior[0] + chain, prior[1], prior[2]
        args, close = None, None
        if (paren := m.start(2)) >= 0:  # a `(` after the chain (blanks between): a call
            if calls is not None:
                if (call := calls.get(paren)) is not None:
                    args, close = call
            elif (one := _ONE_LINE_CALL.match(code, paren)) is not None:
                close = one.end() - 1
        if close is not None:
            if (cont := after_call_sep.match(code, close + 1)) is not None \
                    and "\n" not in code[e:close]:  # on one line: a re-read from a line start never splits it
                after_call[cont.end()] = (chain, arities + (None,) * (len(chain) - 1 - len(arities)) + (args,),
                                          scoped)
        elif (after := code[e:e + 1]) == ")":
            if code.endswith((".(", ".(*"), 0, start) \
                    and (cont := after_call_sep.match(code, e + 1)) is not None:  # Go's `x.(*T).m`: a T's member
                after_call[cont.end()] = (chain, (), scoped)
        elif after == "[" and (index := _ONE_LINE_INDEX.match(code, e)) is not None \
                and (cont := after_call_sep.match(code, index.end())) is not None:  # `xs[i].m`: an element's member
            after_call[cont.end()] = ((*chain, ELEMENT), arities + (None,) * (len(chain) + 1 - len(arities)), scoped)
        uses.append((chain, line_no, args, arities, scoped))
    # a `.h` is read as C++; one whose code has nothing of C++ is C, where declared types lead only to fields
    cpp = language == "cpp" and (bool(old is not None and old.typed) or _CPP_SYNTAX.search(code) is not None)
    typed_here = language is not None and (language != "cpp" or cpp) and types_query(language) is not None
    if language and (line_imports := spec(language).line_imports) is not None and not typed_here:
        return _Scan(text, b"", None, _off_the_lines(line_imports, text, blanks), uses, blanks)
    data = (text + _closer(text, blanks, language)).encode("utf-8")  # what is parsed
    # imports: an incremental parse, and the import query over the changed part only
    g = grammar(language) if language else None
    reader = spec(language).read_imports if language else None
    q = _import_query(g) if g is not None and reader is not None else None
    tree, imports = None, []
    changed = len(text[:restart].encode("utf-8")) if old is not None and old.tree is not None else 0
    if q is not None and g is not None and reader is not None:
        if old is not None and old.gave_up:  # the same text up to the change did not parse in time: not again
            pass                        # at every keystroke (a text changed from its start is tried afresh)
        elif old is not None and old.tree is not None:
            old.tree.edit(start_byte=changed, old_end_byte=len(old.data), new_end_byte=len(data),
                          start_point=point(data, changed), old_end_point=point(old.data, len(old.data)),
                          new_end_point=point(data, len(data)))
            tree = g.parse(data, old.tree)
            imports = [(end, ref) for end, ref in old.imports if end <= changed]
        else:
            tree = g.parse(data)
        if tree is None:  # given up: its imports are the catalog's (read), its declared types none
            return _Scan(text, data, None, [], uses, blanks, [], gave_up=True)
        cursor = ts.QueryCursor(q)
        cursor.set_byte_range(changed, len(data))
        seen = {end for end, _ in imports}
        for _, caps in cursor.matches(tree.root_node):
            for node in caps.get("import", []):
                if node.end_byte not in seen or node.end_byte > changed:
                    imports.extend((node.end_byte, ref) for ref in reader(node))
        imports.sort(key=lambda x: x[1].line)
    typed = _typed(old, tree, language, changed) if tree is not None and language and typed_here else []
    return _Scan(text, data, tree, imports, uses, blanks, typed)


def _off_the_lines(line_imports: LineImports, text: str, blanks: list[tuple[int, int]]
                   ) -> list[tuple[int, ImportRef]]:
    """The imports `line_imports` reads off the lines of `text`, but those inside a comment or a string (`blanks`,
    sorted): a directive (`#...`) is itself a blanked span, starting at its `#`. Without a parse (for a C file the
    parse served its includes alone: a deep query's largest part after the scan itself)."""
    starts = [s for s, _ in blanks]
    out = []
    for at, ref in line_imports(text):
        i = bisect.bisect_right(starts, at) - 1
        if i < 0 or blanks[i][0] == at or blanks[i][1] <= at:
            out.append((at, ref))
    return out


def _declared(caps: dict[str, list[ts.Node]]) -> list[str] | None:
    """The chain a types-query match gives its name: a type written out (`@type`; a container type as ["[]", its
    element type...]), a value's chain (`@value`: `x := a.f().g`), an element of a value (`@elem`: a loop over
    `xs` gives ["xs", "[]"]), or a property of a value (`@from`: `const { p } = a.b` gives ["a", "b", "p"]; `@prop`
    names the property where the name is another)."""
    if (source := caps.get("from")) is not None:
        chain = value_chain((source[0].text or b"").decode("utf-8", "replace"))
        prop = (caps.get("prop") or caps["var"])[0].text or b""
        return chain + [prop.decode("utf-8", "replace")] if chain is not None else None
    for cap in ("type", "value", "elem"):
        if (nodes := caps.get(cap)) is not None:
            text = (nodes[0].text or b"").decode("utf-8", "replace")
            break
    else:
        return None
    if cap == "type":
        return [ELEMENT, *elem] if (elem := elem_chain(text)) is not None else type_chain(text)
    chain = value_chain(text)
    return chain + [ELEMENT] if chain is not None and cap == "elem" else chain


def _typed(old: _Scan | None, tree: ts.Tree, language: str, changed: int) -> list[Typed]:
    """The declared types of names (the language's types query) over the changed part, the rest from `old`."""
    q = types_query(language)
    if q is None:
        return []
    out = [t for t in old.typed if t.end <= changed] if old is not None else []
    cursor = ts.QueryCursor(q)
    cursor.set_byte_range(changed, tree.root_node.end_byte)
    for _, caps in cursor.matches(tree.root_node):
        names = caps.get("var")
        if not names or names[0].end_byte <= changed:
            continue
        chain = _declared(caps) or ([] if "local" in caps else None)  # `@local`: declared, its type unread
        if chain is not None:
            out.append(Typed(names[0].end_byte, (names[0].text or b"").decode("utf-8", "replace"), chain,
                             names[0].start_point.row + 1))
    out.sort(key=lambda t: t.end)
    return out
