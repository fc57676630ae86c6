"""Python: imports read from `import` and `from ... import` statements (modules are resolved by the symbol graph)."""
from __future__ import annotations

import tree_sitter as ts

from ..model import ImportRef
from .nodes import text
from .spec import LanguageSpec
from .types import paren_bases


def python_imports(node: ts.Node) -> list[ImportRef]:
    """`import a.b as c, d` and `from ..pkg import x as y, *` (parenthesised lists too)."""
    line = node.start_point.row + 1
    out: list[ImportRef] = []
    if node.type == "import_statement":
        for child in node.named_children:
            if child.type == "aliased_import":
                out.append(ImportRef(text(child.child_by_field_name("name")), None,
                                     text(child.child_by_field_name("alias")), line))
            elif child.type == "dotted_name":
                out.append(ImportRef(text(child), None, None, line))
        return out
    module_node = node.child_by_field_name("module_name")
    module = text(module_node).replace(" ", "")
    for child in node.named_children:
        if child == module_node:
            continue
        if child.type == "wildcard_import":
            out.append(ImportRef(module, "*", None, line))
        elif child.type == "aliased_import":
            out.append(ImportRef(module, text(child.child_by_field_name("name")),
                                 text(child.child_by_field_name("alias")), line))
        elif child.type == "dotted_name":
            out.append(ImportRef(module, text(child), None, line))
    return out


SPECS = (LanguageSpec("python", (".py", ".pyi"), "tree_sitter_python", doc_style="docstring",
                      read_imports=python_imports, types_query="python-types.scm", bases=paren_bases),)
