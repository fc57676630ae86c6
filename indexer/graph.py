"""The symbol graph in memory: definitions by file and name, imports resolved across files (Python modules,
and per-language path rules for the others)."""
from __future__ import annotations

import bisect
import itertools
import logging
import math
import posixpath
import re
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from .files import read_text
from .lang.paths import PathIndex
from .lang.spec import Arity
from .lang.types import ELEMENT, ELEMENT_METHODS, elem_chain, type_chain
from .languages import LANGUAGE_NAMES, spec
from .model import ImportRef
from .store import Store

log = logging.getLogger(__name__)
MAX_DEPTH = 8
CONFIG_MAX_BYTES = 1_000_000
STAR_TABLES = 8  # star_names' answers kept: the files a user works in (each up to every top-level name)
# Classes `Graph.prime` works out ahead of queries, at most: about 1 KB each (sympy's 2,205: 4 MB; sqlalchemy's
# 8,910: 9 MB), so at most about 50 MB
PRIME_MAX_CLASSES = 50_000
MAX_BASE_DEPTH = 4  # classes up an inheritance chain whose members count
C_HEADERS = (".h", ".hh", ".hpp", ".hxx", ".h++")  # C and C++ declarations (`implementation`)
C_SOURCES = (".c", ".cc", ".cpp", ".cxx", ".c++")  # ...and the files defining them
C_FAMILY = frozenset({"c", "cpp"})
_SELF_NAMES = frozenset({"this", "self"})  # a method's own object: a type chain read in its class's scope
CLASS_LIKE = frozenset({"class", "struct", "interface", "trait", "enum", "union", "object"})
FUNCTION_KINDS = frozenset({"function", "method"})
_DEFINED_ELSEWHERE = FUNCTION_KINDS | {"variable"}  # what a C header declares and a source file defines
_STATIC = re.compile(r"\s*(?:(?:inline|const|volatile)\s+)*static\b")  # a definition local to its file
TYPE_LIKE = CLASS_LIKE | {"type"}  # what a declared type may name: a Go defined type (`type Value value`) has methods


@dataclass(frozen=True, slots=True)
class Def:
    """A definition as the graph knows it, with the chunk that holds it."""

    path: str
    qualname: str
    name: str
    kind: str
    start_line: int
    end_line: int
    chunk: int | None  # chunk id
    type: str = ""  # its declared type (a field's, a variable's) or a function's result type, as written


# Which of a name's declarations of different kinds in one file the graph keeps (TypeScript's declaration merging):
# a class over a function or enum, over an interface or type alias, over the rest (a namespace); the first of equals.
# A Java method over a field of its name (`pow10(n)` and the table `pow10`): the one a call means.
_MERGE_RANK = {"class": 0, "struct": 0, "function": 1, "method": 1, "enum": 1, "interface": 2, "type": 2}
# Definitions that only hold others: a name through one (`ns::f`, `Cache.DiffResult`) uses the member, not them.
CONTAINERS = frozenset({"namespace", "module"})
_OWN_MEMBERS = frozenset({"method", "field"})  # what a class declares itself; a namespace merged with it, the rest
# A value and a type of one name (TypeScript's `function Money(...)` and `type Money = ReturnType<typeof Money>`, C's
# `typedef struct S S;` and `#define S obj`): a use may mean either, and the graph keeps one (_MERGE_RANK); the other
# is its twin (Graph.twins), which a snippet beside it shows too
_VALUES, _TYPES = frozenset({"function", "constant", "variable"}), frozenset({"type", "interface"})

# A resolved target: ("def", Def) | ("mod", module key) | ("files", tuple of paths)
DefTarget = tuple[Literal["def"], Def]
FilesTarget = tuple[Literal["files"], tuple[str, ...]]
Target = DefTarget | tuple[Literal["mod"], str] | FilesTarget


def _module_rank(path: str) -> tuple[bool, str]:
    """Which of the files of one module stands for it: a `.py` before its `.pyi`, then by path."""
    return path.endswith(".pyi"), path


def package_dirs(paths: Iterable[str]) -> set[str]:
    """The folders of `paths` that hold an `__init__.py`: Python's packages, as `python_module` reads them."""
    return {posixpath.dirname(p) for p in paths if posixpath.basename(p) == "__init__.py"}


def python_module(path: str, has_init: set[str], root_name: str = "") -> tuple[str, str]:
    """Dotted module name and package of a .py file: the package root is the shallowest ancestor folder with an
    __init__.py (so src/ layouts and scripts folders work); when the indexed folder is itself a package, its name
    comes first."""
    dirs, stem = path.split("/")[:-1], posixpath.splitext(path.split("/")[-1])[0]
    if root_name and "" in has_init:
        dirs = [root_name] + dirs
        has_init = {root_name + "/" + d if d else root_name for d in has_init}
    j = next((j for j in range(len(dirs)) if "/".join(dirs[: j + 1]) in has_init), len(dirs))
    parts = dirs[j:] + ([] if stem == "__init__" else [stem])
    return ".".join(parts), ".".join(parts if stem == "__init__" else parts[:-1])


# The languages whose files pass on the names they import (a barrel's `export * from`, Rust's `pub use`, a C header's
# includes); Python's star imports are followed by its own rules (`python_table`).
_PASSES_ON = frozenset(name for name in LANGUAGE_NAMES if name != "python" and spec(name).reexports)


def _passes_on_imports(language: str) -> bool:
    """Whether a file in `language` passes on the names it imports (`_PASSES_ON`)."""
    return language in _PASSES_ON


def _typed_by(d: Def) -> bool:
    """Whether `d`'s members are its declared type's: a field's, a variable's, a call's, an alias's (`type A = B`);
    not a defined container type's (`type Fields []*Field` has methods of its own; its type gives its elements)."""
    return bool(d.type) and (d.kind != "type" or type_chain(d.type) is not None)


def _mentions(value: object, names: set[str]) -> bool:
    """Whether a cached key or answer mentions one of `names` (a path, a module) or a definition of such a path.
    Numbers, flags and None mention nothing; an object of another kind is taken to mention them (dropped)."""
    if isinstance(value, str):
        return value in names
    if isinstance(value, Def):
        return value.path in names
    if value is None or isinstance(value, (int, float, bool)):
        return False
    if isinstance(value, dict):
        return any(_mentions(k, names) or _mentions(v, names) for k, v in value.items())
    if isinstance(value, (tuple, list, set, frozenset)):
        return any(_mentions(x, names) for x in value)
    return True


def _named(target: Target | None) -> tuple[str, ...]:
    """The files (or the module) a target is in."""
    if target is None:
        return ()
    if target[0] == "def":
        return (target[1].path,)
    return tuple(target[1]) if target[0] == "files" else (str(target[1]),)


def _target_key(target: Target) -> tuple:
    """A hashable key of a target (a definition by its place, a module by name, files by their paths)."""
    if target[0] == "def":
        d = target[1]
        return "def", d.path, d.qualname, d.start_line
    return target[0], tuple(target[1]) if target[0] == "files" else str(target[1])


