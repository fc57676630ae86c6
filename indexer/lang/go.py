"""Go: import specs (named, dot, blank) resolved through the module's go.mod (else by path suffix), a package's files
seen by each other, the export rule, where a type is expected, and the type a constant's value gives it."""
from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from weakref import WeakKeyDictionary

import tree_sitter as ts

from ..model import ImportRef
from .gobuild import constraints_allow, go_minor, host, name_allows, satisfied
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
    files = [p for p in paths.files_in(directory) if p.endswith(".go") and not p.endswith("_test.go")]
    return [p for p in files if in_build(p, paths)] or files


# per index of files: whether the default build includes a file (its name and build constraints)
_BUILDS: WeakKeyDictionary[PathIndex, dict[str, bool]] = WeakKeyDictionary()


def in_build(path: str, paths: PathIndex) -> bool:
    """Whether the default build (gobuild.host(), the go.mod's language version) includes a Go file. Files of
    another platform or of custom tags (`_arm64.go`, `//go:build noasm`) are not part of the package a build of
    this machine sees: of a function declared in both, the other file's is the one gopls shows."""
    known = _BUILDS.setdefault(paths, {})
    if (found := known.get(path)) is None:
        goos, goarch = host()
        found = name_allows(path, goos, goarch)
        if found and paths.read is not None and (text := paths.read(path)) is not None:
            module = go_module(path, paths)
            go_mod = paths.read(posixpath.join(module.directory, "go.mod")) if module is not None else None
            found = constraints_allow(text, satisfied(goos, goarch, go_minor(go_mod)))
        known[path] = found
    return found


@dataclass(frozen=True, slots=True)
class GoModule:
    """A go.mod: the folder it is in, its module path, and its local `replace` directives (path -> folder)."""

    directory: str
    path: str
    replaces: tuple[tuple[str, str], ...] = ()


_MODULE = re.compile(r"^\s*module\s+\"?([^\s\"/]+(?:/[^\s\"]+)*)\"?", re.MULTILINE)
_REPLACE = re.compile(r"^\s*(?:replace\s+)?([^\s(]+)(?:\s+v[^\s]+)?\s+=>\s+(\.{1,2}(?:/[^\s]*)?)\s*$", re.MULTILINE)
# per index of files: the module of each folder, and the workspace's modules seen from a module's folder
_MODULES: WeakKeyDictionary[PathIndex, dict[str, GoModule | None]] = WeakKeyDictionary()
_WORKSPACES: WeakKeyDictionary[PathIndex, dict[str, list[GoModule]]] = WeakKeyDictionary()


def parse_go_mod(directory: str, text: str) -> GoModule | None:
    """The module path and local replacements (`replace a/b => ./b`) of a go.mod's text; None without a module
    line. A replacement by another module version (not a folder) is not local and is left out."""
    m = _MODULE.search(_strip_comments(text))
    if m is None:
        return None
    replaces = []
    for old, new in _REPLACE.findall(_strip_comments(text)):
        target = posixpath.normpath(posixpath.join(directory, new))
        if not target.startswith("../") and target != "..":
            replaces.append((old, "" if target == "." else target))
    return GoModule(directory, m.group(1), tuple(replaces))


def _strip_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", text)


def go_module(path: str, paths: PathIndex) -> GoModule | None:
    """The module a file belongs to: the go.mod in its folder or the nearest one above (None when the index cannot
    read project files, or there is none)."""
    if paths.read is None:
        return None
    known = _MODULES.setdefault(paths, {})
    directory = posixpath.dirname(path)
    seen: list[str] = []
    found: GoModule | None = None
    while True:
        if directory in known:
            found = known[directory]
            break
        seen.append(directory)
        text = paths.read(posixpath.join(directory, "go.mod") if directory else "go.mod")
        if text is not None and (found := parse_go_mod(directory, text)) is not None:
            break
        if not directory:
            break
        directory = posixpath.dirname(directory)
    for d in seen:
        known[d] = found
    return found


