"""Go: import specs (named, dot, blank) resolved to the package directory whose path ends the import path."""
from __future__ import annotations

import posixpath
import re

import tree_sitter as ts

from ..model import ImportRef
from .nodes import first_line, text, unquote
from .paths import PathIndex
from .spec import LanguageSpec

_GO_MAJOR = re.compile(r"v\d+")
_GOPKG_SUFFIX = re.compile(r"\.v\d+$")


def go_package_name(path: str) -> str:
    """The name a Go import path binds by default: its last segment, skipping `/v2` and `gopkg.in`'s `.v3`."""
    segments = [s for s in path.split("/") if s]
    if not segments:
        return path
    last = segments[-1]
    if _GO_MAJOR.fullmatch(last) and len(segments) > 1:
        last = segments[-2]
    return _GOPKG_SUFFIX.sub("", last) if path.startswith("gopkg.in/") else last


def go_imports(node: ts.Node) -> list[ImportRef]:
    """`import "a/b"`, `import f "fmt"`, `import _ "x"`, `import . "x"` and parenthesised groups."""
    specs = [c for c in node.named_children if c.type == "import_spec"]
    for group in (c for c in node.named_children if c.type == "import_spec_list"):
        specs.extend(c for c in group.named_children if c.type == "import_spec")
    out: list[ImportRef] = []
    for spec in specs:
        path = unquote(spec.child_by_field_name("path"))
        name = spec.child_by_field_name("name")
        if name is not None and name.type == "dot":
            out.append(ImportRef(path, "*", None, first_line(spec)))
        else:
            alias = text(name) if name is not None else go_package_name(path)
            out.append(ImportRef(path, None, alias, first_line(spec)))
    return out


def _go_package_files(directory: str, paths: PathIndex) -> list[str]:
    return [p for p in paths.files_in(directory) if p.endswith(".go") and not p.endswith("_test.go")]


def resolve_go(importer: str, ref: ImportRef, paths: PathIndex) -> list[str]:
    """The package directory whose path is the longest suffix of the import path; its non-test .go files.
    A one-segment match counts only for non-standard paths (a first segment with a dot, like github.com)."""
    segments = [s for s in ref.module.split("/") if s]
    shortest = 1 if "." in segments[0] else 2
    for start in range(len(segments) - shortest + 1):
        suffix = "/".join(segments[start:])
        dirs = [d for d in paths.dirs_ending_with(suffix) if _go_package_files(d, paths)]
        exact = [d for d in dirs if d == suffix]
        if dirs:
            return [f for d in (exact or dirs) for f in _go_package_files(d, paths)]
    return []



def go_peers(path: str, paths: PathIndex) -> list[str]:
    """The other files of a Go package: its directory's .go files (a test file sees the package's tests too)."""
    test = path.endswith("_test.go")
    return [p for p in paths.files_in(posixpath.dirname(path))
            if p != path and p.endswith(".go") and (test or not p.endswith("_test.go"))]


SPECS = (LanguageSpec("go", (".go",), "tree_sitter_go", read_imports=go_imports, resolve=resolve_go,
                      peers=go_peers),)
