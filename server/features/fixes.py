"""Fixes that fix: the scope a fix rewrites, the model's reply read into line replacements, syntax checks with
tree-sitter, and the line diff that applies a replacement as minimal edits."""
from __future__ import annotations

import difflib
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import tree_sitter as ts
from ragls.indexer.languages import Grammar, grammar, language_for
from ragls.indexer.symbols import extract

MAX_SCOPE_LINES = 120  # a longer enclosing definition is cut to a region around the diagnostics
REGION_LINES = 20  # a region reaches this many lines above and below the diagnostics' lines
MAX_PROBLEMS = 3  # syntax errors quoted back to the model
FUNCTION_KINDS = frozenset({"function", "method"})
SELECTED = "the selected lines"
REGION = "the code around the diagnostics"

_FENCE = re.compile(r"```([^\n`]*)\n(.*?)```", re.DOTALL)
_LOCATION = re.compile(r"(?:(?:file|location|path)\s*:?\s*)?(\S+?):(\d+)-(\d+):?", re.IGNORECASE)
_NUMBERED = re.compile(r"^\s*\d+ \|(?: |$)")
_COMMENT = re.compile(r"\s*(?://|/\*|\*|#|--)")

Position = tuple[int, int]  # 0-based line, character (code points)
Location = tuple[str, int, int]  # path, first and last line (1-based, inclusive)


@dataclass(frozen=True, slots=True)
class Scope:
    """Lines start_line..end_line (1-based, inclusive) that a fix rewrites, and how its prompt names them."""

    start_line: int
    end_line: int
    what: str


@dataclass(frozen=True, slots=True)
class Block:
    """One fenced code block of a reply: its lines, and the location it says it replaces (None: unsaid)."""

    location: Location | None
    lines: list[str]


@dataclass(frozen=True, slots=True)
class Replacement:
    """New lines for lines start_line..end_line (1-based, inclusive) of `path`, whose current text is `text`."""

    path: str
    text: str
    start_line: int
    end_line: int
    lines: list[str]

    @property
    def eol(self) -> str:
        return "\r\n" if "\r\n" in self.text else "\n"


@dataclass(frozen=True, slots=True)
class Problem:
    """A syntax error of a parsed text: its line (1-based) and what is wrong there."""

    line: int
    message: str


# -- the scope ---------------------------------------------------------------------------------------------------


def _grammar(path: str) -> Grammar | None:
    spec = language_for(path)
    return grammar(spec.name) if spec else None


def scope(path: str, text: str, start_line: int, end_line: int) -> Scope:
    """What a fix of lines start_line..end_line rewrites: the smallest enclosing function or method (else the
    smallest enclosing definition) of at most MAX_SCOPE_LINES lines; else the whole statements around the lines
    within REGION_LINES; without a grammar, the paragraph of the lines (blank lines bound it) within REGION_LINES.
    It always holds the given lines."""
    lines = text.split("\n")
    start = max(1, min(start_line, len(lines)))
    end = max(start, min(end_line, len(lines)))
    g = _grammar(path)
    if g is None:
        lo, hi = start, end
        while lo > 1 and lines[lo - 2].strip() and start - lo < REGION_LINES:
            lo -= 1
        while hi < len(lines) and lines[hi].strip() and hi - end < REGION_LINES:
            hi += 1
        return Scope(lo, hi, REGION)
    source = text.encode("utf-8")
    if (tree := g.parse(source)) is None:  # given up (Grammar.parse): the lines around the diagnostic
        return Scope(max(1, start - REGION_LINES), min(len(lines), end + REGION_LINES), REGION)
    enclosing = [s for s in extract(g, path, source, tree).symbols if s.start_line <= start and end <= s.end_line]
    functions = [s for s in enclosing if s.kind in FUNCTION_KINDS]
    best = min(functions or enclosing, key=lambda s: s.end_line - s.start_line, default=None)
    if best is not None and best.end_line - best.start_line < MAX_SCOPE_LINES:
        return Scope(best.start_line, best.end_line, f"the definition of `{best.qualname}`")
    lo, hi = _statements(tree.root_node, lines, start, end, inside=best is not None)
    return Scope(min(lo, start), max(hi, end), REGION)