_USE = re.compile(r"^\s*(?:use\s+)?\"?(\.{1,2}(?:/[^\s\"]*)?)\"?\s*$", re.MULTILINE)


def go_workspace(directory: str, paths: PathIndex) -> list[GoModule]:
    """The modules a go.work in `directory` or above `use`s (a multi-module repository), nearest go.work only."""
    known = _WORKSPACES.setdefault(paths, {})
    if directory not in known:
        known[directory] = _read_workspace(directory, paths)
    return known[directory]


def _read_workspace(directory: str, paths: PathIndex) -> list[GoModule]:
    if paths.read is None:
        return []
    while True:
        text = paths.read(posixpath.join(directory, "go.work") if directory else "go.work")
        if text is not None:
            out = []
            for use in _USE.findall(_strip_comments(text)):
                folder = posixpath.normpath(posixpath.join(directory, use))
                folder = "" if folder == "." else folder
                mod_text = None if folder.startswith("..") else paths.read(posixpath.join(folder, "go.mod").lstrip("/"))
                if mod_text is not None and (m := parse_go_mod(folder, mod_text)) is not None:
                    out.append(m)
            return out
        if not directory:
            return []
        directory = posixpath.dirname(directory)


def resolve_go(importer: str, ref: ImportRef, paths: PathIndex) -> list[str]:
    """As the go command does: an import path inside the importer's module (its go.mod's `module` path, or a local
    `replace`) is that folder of the module; another module's path or the standard library is not in the
    repository. Without a readable go.mod: the package folder whose path is the longest suffix of the import path."""
    module = go_module(importer, paths)
    if module is None:
        return _resolve_by_suffix(ref, paths)
    workspace = [(m.path, m.directory) for m in go_workspace(module.directory, paths) if m != module]
    owners = [(prefix, directory)
              for prefix, directory in ((module.path, module.directory), *module.replaces, *workspace)
              if ref.module == prefix or ref.module.startswith(prefix + "/")]
    if not owners:
        return []
    prefix, directory = max(owners, key=lambda o: len(o[0]))  # the module whose path is the longest prefix
    folder = posixpath.join(directory, ref.module[len(prefix):].strip("/")).strip("/")
    return _go_package_files("" if folder == "." else folder, paths)


def _resolve_by_suffix(ref: ImportRef, paths: PathIndex) -> list[str]:
    """The package directory whose path is the longest suffix of the import path; its non-test .go files.
    A one-segment match counts only for non-standard paths (a first segment with a dot, like github.com)."""
    segments = [s for s in ref.module.split("/") if s]
    if not segments:
        return []
    shortest = 1 if "." in segments[0] else 2
    for start in range(len(segments) - shortest + 1):
        suffix = "/".join(segments[start:])
        dirs = [d for d in paths.dirs_ending_with(suffix) if _go_package_files(d, paths)]
        exact = [d for d in dirs if d == suffix]
        if dirs:
            return [f for d in (exact or dirs) for f in _go_package_files(d, paths)]
    return []


_LITERAL_TYPES = {"int_literal": "untyped int", "rune_literal": "untyped rune", "float_literal": "untyped float",
                  "imaginary_literal": "untyped float", "iota": "untyped int", "true": "bool", "false": "bool",
                  "interpreted_string_literal": "string", "raw_string_literal": "string"}
_BOOL_OPERATORS = frozenset({"==", "!=", "<", "<=", ">", ">=", "&&", "||"})
_ERROR_MAKERS = frozenset({"errors.New", "fmt.Errorf"})
MAX_DEPTH = 200  # nested operands read for a constant's type (the parser nests `a | b | c ...` one level a term)


