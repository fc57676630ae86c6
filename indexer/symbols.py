"""Parse a file with tree-sitter and extract its definitions, references and imports via the tags query."""
from __future__ import annotations

import functools
import logging
from collections.abc import Iterable
from dataclasses import replace

import tree_sitter as ts

from .languages import Grammar
from .model import ImportRef, ParsedFile, Symbol

log = logging.getLogger(__name__)

CLASS_KINDS = frozenset({"class", "interface", "struct", "enum", "trait", "impl", "module", "namespace", "union",
                         "object"})
HEAD_MAX_LINES = 16  # a collapsed view shows at most this many lines of the definition itself
DOC_MAX_LINES = 8  # of a definition's leading comments (JSDoc, Javadoc, ///), the lines nearest it are kept
SIGNATURE_MAX_CHARS = 300
MULTI_NAME_KINDS = frozenset({"field", "constant", "variable"})  # `keyConv, valConv Converter`, `var x, y int`
_WRAPPERS = frozenset({"decorated_definition", "export_statement", "template_declaration"})
Span = tuple[int, int, Symbol]  # a definition's node's start and end byte, and the definition


def _line(point_row: int) -> int:
    return point_row + 1


def _outer(node: ts.Node) -> ts.Node:
    """The node including its decorators / `export` / `template<>` wrapper."""
    while node.parent is not None and node.parent.type in _WRAPPERS:
        node = node.parent
    return node


def _leading_comments(node: ts.Node) -> tuple[int, str]:
    """Start row and text of the comments (and attributes) directly above a node."""
    start, docs, cur = node.start_point.row, [], node.prev_sibling
    while cur is not None and ("comment" in cur.type or cur.type in ("attribute_item", "annotation")) \
            and cur.end_point.row >= start - 1:
        if "comment" in cur.type:
            docs.append(cur.text.decode("utf-8", "replace") if cur.text else "")
        start, cur = cur.start_point.row, cur.prev_sibling
    return start, "\n".join(reversed(docs))


def _docstring(body: ts.Node | None) -> tuple[int | None, str]:
    """End row and text of a Python docstring: the first statement of a body, if it is a string."""
    if body is None or body.named_child_count == 0:
        return None, ""
    first = body.named_children[0]
    if first.type == "expression_statement" and first.named_child_count and first.named_children[0].type == "string":
        return first.end_point.row, (first.text or b"").decode("utf-8", "replace")
    return None, ""


def _clean_doc(doc: str) -> str:
    lines = [ln.strip().lstrip("/*#!").removesuffix("*/").strip().strip("\"'").strip() for ln in doc.splitlines()]
    return " ".join(ln for ln in lines if ln)[:500]


def _definition(grammar: Grammar, node: ts.Node, name: str, kind: str, path: str, lines: list[str]) -> Symbol:
    outer = _outer(node)
    start_row, end_row = outer.start_point.row, node.end_point.row
    if node.end_point.column == 0 and end_row > node.start_point.row:  # a node that ends with its newline (#define)
        end_row -= 1
    doc = ""
    if grammar.spec.doc_style == "comment":  # the comments above belong to it, but never more than the code
        comments_row, doc = _leading_comments(outer)
        start_row = max(comments_row, outer.start_point.row - DOC_MAX_LINES)
    body = node.child_by_field_name("body")
    if body is None or body.start_point.row < node.start_point.row:
        sig_end = end_row if end_row - node.start_point.row < 3 else node.start_point.row
    elif grammar.spec.doc_style == "docstring":
        sig_end = max(node.start_point.row, body.start_point.row - 1)
        doc_end, doc = _docstring(body)
        if doc_end is not None:
            sig_end = doc_end
    else:
        sig_end = body.start_point.row
    # the collapsed view always reaches the signature (a long comment above is cut, never shown instead of it)
    head_end = min(max(sig_end, node.start_point.row), node.start_point.row + HEAD_MAX_LINES - 1, end_row)
    last_sig_row = sig_end
    if body is not None and body.start_point.row > node.start_point.row:
        last_sig_row = body.start_point.row - (1 if grammar.spec.doc_style == "docstring" else 0)
    sig_lines = lines[node.start_point.row: max(node.start_point.row, min(sig_end, last_sig_row)) + 1]
    signature = " ".join(" ".join(sig_lines).split())[:SIGNATURE_MAX_CHARS]
    return Symbol(name=name, qualname=name, kind=kind, path=path, start_line=_line(start_row), end_line=_line(end_row),
                  head_end=_line(head_end), signature=signature, doc=_clean_doc(doc))


_REFERENCE, _IMPORT = object(), object()
_INFERRED = frozenset({"constant", "function", "method", "field"})  # kinds whose type a language may read off a value


@functools.cache
def _roles(query: ts.Query) -> dict[str, object]:
    """What each capture of a tags query stands for: a definition (its kind), a reference, or an import; other
    captures ("name", "owner", "type") are read along with these."""
    out: dict[str, object] = {}
    for i in range(query.capture_count):
        key = query.capture_name(i)
        if key.startswith("definition."):
            out[key] = key.split(".", 1)[1]
        elif key.startswith("reference."):
            out[key] = _REFERENCE
        elif key == "import":
            out[key] = _IMPORT
    return out


