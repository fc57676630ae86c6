"""Stored edges kept equal to a full rebuild at the cost of a few files: which files a change can affect."""
from __future__ import annotations

import json
import logging
import posixpath
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .flags import EDGES_PENDING, meta_in, set_meta_in
from .graph import Graph, package_dirs, python_module
from .store import Store

log = logging.getLogger(__name__)
ALL = "*"  # every name of a file may have changed (its star imports did, or the file came or went)
PENDING = EDGES_PENDING  # meta key: the changes update_file made since the edges were last stored (JSON)
FULL = "full"  # its value when they are too many to follow
PENDING_MAX = 5000  # names
CONFIG_NAMES = frozenset({"go.mod", "go.work", "package.json", "Cargo.toml"})  # read by the path rules


@dataclass(frozen=True, slots=True)
class Inputs:
    """What of one file the resolution of other files reads: its top-level names (with their kinds), its import
    bindings by local name (in order), and its star imports."""

    language: str | None  # None: not in the graph (absent, or skipped)
    config: str | None  # a project config's content hash (path rules read them: tsconfig.json, go.mod, ...)
    defs: dict[str, tuple[str, ...]]
    binds: dict[str, tuple[tuple, ...]]
    stars: tuple[tuple, ...]


@dataclass(slots=True)
class Change:
    """One file's change as the edges see it: the names whose meaning in it changed (ALL: any), and whether the
    file came or went from the graph (which moves module names and path rules)."""

    path: str
    names: set[str] = field(default_factory=set)
    moved: bool = False  # added to or removed from the graph, or its language changed


def snapshot(store: Store, paths: Iterable[str]) -> dict[str, Inputs]:
    """The edge inputs of `paths` as the catalog holds them now."""
    paths = sorted(set(paths))
    language: dict[str, str | None] = {p: None for p in paths}
    config: dict[str, str | None] = {}
    defs: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    rows: dict[str, list[tuple]] = defaultdict(list)
    file_rows, def_rows, import_rows = store.edge_inputs(paths)
    for p, lang, skipped, h in file_rows:
        if skipped is None:
            language[p] = lang
        if is_config(p):
            config[p] = h
    for p, qual, kind in def_rows:
        defs[p][qual].add(kind)
    for p, module, name, alias in import_rows:
        rows[p].append((module, name, alias))
    out: dict[str, Inputs] = {}
    for p in paths:
        binds: dict[str, list[tuple]] = defaultdict(list)
        stars = []
        for r in rows.get(p, []):
            if r[1] == "*":
                stars.append(r)
            else:
                binds[_binds(*r) or ""].append(r)
        out[p] = Inputs(language[p], config.get(p), {n: tuple(sorted(k)) for n, k in defs.get(p, {}).items()},
                        {n: tuple(v) for n, v in binds.items()}, tuple(stars))
    return out


def is_config(path: str) -> bool:
    base = posixpath.basename(path)
    return base in CONFIG_NAMES or base.endswith(".json")


def _binds(module: str, name: str | None, alias: str | None) -> str | None:
    if alias:
        return alias
    if name == "*":
        return None
    return name or (module.split(".")[0] if module else None)


def diff(old: dict[str, Inputs], new: dict[str, Inputs]) -> list[Change]:
    """The changes between two snapshots of the same files (nothing for a file whose inputs are equal)."""
    out = []
    for p in sorted(old.keys() | new.keys()):
        a, b = old.get(p), new.get(p)
        a_lang, b_lang = a.language if a else None, b.language if b else None
        if (a.config if a else None) != (b.config if b else None):
            out.append(Change(p, {ALL}, True))  # the path rules may read it
            continue
        if a_lang is None and b_lang is None:
            continue
        if a_lang != b_lang:
            out.append(Change(p, {ALL}, True))
            continue
        assert a is not None and b is not None
        if a.stars != b.stars:
            out.append(Change(p, {ALL}))
            continue
        names = {n for n in a.defs.keys() | b.defs.keys() if a.defs.get(n) != b.defs.get(n)}
        names |= {n for n in a.binds.keys() | b.binds.keys() if a.binds.get(n) != b.binds.get(n)}
        if names:
            out.append(Change(p, names))
    return out