def go_value_type(node: ts.Node) -> str:
    """The type a package-level constant or variable declared without one has, as go/types gives it: its value's
    (`const debug = false` -> bool, `= iota` -> untyped int, `var errX = errors.New(..)` -> error, `T(1)`, `&T{}`,
    `pkg.F(..)`: a conversion's type or a function's result, which the graph tells apart);
    in a `const (...)` group a spec without a value repeats the previous spec's type and value. "" when unknown."""
    spec_node: ts.Node | None = node
    if node.type in ("const_declaration", "var_declaration"):
        spec_node = next((c for c in node.named_children if c.type in ("const_spec", "var_spec")), None)
    while spec_node is not None and spec_node.type in ("const_spec", "var_spec"):
        if (declared := spec_node.child_by_field_name("type")) is not None:
            return text(declared)
        if (value := spec_node.child_by_field_name("value")) is not None:
            return _expression_type(value.named_children[0]) if value.named_child_count else ""
        if spec_node.type != "const_spec":
            return ""
        spec_node = spec_node.prev_named_sibling  # implicit repetition
        while spec_node is not None and spec_node.type == "comment":
            spec_node = spec_node.prev_named_sibling
    return ""


def _expression_type(e: ts.Node, depth: int = 0) -> str:
    """The type of a constant expression, each node read once (a mask of many `|` terms costs one pass); past
    MAX_DEPTH nested operands, unknown."""
    if depth > MAX_DEPTH:
        return ""
    if (literal := _LITERAL_TYPES.get(e.type)) is not None:
        return literal
    if e.type == "parenthesized_expression" and e.named_child_count:
        return _expression_type(e.named_children[0], depth + 1)
    if e.type == "unary_expression" and (operand := e.child_by_field_name("operand")) is not None:
        op = e.child_by_field_name("operator")
        if op is not None and text(op) == "!":
            return "bool"
        return _expression_type(operand, depth + 1) or ("untyped int" if op is not None and text(op) in "-^+" else "")
    if e.type == "binary_expression":
        op = e.child_by_field_name("operator")
        if op is not None and text(op) in _BOOL_OPERATORS:
            return "bool"
        left, right = (_expression_type(n, depth + 1) if n is not None else ""
                       for n in (e.child_by_field_name("left"), e.child_by_field_name("right")))
        typed = next((t for t in (left, right) if t and not t.startswith("untyped")), "")  # an untyped operand
        # takes the other's type; else the left's kind; else arithmetic on named constants gives a number
        return typed or left or ("untyped int" if op is not None and text(op) != "+" else "")
    if e.type == "composite_literal" and (of := e.child_by_field_name("type")) is not None:
        return text(of)
    if e.type == "call_expression" and (f := e.child_by_field_name("function")) is not None:
        name = text(f)
        if name in _ERROR_MAKERS:
            return "error"
        if f.type == "parenthesized_expression" or name in _CONVERSIONS:  # (*T)(p), uint32(x)
            return name.strip("()")
        if f.type in ("identifier", "selector_expression"):  # pkg.T("x") or pkg.New(): the graph reads which
            return name
        if f.type == "func_literal":  # `var x = func() T { ... }()`: what the literal returns
            return _result_type(f)
    return ""


def _result_type(f: ts.Node) -> str:
    """The (first) result type a function literal or type declares: `T` of `func() T` or `func() (T, error)`."""
    result = f.child_by_field_name("result")
    if result is not None and result.type == "parameter_list":
        first = next((c for c in result.named_children if c.type == "parameter_declaration"), None)
        result = first.child_by_field_name("type") if first is not None else None
    return text(result) if result is not None else ""


_CONVERSIONS = frozenset({
    "bool", "byte", "rune", "string", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32",
    "uint64", "uintptr", "float32", "float64", "complex64", "complex128"})


def go_peers(path: str, paths: PathIndex) -> list[str]:
    """The other files of a Go package: its directory's .go files (a test file sees the package's tests too), those
    the default build includes when it includes this one."""
    test = path.endswith("_test.go")
    files = [p for p in paths.files_in(posixpath.dirname(path))
             if p != path and p.endswith(".go") and (test or not p.endswith("_test.go"))]
    return [p for p in files if in_build(p, paths)] if in_build(path, paths) else files


SPECS = (LanguageSpec("go", (".go",), "tree_sitter_go", read_imports=go_imports, resolve=resolve_go,
                      peers=go_peers, types_query="go-types.scm", value_type=go_value_type, reexports=False,
                      not_chunked=frozenset({"field", "embed"})),)
