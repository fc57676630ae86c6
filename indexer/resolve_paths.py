"""Resolve an import of a non-Python file to the repository files it refers to."""
from __future__ import annotations

import posixpath
from collections import defaultdict
from collections.abc import Callable, Iterable

from .model import ImportRef

JS_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".d.ts", ".mts", ".cts")
_JS_TS_TWINS = {".js": (".ts", ".tsx"), ".jsx": (".tsx",), ".mjs": (".mts",), ".cjs": (".cts",)}
_RUST_ROOTS = ("lib.rs", "main.rs")


class PathIndex:
    """The indexed files (repo-relative POSIX paths) with lookups by path, directory, and path suffix."""

    def __init__(self, paths: Iterable[str]) -> None:
        self.paths: frozenset[str] = frozenset(p.removeprefix("./") for p in paths)
        self._files_in: dict[str, list[str]] = defaultdict(list)
        self._by_name: dict[str, list[str]] = defaultdict(list)
        self._dirs_by_name: dict[str, set[str]] = defaultdict(set)
        for path in sorted(self.paths):
            directory, name = posixpath.split(path)
            self._files_in[directory].append(path)
            self._by_name[name].append(path)
            while directory:
                self._dirs_by_name[posixpath.basename(directory)].add(directory)
                directory = posixpath.dirname(directory)

    def has(self, path: str) -> bool:
        return path in self.paths

    def is_dir(self, directory: str) -> bool:
        return directory in self._dirs_by_name.get(posixpath.basename(directory), ())

    def files_in(self, directory: str) -> list[str]:
        """Files directly in a directory ("" is the repository root), sorted."""
        return list(self._files_in.get(directory, ()))

    def ending_with(self, suffix: str) -> list[str]:
        """Files equal to `suffix` or ending with "/" + suffix, sorted."""
        suffix = suffix.strip("/")
        return [p for p in self._by_name.get(posixpath.basename(suffix), ()) if p == suffix or p.endswith("/" + suffix)]

    def dirs_ending_with(self, suffix: str) -> list[str]:
        """Directories equal to `suffix` or ending with "/" + suffix, sorted."""
        suffix = suffix.strip("/")
        found = self._dirs_by_name.get(posixpath.basename(suffix), ())
        return sorted(d for d in found if d == suffix or d.endswith("/" + suffix))


def resolve_import(language: str, importer: str, ref: ImportRef, paths: PathIndex) -> list[str]:
    """Repo-relative paths of the files `ref` (found in `importer`) refers to; [] for packages outside the repository.
    Python is resolved elsewhere and gets []."""
    resolver = _RESOLVERS.get(language)
    return resolver(importer, ref, paths) if resolver is not None and ref.module else []


def _first(candidates: Iterable[str], paths: PathIndex) -> list[str]:
    return next(([c] for c in candidates if paths.has(c)), [])


# JavaScript / TypeScript


def _js_candidates(base: str) -> Iterable[str]:
    yield base
    stem, ext = posixpath.splitext(base)
    yield from (stem + twin for twin in _JS_TS_TWINS.get(ext, ()))  # `./x.js` written for `x.ts` (ESM TypeScript)
    yield from (base + ext for ext in JS_EXTENSIONS)
    yield from (posixpath.join(base, "index" + ext) for ext in JS_EXTENSIONS)


def resolve_js(importer: str, ref: ImportRef, paths: PathIndex) -> list[str]:
    """Relative specifiers only (`./x`, `../x`): exact, with an extension, or a directory's index file."""
    spec = ref.module
    if not (spec in (".", "..") or spec.startswith(("./", "../"))):
        return []
    base = posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec))
    if base == ".." or base.startswith("../"):
        return []
    return _first(_js_candidates("" if base == "." else base), paths)


# Go


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


# Rust


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
            return _first(root_files, paths)
        stem = posixpath.join(root, *segments[:end])
        found = _first((stem + ".rs", posixpath.join(stem, "mod.rs")), paths)
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
    """`mycrate::a::B` from tests/, examples/ or benches/: a module of the crate's own src/
    (at least `a` must be a module file)."""
    crate = _rust_crate_dir(importer, paths)
    if crate is None or len(segments) < 2:
        return []
    src = posixpath.join(crate, "src")
    return _rust_lookup(src, [posixpath.join(src, root) for root in _RUST_ROOTS], segments[1:], 1, paths)


# Java


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


# C / C++


def resolve_c(importer: str, ref: ImportRef, paths: PathIndex) -> list[str]:
    """`#include "x/y.h"`: beside the importer first, then any file that is or ends with x/y.h."""
    local = posixpath.normpath(posixpath.join(posixpath.dirname(importer), ref.module))
    if paths.has(local):
        return [local]
    suffix = "/".join(p for p in posixpath.normpath(ref.module).split("/") if p not in ("..", "."))
    return paths.ending_with(suffix) if suffix else []


_RESOLVERS: dict[str, Callable[[str, ImportRef, PathIndex], list[str]]] = {
    "javascript": resolve_js,
    "typescript": resolve_js,
    "tsx": resolve_js,
    "go": resolve_go,
    "rust": resolve_rust,
    "java": resolve_java,
    "c": resolve_c,
    "cpp": resolve_c,
}