def record_pending(db: sqlite3.Connection, changes: list[Change]) -> None:
    """Remember changes made without storing edges (the language server's updates) for the next refresh: per file,
    the union of the names changed; past PENDING_MAX names, only that all edges must be resolved again."""
    raw = meta_in(db, PENDING)
    if raw == FULL:
        return
    merged: dict[str, tuple[set[str], bool]] = {}
    for c in [*_parse(raw if raw is not None else "[]"), *changes]:
        names, moved = merged.get(c.path, (set(), False))
        merged[c.path] = (names | c.names, moved or c.moved)
    size = sum(len(n) + 1 for n, _ in merged.values())
    value = FULL if size > PENDING_MAX else json.dumps([[p, sorted(n), m] for p, (n, m) in sorted(merged.items())])
    set_meta_in(db, PENDING, value)


def read_pending(store: Store) -> list[Change] | None:
    """The changes update_file noted since the edges were stored; None when all edges must be resolved again."""
    raw = store.meta(PENDING)
    return None if raw is None or raw == FULL else _parse(raw)


def _parse(raw: str) -> list[Change]:
    return [Change(p, set(names), moved) for p, names, moved in json.loads(raw)]


class _OnDemand(defaultdict):
    """A graph table of files filled on first `get` of a file (the edge resolution reads them only so)."""

    def __init__(self, factory: type, fill) -> None:
        super().__init__(factory)
        self._fill = fill

    def get(self, key, default=None):
        self._fill(key)
        return super().get(key, default)


class LazyGraph(Graph):
    """A Graph that reads a file's definitions and imports when resolution first asks for them: resolving a few
    files reads a few dozen, not the whole catalog."""

    def __init__(self, store: Store, root_name: str = "", root: Path | None = None) -> None:
        self._loaded: set[str] = set()
        self._store = store
        super().__init__(store, root_name, root)
        self.defs = _OnDemand(dict, self._fill)
        self.imports = _OnDemand(list, self._fill)

    def _load(self, store: Store, paths: list[str] | None) -> None:
        if paths is not None:
            super()._load(store, paths)

    def _may_pass_on(self, path: str, name: str) -> bool:
        """Always: the names the files of a barrel's tree hold are known only of the files read so far (the search
        itself, unpruned, reads those it needs)."""
        return True

    def _fill(self, path: str) -> None:
        if path not in self._loaded:
            self._loaded.add(path)
            if path in self.language:
                super()._load(self._store, [path])


def affected(store: Store, changes: list[Change], root_name: str) -> set[str] | None:
    """The files whose edges the changes can alter (the changed files among them), or None when most can (a
    package's __init__.py or a path-rule config came or went: a full rebuild is as cheap).

    A file's edges read, of other files, only what a name means in them (a top-level definition, an import
    binding, what star imports pass on) and, when files come or go, module names and path rules. So: Python files
    that import a changed name of a changed module, or star-import it and use the name, and through their own
    bindings the files that import those, to a fixed point; other languages by name alone (any file that imports or
    uses a changed name, through aliases), or all of them when a file of theirs came or went."""
    if not any(c.names or c.moved for c in changes):  # bodies edited: no name means anything new elsewhere
        return {c.path for c in changes}
    language = store.indexed_languages()
    py = {p for p, lang in language.items() if lang == "python"}
    other = set(language) - py
    out = {c.path for c in changes if c.path in language}
    other_all = False
    for c in changes:
        base = posixpath.basename(c.path)
        if c.moved and posixpath.splitext(base)[0] == "__init__" and base.endswith((".py", ".pyi")):
            return None  # module names of a whole package move
        if is_config(c.path):
            other_all = True
        if c.moved and not base.endswith((".py", ".pyi")):
            other_all = True
    names = set().union(*(c.names for c in changes)) if changes else set()
    if ALL in names:
        other_all = True
    if other and other_all:
        out |= other
    elif other and names:
        out |= _other_readers(store, other, names)
    py_changes = [c for c in changes if c.path.endswith((".py", ".pyi"))]
    if py and py_changes:
        out |= _python_readers(store, py, py_changes, root_name)
    return out