def _statements(root: ts.Node, lines: list[str], start: int, end: int, inside: bool) -> tuple[int, int]:
    """The lines of the largest syntax node around lines start..end that spans at most 2 * REGION_LINES more lines;
    `inside` a definition too long to rewrite whole, with its sibling statements within REGION_LINES."""
    first, last = lines[start - 1], lines[end - 1]
    node = root.named_descendant_for_point_range((start - 1, len(first) - len(first.lstrip())),
                                                 (end - 1, len(last.encode("utf-8"))))
    if node is None or node == root:
        return start, end
    window = end - start + 1 + 2 * REGION_LINES
    while (up := node.parent) is not None and up != root and _rows(up)[1] - _rows(up)[0] < window:
        node = up
    lo, hi = _rows(node)
    if inside:
        before, after = node.prev_named_sibling, node.next_named_sibling
        while before is not None and _rows(before)[0] >= start - REGION_LINES:
            lo, before = _rows(before)[0], before.prev_named_sibling
        while after is not None and _rows(after)[1] <= end + REGION_LINES:
            hi, after = _rows(after)[1], after.next_named_sibling
    return lo, hi


def _rows(node: ts.Node) -> tuple[int, int]:
    """A node's first and last line (1-based); a node that ends with its newline ends on the line before."""
    end = node.end_point.row
    if node.end_point.column == 0 and end > node.start_point.row:
        end -= 1
    return node.start_point.row + 1, end + 1


# -- the reply ---------------------------------------------------------------------------------------------------


# The reply's form where the endpoint constrains replies to a JSON schema (server/model/client.py); a fenced
# reply elsewhere.
SCHEMA: dict[str, Any] = {
    "type": "object", "additionalProperties": False, "required": ["code", "others"],
    "properties": {
        "code": {"type": "string"},
        "others": {"type": "array", "items": {
            "type": "object", "additionalProperties": False, "required": ["location", "code"],
            "properties": {"location": {"type": "string"}, "code": {"type": "string"}}}},
    },
}


def _json_blocks(reply: str, restore: Callable[[str], str]) -> list[Block] | None:
    """The blocks of a reply in SCHEMA's form ({"code", "others": [{"location": "path:start-end", "code"}]}), or
    None for any other reply."""
    text = reply.strip()
    if not text.startswith("{"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("code"), str):
        return None
    out = [Block(None, clean_lines(restore(data["code"])))]
    for other in data.get("others") or []:
        if isinstance(other, dict) and isinstance(other.get("code"), str) and isinstance(other.get("location"), str):
            out.append(Block(_location([other["location"].strip()]), clean_lines(restore(other["code"]))))
    return out


def blocks(reply: str, restore: Callable[[str], str]) -> list[Block]:
    """The fenced code blocks of a reply, each with the location named in its fence's info string or alone on the
    line before it (or a reply in SCHEMA's JSON form). Their text has the prompt's secret placeholders put back
    (`restore`), line numbers echoed from the prompt (`  12 | `) taken off, and no blank lines at either end."""
    if (found := _json_blocks(reply, restore)) is not None:
        return found
    out, pos = [], 0
    for m in _FENCE.finditer(reply):
        before = [ln for ln in reply[pos:m.start()].split("\n") if ln.strip()]
        pos = m.end()
        location = _location(m[1].split())
        if location is None and before:
            location = _location([before[-1].strip().strip("#>*_` ").rstrip(":").strip("*_` ")])
        out.append(Block(location, clean_lines(restore(m[2]))))
    return out


def _location(words: Sequence[str]) -> Location | None:
    for word in words:
        if (m := _LOCATION.fullmatch(word)) is not None and int(m[2]) <= int(m[3]):
            return m[1].removeprefix("./"), int(m[2]), int(m[3])
    return None


def clean_lines(code: str) -> list[str]:
    """A code block's lines: no line ends, no echoed line numbers, no blank lines at either end."""
    lines = [ln.removesuffix("\r") for ln in code.split("\n")]
    if any(ln.strip() for ln in lines) and all(_NUMBERED.match(ln) for ln in lines if ln.strip()):
        lines = [_NUMBERED.sub("", ln, count=1) for ln in lines]
    while lines and not lines[-1].strip():
        lines.pop()
    while lines and not lines[0].strip():
        lines.pop(0)
    return lines


def main_block(found: list[Block], path: str, sc: Scope) -> Block | None:
    """The block that replaces the scope: the one located at it, else the longest one with no location, else one
    located at lines of its file that overlap it (the model miscounted)."""
    for b in found:
        if b.location == (path, sc.start_line, sc.end_line):
            return b
    unsaid = max((b for b in found if b.location is None), key=lambda b: len(b.lines), default=None)
    return unsaid or next((b for b in found if b.location is not None and b.location[0] == path
                           and b.location[1] <= sc.end_line and sc.start_line <= b.location[2]), None)


