"""Python: imports read from `import` and `from ... import` statements (modules are resolved by the symbol graph)."""
from __future__ import annotations

import re

import tree_sitter as ts

from ..model import ImportRef
from .nodes import text
from .spec import SMALL_KINDS, LanguageSpec
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


_CLASS_LIKE_NAME = re.compile(r"^(?:[A-Za-z_]\w*\.)*_*[A-Z]")  # `Cache()`, `models.Cache()`: a constructor (PEP 8)


def python_value_type(node: ts.Node) -> str:
    """The type an attribute a method assigns takes (`self.x = ...`, the assignment `node`): what it is
    annotated with, the class it constructs (a CapWords call), the annotation of the parameter it is given, or of
    either operand of `a or B()`; "" otherwise."""
    if node.type != "assignment" or (value := node.child_by_field_name("right")) is None:
        return ""
    if (annotated := node.child_by_field_name("type")) is not None:
        return text(annotated)
    values = [value]
    if value.type == "boolean_operator":
        values = [v for side in ("right", "left") if (v := value.child_by_field_name(side)) is not None]
    for v in values:
        if v.type == "call" and (called := v.child_by_field_name("function")) is not None \
                and called.type in ("identifier", "attribute") and _CLASS_LIKE_NAME.match(text(called)):
            return text(called)
        if v.type == "identifier" and (declared := _parameter_type(node, text(v))):
            return declared
    return ""


def _parameter_type(node: ts.Node, name: str) -> str:
    """The annotation of the parameter `name` of the function around `node`, or ""."""
    fn = node.parent
    while fn is not None and fn.type != "function_definition":
        fn = fn.parent
    params = fn.child_by_field_name("parameters") if fn is not None else None
    for p in params.named_children if params is not None else []:
        if p.type in ("typed_parameter", "typed_default_parameter") and (annotation := p.child_by_field_name("type")):
            named = p.child_by_field_name("name") if p.type == "typed_default_parameter" else p.named_children[0]
            if named is not None and text(named) == name:
                return text(annotation)
    return ""


SPECS = (LanguageSpec("python", (".py", ".pyi"), "tree_sitter_python", doc_style="docstring",
                      read_imports=python_imports, types_query="python-types.scm", bases=paren_bases,
                      value_type=python_value_type, not_chunked=SMALL_KINDS | {"field"}, method_fields=True),)
