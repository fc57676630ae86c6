"""What one language's support holds: grammar, tags query, import reader, path resolver, chunk and comment rules."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import tree_sitter as ts

from ..model import ImportRef
from .paths import PathIndex

ImportReader = Callable[[ts.Node], list[ImportRef]]
# (importing file, import, the indexed files) -> the repository files the import refers to
Resolver = Callable[[str, ImportRef, PathIndex], list[str]]
# (a file, the indexed files) -> the files whose top-level definitions it sees without importing them
Peers = Callable[[str, PathIndex], list[str]]
# a class's signature -> the type chains of the bases it declares
Bases = Callable[[str], list[list[str]]]
# (a definition's name, its signature) -> the fewest and most arguments it takes (None: no limit), or None
Arity = Callable[[str, str], "tuple[int, int | None] | None"]
# a file's bytes -> the same bytes as the grammar should read them (same length: every offset stays)
Prepare = Callable[[bytes], bytes]
# a text -> where each import directive of its lines starts (its `#`) and what it imports
LineImports = Callable[[str], "list[tuple[int, ImportRef]]"]
# a definition's node -> the type its value gives it where none is declared ("" when unknown)
ValueType = Callable[[ts.Node], str]
SMALL_KINDS = frozenset({"constant", "macro", "type"})  # by default left to the module-level windows


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    """Everything ragls knows of one language; one entry of the registry (`ragls.indexer.lang.LANGUAGES`).

    - `module`/`entry`: the grammar wheel's import name and the function in it returning the grammar;
    - `queries`: files under indexer/queries/, concatenated (default NAME.scm): definitions, references, imports;
    - `read_imports`: turns a node the query captured as `@import` into ImportRefs;
    - `line_imports`: reads the imports off the lines of a text (C's `#include`, a preprocessor's directive, is a
      line): a query's scan then parses only for declared types, where the language has a types query;
    - `resolve`: the repository files an import refers to (None: resolved elsewhere, as Python's modules are);
    - `peers`: the files whose top-level names a file sees without an import (its package: Go, Java);
    - `types_query`: a file (or files, read as one) under indexer/queries/ whose matches capture `@var` and
      `@type`: the name has that type (a parameter's annotation, a declaration, a constructor call); it ranks the
      members of `x.`;
    - `bases`: the base classes a class's signature declares (members are inherited: `x.m`, `self.m`);
    - `implicit_this`: a bare name inside a class may be one of its (inherited) members (Java, C++);
    - `reexports`: a file's imports may pass names on to the files importing it (TypeScript's `export * from`,
      Rust's `pub use`, C's `#include`); False where an import binds a name in its own file only (Java, Go);
    - `value_type`: the type a constant or variable declared without one takes from its value (Go's
      `const x = false`, iota groups), or a function's result (JavaScript's and TypeScript's functions, methods
      and getters whose body returns one value); it ranks the names that fit where a value of a known type is
      expected, and the members of `x.getter.`;
    - `arity`: how many arguments a function's signature takes: a call picks among overloads (Java) by it;
    - `prepare`: the source as the grammar should read it, of the same length (C++'s export macros in class heads,
      which the grammar cannot tell from the class's name, blanked);
    - `grouped`: definition kinds whose runs on consecutive lines (C's `#define` constants) make one chunk, of at
      most GROUP_LINES lines (indexer/chunks.py), each definition of the run shown with it;
    - `not_chunked`: definition kinds left to the module-level windows instead of chunks of their own;
    - `method_fields`: a field its tags query finds inside a method (Python's `self.x = ...`, JavaScript's
      constructor `this.x = ...`) is an attribute of the class around it, once per name (symbols.nest); elsewhere
      (C++'s struct declared in a function body) a field stays where the byte ranges put it;
    - `doc_style`: where a definition's documentation lives: "docstring" (the first string of its body) or
      "comment" (the comments right above it)."""

    name: str
    extensions: tuple[str, ...]
    module: str
    entry: str = "language"
    doc_style: str = "comment"
    queries: tuple[str, ...] = ()
    read_imports: ImportReader | None = None
    line_imports: LineImports | None = None
    resolve: Resolver | None = None
    peers: Peers | None = None
    types_query: str | tuple[str, ...] | None = None
    bases: Bases | None = None
    implicit_this: bool = False
    reexports: bool = True
    arity: Arity | None = None
    value_type: ValueType | None = None
    prepare: Prepare | None = None
    grouped: frozenset[str] = frozenset()
    not_chunked: frozenset[str] = SMALL_KINDS
    method_fields: bool = False
