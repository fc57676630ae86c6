"""Read the code a query may see (before the cursor, or up to the selection's end): its imports, the name chains
it uses, and the syntax right before the cursor."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import tree_sitter as ts

from .imports import READERS
from .languages import Grammar, grammar, language_for, query_source
from .model import ImportRef

_CHAIN = re.compile(r"[A-Za-z_$][\w$]*(?:[ \t]*(?:\.|::|->)[ \t]*[A-Za-z_$][\w$]*)*")
_RECEIVER = re.compile(r"([A-Za-z_$][\w$]*(?:[ \t]*(?:\.|::|->)[ \t]*[A-Za-z_$][\w$]*)*)[ \t]*(?:\.|::|->)[ \t]*$")
_FUNC_START = re.compile(r"^\s*(?:async\s+)?(?:def|function|func|fn)\b|^\s*(?:public|private|protected|static)\b.*\(")
_STRING_OR_COMMENT = re.compile(
    r'(?P<prefix>\b[rRbBuUfF]{1,2})?(?:"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\')'
    r'|#[^\n]*|//[^\n]*')


def _blank(m: re.Match) -> str:
    """Strings and comments become blank lines (line numbers stay); f-strings keep their expressions."""
    if m.group("prefix") and "f" in m.group("prefix").lower():
        return m.group()
    return "\n" * m.group().count("\n")


@dataclass(slots=True)
class Use:
    chain: list[str]
    line: int


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
    receiver: list[str] | None = None  # the chain before a trailing "." / "::" / "->" at the cursor
    receiver_resolved: bool = False  # set by retrieval when the receiver is a known module or class
    line_prefix: str = ""
    function_start: int = 1  # first line of the function around the cursor (heuristic)


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


def read(path: str, source: str, line: int, col: int | None, end_line: int | None) -> Visible:
    """Cut `source` to what the query may see and analyse it. `line` is 1-based, `col` a 0-based character
    column; a selection (end_line) sees whole lines up to end_line."""
    all_lines = source.split("\n")
    if end_line is not None:
        lines = all_lines[:end_line]
        selection = (line, end_line)
        cursor_line = end_line
    else:
        lines = all_lines[:line]
        if lines:
            lines[-1] = lines[-1][: col if col is not None else len(lines[-1])]
        selection, cursor_line = None, line
    text = "\n".join(lines)
    spec = language_for(path)
    v = Visible(path, spec.name if spec else None, text, lines, cursor_line, selection)
    g = grammar(spec.name) if spec else None
    reader = READERS.get(spec.name) if spec else None
    if g is not None and reader is not None and (q := _import_query(g)) is not None:
        tree = g.parser().parse(text.encode("utf-8"))
        for _, caps in ts.QueryCursor(q).matches(tree.root_node):
            for node in caps.get("import", []):
                v.imports.extend(reader(node))
    code = _STRING_OR_COMMENT.sub(_blank, text)
    line_no, pos = 1, 0
    for m in _CHAIN.finditer(code):
        line_no += code.count("\n", pos, m.start())
        pos = m.start()
        v.uses.append(Use(re.split(r"[ \t]*(?:\.|::|->)[ \t]*", m.group()), line_no))
    if selection is None and lines:
        v.line_prefix = lines[-1]
        if (m := _RECEIVER.search(lines[-1])) is not None:
            v.receiver = re.split(r"[ \t]*(?:\.|::|->)[ \t]*", m.group(1))
        for i in range(len(lines) - 1, -1, -1):
            if _FUNC_START.match(lines[i]):
                v.function_start = i + 1
                break
    elif selection is not None:
        v.function_start = selection[0]
    return v
