"""Java: single-type, on-demand and static imports, resolved to the files of the named types and packages."""
from __future__ import annotations

import posixpath
import re

import tree_sitter as ts

from ..model import ImportRef
from .nodes import compact, first_line, text
from .paths import PathIndex
from .spec import LanguageSpec


def java_imports(node: ts.Node) -> list[ImportRef]:
    """`import a.b.C;`, `import a.b.*;`, `import static a.b.C.m;`, `import static a.b.C.*;`.

    A dotted name does not say where the package ends and the types begin (`a.b.Outer.Inner`: a nested type, or a
    type of package `a.b.Outer`); javac finds out from the compilation units there are. So an import yields one ref
    per reading, and only the readings whose file exists resolve: `module` is the source file's dotted path (its
    package and top-level type) and `name` the qualified name inside it (`Outer.Inner`, `C.m`; `C.*`: the members
    of C), with the simple name it binds as `alias`. `import a.b.*;` is ImportRef("a.b", "*") (the package), and
    also the reading of `a.b` as a type whose member types it imports."""
    is_static = any(c.type == "static" for c in node.children)
    path = next((compact(text(c)) for c in node.named_children if c.type in ("scoped_identifier", "identifier")), "")
    parts = [p for p in path.split(".") if p]
    line = first_line(node)
    if not parts:
        return []
    out: list[ImportRef] = []
    if any(c.type == "asterisk" for c in node.named_children):
        if not is_static:
            out.append(ImportRef(path, "*", None, line))
        out.extend(ImportRef(".".join(parts[:i + 1]), ".".join(parts[i:]) + ".*", None, line)
                   for i in range(1, len(parts)))
        return out
    last = len(parts) - (2 if is_static else 1)  # the innermost type: a static import names a member of it
    for i in range(1, last + 1):  # parts[i] is the source file's top-level type; parts[:i] its package
        name = ".".join(parts[i:])
        out.append(ImportRef(".".join(parts[:i + 1]), name, parts[-1] if "." in name else None, line))
    return out


def resolve_java(importer: str, ref: ImportRef, paths: PathIndex) -> list[str]:
    """`a.b.*` -> the .java files of the directories ending with a/b; a ref whose name starts with the module's
    last segment (`a.b.C` + `C.m`, as java_imports reads them) -> the files ending with a/b/C.java, the compilation
    unit of its top-level type. Refs of indexes made before that reading (`a.b` + `C`, `a.b.C` + `m`, and
    `a.b.C` + `*` for a static import) resolve to the longest prefix of module + name that names a file."""
    parts = [p for p in ref.module.split(".") if p]
    if not parts:
        return []
    if ref.name == "*":
        files = [f for d in paths.dirs_ending_with("/".join(parts)) for f in paths.files_in(d) if f.endswith(".java")]
        return files or (paths.ending_with("/".join(parts) + ".java") if len(parts) > 1 else [])
    if ref.name and ref.name.split(".")[0] == parts[-1]:
        return paths.ending_with("/".join(parts) + ".java") if len(parts) > 1 else []
    if ref.name:
        parts.append(ref.name)
    for end in range(len(parts), 1, -1):  # a type of the unnamed package is never imported
        if found := paths.ending_with("/".join(parts[:end]) + ".java"):
            return found
    return []


_GENERIC = re.compile(r"<[^<>]*>")
_CLAUSE = re.compile(r"\b(?:extends|implements)\b(.*?)(?=\b(?:extends|implements|permits)\b|[{(]|$)", re.S)
_ANNOTATION = re.compile(r"@[\w.]+")


def java_bases(signature: str) -> list[list[str]]:
    """The supertypes a class, interface, enum or record declares: `class X<T extends A> extends B<T> implements
    p.C, D {` -> [["B"], ["p", "C"], ["D"]] (type parameters' bounds and `permits` are not supertypes)."""
    s = _ANNOTATION.sub(" ", signature)
    while (t := _GENERIC.sub(" ", s)) != s:
        s = t
    s = s.split("{", 1)[0]
    head = re.match(r"(.*?\b(?:class|interface|enum|record)\s+[\w$]+)(.*)", s, re.S)
    rest = head.group(2) if head else s
    if head and "record" in head.group(1).split():
        rest = re.sub(r"^\s*\([^)]*\)", " ", rest)  # a record's components
    return [re.split(r"\s*\.\s*", p) for m in _CLAUSE.finditer(rest) for p in (x.strip() for x in m.group(1).split(","))
            if re.fullmatch(r"[\w$]+(?:\s*\.\s*[\w$]+)*", p)]


def java_arity(name: str, signature: str) -> tuple[int, int | None] | None:
    """How many arguments a method or constructor takes: its parameters, a varargs one any number (0 or more)."""
    m = re.search(r"(?<![\w$])" + re.escape(name) + r"\s*\(", signature)
    if m is None:
        return None
    params: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in signature[m.end():]:
        if ch in "(<[":
            depth += 1
        elif ch in ")>]":
            if ch == ")" and depth == 0:
                params.append("".join(cur).strip())
                break
            depth -= 1
        elif ch == "," and depth == 0:
            params.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    else:
        return None  # a signature cut before its `)`
    params = [p for p in params if p]
    if params and "..." in params[-1]:
        return len(params) - 1, None
    return len(params), len(params)


def java_peers(path: str, paths: PathIndex) -> list[str]:
    """The other classes of a Java package: the .java files of the same directory."""
    return [p for p in paths.files_in(posixpath.dirname(path)) if p != path and p.endswith(".java")]


SPECS = (LanguageSpec("java", (".java",), "tree_sitter_java", read_imports=java_imports, resolve=resolve_java,
                      peers=java_peers, types_query="java-types.scm",
                      bases=java_bases, implicit_this=True, reexports=False,
                      arity=java_arity, not_chunked=frozenset({"field"})),)