def replacement(path: str, text: str, start_line: int, end_line: int, new: list[str]) -> Replacement:
    """`new` for lines start_line..end_line of `text`, narrowed to the lines that are not blank (a reply has no
    blank lines at its ends: the scope's are kept) and past the comments above a definition when the reply starts
    at the definition (they are kept), and indented as the original when the model left its indentation off (a
    method answered at column 0)."""
    lines = [ln.removesuffix("\r") for ln in text.split("\n")]
    start = max(1, min(start_line, len(lines)))
    end = max(start, min(end_line, len(lines)))
    while start < end and not lines[start - 1].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    first = new[0].strip() if new else ""
    head = start
    while head < end and lines[head - 1].strip() != first and (_COMMENT.match(lines[head - 1])
                                                               or not lines[head - 1].strip()):
        head += 1
    if head > start and lines[head - 1].strip() == first:
        start = head
    indent = _indent(lines[start - 1:end])
    if indent and not _indent(new):
        new = [indent + ln if ln.strip() else ln for ln in new]
    return Replacement(path, text, start, end, new)


def _indent(lines: list[str]) -> str:
    """The leading whitespace all non-blank lines share."""
    heads = [ln[:len(ln) - len(ln.lstrip())] for ln in lines if ln.strip()]
    return os.path.commonprefix(heads) if heads else ""


# -- checks ------------------------------------------------------------------------------------------------------


def apply(text: str, reps: Sequence[Replacement]) -> str:
    """`text` with the replacements made (they do not overlap), in its line ends."""
    lines = text.split("\n")
    eol = "\r" if "\r\n" in text else ""
    for r in sorted(reps, key=lambda r: r.start_line, reverse=True):
        new = [ln + eol for ln in r.lines]
        if new and r.end_line <= len(lines) and not lines[r.end_line - 1].endswith("\r"):
            new[-1] = new[-1].removesuffix("\r")  # the file's last line has no line end
        lines[r.start_line - 1:r.end_line] = new
    return "\n".join(lines)


def problems(path: str, text: str) -> list[Problem] | None:
    """The syntax errors tree-sitter finds in a text (ERROR and MISSING nodes), or None without a grammar or when
    the parse was given up (Grammar.parse)."""
    g = _grammar(path)
    if g is None or (tree := g.parse(text.encode("utf-8"))) is None:
        return None
    lines = text.split("\n")
    return [_problem(node, lines) for node in _errors(tree.root_node)]


def _errors(root: ts.Node) -> Iterator[ts.Node]:
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            yield node
        elif node.has_error:
            stack.extend(reversed(node.children))


def _problem(node: ts.Node, lines: list[str]) -> Problem:
    row = node.start_point.row
    if node.is_missing:
        return Problem(row + 1, f"missing `{node.type}`")
    snippet = lines[row].strip()[:80] if row < len(lines) else ""
    return Problem(row + 1, f"syntax error in `{snippet}`" if snippet else "syntax error")


def new_problems(path: str, before: str, after: str) -> list[Problem]:
    """The syntax errors of `after` when it has more than `before` (none without a grammar)."""
    old, new = problems(path, before), problems(path, after)
    if old is None or new is None or len(new) <= len(old):
        return []
    return new


# -- edits -------------------------------------------------------------------------------------------------------


def edits(rep: Replacement) -> list[tuple[Position, Position, str]]:
    """The replacement as edits of the changed lines only (a line diff), in the file's line ends: untouched lines,
    and a cursor on them, stay put. Positions count code points."""
    lines = [ln.removesuffix("\r") for ln in rep.text.split("\n")]
    first = rep.start_line - 1
    old = lines[first:rep.end_line]
    eol = rep.eol
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, rep.lines, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        a, b, new = first + i1, first + i2, rep.lines[j1:j2]
        if new and b > a:  # lines a..b-1 rewritten; the last one keeps its line end
            out.append(((a, 0), (b - 1, len(lines[b - 1])), eol.join(new)))
        elif new:  # inserted before line a (after the file's last line: after its end)
            if a < len(lines):
                out.append(((a, 0), (a, 0), "".join(ln + eol for ln in new)))
            else:
                out.append(((a - 1, len(lines[a - 1])), (a - 1, len(lines[a - 1])), "".join(eol + ln for ln in new)))
        elif b < len(lines):  # lines a..b-1 deleted with their line ends
            out.append(((a, 0), (b, 0), ""))
        else:  # ... up to the file's last line: with the line end before them
            start = (a - 1, len(lines[a - 1])) if a > 0 else (0, 0)
            out.append((start, (b - 1, len(lines[b - 1])), ""))
    return out


def overlaps(a: Replacement, b: Replacement) -> bool:
    return a.path == b.path and a.start_line <= b.end_line and b.start_line <= a.end_line
