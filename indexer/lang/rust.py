"""Rust: `use` trees, `mod` and `extern crate`, resolved through crate, self and super paths and workspace crates."""
from __future__ import annotations

import posixpath
import tomllib

import tree_sitter as ts

from ..model import ImportRef
from .nodes import compact, first_line, text
from .paths import PathIndex, first
from .spec import LanguageSpec

_RUST_ROOTS = ("lib.rs", "main.rs")


def rust_imports(node: ts.Node) -> list[ImportRef]:
    """`use` trees (lists, globs, `as`, `self`), `mod foo;` and `extern crate`."""
    line = first_line(node)
    if node.type == "mod_item":
        name = text(node.child_by_field_name("name"))
        return [ImportRef(name, None, name, line)]
    if node.type == "extern_crate_declaration":
        alias = node.child_by_field_name("alias")
        name = text(node.child_by_field_name("name"))
        return [ImportRef(name, None, text(alias) if alias is not None else None, line)]
    argument = node.child_by_field_name("argument")
    return _rust_use(argument, "", line) if argument is not None else []


def _join(prefix: str, path: str) -> str:
    path = compact(path).lstrip(":")
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
        path = _join(prefix, text(node.child_by_field_name("path")))
        return [_rust_split(path, text(node.child_by_field_name("alias")), line)]
    if kind == "use_wildcard":
        inner = [c for c in node.named_children if "comment" not in c.type]
        path = _join(prefix, text(inner[0])) if inner else prefix
        module, sep, last = path.rpartition("::")
        if sep and last[:1].isupper():  # `use Kind::*`: a type's (an enum's variants), not a module's (snake_case)
            return [ImportRef(module, f"{last}.*", None, line)]
        return [ImportRef(path, "*", None, line)]
    if kind == "scoped_use_list":
        base = _join(prefix, text(node.child_by_field_name("path")))
        items = node.child_by_field_name("list")
        return _rust_use(items, base, line) if items is not None else []
    if kind == "use_list":
        return [ref for c in node.named_children if "comment" not in c.type for ref in _rust_use(c, prefix, line)]
    return [_rust_split(_join(prefix, text(node)), None, line)]


def _rust_crate_dir(importer: str, paths: PathIndex) -> str | None:
    """The nearest ancestor directory holding Cargo.toml or src/."""
    directory = posixpath.dirname(importer)
    while True:
        if paths.has(posixpath.join(directory, "Cargo.toml")) or paths.is_dir(posixpath.join(directory, "src")):
            return directory
        if not directory:
            return None
        directory = posixpath.dirname(directory)


def _rust_module(importer: str, paths: PathIndex) -> tuple[str, list[str], list[str]]:
    """(directory of the module tree, candidate root files, the importer's module path) for a Rust file.
    Files outside a crate's src/ (tests/, examples/, build.rs) are crate roots of their own."""
    crate = _rust_crate_dir(importer, paths)
    src = posixpath.join(crate, "src") if crate is not None else None
    if src is None or not importer.startswith(src + "/"):
        return posixpath.dirname(importer), [importer], []
    parts = importer[len(src) + 1:].removesuffix(".rs").split("/")
    if len(parts) == 1 and parts[0] + ".rs" in _RUST_ROOTS:
        return src, [importer], []
    return src, [posixpath.join(src, root) for root in _RUST_ROOTS], parts[:-1] if parts[-1] == "mod" else parts


def _rust_lookup(root: str, root_files: list[str], segments: list[str], floor: int, paths: PathIndex) -> list[str]:
    """The file of the longest prefix of `segments` (at least `floor` long) that is a module file."""
    for end in range(len(segments), floor - 1, -1):
        if end == 0:
            return first(root_files, paths)
        stem = posixpath.join(root, *segments[:end])
        found = first((stem + ".rs", posixpath.join(stem, "mod.rs")), paths)
        if found:
            return found
    return []


def _rust_other_crate(segments: list[str], paths: PathIndex) -> list[str]:
    """`other_crate::a::b` where other_crate is a crate of the same workspace: a dir `other_crate/src`
    (or `other-crate/src`)."""
    for name in dict.fromkeys((segments[0], segments[0].replace("_", "-"))):
        for src in paths.dirs_ending_with(f"{name}/src"):
            roots = [posixpath.join(src, root) for root in _RUST_ROOTS]
            found = _rust_lookup(src, roots, segments[1:], 0, paths)
            if found:
                return found
    return []


def resolve_rust(importer: str, ref: ImportRef, paths: PathIndex) -> list[str]:
    """`crate::`, `self::`, `super::` paths, `mod foo;`, paths to child modules, and crates of the same workspace.
    The named item is tried as a module file first, then the module that contains it."""
    segments = [s for s in ref.module.split("::") if s]
    if ref.name and ref.name != "*":
        segments.append(ref.name)
    if not segments:
        return []
    root, root_files, here = _rust_module(importer, paths)
    if segments[0] == "crate":
        return _rust_lookup(root, root_files, segments[1:], 0, paths)
    if segments[0] in ("self", "super"):
        base, i = list(here), 0
        while i < len(segments) and segments[i] in ("self", "super"):
            if segments[i] == "super":
                if not base:
                    return []
                base.pop()
            i += 1
        return _rust_lookup(root, root_files, base + segments[i:], len(base), paths)
    return (_rust_lookup(root, root_files, here + segments, len(here) + 1, paths)  # a child module (`mod foo;`)
            or _rust_lookup(root, root_files, segments, 1, paths)  # 2015-style crate-relative path
            or _rust_other_crate(segments, paths)
            or _rust_own_crate(importer, segments, paths))


def _rust_own_crate(importer: str, segments: list[str], paths: PathIndex) -> list[str]:
    """`mycrate::a::B` from the crate's own binaries (src/main.rs, src/bin/), tests/, examples/ or benches/: its
    src/ tree. With the package's name (Cargo.toml, where the index can read it) the crate root itself counts (an
    item `pub use`d there); without it at least `a` must be a module file."""
    crate = _rust_crate_dir(importer, paths)
    if crate is None or len(segments) < 2:
        return []
    src = posixpath.join(crate, "src")
    roots = [posixpath.join(src, root) for root in _RUST_ROOTS]
    named = _package_name(posixpath.join(crate, "Cargo.toml"), paths) == segments[0].replace("-", "_")
    return _rust_lookup(src, roots[:1] if named else roots, segments[1:], 0 if named else 1, paths)


def _package_name(cargo_toml: str, paths: PathIndex) -> str | None:
    """The crate name of a Cargo.toml's [package] (`-` read as `_`, as `use` paths write it), or None."""
    text = paths.read(cargo_toml) if paths.read is not None and paths.has(cargo_toml) else None
    if not text:
        return None
    try:
        name = tomllib.loads(text).get("package", {}).get("name")
    except tomllib.TOMLDecodeError:
        return None
    return name.replace("-", "_") if isinstance(name, str) else None


SPECS = (LanguageSpec("rust", (".rs",), "tree_sitter_rust", read_imports=rust_imports, resolve=resolve_rust,
                      types_query="rust-types.scm", grouped=frozenset({"constant"}),
                      not_chunked=frozenset({"field"})),)
