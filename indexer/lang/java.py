"""Java: single-type, on-demand and static imports, resolved to the files of the named packages."""
from __future__ import annotations

import posixpath

import tree_sitter as ts

from ..model import ImportRef
from .nodes import compact, first_line, text
from .paths import PathIndex
from .spec import LanguageSpec


def java_imports(node: ts.Node) -> list[ImportRef]:
    """`import a.b.C;`, `import a.b.*;` and their `static` forms."""
    path = next((compact(text(c)) for c in node.named_children if c.type in ("scoped_identifier", "identifier")), "")
    if any(c.type == "asterisk" for c in node.named_children):
        return [ImportRef(path, "*", None, first_line(node))]
    module, sep, name = path.rpartition(".")
    return [ImportRef(module, name, None, first_line(node)) if sep else ImportRef(path, None, None, first_line(node))]


def resolve_java(importer: str, ref: ImportRef, paths: PathIndex) -> list[str]:
    """`a.b.C` -> files ending with a/b/C.java (or the outer class of a nested class / static member);
    `a.b.*` -> the .java files of directories ending with a/b."""
    parts = [p for p in ref.module.split(".") if p]
    if ref.name == "*":
        files = [f for d in paths.dirs_ending_with("/".join(parts)) for f in paths.files_in(d) if f.endswith(".java")]
        if files:
            return files
    elif ref.name:
        parts.append(ref.name)
    for end in range(len(parts), min(2, len(parts)) - 1, -1):
        found = paths.ending_with("/".join(parts[:end]) + ".java")
        if found:
            return found
    return []



def java_peers(path: str, paths: PathIndex) -> list[str]:
    """The other classes of a Java package: the .java files of the same directory."""
    return [p for p in paths.files_in(posixpath.dirname(path)) if p != path and p.endswith(".java")]


SPECS = (LanguageSpec("java", (".java",), "tree_sitter_java", read_imports=java_imports, resolve=resolve_java,
                      peers=java_peers),)
