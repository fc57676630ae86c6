"""Import readers for JavaScript/TypeScript, Go, Rust, Java and C/C++ import statements."""
from __future__ import annotations

import re
from collections.abc import Callable

import tree_sitter as ts

from .model import ImportRef

ImportReader = Callable[[ts.Node], list[ImportRef]]
_GO_MAJOR = re.compile(r"v\d+")
_GOPKG_SUFFIX = re.compile(r"\.v\d+$")


def _text(node: ts.Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


def _line(node: ts.Node) -> int:
    return node.start_point.row + 1


def _unquote(node: ts.Node | None) -> str:
    """The content of a string literal node: `'./x'`, `"fmt"`, `` `raw` ``."""
    text = _text(node)
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"`":
        return text[1:-1]
    return text


def _compact(text: str) -> str:
    """A path with its whitespace removed (paths may be split over lines)."""
    return "".join(text.split())


# JavaScript / TypeScript


def js_imports(node: ts.Node) -> list[ImportRef]:
    """ES imports, `import x = require()`, re-exports with a source, and `x = require('m')` (a variable_declarator)."""
    if node.type == "variable_declarator":
        return _js_require(node)
    source = _unquote(node.child_by_field_name("source"))
    if node.type == "export_statement":
        return _js_reexports(node, source)
    out: list[ImportRef] = []
    for child in node.named_children:
        if child.type == "import_clause":
            out.extend(_js_import_clause(child, source, _line(node)))
        elif child.type == "import_require_clause":
            alias = next((_text(c) for c in child.named_children if c.type == "identifier"), None)
            out.append(ImportRef(_unquote(child.child_by_field_name("source")), None, alias, _line(node)))
    if not out and source:  # `import './side-effect'`
        out.append(ImportRef(source, None, None, _line(node)))
    return out


def _js_import_clause(clause: ts.Node, source: str, line: int) -> list[ImportRef]:
    out: list[ImportRef] = []
    for child in clause.named_children:
        if child.type == "identifier":
            out.append(ImportRef(source, "default", _text(child), line))
        elif child.type == "namespace_import":
            alias = next((_text(c) for c in child.named_children if c.type == "identifier"), None)
            out.append(ImportRef(source, None, alias, line))
        elif child.type == "named_imports":
            out.extend(_js_specifiers(child, "import_specifier", source, line))
    return out


def _js_specifiers(parent: ts.Node, kind: str, source: str, line: int) -> list[ImportRef]:
    """`{a, b as c}` of an import or export clause."""
    out: list[ImportRef] = []
    for spec in parent.named_children:
        if spec.type == kind:
            name = _unquote(spec.child_by_field_name("name"))
            alias = spec.child_by_field_name("alias")
            out.append(ImportRef(source, name, _unquote(alias) if alias is not None else None, line))
    return out


def _js_reexports(node: ts.Node, source: str) -> list[ImportRef]:
    """`export {a as b} from 'm'`, `export * from 'm'`, `export * as ns from 'm'`."""
    line = _line(node)
    for child in node.named_children:
        if child.type == "export_clause":
            return _js_specifiers(child, "export_specifier", source, line)
        if child.type == "namespace_export":
            alias = next((_text(c) for c in child.named_children if c.type in ("identifier", "string")), None)
            return [ImportRef(source, None, alias, line)]
    return [ImportRef(source, "*", None, line)]


def _js_require(declarator: ts.Node) -> list[ImportRef]:
    """`x = require('m')` and `{a, b: c} = require('m')`."""
    value = declarator.child_by_field_name("value")
    if value is None or value.type != "call_expression" or _text(value.child_by_field_name("function")) != "require":
        return []
    args = value.child_by_field_name("arguments")
    strings = [c for c in args.named_children if c.type == "string"] if args is not None else []
    if not strings:
        return []
    source, line, target = _unquote(strings[0]), _line(declarator), declarator.child_by_field_name("name")
    if target is not None and target.type == "object_pattern":
        out: list[ImportRef] = []
        for prop in target.named_children:
            if prop.type == "shorthand_property_identifier_pattern":
                out.append(ImportRef(source, _text(prop), None, line))
            elif prop.type == "pair_pattern":
                key, val = _text(prop.child_by_field_name("key")), _text(prop.child_by_field_name("value"))
                out.append(ImportRef(source, key, val if val != key else None, line))
        return out
    alias = _text(target) if target is not None and target.type == "identifier" else None
    return [ImportRef(source, None, alias, line)]


# Go


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
        path = _unquote(spec.child_by_field_name("path"))
        name = spec.child_by_field_name("name")
        if name is not None and name.type == "dot":
            out.append(ImportRef(path, "*", None, _line(spec)))
        else:
            alias = _text(name) if name is not None else go_package_name(path)
            out.append(ImportRef(path, None, alias, _line(spec)))
    return out


# Rust


def rust_imports(node: ts.Node) -> list[ImportRef]:
    """`use` trees (lists, globs, `as`, `self`), `mod foo;` and `extern crate`."""
    line = _line(node)
    if node.type == "mod_item":
        name = _text(node.child_by_field_name("name"))
        return [ImportRef(name, None, name, line)]
    if node.type == "extern_crate_declaration":
        alias = node.child_by_field_name("alias")
        name = _text(node.child_by_field_name("name"))
        return [ImportRef(name, None, _text(alias) if alias is not None else None, line)]
    argument = node.child_by_field_name("argument")
    return _rust_use(argument, "", line) if argument is not None else []


def _join(prefix: str, path: str) -> str:
    path = _compact(path).lstrip(":")
    return f"{prefix}::{path}" if prefix and path else prefix or path


def _rust_split(path: str, alias: str | None, line: int) -> ImportRef:
    """`a::b::C` -> module `a::b`, name `C`; a trailing `self` names the module itself."""
    if path.endswith("::self"):
        path = path[: -len("::self")]
    module, sep, name = path.rpartition("::")
    return ImportRef(module, name, alias, line) if sep else ImportRef(path, None, alias, line)


def _rust_use(node: ts.Node, prefix: str, line: int) -> list[ImportRef]:
    kind = node.type
    if kind == "use_as_clause":
        path = _join(prefix, _text(node.child_by_field_name("path")))
        return [_rust_split(path, _text(node.child_by_field_name("alias")), line)]
    if kind == "use_wildcard":
        inner = [c for c in node.named_children if "comment" not in c.type]
        return [ImportRef(_join(prefix, _text(inner[0])) if inner else prefix, "*", None, line)]
    if kind == "scoped_use_list":
        base = _join(prefix, _text(node.child_by_field_name("path")))
        items = node.child_by_field_name("list")
        return _rust_use(items, base, line) if items is not None else []
    if kind == "use_list":
        return [ref for c in node.named_children if "comment" not in c.type for ref in _rust_use(c, prefix, line)]
    return [_rust_split(_join(prefix, _text(node)), None, line)]


# Java


def java_imports(node: ts.Node) -> list[ImportRef]:
    """`import a.b.C;`, `import a.b.*;` and their `static` forms."""
    path = next((_compact(_text(c)) for c in node.named_children if c.type in ("scoped_identifier", "identifier")), "")
    if any(c.type == "asterisk" for c in node.named_children):
        return [ImportRef(path, "*", None, _line(node))]
    module, sep, name = path.rpartition(".")
    return [ImportRef(module, name, None, _line(node)) if sep else ImportRef(path, None, None, _line(node))]


# C / C++


def c_includes(node: ts.Node) -> list[ImportRef]:
    """`#include "x/y.h"`; `<system>` headers are skipped."""
    path = node.child_by_field_name("path")
    if path is None or path.type != "string_literal":
        return []
    return [ImportRef(_unquote(path), "*", None, _line(node))]


MORE_READERS: dict[str, ImportReader] = {
    "javascript": js_imports,
    "typescript": js_imports,
    "tsx": js_imports,
    "go": go_imports,
    "rust": rust_imports,
    "java": java_imports,
    "c": c_includes,
    "cpp": c_includes,
}