class Collector:
    """What the tags query's matches hold, taken one match at a time: definitions by byte span, references counted
    by name, imports in order."""

    def __init__(self, grammar: Grammar, path: str, lines: list[str]) -> None:
        self.grammar, self.path, self.lines = grammar, path, lines
        self.roles = _roles(grammar.query)
        self.found: dict[tuple, tuple[ts.Node, Symbol]] = {}  # by the node's byte span (and name, MULTI_NAME_KINDS)
        self.references: dict[str, int] = {}
        self.imports: list[ImportRef] = []

    def take(self, caps: dict[str, list[ts.Node]]) -> None:
        self.take_all((caps,))

    def take_all(self, matches: Iterable[dict[str, list[ts.Node]]]) -> None:
        """The matches' captures, in order (one loop with its names bound once: a file has thousands)."""
        grammar, found, roles, references, imports = self.grammar, self.found, self.roles, self.references, self.imports
        reader, infer = grammar.spec.read_imports, grammar.spec.value_type
        for caps in matches:
            names = caps.get("name")
            for key, nodes in caps.items():
                role = roles.get(key)
                if role is None:
                    continue
                if role is _REFERENCE:
                    if names:
                        name = (names[0].text or b"").decode("utf-8", "replace")
                        references[name] = references.get(name, 0) + 1
                elif role is _IMPORT:
                    if reader is not None:
                        imports.extend(reader(nodes[0]))
                elif names:  # a definition of this kind
                    kind = role
                    node = nodes[0]
                    span: tuple = (node.start_byte, node.end_byte)
                    name = (names[0].text or b"").decode("utf-8", "replace")
                    earlier = found[span][1] if span in found else None
                    if earlier is not None and earlier.kind == kind and kind in MULTI_NAME_KINDS \
                            and earlier.name != name:  # `a, b int`: one declaration, a definition per name
                        span = (*span, name)
                        earlier = found[span][1] if span in found else None
                    if earlier is None or ("owner" in caps and earlier.parent is None) \
                            or (earlier.kind == "field" and kind != "field"):  # a function-valued field is a method
                        sym = _definition(grammar, node, name, str(kind), self.path, self.lines)
                        if owner := caps.get("owner"):  # declared apart from its type (Go's methods): "Type.name"
                            parent = (owner[0].text or b"").decode("utf-8", "replace")
                            sym = replace(sym, qualname=f"{parent}.{name}", parent=parent)
                        found[span] = (node, sym)
                    if (declared := caps.get("type")) and not found[span][1].type:  # a field's type, a result type
                        found[span] = (node, replace(found[span][1],
                                                     type=(declared[0].text or b"").decode("utf-8", "replace")[:200]))
                    elif kind in _INFERRED and not found[span][1].type and infer:  # its value's type, or the
                        found[span] = (node, replace(found[span][1], type=infer(node)[:200]))  # result it returns

    def definitions(self) -> list[Span]:
        return [(node.start_byte, node.end_byte, sym) for node, sym in self.found.values()]


def extract(grammar: Grammar, path: str, source: bytes, tree: ts.Tree | None = None) -> ParsedFile:
    """Definitions (with qualified names and parents), call references and imports of one file (`tree`: its parse,
    when the caller has it). A file with syntax errors yields whatever parses."""
    if tree is None and (tree := grammar.parse(source)) is None:  # given up (Grammar.parse): line windows, as text
        return ParsedFile(path=path, language=grammar.spec.name, has_errors=True)
    lines = source.decode("utf-8", "replace").split("\n")  # tree-sitter rows end at \n only
    found = Collector(grammar, path, lines)
    found.take_all(caps for _, caps in ts.QueryCursor(grammar.query).matches(tree.root_node))
    return ParsedFile(path=path, language=grammar.spec.name,
                      symbols=nest(found.definitions(), grammar.spec.method_fields), imports=found.imports,
                      references=found.references, has_errors=tree.root_node.has_error)


def nest(defs: list[Span], method_fields: bool = False) -> list[Symbol]:
    """Give each definition (start byte, end byte, symbol) its parent and qualified name from byte-range
    containment; with `method_fields` (LanguageSpec), a field found in a method is the class's around it."""
    out: list[Symbol] = []
    stack: list[tuple[int, int, Symbol]] = []  # (start byte, end byte, symbol) of the definitions enclosing the next
    attributes: dict[tuple[str, str], int] = {}  # (class, name) -> where in `out` its field is
    for start, end, sym in sorted(defs, key=lambda d: (d[0], -d[1])):
        while stack and (stack[-1][1] < end or stack[-1][:2] == (start, end)):  # `a, b int`: siblings, not nested
            stack.pop()
        parent = stack[-1][2] if stack else None
        if sym.parent is not None:  # its owner's member, declared apart (Go's methods, TypeScript's parameter fields)
            out.append(sym)
            stack.append((start, end, sym))
            continue
        if method_fields and sym.kind == "field" and parent is not None and parent.kind in ("method", "function"):
            # an attribute a method gives its instance (Python's `self.x = ...`): a field of the class around it,
            # once, with the first type it is given (`self.x = None` in `close()` does not undo `__init__`'s)
            if (parent := next((s for _, _, s in reversed(stack) if s.kind in CLASS_KINDS), None)) is None:
                continue
            key = (parent.qualname, sym.name)
            if (at := attributes.get(key)) is not None:
                if not out[at].type and sym.type:
                    out[at] = replace(out[at], type=sym.type)
                continue
            attributes[key] = len(out)
        kind = sym.kind
        if parent is not None and parent.kind in CLASS_KINDS and kind == "function":
            kind = "method"
        sym = replace(sym, kind=kind, parent=parent.qualname if parent else None,
                      qualname=f"{parent.qualname}.{sym.name}" if parent else sym.name)
        out.append(sym)
        stack.append((start, end, sym))
    return out
