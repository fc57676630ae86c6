"""Per-language readers that turn an import statement's syntax node into ImportRefs."""
from __future__ import annotations

from collections.abc import Callable

import tree_sitter as ts

from .imports_more import MORE_READERS
from .model import ImportRef

ImportReader = Callable[[ts.Node], list[ImportRef]]


def _text(node: ts.Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


def python_imports(node: ts.Node) -> list[ImportRef]:
    """`import a.b as c, d` and `from ..pkg import x as y, *` (parenthesised lists too)."""
    line = node.start_point.row + 1
    out: list[ImportRef] = []
    if node.type == "import_statement":
        for child in node.named_children:
            if child.type == "aliased_import":
                out.append(ImportRef(_text(child.child_by_field_name("name")), None, _text(child.child_by_field_name("alias")), line))
            elif child.type == "dotted_name":
                out.append(ImportRef(_text(child), None, None, line))
        return out
    module_node = node.child_by_field_name("module_name")
    module = _text(module_node).replace(" ", "")
    for child in node.named_children:
        if child == module_node:
            continue
        if child.type == "wildcard_import":
            out.append(ImportRef(module, "*", None, line))
        elif child.type == "aliased_import":
            out.append(ImportRef(module, _text(child.child_by_field_name("name")), _text(child.child_by_field_name("alias")), line))
        elif child.type == "dotted_name":
            out.append(ImportRef(module, _text(child), None, line))
    return out


READERS: dict[str, ImportReader] = {"python": python_imports, **MORE_READERS}