# The caches of answers computed from the definitions (Graph._clear_derived)
_DERIVED = ("_passed", "_arity", "_types", "_star_names", "_passed_on", "_exported", "_star_closures",
            "_implementations", "_closures", "_imported", "_resolved_refs", "_tables", "_scopes", "_scope_names",
            "_members_of", "_members_paths", "_member_chunks", "_bases", "_members_by", "_chunks_by", "_bases_by")


class _ByName:
    """The keys of a cache by the paths (and module names) their answers were read from: what a patch of some files
    makes stale is found without reading every answer (a primed graph holds thousands: a patch read them all in 20
    ms). A key may stay listed under a name after it left the cache; taking it again drops nothing more."""

    def __init__(self) -> None:
        self._keys: defaultdict[str, set[tuple]] = defaultdict(set)

    def add(self, key: tuple, names: Iterable[str]) -> None:
        for name in names:
            self._keys[name].add(key)

    def take(self, names: Iterable[str]) -> set[tuple]:
        """The keys listed under any of `names`, no longer listed there."""
        out: set[tuple] = set()
        for name in names:
            out |= self._keys.pop(name, set())
        return out


class Graph:
    """Loaded from the catalog once; `generation` tells when it must be reloaded."""

    def __init__(self, store: Store, root_name: str = "", root: Path | None = None) -> None:
        self.root_name = root_name
        self.root = root  # where project configs are read (tsconfig.json, package.json, Cargo.toml)
        self.language: dict[str, str] = store.indexed_languages()
        self.defs: dict[str, dict[str, Def]] = defaultdict(dict)  # path -> qualname -> Def
        self.by_name: dict[str, list[Def]] = defaultdict(list)
        self.imports: dict[str, list[ImportRef]] = defaultdict(list)
        self.members: dict[tuple[str, str], list[Def]] = defaultdict(list)  # (path, parent qualname) -> members
        self.def_of_chunk: dict[int, Def] = {}
        self.overloads: dict[tuple[str, str], list[Def]] = {}  # (path, qualname) -> its declarations, in order
        self.namespaced: set[tuple[str, str]] = set()  # (path, qualname): merged with a namespace of its name
        self.twins: dict[tuple[str, str], list[Def]] = {}  # (path, qualname) -> a value's type, or a type's value
        self._aliases: set[str] = set()  # names _load gave definitions besides their qualified names
        # (path, qualname) of a class-like definition -> (line, signature) of each class-like declaration of it: its
        # bases are read from them when first asked (a query per class cost a fresh retriever's first meetings with
        # Django's classes a third of their time)
        self._class_sigs: dict[tuple[str, str], list[tuple[int, str]]] = {}
        self._load(store, None)
        self.module_of: dict[str, tuple[str, str]] = {}
        self.modules: dict[str, str] = {}
        self._python_modules()
        self._paths: PathIndex | None = None
        self._tables: dict[str, tuple[dict[str, tuple], list[str]]] = {}
        self._catalog = store
        self._bases: dict[tuple[str, str], list[Def]] = {}  # a class's resolved bases, computed when first asked
        self._scopes: dict[str, tuple[dict[str, Target], list[Target]]] = {}
        self._scope_names: dict[str, frozenset[str]] = {}  # the files and modules a scope's targets name
        self._resolving: set[str] = set()
        self._passed: dict[tuple[str, str], Target | None] = {}  # (file, name) -> what the file passes on
        self._arity: dict[tuple[str, int], tuple[int, int | None] | None] = {}
        self._peers: dict[str, FilesTarget | None] = {}
        self._types: dict[tuple[str, str, str, bool], DefTarget | None] = {}
        self._members_of: dict[tuple, list[Def]] = {}  # module_members' answers, by depth (asked for the same often)
        self._member_chunks: dict[tuple, frozenset[int]] = {}  # the chunks of those answers
        self._members_paths: dict[tuple, frozenset[str]] = {}  # the files those answers read (classes, members)
        self._members_by = _ByName()  # module_members' keys by those files (and the module asked for)
        self._chunks_by = _ByName()  # member_chunks' keys by the files of their members and of their bodies
        self._bases_by = _ByName()  # bases' keys by the files of the class and of its bases
        self._walked: list[set[str]] = []  # those files, gathered while module_members answers (nested)
        self._star_names: OrderedDict[tuple, frozenset[str] | None] = OrderedDict()  # star_names' last answers
        self._passed_on: dict[str, tuple[frozenset[str], tuple[str, ...]] | None] = {}
        self._star_closures: dict[str, frozenset[str] | None] = {}  # _star_closure's answers
        self._holding: dict[str, set[str]] | None = None  # _holders' answer
        self._exported: dict[str, tuple[dict[str, tuple[tuple[str, ...], str | None]], list[Target]] | None] = {}
        self._top_names: frozenset[str] | None = None
        self._priming: Iterator[Def] | None = None  # the classes prime() has yet to go through
        self.primed = False  # prime() went through every class since the last patch
        self._stale: tuple[object, ...] = ()  # answers a patch dropped, freed later (_clear_derived)
        self._implementations: dict[tuple[str, str, int], Def] = {}  # implementation's answers
        self._closures: dict[str, frozenset[str] | None] = {}  # _closure's answers
        self._imported: dict[tuple[str, ImportRef], tuple[str, ...]] = {}  # _import_files' answers
        self._resolved_refs: dict[str, tuple[list[ImportRef], list[tuple[tuple[str, ...], str | None, str | None]]]] \
            = {}  # _resolved's answers: per file, the refs asked about and what they import

    def _load(self, store: Store, paths: list[str] | None) -> None:
        """Read definitions and imports of `paths` (None: all files) from the catalog."""
        chunk_of: dict[tuple[str, str, int], int] = {}
        last_chunk: dict[tuple[str, str], int] = {}
        # the spans of definitions' chunks, in the languages that group runs of definitions into one (`_grouped`)
        spans: dict[str, list[tuple[int, int, int]]] = defaultdict(list)  # path -> (start, end, chunk)
        for i, p, sym, start, end in store.definition_chunks(paths):
            chunk_of[(p, sym, start)] = i
            last_chunk[(p, sym)] = i
            if end > start and self._grouped(p):
                spans[p].append((start, end, i))
        groups: dict[tuple[str, str], list[Def]] = defaultdict(list)  # a name declared more than once in a file
        sigs: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
        enumerators: list[tuple[str, str]] = []
        for path, name, qual, kind, start, end, ty, sig in store.definitions(paths, CLASS_LIKE):
            groups[(path, qual)].append(Def(path, qual, name, kind, start, end, chunk_of.get((path, qual, start)),
                                            ty or ""))
            if sig is not None:
                sigs[(path, qual)].append((start, sig))
        for (path, qual), decls in groups.items():
            if len({x.kind for x in decls}) == 1:  # one kind (overloads, a getter and its setter): the first
                d = replace(decls[0], chunk=last_chunk.get((path, qual)))  # with the last chunk, its implementation
            else:  # TypeScript's merged declarations: the one that defines most (a class over its namespace)
                best = min(decls, key=lambda x: (_MERGE_RANK.get(x.kind, len(_MERGE_RANK)), x.chunk is None))
                d = best if best.chunk is not None else replace(best, chunk=last_chunk.get((path, qual)))
                if d.kind not in CONTAINERS and any(x.kind in CONTAINERS for x in decls):
                    self.namespaced.add((path, qual))
                kinds = {x.kind for x in decls}
                if kinds <= _VALUES | _TYPES and kinds & _VALUES and kinds & _TYPES:
                    side = _VALUES if d.kind in _VALUES else _TYPES
                    if twins := [x for x in decls if x.kind not in side and x.chunk is not None]:
                        self.twins[(path, qual)] = twins
            shown_with = d.kind == "enumerator" and "." in qual
            if shown_with:  # shown with its enum: the enum's chunk
                d = replace(d, chunk=last_chunk.get((path, qual.rsplit(".", 1)[0])))
                enumerators.append((path, qual))
            elif d.chunk is None and "." not in qual and d.kind in self._grouped(path):  # in a run's chunk
                d = replace(d, chunk=_covering(spans.get(path, []), d.start_line))
                shown_with = True
            self.defs[path][qual] = d
            if d.kind in CLASS_LIKE:
                self._class_sigs[(path, qual)] = sigs[(path, qual)]
            same = [x for x in decls if x.kind == d.kind]  # Java's field and methods may share a name
            if len(same) > 1 and all(x.chunk is not None for x in same):
                self.overloads[(path, qual)] = same  # each with a body of its own (Java, C++ overloads)
            self.by_name[d.name].append(d)
            if d.chunk is not None and not shown_with:
                self.def_of_chunk[d.chunk] = d
            if "." in qual:
                self.members[(path, qual.rsplit(".", 1)[0])].append(d)
        for path, qual in enumerators:  # C's enum constants are named bare (C++'s `enum class` ones qualified too)
            d = self.defs[path][qual]
            self.defs[path].setdefault(d.name, d)
            self._aliases.add(d.name)
        for path in {p for p, _ in groups if p.endswith(C_HEADERS + C_SOURCES)}:
            self._namespace_aliases(path)
        for path, module, name, alias, line in store.import_rows(paths):
            self.imports[path].append(ImportRef(module, name, alias, line))

    def _grouped(self, path: str) -> frozenset[str]:
        """The kinds whose runs make one chunk in this file's language (`LanguageSpec.grouped`)."""
        lang = self.language.get(path, "")
        return spec(lang).grouped if lang in LANGUAGE_NAMES else frozenset()

    def _namespace_aliases(self, path: str) -> None:
        """A C++ file's definitions inside namespaces also under their name within them (`leveldb.port.Mutex` as
        `Mutex`, the namespace `leveldb.port` as `port`): code in the namespace, or using it, names them so (which
        namespace a file is in, and its `using` lines, are not read: the name in any namespace of the file)."""
        defs = self.defs[path]
        for qual, d in list(defs.items()):
            if "." not in qual or qual != d.qualname:
                continue
            parent, inner = qual.rsplit(".", 1)[0], d.name
            while (p := defs.get(parent)) is not None and p.kind == "namespace" and p.qualname == parent:
                if "." not in parent:
                    defs.setdefault(inner, d)
                    self._aliases.add(inner)
                    break
                parent = parent.rsplit(".", 1)[0]

    def patch(self, store: Store, paths: list[str]) -> None:
        """Re-read changed files in place (an editor's edits), added and deleted ones too."""
        self._priming, self.primed = None, False  # the classes as they were: gone through again
        present = store.indexed_among(paths)
        added = [p for p in paths if p in present and p not in self.language]
        removed = [p for p in paths if p not in present and p in self.language]
        before = {p: self._shape(p) for p in paths}
        gone = set(paths)
        for p in paths:
            self._hold(p, False)
            for d in self.defs.pop(p, {}).values():
                if not (rest := [x for x in self.by_name.get(d.name, []) if x.path != p]):
                    self.by_name.pop(d.name, None)
                else:
                    self.by_name[d.name] = rest
                if d.chunk is not None:
                    self.def_of_chunk.pop(d.chunk, None)
                self.members.pop((p, d.qualname), None)
                self.overloads.pop((p, d.qualname), None)
                self._class_sigs.pop((p, d.qualname), None)
                self.namespaced.discard((p, d.qualname))
                self.twins.pop((p, d.qualname), None)
            self.imports.pop(p, None)
        if added or removed:
            self._files_changed({p: present[p] for p in added}, removed)
        self._load(store, [p for p in paths if p in present])
        for p in paths:
            self._hold(p, True)
        if not added and not removed and all(before[p] == self._shape(p) for p in paths):
            # the same names, declared and imported, as the last patch left them (typing in a body): what the
            # caches say of other files holds; only what mentions these files' definitions goes
            self._forget(gone | {m for p in paths if (m := self.module_of.get(p, ("", ""))[0])})
            return
        self._clear_derived()

    def _files_changed(self, added: dict[str, str], removed: list[str]) -> None:
        """Files added (path -> language) and removed, their definitions already out of the graph: what follows
        from the set of files (languages, Python's module names, the paths' index, packages' peers). Every answer
        computed before goes with them (the caller clears the derived caches)."""
        for p in removed:
            del self.language[p]
        self.language.update(added)
        if any(posixpath.basename(p) == "__init__.py" for p in (*added, *removed) if p.endswith(".py")):
            self._python_modules()  # a folder became a package, or stopped being one: other files' modules too
        else:
            for p in removed:
                if (mod := self.module_of.pop(p, None)) is not None and self.modules.get(mod[0]) == p:
                    del self.modules[mod[0]]  # another file of that module (a .pyi's .py) may stand for it
                    if others := [q for q, (m, _) in self.module_of.items() if m == mod[0]]:
                        self.modules[mod[0]] = min(others, key=_module_rank)
            has_init = package_dirs(self.module_of)
            for p in sorted(added, key=_module_rank):
                if added[p] == "python":
                    mod = self.module_of[p] = python_module(p, has_init, self.root_name)
                    now = self.modules.get(mod[0])
                    if now is None or _module_rank(p) < _module_rank(now):
                        self.modules[mod[0]] = p
        self._paths = None  # rebuilt when next asked for (typeorm: 20 ms)
        self._peers.clear()

    def _python_modules(self) -> None:
        """Every Python file's module name (its package root: the shallowest folder with an `__init__.py`), and the
        file that stands for each module (a `.py` before its `.pyi`)."""
        py = [p for p, lang in self.language.items() if lang == "python"]
        has_init = package_dirs(py)
        self.module_of = {p: python_module(p, has_init, self.root_name) for p in py}
        self.modules = {}
        for p in sorted(self.module_of, key=_module_rank):
            self.modules.setdefault(self.module_of[p][0], p)

    def _shape(self, path: str) -> tuple:
        """What a file declares and imports, lines left out: equal before and after an edit that moved lines or
        changed code inside definitions, every name resolves as it did (its definitions' lines and chunks aside)."""
        return (tuple((q, d.name, d.kind, d.type) for q, d in self.defs.get(path, {}).items()),
                tuple((r.module, r.name, r.alias) for r in self.imports.get(path, ())))

    def _answers(self) -> tuple[dict[Any, Any], ...]:
        """The caches of answers that `_forget` reads key and value of (the others have their own rules there)."""
        return (self._passed, self._arity, self._types, self._star_names, self._passed_on,
                self._exported, self._star_closures, self._implementations, self._closures, self._imported,
                self._resolved_refs)

    def _clear_derived(self) -> None:
        """Forget every answer computed from the definitions (a patch that changed names). They are let go by the
        next `prime`, off the request that patched (freeing a primed graph's thousands of answers took sympy's 6
        ms), or by the next clear."""
        self._stale = tuple(getattr(self, name) for name in _DERIVED)
        for name in _DERIVED:
            setattr(self, name, type(getattr(self, name))())
        self._top_names = None

    def _forget(self, names: set[str]) -> None:
        """Drop the cached answers that mention any of `names` (paths, module names) or a definition of those paths
        (keys or values), or were read from those files (classes' members and bases: where their members, bodies
        and bases are)."""
        for path in names:
            self._tables.pop(path, None)  # a file's table is of its own imports alone
        for cache in self._answers():
            for key in [k for k, v in cache.items() if _mentions(k, names) or _mentions(v, names)]:
                del cache[key]
        for key in [k for k, named in self._scope_names.items() if k in names or not named.isdisjoint(names)]:
            self._scopes.pop(key, None)  # (edges() clears the scopes it resolves with)
            del self._scope_names[key]
        for key in self._members_by.take(names):
            self._members_of.pop(key, None)
            self._members_paths.pop(key, None)
        for key in self._chunks_by.take(names):
            self._member_chunks.pop(key, None)
        for key in self._bases_by.take(names):
            self._bases.pop(key, None)

    # ---- Python -------------------------------------------------------------------------------------------
    def python_table(self, path: str, refs: list[ImportRef] | None = None) -> tuple[dict[str, tuple], list[str]]:
        """Bindings of a Python file's imports: name -> ("mod", module) | ("sym", module, name), and star modules."""
        if refs is None and path in self._tables:
            return self._tables[path]
        pkg = self.module_of.get(path, ("", ""))[1]
        table: dict[str, tuple] = {}
        stars: list[str] = []
        for r in self.imports.get(path, []) if refs is None else refs:
            base = self._absolute(r.module, pkg)
            if base is None:
                continue
            if r.name is None:
                if r.alias:
                    table[r.alias] = ("mod", base)
                else:
                    table.setdefault(base.split(".")[0], ("mod", base.split(".")[0]))
            elif r.name == "*":
                stars.append(base)
            else:
                table[r.alias or r.name] = ("sym", base, r.name)
        if refs is None:
            self._tables[path] = (table, stars)
        return table, stars

    @staticmethod
    def _absolute(module: str, pkg: str) -> str | None:
        level = len(module) - len(module.lstrip("."))
        if not level:
            return module
        parts = pkg.split(".") if pkg else []
        if level - 1 > len(parts):
            return None
        parts = parts[: len(parts) - (level - 1)]
        rest = module[level:]
        return ".".join(parts + ([rest] if rest else []))

    def resolve_symbol(self, module: str, name: str, depth: int = 0) -> Target | None:
        path = self.modules.get(module)
        if path is None or depth > MAX_DEPTH:
            return None
        d = self.defs.get(path, {}).get(name)
        if d is not None and d.kind != "constant":
            return ("def", d)
        if module + "." + name in self.modules:
            return ("mod", module + "." + name)
        table, stars = self.python_table(path)
        if name in table:
            return self.resolve_binding(table[name], depth + 1)
        for s in stars:
            if (r := self.resolve_symbol(s, name, depth + 1)) is not None:
                return r
        return ("def", d) if d is not None else None

    def resolve_binding(self, ref: tuple, depth: int = 0) -> Target | None:
        if ref[0] == "mod":
            return ("mod", ref[1]) if ref[1] in self.modules else None
        return self.resolve_symbol(ref[1], ref[2], depth)

    # ---- all languages ------------------------------------------------------------------------------------
    def qualifies(self, d: Def, attr: str) -> bool:
        """Whether `d`, written before `.attr` (or `::attr`), only leads to a definition: `d` is a namespace or a
        module, or `attr` is a declaration of a namespace merged with `d` (TypeScript's `Client.Options` where `class
        Client` and `namespace Client` merge), not one of its class's methods or fields."""
        if d.kind not in CONTAINERS and (d.path, d.qualname) not in self.namespaced:
            return False
        member = self.resolve_attr(("def", d), attr)
        return member is not None and member[0] == "def" and (d.kind in CONTAINERS or member[1].kind not in
                                                              _OWN_MEMBERS)

    def resolve_attr(self, target: Target, attr: str, depth: int = 0) -> Target | None:
        """`module.attr`, `Class.member` (its own, else inherited), or a name exported by a set of files; `attr`
        ELEMENT (`xs[i]`): the type of the elements a definition's declared type holds."""
        if attr == ELEMENT:
            return self.type_of(target[1], element=True) if target[0] == "def" else None
        if target[0] == "mod":
            return self.resolve_symbol(target[1], attr)
        if target[0] == "files":
            for p in target[1]:
                if (found := self.defs.get(p, {}).get(attr)) is not None:
                    return ("def", found)
            return self._reexported(target[1], attr, depth)
        d = target[1]
        if d.kind not in TYPE_LIKE and attr in ELEMENT_METHODS and d.type and (t := self.type_of(d, element=True)):
            return t  # `this.queries.get(id)` of `queries: Map<string, QueryInfo>`: a QueryInfo (a defined type's
            # own methods stay its: Go's `type Cache map[K]V` may have a `get`)
        if d.kind not in CLASS_LIKE and _typed_by(d):  # a field, a call: its type's member
            t = self.type_of(d)
            return self.resolve_attr(t, attr, depth + 1) if t is not None and depth < MAX_BASE_DEPTH else None
        if d.kind == "constant" and "." in d.qualname and depth < MAX_BASE_DEPTH:
            owner = self.defs.get(d.path, {}).get(d.qualname.rsplit(".", 1)[0])
            if owner is not None and owner.kind == "enum":  # an enum's constant has the enum's members
                return self.resolve_attr(("def", owner), attr, depth + 1)
        for p in self._member_paths(d):
            if (m := self.defs.get(p, {}).get(f"{d.qualname}.{attr}")) is not None:
                return ("def", m)
        if depth < MAX_BASE_DEPTH:
            for base in self.bases(d):
                if (inherited := self.resolve_attr(("def", base), attr, depth + 1)) is not None:
                    return inherited
        return None

    def module_members(self, target: Target, depth: int = 0) -> list[Def]:
        """Top-level definitions of a module (or files), or the members of a class, inherited ones after its own
        (an override hides the base's). The list is shared: callers read it, never change it."""
        key = (_target_key(target), depth)  # a base's members are asked for by each class of its family
        if (found := self._members_of.get(key)) is None:
            self._walked.append(set())
            try:
                found = self._members_of[key] = self._module_members(target, depth)
            finally:
                walked = self._walked.pop()
            walked.update(d.path for d in found)
            if target[0] == "def":
                walked.add(target[1].path)
            self._members_paths[key] = frozenset(walked)
            self._members_by.add(key, walked)
            self._members_by.add(key, _named(target))
        if self._walked:  # the files of the classes a family's answer went through (a base's bases may change)
            self._walked[-1].update(self._members_paths[key])
        return found

    def prime(self, until: float | None = None) -> bool:
        """Work out every class's members now (`member_chunks`: its bases read from the catalog and resolved, the
        members it inherits merged), as the first query to meet each class would, until the `time.monotonic()`
        `until`, where given. True once every class is done. A deep query in a test file that imports hundreds of
        classes met most of them for the first time: sympy's deep cursors, p95 35 -> 26-30 ms in one process, for
        0.25 s and 4 MB once (2,205 classes; typeorm's 2,710: 0.16 s; sqlalchemy's 8,910: 1.1 s, 9 MB). A patch
        starts it over (the answers it kept are met again in no time). At most PRIME_MAX_CLASSES classes: the
        memory it takes is bounded whatever the repository's size (the others are worked out on first use)."""
        self._stale = ()
        if self._priming is None:
            classes = (d for defs in self.defs.values() for d in defs.values() if d.kind in CLASS_LIKE)
            self._priming = iter(list(itertools.islice(classes, PRIME_MAX_CLASSES)))
        for d in self._priming:
            self.member_chunks(("def", d))
            if until is not None and time.monotonic() > until:
                return False
        self.primed = True
        return True

    def member_chunks(self, target: Target) -> frozenset[int]:
        """The chunks of `module_members(target)`, as a set: a request meets the members a class inherits once per
        class of the family, and set differences of them cost a fraction of walking the lists. A function a C
        header declares is its definition's chunk (`implementation`)."""
        key = _target_key(target)
        if (found := self._member_chunks.get(key)) is None:  # a C header's functions: where they are defined
            members = self.module_members(target)
            walked = self._members_paths[(key, 0)]  # the members' files among them
            headers = any(p.endswith(C_HEADERS) for p in walked)  # else each member is its own body
            bodies = [self.implementation(d) if d.kind in _DEFINED_ELSEWHERE else d for d in members] if headers \
                else members
            found = self._member_chunks[key] = frozenset(c for d in bodies if (c := d.chunk) is not None)
            self._chunks_by.add(key, walked)
            self._chunks_by.add(key, _named(target))
            if headers:
                self._chunks_by.add(key, {d.path for d in bodies})
        return found

    def _module_members(self, target: Target, depth: int) -> list[Def]:
        if target[0] == "mod":
            path = self.modules.get(target[1])
            return [d for q, d in self.defs.get(path, {}).items() if "." not in q] if path else []
        if target[0] == "files":
            return [d for p in target[1] for q, d in self.defs.get(p, {}).items() if "." not in q]
        d = target[1]
        if d.kind not in CLASS_LIKE and _typed_by(d):  # `x.field.`, `x.f().`: its type's
            t = self.type_of(d)
            return self.module_members(t, depth + 1) if t is not None and depth < MAX_BASE_DEPTH else []
        own = [m for p in self._member_paths(d) for m in self.members.get((p, d.qualname), [])]
        if depth < MAX_BASE_DEPTH:
            names = {m.name for m in own}
            for base in self.bases(d):
                for m in self.module_members(("def", base), depth + 1):
                    if m.name not in names:
                        names.add(m.name)
                        own.append(m)
        return own

    def type_of(self, d: Def, element: bool = False) -> DefTarget | None:
        """The class-like definition a definition's declared or result type names, read in its own file's scope
        (`Desc protoreflect.MessageDescriptor`, `func New() *Cart`), or None. With `element`, the type of the
        elements of the container it declares (`Fields []*Field`, `func All() []*T`)."""
        key = (d.path, d.qualname, d.type, element)
        if key in self._types:
            return self._types[key]
        self._types[key] = None  # a type that names itself ends here
        chain = (elem_chain if element else type_chain)(d.type) if d.type else None
        t = self.in_scope(d.path, chain[0]) if chain else None
        if chain and chain[0] in _SELF_NAMES and t is None and "." in d.qualname:  # a getter's `this.client.cache`
            owner = self.defs.get(d.path, {}).get(d.qualname.rsplit(".", 1)[0])
            t = ("def", owner) if owner is not None and owner.kind in CLASS_LIKE else None
        for attr in (chain or [])[1:]:
            t = self.resolve_attr(t, attr) if t is not None else None
        if t is not None and not element and d.kind in ("constant", "variable") and t[0] == "def" \
                and t[1].kind in FUNCTION_KINDS:
            t = self.type_of(t[1])  # `var x = pkg.New()`: what the function returns
        elif t is not None and not element and d.kind in (*FUNCTION_KINDS, "type") and t[0] == "def" \
                and t[1].kind not in TYPE_LIKE:
            t = self.type_of(t[1])  # a getter returning `this.client.cache`: that field's type; an alias of
            # `ReturnType<typeof make>`: what make returns
        found = t if t is not None and t[0] == "def" and t[1].kind in TYPE_LIKE else None
        self._types[key] = found
        return found

    def _member_paths(self, d: Def) -> list[str]:
        """Where members of `d` are declared: its file, and for a top-level type of a language with packages its
        package's other files (Go declares a type's methods in any file of its package)."""
        if "." in d.qualname:
            return [d.path]
        peer = self.peers(d.path, self.language.get(d.path, ""))
        return [d.path, *(peer[1] if peer else ())]

    def overloads_of(self, d: Def, args: int | None) -> list[Def]:
        """The declarations a use of `d` may mean: of several overloads, those whose parameters take `args`
        arguments (the language's arity rule; all of them when the count or the rule is unknown, or none fits)."""
        decls = self.overloads.get((d.path, d.qualname)) or [d]
        lang = self.language.get(d.path, "")
        rule = spec(lang).arity if lang in LANGUAGE_NAMES else None
        if args is None or rule is None:
            return decls
        fits = self._fitting(decls, args, rule)
        if not fits and "." in d.qualname:  # none of the class's own: an overload a base class declares (javac's)
            owner = self.defs.get(d.path, {}).get(d.qualname.rsplit(".", 1)[0])
            for base in self.bases(owner) if owner is not None else []:
                found = self.resolve_attr(("def", base), d.name)
                if found is not None and found[0] == "def" and found[1] is not d:
                    inherited = self.overloads.get((found[1].path, found[1].qualname)) or [found[1]]
                    if fits := self._fitting(inherited, args, rule):
                        break
        return fits or decls

    def implementation(self, d: Def) -> Def:
        """Where a C or C++ function (or `extern` variable) declared in a header is defined, as clangd's
        go-to-definition finds it: the one definition of its name in a source file (for a class's method, one
        whose signature names the class: `void Batch::Put(`; of several, the one that is not `static`); `d` itself
        when there is none or more than one, and outside C and C++ headers."""
        if d.kind not in _DEFINED_ELSEWHERE or not d.path.endswith(C_HEADERS):
            return d
        key = (d.path, d.qualname, d.start_line)
        if (found := self._implementations.get(key)) is None:
            parent = self.defs.get(d.path, {}).get(d.qualname.rsplit(".", 1)[0]) if "." in d.qualname else None
            owner = parent.name if parent is not None and parent.kind in CLASS_LIKE else None
            bodies = [x for x in self.by_name.get(d.name, ()) if x.path.endswith(C_SOURCES) and x.chunk is not None
                      and (x.kind == d.kind or x.kind in FUNCTION_KINDS and d.kind in FUNCTION_KINDS)]
            if owner is not None:  # `Status File::Close()`, not `Status TestFile::Close()`
                named = re.compile(rf"(?<![\w:]){re.escape(owner)}\s*::\s*{re.escape(d.name)}\s*\(")
                bodies = [x for x in bodies if named.search(self.signature(x) or "")]
            elif len(bodies) > 1:  # a `static` one is another file's own, never what a header declares
                bodies = [x for x in bodies if not _STATIC.match(self.signature(x) or "")]
            found = self._implementations[key] = bodies[0] if len(bodies) == 1 else d
        return found

    def signature(self, d: Def) -> str | None:
        """A definition's signature as the catalog holds it; None when the catalog has no such definition."""
        if (held := self._class_sigs.get((d.path, d.qualname))) is not None:
            for line, sig in held:
                if line == d.start_line:
                    return sig
        return self._catalog.signature(d.path, d.qualname, d.start_line)

    def _fitting(self, decls: list[Def], args: int, rule: Arity) -> list[Def]:
        fits = []
        for o in decls:
            key = (o.path, o.start_line)
            if key not in self._arity:
                self._arity[key] = rule(o.name, sig) if (sig := self.signature(o)) is not None else None
            ar = self._arity[key]
            if ar is None or (ar[0] <= args and (ar[1] is None or args <= ar[1])):
                fits.append(o)
        return fits

    def bases(self, d: Def) -> list[Def]:
        """The class-like definitions `d` declares as its bases (its language's `bases` rule on its signature) or
        embeds (members of kind "embed", Go's), resolved in its own file's scope: imports, its definitions, its
        package."""
        key = (d.path, d.qualname)
        if (known := self._bases.get(key)) is not None:
            return known
        self._bases[key] = []  # a base cycle ends here
        lang = self.language.get(d.path, "")
        find = spec(lang).bases if lang in LANGUAGE_NAMES and d.kind in CLASS_LIKE else None
        # every declaration of the name: a TypeScript class merged with a namespace, interfaces that merge, a
        # class defined in two branches; `d`'s own first
        # the signatures `_load` kept (`find` runs only on class-like definitions, all of which it keeps)
        sigs = [sig for _, sig in sorted(self._class_sigs.get(key, ()), key=lambda x: (x[0] != d.start_line, x[0]))
                ] if find is not None else []
        chains = [c for sig in sigs for c in find(sig)] if find is not None else []
        out: list[Def] = []
        for chain in chains:
            t = self.in_scope(d.path, chain[0])
            for attr in chain[1:]:
                t = self.resolve_attr(t, attr) if t is not None else None
            if t is not None and t[0] == "def" and t[1] is not d and t[1].kind in CLASS_LIKE \
                    and t[1] not in out:
                out.append(t[1])
        for m in self.members.get(key, []) if d.kind in CLASS_LIKE else []:  # embedded types (Go)
            if m.kind == "embed" and (t := self.type_of(m)) is not None and t[1] is not d:
                out.append(t[1])
        self._bases[key] = out
        self._bases_by.add(key, {d.path, *(b.path for b in out)})
        return out

    def _reexported(self, files: tuple[str, ...], name: str, depth: int) -> Target | None:
        """A name the files do not define but pass on from another (a barrel's `export * from`, `export {x} from`,
        Rust's `pub use`, a C header's includes): followed through their own imports, at most MAX_DEPTH files deep,
        never in a cycle. Each (file, name) is searched once per graph, so a name nothing defines (a standard
        library's) costs one visit per file, however the files import each other."""
        if depth >= MAX_DEPTH:
            return None
        if depth == 0 and (found := self._included(files, name)) is not None:
            return found
        for p in files:
            if p in self._resolving or self.language.get(p, "") not in _PASSES_ON:
                continue
            key = (p, name)
            if key in self._passed:
                t = self._passed[key]
            elif not self._may_pass_on(p, name):
                continue
            else:
                self._passed[key] = None  # a cycle through this file ends here
                t = self._passes_on(p, name, depth)
                self._passed[key] = t
            if t is not None:
                return t
        return None

    def _included(self, files: tuple[str, ...], name: str) -> Target | None:
        """A C or C++ name the files' includes define in exactly one file: found through the files' include closures
        (computed once a file) instead of searched include by include, which a file's first query did for each of
        hundreds of names (jemalloc.c: 112 ms). None where the search must decide (several files define it, another
        language, a file's imports bind names)."""
        if not all(self.language.get(p, "") in C_FAMILY for p in files):
            return None
        definers = {d.path for d in self.by_name.get(name, ()) if self.defs.get(d.path, {}).get(name) is not None}
        if not definers:
            return None
        for p in files:
            closure = self._closure(p)
            if closure is None:
                return None
            if hits := definers & closure:
                return ("def", self.defs[next(iter(hits))][name]) if len(hits) == 1 else None
        return None

    def _closure(self, path: str) -> frozenset[str] | None:
        """Every file a C or C++ file's includes reach, transitively; None when one of them is not C or C++."""
        if path in self._closures:
            return self._closures[path]
        seen: set[str] = set()
        todo = list(passed[1]) if (passed := self._passes(path)) is not None else []
        found: frozenset[str] | None = None
        while todo:
            f = todo.pop()
            if f in seen:
                continue
            if self.language.get(f, "") not in C_FAMILY or (sub := self._passes(f)) is None or sub[0] - {"*"}:
                break  # another language, or imports that bind names: the search decides
            seen.add(f)
            todo.extend(sub[1])
        else:
            found = frozenset(seen)
        self._closures[path] = found
        return found

    def _passes_on(self, path: str, name: str, depth: int) -> Target | None:
        exports = self._exports(path)
        if exports is None:  # star imports whose targets must be resolved (Rust's `use Enum::*`)
            bindings, stars = self._scope(path)
            t = bindings.get(name)
        else:
            bound, stars = exports
            t = self._bound(*bound[name]) if name in bound else None
        if t is not None and t[0] == "def":
            return t
        for s in stars:
            if (t := self.resolve_attr(s, name, depth + 1)) is not None:
                return t
        return None

    def _exports(self, path: str) -> tuple[dict[str, tuple[tuple[str, ...], str | None]], list[Target]] | None:
        """A file's imports as the re-export search reads them, unresolved: local name -> (the files, the name
        imported) of the last import binding it, and the star imports' sets of files; None where a star import's
        target must be resolved. Read from paths alone, so kept for the graph's life: the search resolves only the
        names it asks a file for (`_bound`), where `_scope` resolved all of a barrel's names for every file whose
        edges were resolved (typeorm: 115k bindings)."""
        if path in self._exported:
            return self._exported[path]
        lang = self.language.get(path, "")
        resolver = spec(lang).resolve if lang in LANGUAGE_NAMES else None
        bound: dict[str, tuple[tuple[str, ...], str | None]] = {}
        stars: list[Target] = []
        out: tuple[dict[str, tuple[tuple[str, ...], str | None]], list[Target]] | None = (bound, stars)
        for files, imported, binds in self._resolved(path, self.imports.get(path, []), resolver) if resolver else []:
            if imported == "*":
                stars.append(("files", files))
            elif imported and imported.endswith(".*"):
                out = None
                break
            elif binds:
                bound[binds] = (files, imported)
        self._exported[path] = out
        return out

    def _may_pass_on(self, path: str, name: str) -> bool:
        """Whether `_passes_on(path, name)` can find anything: a file its star imports reach (itself included)
        defines the name or binds it by an import. Most searches of a barrel's stars are for names defined
        elsewhere, and each walked the barrel's whole tree (typeorm: 75 files a search); a name no file of the tree
        holds is found nowhere in it, whatever the order or the cycles, so ruling it out changes no answer."""
        closure = self._star_closure(path)
        if closure is None:
            return True
        return not closure.isdisjoint(self._holders().get(name, ()))

    def _star_closure(self, path: str) -> frozenset[str] | None:
        """The files `path`'s star imports reach through the files' own star imports, `path` included; None where
        one of them has star imports to resolve (`_exports`)."""
        if path in self._star_closures:
            return self._star_closures[path]
        seen, todo = {path}, [path]
        found: frozenset[str] | None = None
        while todo:
            f = todo.pop()
            if self.language.get(f, "") not in _PASSES_ON:
                continue
            if (exports := self._exports(f)) is None:
                break
            for star in exports[1]:
                for q in star[1] if star[0] == "files" else ():
                    if q not in seen:
                        seen.add(q)
                        todo.append(q)
        else:
            found = frozenset(seen)
        self._star_closures[path] = found
        return found

    def _holders(self) -> dict[str, set[str]]:
        """Name -> the files that define it (under that name or qualified name, as `resolve_attr` looks names
        up) or, in the languages that pass names on, bind it by an import. Built when first asked for, then kept
        up to date by `patch` file by file (an editor's edit does not rebuild it)."""
        if self._holding is None:
            self._holding = defaultdict(set)
            for path in self.language:
                self._hold(path, True)
        return self._holding

    def _hold(self, path: str, held: bool) -> None:
        """Enter (or take out) a file's names in `_holders`, where it has been built."""
        if self._holding is None:
            return
        names = list(self.defs.get(path, ()))
        if self.language.get(path, "") in _PASSES_ON:
            names += [b for r in self.imports.get(path, ()) if (b := r.binds)]
        for name in names:
            if held:
                self._holding[name].add(path)
            elif (files := self._holding.get(name)) is not None:
                files.discard(path)

    def _bound(self, files: tuple[str, ...], imported: str | None) -> Target:
        """What an import of `imported` from `files` binds (outside Python): the files themselves for a module or
        default import, else the name they pass on, or the files where it is not found. In the re-export search a
        cycle ends where the search meets a (file, name) it is following already (`_reexported`)."""
        if imported in (None, "default"):
            return ("files", files)
        t = self.resolve_attr(("files", files), imported)
        return t if t is not None else ("files", files)

    def _scope(self, path: str) -> tuple[dict[str, Target], list[Target]]:
        """A file's own import bindings and star imports (computed once; a file being computed is skipped by the
        re-export search, which breaks import cycles)."""
        if path not in self._scopes:
            self._resolving.add(path)
            try:
                lang = self.language.get(path, "")
                scope = self._scopes[path] = self.bindings(path, lang, self.imports.get(path, []))
                self._scope_names[path] = frozenset(n for t in (*scope[0].values(), *scope[1]) for n in _named(t))
            finally:
                self._resolving.discard(path)
        return self._scopes[path]

    def star_names(self, stars: list[Target]) -> frozenset[str] | None:
        """Every name `resolve_attr` could find through these star imports (sets of files), or None when one is of
        another kind. A superset, from the files they reach through the files' own imports (what `_reexported`
        follows, without its depth limit or cycle cuts, so that it depends on nothing searched before): a name
        outside it resolves to nothing, and is not searched for file by file. In C, where every header's includes
        are star imports, most of a function's names (locals, fields, the C library's) are such names, and each
        search walked the whole include graph."""
        key = tuple(_target_key(s) for s in stars)
        if key in self._star_names:
            self._star_names.move_to_end(key)
            return self._star_names[key]
        names: set[str] | None = set()
        todo = [p for s in stars if s[0] == "files" for p in s[1]]
        if any(s[0] != "files" for s in stars):
            names, todo = None, []
        seen: set[str] = set()
        while todo and names is not None:
            p = todo.pop()
            if p not in seen:
                seen.add(p)
                names.update(self.defs.get(p, ()))
                if (passed := self._passes(p)) is None:
                    names = None
                else:
                    names.update(passed[0])
                    todo.extend(passed[1])
        found = self._star_names[key] = frozenset(names) if names is not None else None
        while len(self._star_names) > STAR_TABLES:
            self._star_names.popitem(last=False)
        return found

    def _passes(self, path: str) -> tuple[frozenset[str], tuple[str, ...]] | None:
        """The names a file's imports bind (those it may pass on) and the files they import, as `_reexported`
        reads a file: nothing for Python and for languages without re-exports; None for an import of a class's
        members (Java's static star), whose names are not top-level ones."""
        if path in self._passed_on:
            return self._passed_on[path]
        out: tuple[frozenset[str], tuple[str, ...]] | None = (frozenset(), ())
        lang = self.language.get(path, "")
        resolver = spec(lang).resolve if _passes_on_imports(lang) else None
        if resolver is not None:
            refs = self.imports.get(path, [])
            if any(r.name and r.name.endswith(".*") for r in refs):
                out = None
            else:
                files = [p for r in refs for p in self._import_files(path, r, resolver)]
                out = frozenset(n for r in refs for n in (r.binds, r.name) if n), tuple(files)
        self._passed_on[path] = out
        return out

    @property
    def top_names(self) -> frozenset[str]:
        """Every name a file's top level defines or an import binds, in any file of the catalog (not only the
        files loaded): a name outside it resolves to nothing through any file's imports."""
        if self._top_names is None:
            names = self._catalog.top_level_qualnames()
            for module, name, alias in self._catalog.distinct_imports():
                names.update(n for n in (alias, name, (module or "").split(".")[0]) if n)
            self._top_names = frozenset(names | self._aliases)
        return self._top_names

    def in_scope(self, path: str, name: str) -> Target | None:
        """What `name` means at the top level of `path`: an import, the file's own definition, its package's."""
        if path not in self._scopes and self.language.get(path) == "python":
            return self._python_in_scope(path, name)
        bindings, stars = self._scope(path)
        if name in bindings:
            return bindings[name]
        if (d := self.defs.get(path, {}).get(name)) is not None:
            return ("def", d)
        peer = self.peers(path, self.language.get(path, ""))
        return next((t for s in [*stars, *([peer] if peer else [])] if (t := self.resolve_attr(s, name)) is not None),
                    None)

    def _python_in_scope(self, path: str, name: str) -> Target | None:
        """`in_scope` in a Python file whose scope is not worked out: of its imports, only the one of `name` is
        resolved (a base class's file imports dozens of names: a fresh retriever's first meetings with classes
        spent a third of their time resolving them all)."""
        table, star_modules = self.python_table(path)
        if (ref := table.get(name)) is not None and (t := self.resolve_binding(ref)) is not None:
            return t
        if (d := self.defs.get(path, {}).get(name)) is not None:
            return ("def", d)
        return next((t for m in star_modules if m in self.modules
                     if (t := self.resolve_attr(("mod", m), name)) is not None), None)

    def warm(self) -> None:
        """Build now what the first query would: the paths' index (every import outside Python reads it) and, where
        a language passes names on, the table of the files holding each name (typeorm: 3,733 files, 20 ms)."""
        if any(lang != "python" for lang in self.language.values()):
            self.path_rules()
        if any(lang in _PASSES_ON for lang in self.language.values()):
            self._holders()

    def path_rules(self) -> PathIndex:
        """The index of the files' paths (and configs such as tsconfig.json) that imports outside Python are
        resolved by, read once per graph."""
        if self._paths is None:
            self._paths = self._path_index()
        return self._paths

    def _path_index(self) -> PathIndex:
        root = self.root

        def read(rel: str) -> str | None:
            return read_text(root / rel, CONFIG_MAX_BYTES) if root is not None else None

        return PathIndex(self.language, read)

    def peers(self, path: str, language: str) -> FilesTarget | None:
        """The files whose top-level names `path` sees without an import (its package), as one target, or None."""
        if path in self._peers:  # kept until the set of files changes (_files_changed)
            return self._peers[path]
        find = spec(language).peers if language in LANGUAGE_NAMES else None
        if find is None:
            return None
        files = tuple(p for p in find(path, self.path_rules()) if p in self.language)
        self._peers[path] = ("files", files) if files else None
        return self._peers[path]

    def _import_files(self, path: str, ref: ImportRef, resolver: Callable[..., list[str]]) -> tuple[str, ...]:
        """The indexed files an import of `path` names (its language's path rules), remembered: the rules read
        only paths, so the answer holds for the graph's life, while the edges' re-export searches, which start
        afresh for every file, ask for the same barrels' imports again and again (typeorm: 580k times)."""
        key = (path, ref)
        if (files := self._imported.get(key)) is None:
            found = resolver(path, ref, self.path_rules()) if ref.module else []
            files = self._imported[key] = tuple(p for p in found if p in self.language)
        return files

    def bindings(self, path: str, language: str, refs: list[ImportRef]) -> tuple[dict[str, Target], list[Target]]:
        """What the given imports of a file bind: local name -> target, plus star-imported modules/files."""
        out: dict[str, Target] = {}
        stars: list[Target] = []
        if language == "python":
            table, star_mods = self.python_table(path, refs)
            for name, ref in table.items():
                if (t := self.resolve_binding(ref)) is not None:
                    out[name] = t
            stars = [("mod", m) for m in star_mods if m in self.modules]
            return out, stars
        resolver = spec(language).resolve if language in LANGUAGE_NAMES else None
        if resolver is None:  # no path rules for it: names still match by the by_name index
            return out, stars
        for files, imported, binds in self._resolved(path, refs, resolver):
            if imported == "*":
                stars.append(("files", files))
            elif imported and imported.endswith(".*"):  # Java's `import static a.b.C.*`: C's static members
                t = ("files", files)
                for part in imported[:-2].split("."):
                    t = self.resolve_attr(t, part) if t is not None else None
                if t is not None and t[0] == "def":
                    stars.append(t)
            elif binds:
                out[binds] = self._bound(files, imported)
        return out, stars

    def _resolved(self, path: str, refs: list[ImportRef],
                  resolver: Callable[..., list[str]]) -> list[tuple[tuple[str, ...], str | None, str | None]]:
        """The imports among `refs` that name indexed files: (those files, the name imported, the name bound), in
        order; remembered for the list of refs last asked about per file (a file's own imports: the re-export
        searches read a barrel's imports again for every file whose edges are resolved, typeorm's 115k times)."""
        held = self._resolved_refs.get(path)
        if held is not None and held[0] is refs:
            return held[1]
        out = [(files, r.name, r.binds) for r in refs if (files := self._import_files(path, r, resolver))]
        self._resolved_refs[path] = (refs, out)
        return out


