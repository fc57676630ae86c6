"""The index's value types: what flows between discovery, parsing, storage and retrieval."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import TypeVar

_T = TypeVar("_T")


def _pickled_as_fields(cls: type[_T]) -> type[_T]:
    """Pickle a frozen dataclass as its class and its fields' values in order, not as a state to restore: the parse
    workers send a cold index's symbols, imports and chunks to the indexer this way (typeorm's, pickled and
    unpickled: 0.4-0.6 -> 0.3 s of CPU)."""
    values = attrgetter(*(f.name for f in fields(cls)))  # type: ignore[arg-type]

    def reduce(self: _T) -> tuple[type[_T], tuple]:
        return cls, values(self)

    cls.__reduce__ = reduce  # type: ignore[assignment,method-assign]
    return cls


@_pickled_as_fields
@dataclass(frozen=True, slots=True)
class Symbol:
    """A definition found by a tags query. Lines are 1-based and inclusive."""

    name: str
    qualname: str  # "Class.method"
    kind: str  # function, method, class, interface, type, enum, module, constant, ...
    path: str
    start_line: int  # includes decorators and leading doc comments
    end_line: int
    head_end: int  # last line of the signature and docstring: the collapsed view
    signature: str
    doc: str = ""
    parent: str | None = None  # qualname of the enclosing definition
    type: str = ""  # its declared type (a field's, a variable's) or a function's result type, as written


@_pickled_as_fields
@dataclass(frozen=True, slots=True)
class ImportRef:
    """One name an import statement binds. `name` None imports the module itself; "*" imports everything."""

    module: str  # as written: ".models", "./util", "crate::a::b", "fmt", "x.h"
    name: str | None
    alias: str | None
    line: int

    @property
    def binds(self) -> str | None:
        """The local name this import introduces (None for star imports)."""
        if self.alias:
            return self.alias
        if self.name == "*":
            return None
        if self.name:
            return self.name
        return self.module.split(".")[0] if self.module else None


@_pickled_as_fields
@dataclass(frozen=True, slots=True)
class Chunk:
    """A retrievable unit: one definition (or a class header, or a window of module-level code)."""

    path: str
    start_line: int
    end_line: int
    head_end: int  # the collapsed view is start_line..head_end
    kind: str
    symbol: str  # qualname, or "" for module-level code
    text: str  # what is embedded and indexed lexically


@dataclass(slots=True)
class ParsedFile:
    """Everything extracted from one file."""

    path: str
    language: str
    symbols: list[Symbol] = field(default_factory=list)
    imports: list[ImportRef] = field(default_factory=list)
    references: dict[str, int] = field(default_factory=dict)  # name -> count of uses
    chunks: list[Chunk] = field(default_factory=list)
    has_errors: bool = False
