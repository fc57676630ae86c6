"""C and C++: `#include "..."` resolved beside the includer, then by path suffix (system headers skipped)."""
from __future__ import annotations

import posixpath

import tree_sitter as ts

from ..model import ImportRef
from .nodes import first_line, unquote
from .paths import PathIndex
from .spec import LanguageSpec
from .types import cpp_bases


def c_includes(node: ts.Node) -> list[ImportRef]:
    """`#include "x/y.h"`; `<system>` headers are skipped."""
    path = node.child_by_field_name("path")
    if path is None or path.type != "string_literal":
        return []
    return [ImportRef(unquote(path), "*", None, first_line(node))]


def resolve_c(importer: str, ref: ImportRef, paths: PathIndex) -> list[str]:
    """`#include "x/y.h"`: beside the importer first, then any file that is or ends with x/y.h."""
    local = posixpath.normpath(posixpath.join(posixpath.dirname(importer), ref.module))
    if paths.has(local):
        return [local]
    suffix = "/".join(p for p in posixpath.normpath(ref.module).split("/") if p not in ("..", "."))
    return paths.ending_with(suffix) if suffix else []



SPECS = (
    LanguageSpec("c", (".c",), "tree_sitter_c", read_imports=c_includes, resolve=resolve_c),
    LanguageSpec("cpp", (".cc", ".cpp", ".cxx", ".c++", ".h", ".hh", ".hpp", ".hxx", ".h++"), "tree_sitter_cpp",
                 read_imports=c_includes, resolve=resolve_c, bases=cpp_bases, implicit_this=True),
)
