"""Re-extract an edited file from its last parse: tree-sitter reparses what changed, and the top-level regions whose
text and surroundings did not change keep their definitions, references and imports, moved by the edit's lines.

An editor's update of a large file (200 KB) otherwise parses and queries the whole file again (80-100 ms of a
one-file update's 100 ms budget). tests/test_reextract.py checks the result equals a full extraction's over random
edits of real files in every language.
"""
from __future__ import annotations

import bisect
import logging
from collections import OrderedDict
from dataclasses import dataclass, replace

import tree_sitter as ts

from .languages import Grammar
from .model import ImportRef, ParsedFile, Symbol
from .symbols import Collector, Span, extract, nest

log = logging.getLogger(__name__)
FILES = 4  # files whose last parse is kept (the buffers being edited); a 200 KB file's tree is a few MB
_DOC_NODES = ("attribute_item", "annotation")  # above a definition with its comments (see symbols._leading_comments)


@dataclass(slots=True)
class _Region:
    """One child of the syntax tree's root and what the tags query found in it."""

    start: int
    end: int
    type: str
    defs: list[Span]
    references: dict[str, int]
    imports: list[ImportRef]


@dataclass(slots=True)
class _Last:
    grammar: Grammar
    source: bytes
    tree: ts.Tree
    regions: list[_Region]


def _point(source: bytes, offset: int) -> tuple[int, int]:
    """tree-sitter's (row, byte column) of a byte offset."""
    return source.count(b"\n", 0, offset), offset - (source.rfind(b"\n", 0, offset) + 1)


def _edit(old: bytes, new: bytes) -> tuple[int, int, int]:
    """The one edit turning `old` into `new`: (start, old end, new end), from their common prefix and suffix."""
    n = min(len(old), len(new))
    start = 0
    step = 4096
    while start < n:  # the common prefix, compared in blocks then narrowed (bytes compare in C)
        size = min(step, n - start)
        if old[start:start + size] == new[start:start + size]:
            start += size
        elif size == 1:
            break
        else:
            step = max(1, size // 2)
    tail = 0
    step = 4096
    while tail < n - start:
        size = min(step, n - start - tail)
        if old[len(old) - tail - size:len(old) - tail] == new[len(new) - tail - size:len(new) - tail]:
            tail += size
        elif size == 1:
            break
        else:
            step = max(1, size // 2)
    return start, len(old) - tail, len(new) - tail


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
        if last is None:
            tree = parser.parse(source)
            reusable: dict[tuple[int, int, str], _Region] = {}
            start, old_end, new_end = -1, len(source) + 1, len(source) + 1  # no region counts as untouched
            rows = 0
        else:
            start, old_end, new_end = _edit(last.source, source)
            last.tree.edit(start_byte=start, old_end_byte=old_end, new_end_byte=new_end,
                           start_point=_point(last.source, start), old_end_point=_point(last.source, old_end),
                           new_end_point=_point(source, new_end))
            tree = parser.parse(source, last.tree)
            if tree.root_node.has_error:  # error recovery may go otherwise than a fresh parse's: parsed afresh
                tree = parser.parse(source)
            delta = new_end - old_end
            rows = source.count(b"\n", start, new_end) - last.source.count(b"\n", start, old_end)
            reusable = {}
            # patterns rooted at the file's node (a Go package's constants) match its children only while it parses
            # as that node (a root that became an ERROR, or stopped being one, matches differently everywhere), and an
            # ERROR root's children are fragments whose matches depend on their neighbours
            same_root = tree.root_node.type == last.tree.root_node.type != "ERROR"
            for r in last.regions if same_root else ():
                if r.end <= start:
                    reusable[(r.start, r.end, r.type)] = r
                elif r.start >= old_end:
                    reusable[(r.start + delta, r.end + delta, r.type)] = r
        children = tree.root_node.children

        # A region is read by whole lines (a signature is its first lines; a one-line definition's, its line): it is
        # the last parse's when those lines, and the newlines around them, are before or after the edit.
        def before(j: int) -> bool:
            end = source.find(b"\n", children[j].end_byte)
            return 0 <= end < start

        def same(j: int) -> bool:  # the region is one of the last parse's, after the edit
            return source.rfind(b"\n", 0, children[j].start_byte) >= new_end and \
                (children[j].start_byte, children[j].end_byte, children[j].type) in reusable

        def above_unchanged(i: int) -> bool:
            """The regions a definition's leading comments are read from (the run of comments directly above
            it, and what ends that run) are the last parse's too."""
            j = i - 1
            while j >= 0 and same(j):
                if not _is_doc(children[j]):
                    return True
                j -= 1
            return False

        comments = grammar.spec.doc_style == "comment"
        kept: list[_Region | None] = []
        for i, child in enumerate(children):
            old = reusable.get((child.start_byte, child.end_byte, child.type))
            if old is not None and not before(i) and not (same(i) and (not comments or above_unchanged(i))):
                old = None
            kept.append(old)
        lines = source.decode("utf-8", "replace").split("\n")  # tree-sitter rows end at \n only
        fresh = [Collector(grammar, path, lines) if k is None else None for k in kept]
        todo = [i for i, k in enumerate(kept) if k is None]
        if todo:
            cursor = ts.QueryCursor(grammar.query)
            cursor.set_byte_range(children[todo[0]].start_byte, children[todo[-1]].end_byte)
            starts = [c.start_byte for c in children]
            for _, caps in cursor.matches(tree.root_node):
                first = min(n.start_byte for nodes in caps.values() for n in nodes)
                at = bisect.bisect_right(starts, first) - 1
                collector = fresh[at] if 0 <= at < len(fresh) and first < children[at].end_byte else None
                if collector is not None:
                    collector.take(caps)
        delta = new_end - old_end
        regions: list[_Region] = []
        for child, old, got in zip(children, kept, fresh):
            if got is not None:
                regions.append(_Region(child.start_byte, child.end_byte, child.type, got.definitions(),
                                       got.references, got.imports))
            elif old is not None and child.end_byte <= start:  # before the edit, where it was
                regions.append(old)
            elif old is not None:  # after the edit: the same text, moved
                regions.append(_Region(child.start_byte, child.end_byte, child.type,
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
                          symbols=nest([d for r in regions for d in r.defs]),
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