def resolve_edges(graph: Graph, references: dict[str, dict[str, int]],
                  paths: Iterable[str] | None = None) -> list[tuple[str, str, str, str, str]]:
    """The stored symbol graph: (file, local name, target file, target qualname or "", kind) for every import a file
    makes ("imports") and every referenced name that resolves through them ("uses"), of `paths` (None: all files).

    Each file's edges depend on that file alone, never on which files were resolved before it: the re-export
    searches (whose cycle cuts are remembered) start afresh for each file not in Python (Python's resolution
    remembers nothing but import tables), so resolving a few files again gives what a full rebuild would."""
    out: list[tuple[str, str, str, str, str]] = []
    todo = graph.language.items() if paths is None else [(p, graph.language[p]) for p in paths if p in graph.language]
    for path, lang in todo:
        if lang != "python":
            graph._passed.clear()
            graph._scopes.clear()
        refs = graph.imports.get(path, [])
        peers = graph.peers(path, lang)
        if not refs and peers is None:
            continue
        bindings, stars = graph.bindings(path, lang, refs) if refs else ({}, [])
        for name, t in bindings.items():
            for dst, qual in _target_files(graph, t):
                out.append((path, name, dst, qual, "imports"))
        for s in stars:
            for dst, _ in _target_files(graph, s):
                out.append((path, "*", dst, "", "imports"))
        seen = [*stars, peers] if peers is not None else stars
        # through sets of files only a top-level name resolves: the C library's are defined nowhere, so searched
        # for nowhere (a class's static members, Java's `import static C.*`, are not top-level names)
        defined = graph.top_names if all(s[0] == "files" for s in seen) else None
        for name in references.get(path, {}):
            used = bindings.get(name)
            if used is None and (defined is None or name in defined):
                used = next((r for s in seen if (r := graph.resolve_attr(s, name)) is not None), None)
            if used is not None and used[0] == "def":
                out.append((path, name, used[1].path, used[1].qualname, "uses"))
    return out


def _covering(spans: list[tuple[int, int, int]], line: int) -> int | None:
    """The chunk of the span, of spans sorted by start and not nested, that holds `line`."""
    at = bisect.bisect_right(spans, (line, math.inf, math.inf)) - 1
    return spans[at][2] if at >= 0 and spans[at][0] <= line <= spans[at][1] else None


def _target_files(graph: Graph, t: Target) -> list[tuple[str, str]]:
    if t[0] == "def":
        return [(t[1].path, t[1].qualname)]
    if t[0] == "mod":
        p = graph.modules.get(t[1])
        return [(p, "")] if p else []
    return [(p, "") for p in t[1]]
