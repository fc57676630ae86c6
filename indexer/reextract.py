"""Re-extract an edited file from its last parse: tree-sitter reparses what changed, and the stretches of the file
(top-level definitions; the members of a large class) whose lines and surroundings did not change keep their
definitions, references and imports, moved by the edit's lines.

An editor's update of a large file (200 KB) otherwise parses and queries the whole file again (80-100 ms of a
one-file update's 100 ms budget). tests/test_reextract.py checks the result equals a full extraction's over random
edits of real files in every language.
"""
from __future__ import annotations

import bisect
import logging
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import AnyStr

import tree_sitter as ts

from .languages import Grammar
from .model import ImportRef, ParsedFile, Symbol
from .symbols import Collector, Span, extract, nest

log = logging.getLogger(__name__)
FILES = 4  # files whose last parse is kept (the buffers being edited); a 200 KB file's tree is a few MB
SPLIT_BYTES = 4096  # a definition with a body this large is read member by member (a Java file is one class)
_INNER = ("definition", "declaration")  # the field a wrapper (decorators, `export`) holds its definition in
_DOC_NODES = ("attribute_item", "annotation")  # above a definition with its comments (see symbols._leading_comments)


@dataclass(slots=True)
class _Unit:
    """A stretch of the file read on its own: a child of the syntax tree's root, or, in a large class (or other
    definition with a body), its head (up to its first member), each member and its tail."""

    start: int
    end: int
    key: str  # the node's type; a member's is prefixed by its body's, a head's and tail's name their container's
    node: ts.Node  # the child (for a head or tail, the container): its lines and neighbours decide reuse
    siblings: list[ts.Node] | None  # the nodes the node's leading comments are read from, and its place among them
    index: int


@dataclass(slots=True)
class _Region:
    """A unit and what the tags query found in it."""

    start: int
    end: int
    key: str
    node: tuple[int, int, str]  # its node's start, end and type
    defs: list[Span]
    references: dict[str, int]
    imports: list[ImportRef]


@dataclass(slots=True)
class _Last:
    grammar: Grammar
    source: bytes
    tree: ts.Tree
    regions: list[_Region]


def common_prefix(a: AnyStr, b: AnyStr) -> int:
    """Length of the longest common prefix (slice comparisons run in C; a bisection keeps them few)."""
    lo, hi = 0, min(len(a), len(b))
    if a[:hi] == b[:hi]:
        return hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def point(data: bytes, at: int) -> tuple[int, int]:
    """tree-sitter's (row, byte column) of a byte offset."""
    return data.count(b"\n", 0, at), at - (data.rfind(b"\n", 0, at) + 1)


def _edit(old: bytes, new: bytes) -> tuple[int, int, int]:
    """The one edit turning `old` into `new`: (start, old end, new end), from their common prefix and suffix."""
    start = common_prefix(old, new)
    tail = common_prefix(old[start:][::-1], new[start:][::-1])
    return start, len(old) - tail, len(new) - tail


def _body(node: ts.Node) -> ts.Node | None:
    """The body of a definition (or of the definition a wrapper holds), when it has members to read apart."""
    for _ in range(3):
        if (body := node.child_by_field_name("body")) is not None:
            return body if body.named_child_count >= 2 else None
        inner = next((n for f in _INNER if (n := node.child_by_field_name(f)) is not None), None)
        if inner is None:
            return None
        node = inner
    return None


def _units(children: list[ts.Node]) -> list[_Unit]:
    out: list[_Unit] = []
    for i, child in enumerate(children):
        body = _body(child) if child.end_byte - child.start_byte >= SPLIT_BYTES else None
        if body is None:
            out.append(_Unit(child.start_byte, child.end_byte, child.type, child, children, i))
            continue
        members = body.children
        out.append(_Unit(child.start_byte, members[0].start_byte, f"head:{child.type}", child, children, i))
        out.extend(_Unit(m.start_byte, m.end_byte, f"{body.type}>{m.type}", m, members, j)
                   for j, m in enumerate(members))
        if members[-1].end_byte < child.end_byte:
            out.append(_Unit(members[-1].end_byte, child.end_byte, f"tail:{child.type}", child, None, i))
    return out


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    """Consecutive indices as (first, last) pairs."""
    out: list[tuple[int, int]] = []
    for i in indices:
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def _is_doc(node: ts.Node) -> bool:
    return "comment" in node.type or node.type in _DOC_NODES


