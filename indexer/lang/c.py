"""C and C++: `#include "..."` resolved beside the includer, then by path suffix (system headers skipped)."""
from __future__ import annotations

import posixpath
import re

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


_INCLUDE_LINE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"\n]+)"', re.MULTILINE)


def c_include_lines(text: str) -> list[tuple[int, ImportRef]]:
    """`#include "x/y.h"` lines of `text`, as `c_includes` reads them from the tree, each with where its `#` is (the
    caller passes over those inside a comment)."""
    out, line, pos = [], 1, 0
    for m in _INCLUDE_LINE.finditer(text):
        line += text.count("\n", pos, m.start())
        pos = m.start()
        out.append((text.index("#", m.start()), ImportRef(m.group(1), "*", None, line)))
    return out


def resolve_c(importer: str, ref: ImportRef, paths: PathIndex) -> list[str]:
    """`#include "x/y.h"`: beside the importer first, then any file that is or ends with x/y.h."""
    local = posixpath.normpath(posixpath.join(posixpath.dirname(importer), ref.module))
    if paths.has(local):
        return [local]
    suffix = "/".join(p for p in posixpath.normpath(ref.module).split("/") if p not in ("..", "."))
    return paths.ending_with(suffix) if suffix else []



# `class LEVELDB_EXPORT WriteBatch {`, `struct API Name : Base {`: an upper-case macro between the keyword and the
# name, which the grammar reads as the class's name (the class then parses as a function returning it).
_EXPORT_MACRO = re.compile(rb"\b(?:class|struct|union)\s+([A-Z][A-Z0-9_]*[A-Z0-9])\s+"
                           rb"(?=(?:[A-Za-z_]\w*\s*::\s*)*[A-Za-z_]\w*\s*(?:final\s*)?(?::[^:]|\{))")


def blank_export_macros(source: bytes) -> bytes:
    """`source` with the export macros of class heads replaced by spaces (the same length)."""
    if b"class" not in source and b"struct" not in source:
        return source
    return _EXPORT_MACRO.sub(lambda m: m.group(0).replace(m.group(1), b" " * len(m.group(1)), 1), source)


# A macro, a `#define` constant and a typedef are what a C or C++ reader looks up most (clang's references on
# redis, jq and leveldb: a third of the names a function uses from another file): chunks of their own. An enum's
# constants are shown with their enum, a class's data members with their class.
_C_NOT_CHUNKED = frozenset({"enumerator", "field"})
# A header's `#define` constants come in runs of related ones (redis's server.h: 1,500 of them): a run is one snippet.
_C_GROUPED = frozenset({"constant"})

SPECS = (
    LanguageSpec("c", (".c",), "tree_sitter_c", queries=("c.scm", "c-family.scm"), read_imports=c_includes,
                 line_imports=c_include_lines, resolve=resolve_c, grouped=_C_GROUPED, not_chunked=_C_NOT_CHUNKED),
    LanguageSpec("cpp", (".cc", ".cpp", ".cxx", ".c++", ".h", ".hh", ".hpp", ".hxx", ".h++"), "tree_sitter_cpp",
                 queries=("cpp.scm", "c-family.scm"), read_imports=c_includes, line_imports=c_include_lines,
                 resolve=resolve_c, bases=cpp_bases,
                 implicit_this=True, types_query="cpp-types.scm", prepare=blank_export_macros, grouped=_C_GROUPED,
                 not_chunked=_C_NOT_CHUNKED),
)