def _other_readers(store: Store, other: set[str], names: set[str]) -> set[str]:
    """Files not in Python that import or use a changed name, following aliases (`import {a as b}` passes a on as
    b)."""
    out: set[str] = set()
    wave, seen = sorted(names), set(names)
    while wave:
        nxt = []
        for p, name, alias in store.imports_of_names(wave):
            if p in other:
                out.add(p)
                if (local := alias or name) not in seen:
                    seen.add(local)
                    nxt.append(local)
        wave = nxt
    out |= {p for p in store.paths_referring(sorted(seen)) if p in other}
    return out


def _python_readers(store: Store, py: set[str], changes: list[Change], root_name: str) -> set[str]:
    """Python files whose imports or star imports reach a changed (module, name), to a fixed point."""
    has_init = package_dirs(py)
    module_of = {p: python_module(p, has_init, root_name) for p in py}
    by_module: dict[str, list[tuple[str | None, str, str | None]]] = defaultdict(list)  # -> (name, file, local)
    named: dict[str, list[tuple[str, str, str]]] = {}  # an imported name -> (absolute module, file, local name)
    stars: dict[str, list[str]] = defaultdict(list)  # module -> files star-importing it

    def rows(only: str | None = None) -> Iterable[tuple[str, str | None, str, str | None]]:
        for p, module, name, alias in store.imports_named(only):
            if p in module_of and (base := Graph._absolute(module, module_of[p][1])) is not None:
                yield base, name, p, alias

    full = any(c.moved or ALL in c.names for c in changes)  # by module: every import row read once
    for base, name, p, alias in rows(None if full else "*"):
        if name == "*":
            stars[base].append(p)
        elif full:
            by_module[base].append((name, p, alias or name if name else None))

    def importers(mod: str, name: str) -> list[tuple[str, str]]:
        if full:
            return [(p, local) for n, p, local in by_module.get(mod, ()) if n is not None and local is not None
                    and (name == ALL or n == name)]
        if name not in named:
            named[name] = [(base, p, alias or name) for base, _, p, alias in rows(name)]
        return [(p, local) for base, p, local in named[name] if base == mod]

    out: set[str] = set()
    todo: list[tuple[str, str]] = []
    for c in changes:
        mod = module_of[c.path][0] if c.path in module_of else python_module(c.path, has_init, root_name)[0]
        if c.moved:  # the module came or went: what imports it or below it (`import a.b` binds a), `from parent
            # import it`, and every name it had or has
            out.update(p for m, v in by_module.items() if m == mod or m.startswith(mod + ".") for _, p, _ in v)
            out.update(p for m, ps in stars.items() if m == mod or m.startswith(mod + ".") for p in ps)
            todo.append((mod, ALL))
            if "." in mod:
                todo.append(tuple(mod.rsplit(".", 1)))  # type: ignore[arg-type]
        else:
            todo.extend((mod, n) for n in c.names)
    seen = set(todo)
    star_uses: dict[str, set[str]] = defaultdict(set)  # star importers -> names they may now resolve otherwise
    while todo:
        mod, name = todo.pop()
        for p, local in importers(mod, name):
            out.add(p)
            key = (module_of[p][0], local)
            if key not in seen:
                seen.add(key)
                todo.append(key)
        for p in stars.get(mod, ()):
            star_uses[p].add(name)
            key = (module_of[p][0], name)
            if key not in seen:
                seen.add(key)
                todo.append(key)
    for p, names in star_uses.items():
        if ALL in names:
            out.add(p)
        elif p not in out:
            part = sorted(names)[:900]
            if len(names) > 900 or store.refers_to_any(p, part):
                out.add(p)
    return out