class Reextractor:
    """`extract` for the files being edited: the same result as symbols.extract, from the last parse of the file
    (at most FILES kept, least recently used dropped)."""

    def __init__(self, files: int = FILES) -> None:
        self._files = files
        self._last: OrderedDict[str, _Last] = OrderedDict()

    def extract(self, grammar: Grammar, path: str, source: bytes) -> ParsedFile:
        last = self._last.pop(path, None)
        if last is not None and last.grammar is not grammar:
            last = None
        try:
            return self._extract(grammar, path, source, last)
        except Exception as exc:  # noqa: BLE001  (a fault here must cost speed only: extracted whole, as by a refresh)
            log.warning("%s: extracted whole after an incremental failure: %s", path, exc)
            self._last.pop(path, None)
            return extract(grammar, path, source)

    def _extract(self, grammar: Grammar, path: str, source: bytes, last: _Last | None) -> ParsedFile:
        parser = grammar.parser()
        reusable: dict[tuple[int, int, str], _Region] = {}  # by where they are now
        parse = grammar.parse
        nodes: set[tuple[int, int, str]] = set()  # the last parse's nodes, where they are now
        if last is None:  # no region counts as untouched
            start, old_end, new_end = -1, len(source) + 1, len(source) + 1
            tree, delta, rows = parse(source, parser=parser), 0, 0
        else:
            start, old_end, new_end = _edit(last.source, source)
            delta = new_end - old_end
            last.tree.edit(start_byte=start, old_end_byte=old_end, new_end_byte=new_end,
                           start_point=point(last.source, start), old_end_point=point(last.source, old_end),
                           new_end_point=point(source, new_end))
            tree = parse(source, last.tree, parser)
            if tree is not None and tree.root_node.has_error:  # error recovery may go otherwise than a fresh
                tree = parse(source, parser=parser)              # parse's: parsed afresh
        if tree is None:  # given up (Grammar.parse): line windows, as `extract` makes of it
            self._last.pop(path, None)
            return ParsedFile(path=path, language=grammar.spec.name, has_errors=True)
        if last is not None:
            rows = source.count(b"\n", start, new_end) - last.source.count(b"\n", start, old_end)
            # patterns rooted at the file's node (a Go package's constants) match its children only while it parses
            # as that node (a root that became an ERROR, or stopped being one, matches differently everywhere), and an
            # ERROR root's children are fragments whose matches depend on their neighbours
            same_root = tree.root_node.type == last.tree.root_node.type != "ERROR"
            for r in last.regions if same_root else ():
                if r.node[1] <= start:
                    reusable[(r.start, r.end, r.key)] = r
                    nodes.add(r.node)
                elif r.node[0] >= old_end:
                    reusable[(r.start + delta, r.end + delta, r.key)] = r
                    nodes.add((r.node[0] + delta, r.node[1] + delta, r.node[2]))
        units = _units(tree.root_node.children)

        # A unit is read by whole lines (a signature is its first lines; a one-line definition's, its line): it is
        # the last parse's when its node's lines, and the newlines around them, are before or after the edit.
        def before(node: ts.Node) -> bool:
            end = source.find(b"\n", node.end_byte)
            return 0 <= end < start

        def after(node: ts.Node) -> bool:
            return source.rfind(b"\n", 0, node.start_byte) >= new_end and \
                (node.start_byte, node.end_byte, node.type) in nodes

        def above_unchanged(u: _Unit) -> bool:
            """The nodes a definition's leading comments are read from (the run of comments directly above it,
            and what ends that run) are the last parse's too."""
            if u.siblings is None:
                return True
            j = u.index - 1
            while j >= 0 and after(u.siblings[j]):
                if not _is_doc(u.siblings[j]):
                    return True
                j -= 1
            return False

        comments = grammar.spec.doc_style == "comment"
        kept: list[_Region | None] = []
        for u in units:
            old = reusable.get((u.start, u.end, u.key))
            if old is not None and not before(u.node) and not (after(u.node) and (not comments or above_unchanged(u))):
                old = None
            kept.append(old)
        lines = source.decode("utf-8", "replace").split("\n")  # tree-sitter rows end at \n only
        fresh = [Collector(grammar, path, lines) if k is None else None for k in kept]
        starts = [u.start for u in units]
        cursor = ts.QueryCursor(grammar.query)
        for a, b in _runs([i for i, k in enumerate(kept) if k is None]):  # each stretch of units to read again
            cursor.set_byte_range(units[a].start, units[b].end)
            for _, caps in cursor.matches(tree.root_node):
                first = min(n.start_byte for found in caps.values() for n in found)
                at = bisect.bisect_right(starts, first) - 1
                if a <= at <= b and first < units[at].end and (got := fresh[at]) is not None:
                    got.take(caps)
        regions: list[_Region] = []
        for u, old, got in zip(units, kept, fresh, strict=True):
            node = (u.node.start_byte, u.node.end_byte, u.node.type)
            if got is not None:
                regions.append(_Region(u.start, u.end, u.key, node, got.definitions(), got.references, got.imports))
            elif old is not None and u.node.end_byte <= start:  # before the edit, where it was
                regions.append(old)
            elif old is not None:  # after the edit: the same text, moved
                regions.append(_Region(u.start, u.end, u.key, node,
                                       [(s + delta, e + delta, _moved(sym, rows)) for s, e, sym in old.defs],
                                       old.references, [replace(i, line=i.line + rows) for i in old.imports]))
        self._last[path] = _Last(grammar, source, tree, regions)
        while len(self._last) > self._files:
            self._last.popitem(last=False)
        references: dict[str, int] = {}
        for r in regions:
            for name, n in r.references.items():
                references[name] = references.get(name, 0) + n
        return ParsedFile(path=path, language=grammar.spec.name,
                          symbols=nest([d for r in regions for d in r.defs], grammar.spec.method_fields),
                          imports=[i for r in regions for i in r.imports], references=references,
                          has_errors=tree.root_node.has_error)

    def holds(self, path: str, source: bytes) -> bool:
        """Whether the last parse kept for `path` is of `source`."""
        last = self._last.get(path)
        return last is not None and last.source == source

    def forget(self, path: str) -> None:
        self._last.pop(path, None)


def _moved(sym: Symbol, rows: int) -> Symbol:
    return replace(sym, start_line=sym.start_line + rows, end_line=sym.end_line + rows, head_end=sym.head_end + rows)
