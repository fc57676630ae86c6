"""Hybrid retrieval: the symbol graph, lexical BM25 and vector similarity fused into one ranking, fitted to a
token budget (assemble.py places the ranked definitions as items)."""
from __future__ import annotations

import heapq
import json
import logging
import math
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from . import heap
from .assemble import TWIN_GAP_LINES, Assembler, Cand, Item, cand
from .embed import STATIC_NAME
from .expect import NUMBER, Expect, builtin, expect, fit, parameter_types, type_key
from .files import read_regular, read_text
from .graph import CLASS_LIKE, TYPE_LIKE, Def, DefTarget, Graph, Target
from .index import Index
from .lang.types import ELEMENT, ELEMENT_METHODS, elem_chain
from .languages import LANGUAGE_NAMES, spec
from .lexical import Lexical
from .nextname import NextNames
from .store import ChunkRow, subtokens
from .tokens import count as count_tokens
from .vectors import VectorStoreGone
from .visible import Scans, Visible, prepare, read

log = logging.getLogger(__name__)

WINDOW_LINES = 30  # lines before the cursor that count as "what is being written"
VECTOR_LINES = 12
FOCUS_LINES, FOCUS_BOOST = 3, 2  # lexical query terms near the cursor count this many times more
DEFAULT_BUDGET = {"cursor": 1500, "selection": 2000}
MAX_SOURCE_BYTES = 4_000_000  # of a query's own file read from disk
_KEYWORDS = frozenset("""self this cls super None True False null nil true false return if else elif for while in not
and or is def class import from as with try except finally raise yield await async lambda pass break continue new let
const var function func fn pub use mod struct impl enum trait match type interface package static public private
protected void int char float double bool string str list dict set tuple object print len range isinstance
super""".split())
_EXPECT_CLASS = re.compile(r"(?:\braise\s+|\bexcept\s*\(?\s*|\bisinstance\([^,]*,\s*\(?|\bissubclass\([^,]*,\s*\(?"
                           r"|\bclass\s+\w+\s*\(|\bnew\s+|->\s*|:\s*)$")
_BOUND = re.compile(r"[<,]\s*([A-Za-z_$][\w$]*)\s+extends\s+([A-Za-z_$][\w$.]*)")  # a type parameter, its bound
_EXPECT_DECORATOR = re.compile(r"^\s*@$")
_SELF = frozenset({"self", "this", "cls"})
_NAMED = re.compile(r"(?<![\w$.])([A-Za-z_$][\w$]*)(?:\.([A-Za-z_$][\w$]*))?")  # a name, and one after it
NEXT_NAMES, NEXT_MAX_DEFS = 8, 3  # names that followed the same code elsewhere, and how many definitions one may have
CLASSES = 64  # classes whose members are candidates: those used nearest the cursor, then imported ones not yet used
# (a test file of sympy uses 859 classes: their members took 50-70 ms to gather on a first query)
LOOSE_MAX_DEFS = 6  # a member of a value of unknown type: the members of that name, when at most this many

# Weights of the fused score. Graph evidence dominates; lexical and vector similarity order what it leaves tied.
# Fitted weights ship as data (ranking.json beside this module, written by bench/train_ranker.py) and replace these.
HAND_WEIGHTS = {
    "cursor": dict(next=3.0, fits=3.0, scope=0.5, receiver=4.0, imported=1.6, unused=1.0, member=0.7, member_recent=0.6,
                   star=0.5, used_func=-0.6, used_window=0.2, class_member=0.6, name=0.8, lex=1.6, vec=0.6, kind=0.8),
    # after `module.` or `Class.`: the members of that target compete on usage and similarity alone
    "receiver": dict(next=3.0, fits=3.0, line=1.0, receiver=4.0, used_func=-0.6, used_window=0.2, uses=0.6, name=0.8,
                     lex=1.6, vec=0.6, kind=0.8),
    "selection": dict(loose=1.0, receiver=0.0, used=5.0, used_typed=2.0, imported=0.6, unused=0.0, member=0.2,
                      member_recent=0.3, star=0.2, class_member=0.5, name=0.8, lex=1.0, vec=0.4, kind=0.0),
}


def load_weights(path: Path | None = None) -> dict[str, dict[str, float]]:
    """The fusion weights per mode: the fitted ones shipped as data when present and well-formed, else the hand-set
    ones (a mode or feature the data leaves out keeps its hand-set weight)."""
    path = path or Path(__file__).with_name("ranking.json")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        fitted = {mode: {f: float(w) for f, w in data["weights"][mode].items()} for mode in HAND_WEIGHTS}
    except FileNotFoundError:
        return HAND_WEIGHTS
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.warning("%s is unusable (%s); using the hand-set ranking weights", path, exc)
        return HAND_WEIGHTS
    return {mode: {**HAND_WEIGHTS[mode], **fitted[mode]} for mode in HAND_WEIGHTS}


W = load_weights()


@dataclass(frozen=True, slots=True)
class Query:
    """A cursor (line, col: only the text before it counts) or a selection (line..end_line)."""

    path: str
    line: int
    col: int | None = None
    end_line: int | None = None

    @property
    def mode(self) -> str:
        return "selection" if self.end_line is not None else "cursor"


class Retriever:
    """Answers context queries against one index. Reloads its graph when the index changes."""

    def __init__(self, index: Index) -> None:
        self.index = index
        self.store = index.store
        self._graph: Graph | None = None
        self._generation: str | None = None
        self._seq = 0
        self._lex: Lexical | None = None
        self._lex_generation: str | None = None
        self._scans = Scans()
        self._next = NextNames(self.store)

    @property
    def graph(self) -> Graph:
        """The symbol graph: reloaded after a full refresh, patched file by file after single-file updates."""
        gen = self.store.meta("generation", "0")
        seq = self.store.change_seq()
        if self._graph is None or gen != self._generation:
            if self._graph is not None:
                self._graph = self._lex = None  # freed by their reference counts (heap.loaded)
            self._graph = Graph(self.store, self.index.root.name, self.index.root)
            self._generation, self._seq = gen, seq
            heap.loaded()
        elif seq != self._seq:
            self._graph.patch(self.store, self.store.changed_since(self._seq))
            self._seq = seq
        return self._graph

    # ---- public -------------------------------------------------------------------------------------------
    def warm(self) -> None:
        """Load the graph, the lexical postings and the tokenizer now rather than on the first query (and the
        embedder and vector store where code queries use them)."""
        languages = self.store.languages()
        for language in languages:
            if language in LANGUAGE_NAMES:
                prepare(language)
        self.graph.warm()  # the paths' index (14 ms on redis), who holds each name (20 ms on typeorm)
        self._lexical(["warm"], {})
        count_tokens("warm")  # the tokenizer that joins snippets across a gap (its vocabulary: 0.3 s)
        if self.index.embedder_name != STATIC_NAME:
            self._vector("warm", {})

    def prime(self, seconds: float | None = None) -> bool:
        """Work out now what first queries would (`Graph.prime`: every class's members), for at most about
        `seconds` where given; True once all is done."""
        return self.graph.prime(None if seconds is None else time.monotonic() + seconds)

    @property
    def primed(self) -> bool:
        """Whether the graph, as last loaded or patched, is primed (False before there is one); asks nothing of
        the index."""
        return self._graph is not None and self._graph.primed

    def context(self, q: Query, k: int = 10, budget: int | None = None, source: str | None = None,
                same_file: bool = False, join: bool = True) -> list[Item]:
        """The definitions a prompt for this cursor or selection needs, best first, within `budget` tokens. With
        `join`, definitions next to a better one in its file widen its item rather than take one of their own, and so
        do the first few ranked just past the k-th (JOIN_PAST)."""
        with heap.paused():
            return self._context(q, k, budget, source, same_file, join)

    def _context(self, q: Query, k: int, budget: int | None, source: str | None, same_file: bool,
                 join: bool) -> list[Item]:
        if source is None:  # never a FIFO (it would block) nor through a link; a huge file only in part
            data, _ = read_regular(self.index.root / q.path, MAX_SOURCE_BYTES)
            source = data.decode("utf-8", "replace")
        v = read(q.path, source, q.line, q.col, q.end_line, self._scans)
        if (span := v.gap if v.parsed else (1, v.cursor_line)) is not None:  # the imports of the lines not read
            lo, hi = span                                                         # (or not parsed), the catalog's
            unread = [r for r in self.graph.imports.get(q.path, ()) if lo <= r.line <= hi]
            if unread:
                v.imports = sorted([*v.imports, *unread], key=lambda r: r.line)
        cands = self._candidates(q, v)
        self._similarity(q, v, cands)
        return self._rank(q, v, cands, k, budget if budget is not None else DEFAULT_BUDGET[q.mode], same_file, join)

    def search(self, text: str, k: int = 10, budget: int | None = None) -> list[Item]:
        """Natural-language or identifier search over the whole index."""
        cands: dict[int, Cand] = {}
        g = self.graph
        for ident in set(re.findall(r"[A-Za-z_][\w]*", text)):
            defs = g.by_name.get(ident, [])
            for d in defs:
                if d.chunk is not None:
                    cand(cands, d.chunk).feats["name"] = 2.0 / math.sqrt(len(defs))
        terms = subtokens(text)
        self._lexical(terms, cands)
        self._vector(text, cands)
        wanted = set(terms)
        rows = self._rows(list(cands))
        for cid, r in rows.items():  # a definition named by the query's words ranks first
            named = set(subtokens(r.symbol.rsplit(".", 1)[-1]))
            if named and wanted:
                cands[cid].feats["named"] = len(named & wanted) / len(named) * min(1.0, len(named & wanted) / 2)
        weights = dict(name=1.0, named=1.0, lex=1.0, vec=1.0)
        return self._finish(cands, weights, k, budget or 4000, exclude=None, rows=rows)

    # ---- candidates from the graph ------------------------------------------------------------------------
    def _candidates(self, q: Query, v: Visible) -> dict[int, Cand]:
        g = self.graph
        cands: dict[int, Cand] = {}

        def add_chunk(chunk: int, feat: str, value: float) -> None:
            c = cand(cands, chunk)
            if c.feats.get(feat, 0.0) < value:
                c.feats[feat] = value

        def add(d: Def | None, feat: str, value: float = 1.0) -> None:
            if d is not None and (chunk := d.chunk) is not None:
                add_chunk(chunk, feat, value)

        added: dict[tuple[str, float], set[int]] = defaultdict(set)

        def add_chunks(chunks: AbstractSet[int], feat: str, value: float = 1.0) -> None:
            """`add_chunk` each of `chunks`; those added to this feature at this value before are passed over
            (classes share the members they inherit, and a request meets the same ones many times)."""
            done = added[(feat, value)]
            if new := chunks - done:
                done |= new
                for chunk in new:
                    add_chunk(chunk, feat, value)

        def add_all(defs: Iterable[Def], feat: str, value: float = 1.0) -> None:
            add_chunks({chunk for d in defs if (chunk := d.chunk) is not None}, feat, value)

        def add_members(t: Target, feat: str, value: float = 1.0) -> None:
            add_chunks(g.member_chunks(t), feat, value)

        lang = v.language or ""
        bindings, stars = g.bindings(q.path, lang, v.imports)
        peer = g.peers(q.path, lang)  # the package's own names, visible without an import
        peer_defs = {n: d for p in (peer[1] if peer else ()) for n, d in g.defs.get(p, {}).items() if "." not in n}
        own = g.defs.get(q.path, {})
        window_start = v.cursor_line - WINDOW_LINES + 1
        used_defs: dict[int, list[int]] = defaultdict(list)  # chunk -> lines of uses
        declared: set[int] = set()  # C header declarations in use, their definitions in used_defs: not "unused"
        used_mods: dict[str, int] = {}
        import_lines = {r.line for r in v.imports}

        heads: dict[str, Target | None] = {}  # a name means one thing throughout a request
        reachable = g.star_names(stars) if stars else frozenset()  # what the star imports can name at all

        def resolve_head(name: str) -> Target | None:
            if name in heads:
                return heads[name]
            t = bindings.get(name)
            if t is None and (reachable is None or name in reachable):
                t = next((x for s in stars if (x := g.resolve_attr(s, name)) is not None), None)
            if t is None and (d := peer_defs.get(name)) is not None:
                t = ("def", d)
            heads[name] = t
            return t

        line = v.selection[0] if v.selection else v.cursor_line
        around = [d for d in own.values() if d.kind in CLASS_LIKE and d.start_line <= line <= d.end_line]
        # the class we are in
        enclosing: DefTarget | None = ("def", max(around, key=lambda d: d.start_line)) if around else None
        if enclosing is None:  # in a method declared apart from its type (Rust's `impl` blocks): the method's owner
            enclosing = next((("def", o) for d in own.values() if d.kind == "method" and "." in d.qualname
                              and d.start_line <= line <= d.end_line
                              and (o := own.get(d.qualname.rsplit(".", 1)[0])) is not None and o.kind in CLASS_LIKE),
                             None)
        implicit_this = spec(lang).implicit_this if lang in LANGUAGE_NAMES else False
        if enclosing is None and implicit_this:
            enclosing = _out_of_line_class(g, own, line, resolve_head)

        members_of_this: dict[str, Target | None] = {}

        def member_of_this(name: str) -> Target | None:
            """The enclosing class's member `name` (its own or inherited), asked once a request."""
            if name not in members_of_this:
                members_of_this[name] = g.resolve_attr(enclosing, name) if enclosing is not None else None
            return members_of_this[name]

        def head(chain: list[str], hidden: bool = False, receiving: bool = False) -> tuple[Target | None, list[str]]:
            """What a chain's head names, and the rest of the chain: an imported or package name (unless a local
            of the same name `hidden` it); else a name (or `self.name`) whose declared type is a class-like
            definition; `self`/`this` (the enclosing class, its members inherited too); `super` (its first base;
            called alone, the base's constructor, unless `receiving`: `super.` at the cursor, Python's `super().`);
            a bare member name where the language reads it as `this.name`."""
            if chain[0] == "super" and enclosing is not None:
                bases = g.bases(enclosing[1])
                if not bases:
                    return None, chain[1:]
                base: Target = ("def", bases[0])
                if len(chain) == 1 and not receiving:  # `super(...)`: Java's `Base.Base`, TypeScript's `constructor`
                    return g.resolve_attr(base, bases[0].name) or g.resolve_attr(base, "constructor") or base, []
                return base, chain[1:]
            if not hidden and (t := resolve_head(chain[0])) is not None:
                return t, chain[1:]
            if chain[0] in _SELF and len(chain) > 1:
                if (m := member_of_this(chain[1])) is not None and m[0] == "def" and g.type_of(m[1]) is not None:
                    return enclosing, chain[1:]  # `this.data` of a field declared with a type: not a local `data`
                if (t := typed(chain[1])) is not None:
                    return t, chain[2:]
                return enclosing, chain[1:]
            local = v.type_lines.get(chain[0], 0) >= v.function_start  # declared in this function
            if local and (t := typed(chain[0])) is not None:
                return t, chain[1:]
            if chain[1:2] == [ELEMENT] and (declared := types.local(chain[0])) is not None:  # `xs[i].`
                t, rest = types.start(declared, chain[1:])  # a container written out (`xs: Item[]`)
                if t is None and declared[0] != ELEMENT:  # a value's (`all = await many()`): its elements
                    t, rest = types.value([*declared, ELEMENT]), chain[2:]
                if t is not None:
                    return t, rest
            elif len(chain) > 1 and chain[1] in ELEMENT_METHODS and (declared := types.local(chain[0])) is not None:
                # `cache.get(k).` of `cache: Map<string, Item>` (or of a value that is a container): an element
                t = types.value(declared[1:] if declared[0] == ELEMENT else [*declared, ELEMENT])
                if t is not None:
                    return t, chain[2:]
            if implicit_this and (m := member_of_this(chain[0])) is not None:  # a field, before a name another
                return m, chain[1:]                                                 # method declared
            if not local and (t := typed(chain[0])) is not None:
                return t, chain[1:]
            if len(chain) > 1 and (d := own.get(chain[0])) is not None:  # a name of this file: its members
                return ("def", d), chain[1:]
            return None, chain[1:]

        def expected(e: Expect) -> str:
            """The name of the type the cursor's slot expects (expect.py): written out, a field's, a value's."""
            if e.type:
                return NUMBER if e.type == NUMBER else type_key(e.type)
            chain = list(e.field[0] if e.field is not None else e.chain)
            local = v.types.get(chain[0]) if len(chain) == 1 else None
            if local is not None and len(local) == 1 and builtin(local[0]):  # `n int`
                return local[0]
            if local is not None and len(local) > 1 and local[-1] == ELEMENT and (held := element_of(local[:-1])):
                return held  # `for k, v in d.items()` of `d: dict[str, str]`: a str
            t, rest = head(chain)
            if t is None and (d := own.get(chain[0])) is not None:  # a name of this very file
                t = ("def", d)
            for attr in [*rest, e.field[1]] if e.field is not None else rest:
                t = g.resolve_attr(t, attr) if t is not None and attr != ELEMENT else None
            value = t[1] if t is not None else None
            if e.argument is not None:
                return argument_type(value, e.argument) if isinstance(value, Def) else ""
            if isinstance(value, Def):
                if value.kind in TYPE_LIKE:  # a conversion, `T(x) == `
                    return "" if e.field is not None else value.name
                if value.type:
                    return type_key(value.type)
            return NUMBER if e.numeric else ""

        def element_of(container: list[str]) -> str:
            """The builtin type of the elements of the container a chain names (`xs` of `xs: list[str]`, `self.d`
            of a `d` declared `dict[str, int]`), or ""."""
            own_name = len(container) == 1 or (len(container) == 2 and container[0] in _SELF)  # `xs`, `self.xs`
            declared = v.types.get(container[-1]) if own_name else None
            if declared is not None and declared[0] == ELEMENT:  # a container declared in this file
                held = declared[1:]
            else:
                t, rest = head(container)
                for attr in rest:
                    t = g.resolve_attr(t, attr) if t is not None and attr != ELEMENT else None
                value = t[1] if t is not None else None
                held = (elem_chain(value.type) or []) if isinstance(value, Def) and value.type else []
            return held[0] if len(held) == 1 and builtin(held[0]) else ""

        def argument_type(callee: Def, position: int) -> str:
            """The type of a call's parameter at `position`: a function's or method's; a class's constructor's
            (`new T(`, `T(`); a conversion's (Go's `T(x)`) when the type has none."""
            if callee.kind in TYPE_LIKE:
                ctor = next((c[1] for n in (callee.name, "constructor", "__init__")
                             if (c := g.resolve_attr(("def", callee), n)) is not None and isinstance(c[1], Def)), None)
                if ctor is None:
                    return callee.name if position == 0 else ""
                callee = ctor
            types = parameter_types(callee.name, g.signature(callee) or "", lang)
            return type_key(types[position]) if position < len(types) and types[position] else ""

        bounds: dict[str, list[str] | None] | None = None

        def type_parameter_bound(name: str) -> list[str] | None:
            """The bound a type parameter of the enclosing class or function declares (`<T extends Base>`), as a
            chain; None for any other name. The heads are read once a request, for every parameter (a pattern
            compiled for each name asked cost 0.1 ms a name on a first meeting)."""
            nonlocal bounds
            if bounds is None:
                bounds = {}
                heads = [g.signature(enclosing[1]) or ""] if enclosing is not None else []
                if 0 < v.function_start <= len(v.lines):
                    heads.append(" ".join(v.lines[v.function_start - 1:v.function_start + 4]))
                for h in heads:
                    for m in _BOUND.finditer(h):
                        if m[1] not in bounds:
                            bounds[m[1]] = m[2].split(".") if m[2] != m[1] else None
            return bounds.get(name)

        types = _Types(g, v, own, enclosing, resolve_head, type_parameter_bound)
        typed = types.typed
        typed_uses: dict[int, list[int]] = defaultdict(list)  # chunk -> lines of uses through a declared type
        written: set[str] | None = None
        in_cursor = v.selection is None

        def hides(name: str, lines: list[int]) -> bool:
            """Whether the function (or selection) declares a local `name` by its first use on `lines`: the
            local, not an imported or package-level name of that spelling, is what those uses mean."""
            return any(v.function_start <= ln <= min(lines) for ln in v.declared.get(name, ()))

        def writes(name: str) -> bool:
            """Whether the function (or selection) around the query writes `name` as a name of its own or of an
            imported module (`Fields`, `kinds.Fields`; not `m.Fields()`, a member of that name)."""
            nonlocal written
            if written is None:
                lo = (v.selection[0] if v.selection else v.function_start) - 1
                written = set()
                for m in _NAMED.finditer("\n".join(v.lines[max(0, lo):])):
                    written.add(m[1])
                    if m[2] and (b := bindings.get(m[1])) is not None and b[0] != "def":
                        written.add(m[2])
            return name in written

        # a member reached through a value of unknown type (`cache.writeQuery` with `cache` an untyped parameter,
        # `this.cache.writeQuery` with the field's type unknown): the definitions of that member name are candidates
        loose: dict[str, list[int]] = defaultdict(list)
        dead: dict[str, bool] = {}

        def names_nothing(name: str) -> bool:
            """Whether a chain with this head leads to no definition whatever follows it (a local of unknown
            type: most chains of C's far lines): at a cursor, where `loose` counts for nothing, it is passed over."""
            if (known := dead.get(name)) is None:
                special = name in own or name in v.alternatives or name in _SELF or name == "super"
                # set lookups rule out most names before anything is searched for them
                known = not special and (not (name in bindings or name in v.types or name in peer_defs
                                              or reachable is None or name in reachable)
                                         or (resolve_head(name) is None and typed(name) is None))
                if known and implicit_this and enclosing is not None:
                    known = g.resolve_attr(enclosing, name) is None
                dead[name] = known
            return known

        # A chain means one thing in a request: its names, and the argument counts of its calls. Those of the lines
        # before the tail are many uses at their part's first line (an import's, it may be: they count all the same).
        # At a cursor, a chain whose head names nothing is left out.
        chains: dict[tuple[tuple[str, ...], int | None, tuple[int | None, ...], bool], list[int]] = {}
        for chain, at_line, count in v.far:
            if (chain[0] not in own or len(chain) > 1) and not (in_cursor and names_nothing(chain[0])):
                chains.setdefault((chain, None, (), False), []).extend([at_line] * count)
        for chain, at_line, args, arities, scoped in v.uses:
            if at_line not in import_lines and (chain[0] not in own or len(chain) > 1) \
                    and not (in_cursor and names_nothing(chain[0])):
                chains.setdefault((chain, args, arities, scoped), []).append(at_line)
        for (chain, args, arities, scoped), lines in chains.items():
            local = not scoped and hides(chain[0], lines)  # `ast::Kind` is a path, whatever local is named `ast`
            outer = not local and (chain[0] in bindings or resolve_head(chain[0]) is not None)
            starts = [head(list(chain), local)]
            if len(chain) > 1 and chain[0] in v.alternatives and not outer:
                starts = [types.start(alt, list(chain[1:])) for alt in v.alternatives[chain[0]]]  # any of its types
            for t, rest in starts:
                if t is None and rest and not outer:
                    loose[rest[0]].extend(lines)
                via_type = t is not None and (local or resolve_head(chain[0]) is None)
                implicit = via_type and chain[0] != "super" and t is not enclosing  # t: a variable's type
                at = len(chain) - len(rest) - 1  # the link t stands for
                for attr in rest + [None]:
                    if t is None:
                        break
                    if implicit and t[0] == "def" and t[1].kind in TYPE_LIKE and not writes(t[1].name):
                        pass  # a variable's type the code never writes (`fds := m.Fields()`): its members are used
                    elif not in_cursor and attr is not None and t[0] == "def" and g.qualifies(t[1], attr):
                        pass  # what a selection uses of `ns.f`, `Client.Options`: the member, not the namespace
                    elif t[0] == "def":
                        n = args if attr is None else (arities[at] if at < len(arities) else None)
                        decls = g.overloads_of(t[1], n)
                        if twins := g.twins.get((t[1].path, t[1].qualname)):  # a value's type beside it: one item
                            decls = [*decls, *(x for x in twins if _beside(x, t[1]))]
                        for d in decls:
                            if (impl := g.implementation(d)) is not d and d.chunk is not None:
                                declared.add(d.chunk)  # a C header's function: its body is what is used
                            if impl.chunk is not None:
                                (typed_uses if via_type else used_defs)[impl.chunk].extend(lines)
                        if attr is not None and n is not None and decls and decls[0] is not t[1]:
                            t = ("def", decls[0])  # `p.tagSet().valueOf`: the overload called leads on by its result
                    else:
                        used_mods[str(t[1])] = max(used_mods.get(str(t[1]), 0), lines[-1])
                    implicit = attr == ELEMENT  # `xs[i].m`: the element's type is written nowhere either
                    via_type = via_type or implicit
                    t = g.resolve_attr(t, attr) if attr else None
                    at += 1
                    if t is None and attr and attr != ELEMENT:
                        loose[attr].extend(lines)  # not a member of what came before (its type unknown): loose
        in_sel = v.selection
        if in_sel:  # loose is weighed in selections only (at a cursor it did nothing)
            for name, lines in loose.items():
                if any(ln >= in_sel[0] for ln in lines) and 0 < len(
                        defs := [d for d in g.by_name.get(name, ()) if "." in d.qualname and d.path != q.path
                                 and d.chunk is not None]) <= LOOSE_MAX_DEFS:
                    for d in defs:
                        add(d, "loose", 1.0 / math.sqrt(len(defs)))
        for chunk, lines in typed_uses.items():  # a variable's type and its members: weaker evidence than an import
            if chunk not in used_defs:
                c = cand(cands, chunk)
                if in_sel and any(in_sel[0] <= ln <= in_sel[1] for ln in lines):
                    c.feats["used_typed"] = 1.0 + 0.1 * min(5, len(lines))
                if any(ln >= window_start for ln in lines):
                    c.feats["used_window"] = 1.0
        whole = in_sel and any(d.start_line <= in_sel[0] <= d.start_line + 30 and d.end_line <= in_sel[1]
                               for d in own.values())  # the selection is a definition: it starts with its signature
        sig_end = _signature_end(v.lines, in_sel) if in_sel and whole else 0
        for chunk, lines in used_defs.items():
            c = cand(cands, chunk)
            if in_sel and any(in_sel[0] <= ln <= in_sel[1] for ln in lines):
                body = [ln for ln in lines if sig_end < ln <= in_sel[1]]  # a signature's types say less than the body
                c.feats["used"] = 1.0 + 0.1 * min(5, len(body)) if body else 0.2
            if any(ln >= v.function_start for ln in lines):
                c.feats["used_func"] = 1.0
            if any(ln >= window_start for ln in lines):
                c.feats["used_window"] = 1.0
            before = sum(ln < v.function_start for ln in lines)
            if before:
                c.feats["uses"] = min(1.0, math.log1p(before) / math.log(10))
        unused_classes = 0
        for t in bindings.values():
            if t[0] == "def":
                add(t[1], "imported")
                if t[1].chunk not in used_defs:
                    add(t[1], "unused")
                    if t[1].kind in ("class", "struct", "interface") and unused_classes < CLASSES:
                        unused_classes += 1  # a class in use has its members added below, more strongly
                        add_members(t, "class_member", 0.5)
            else:
                recent = used_mods.get(str(t[1]))
                add_members(t, "member")
                if recent is not None and recent >= window_start:
                    add_members(t, "member_recent")
        bare = not v.selection and not v.receiver  # a bare name at a cursor: what the stars name is in scope
        star_done: set[int] = set()
        for s in stars:  # in one pass: a C file's headers name thousands of definitions
            if new := g.member_chunks(s) - star_done:
                star_done |= new
                for chunk in new:
                    feats = cand(cands, chunk).feats
                    feats["star"] = 1.0
                    if bare:
                        feats["scope"] = 1.0
                    if chunk not in used_defs and chunk not in declared and feats.get("unused", 0.0) < 0.5:
                        feats["unused"] = 0.5
        add_all(peer_defs.values(), "star")  # the package's names are in scope as a star import's are
        in_use = [(max(lines), owner) for chunk, lines in used_defs.items() if (owner := g.def_of_chunk.get(chunk))
                  is not None and owner.kind in ("class", "struct", "interface", "trait", "impl")]
        if len(in_use) > CLASSES:  # those used last before the cursor
            in_use = heapq.nlargest(CLASSES, in_use, key=lambda u: u[0])
        if in_use:  # members of classes in use (self.method, obj.method of an imported class), as one set: a
            # family's classes share what they inherit (sympy: hundreds of members of Basic and Expr)
            add_chunks(frozenset().union(*(g.member_chunks(("def", owner)) for _, owner in in_use)), "class_member")
        receiver: Target | None = None
        if v.receiver:
            receiver, rest = head(v.receiver, receiving=True)
            for attr in rest:
                receiver = g.resolve_attr(receiver, attr) if receiver is not None else None
            if receiver is not None:
                v.receiver_resolved = True
                members = [d for d in g.module_members(receiver) if not _constructor(d)]  # `x.` never calls one
                # words the line has so far (`_mask = flags.` -> mask), but the receiver's: `getMask` is likely
                said = set(subtokens(v.line_prefix[-200:])) - {w for n in v.receiver for w in subtokens(n)}
                for d in members:
                    add(d, "receiver")
                    if said and (named := subtokens(d.name)) and (hit := sum(w in said for w in named)):
                        add(d, "line", hit / len(named))
        if not v.selection:
            self._next_names(g, q, v, receiver, resolve_head, add)
            e = expect(v.lines, v.function_start, lang)
            key = expected(e) if e is not None else ""
            nameable: list[Def] = []  # what can be named here without a qualifier: read only where it counts
            if not v.receiver or (key and receiver is None):
                nameable = [*peer_defs.values(), *(m for s in stars for m in g.module_members(s)),
                            *(b for t in bindings.values() if isinstance(b := t[1], Def))]
                if implicit_this and enclosing is not None:
                    nameable += g.module_members(enclosing)
            if not v.receiver:  # a bare name: what it can name (the stars' members, as `member_chunks` has them, have
                # it already: on a C header's function's definition, with its other evidence, not on its prototype)
                add_all(peer_defs.values(), "scope")
                add_all((b for t in bindings.values() if isinstance(b := t[1], Def)), "scope")
                if implicit_this and enclosing is not None:
                    add_chunks(g.member_chunks(enclosing), "scope")
            if key:
                pool = g.module_members(receiver) if receiver is not None else nameable
                for option in pool:
                    if option.type and option.kind not in TYPE_LIKE and (f := fit(key, type_key(option.type))):
                        add(option, "fits", f)
        self._name_matches(v, cands, window_start)
        return cands

    def _next_names(self, g: Graph, q: Query, v: Visible, receiver: Target | None,
                    resolve_head: Callable[[str], Target | None], add: Callable[..., None]) -> None:
        """The definitions of the names that followed the same tokens elsewhere (nextname.py), by their share of
        what followed: after `x.` members of x's type (any member of that name when the type is unknown), else names
        in scope here (imported, the package's), else a name few definitions have."""
        counts = self._next.names(q.path, v.before or v.text)
        total = sum(counts.values())
        for name, n in counts.most_common(NEXT_NAMES):
            share = n / total
            if receiver is not None:
                t = g.resolve_attr(receiver, name)
                add(t[1] if t is not None and t[0] == "def" else None, "next", share)
                continue
            t = None if v.receiver else resolve_head(name)
            if t is not None:
                add(t[1] if t[0] == "def" else None, "next", share)
                continue
            defs = [d for d in g.by_name.get(name, ()) if d.path != q.path and d.kind != "field"]
            if 0 < len(defs) <= NEXT_MAX_DEFS:
                for d in defs:
                    add(d, "next", share / len(defs))

    def _name_matches(self, v: Visible, cands: dict[int, Cand], window_start: int) -> None:
        """Identifiers near the cursor that name a definition elsewhere (the graph for files without resolvable
        imports), weighted by how specific the name is."""
        g = self.graph
        lo = v.selection[0] if v.selection else window_start
        chains = [u[0] for u in v.uses if u[1] >= lo] + [c for c, line, _ in v.far if line >= lo]
        names = {n for chain in chains for n in chain if len(n) > 2 and n not in _KEYWORDS}
        for n in names:  # a field of that name (a symbol shown with its class) does not make it less specific
            defs = [d for d in g.by_name.get(n, ()) if d.kind != "field"]
            if not defs or len(defs) > 20:
                continue
            w = 1.0 / math.sqrt(len(defs))
            for d in defs:
                if d.chunk is not None and d.path != v.path:
                    c = cand(cands, d.chunk)
                    c.feats["name"] = max(c.feats.get("name", 0.0), w)

    # ---- similarity ---------------------------------------------------------------------------------------
    def _query_text(self, q: Query, v: Visible, n: int) -> str:
        if v.selection:
            return "\n".join(v.lines[v.selection[0] - 1:])
        return "\n".join(v.lines[-n:])

    def _similarity(self, q: Query, v: Visible, cands: dict[int, Cand]) -> None:
        terms = subtokens(self._query_text(q, v, WINDOW_LINES))
        if not v.selection:  # the line being written and the enclosing signature say most about what comes next
            focus = v.lines[-FOCUS_LINES:]
            if 0 < v.function_start <= len(v.lines):
                focus.append(v.lines[v.function_start - 1])
            terms += subtokens("\n".join(focus)) * FOCUS_BOOST
        self._lexical(terms, cands)
        if self.index.embedder_name != STATIC_NAME:
            # a model embedder's vectors add evidence to code queries; the static model's add none measurable
            # (bench/dev_eval.py: the same recall with and without them) and it serves search and ask
            self._vector(self._query_text(q, v, VECTOR_LINES), cands)

    def _lexical(self, terms: list[str], cands: dict[int, Cand]) -> None:
        if not terms:
            return
        _ = self.graph  # reads the generation
        if self._lex is None or self._lex_generation != self._generation or self._lex.stale():
            self._lex, self._lex_generation = Lexical(self.store), self._generation
            heap.loaded()
        hits = self._lex.scores(terms, list(cands))
        top = max(hits.values(), default=0.0)
        if top <= 0:
            return
        for chunk, s in hits.items():
            cand(cands, chunk).feats["lex"] = s / top

    def _vector(self, text: str, cands: dict[int, Cand]) -> None:
        if not text.strip():
            return
        try:
            vec = self.index.embedder.embed([text])[0]
            vectors = self.index.vectors
            # a shared collection also holds other branches' and clones' vectors, dropped below: ask for more
            hits = vectors.query(vec, 160 if vectors.shared else 40)
        except Exception as exc:  # the graph and lexical ranking still answer
            if str(exc) != getattr(self, "_vector_down", None):  # once, not at every query
                log.warning("vector search unavailable: %s", exc)
            self._vector_down: str | None = str(exc)
            if isinstance(exc, VectorStoreGone):
                self.index.drop_vectors()  # opened anew next time: found empty, restored
            return
        self._vector_down = None
        if not hits:
            return
        ids = [h[0] for h in hits]
        chunk_of = self.store.chunks_of_vectors(ids)
        for vid, sim in hits:
            if (chunk := chunk_of.get(vid)) is not None:
                cand(cands, chunk).feats["vec"] = max(0.0, sim)

    # ---- ranking and budget -------------------------------------------------------------------------------
    def _rank(self, q: Query, v: Visible, cands: dict[int, Cand], k: int, budget: int,
              same_file: bool, join: bool) -> list[Item]:
        weights = dict(W["receiver" if v.receiver_resolved else q.mode])
        expect_class = bool(_EXPECT_CLASS.search(v.line_prefix[-200:])) if q.mode == "cursor" else False
        if expect_class:
            weights["kind_class"] = weights.get("kind", 0.0)
        # Other files' definitions by default; with same_file, this file's too, but never the text at the cursor.
        span = (v.selection or (v.cursor_line - WINDOW_LINES, v.cursor_line)) if same_file else None
        return self._finish(cands, weights, k, budget, (q.path, span), expect_class, join=join)

    def _rows(self, ids: list[int]) -> dict[int, ChunkRow]:
        """Chunk rows by id."""
        return self.store.chunk_rows(ids)

    def _finish(self, cands: dict[int, Cand], weights: dict[str, float], k: int, budget: int,
                exclude: tuple[str, tuple[int, int] | None] | None, expect_class: bool = False,
                rows: dict[int, ChunkRow] | None = None, join: bool = False) -> list[Item]:
        """`Assembler.items` over this index: its rows, its files' languages and text."""
        assembler = Assembler(self._rows, lambda path: self.graph.language.get(path, ""),
                              lambda path: read_text(self.index.root / path, MAX_SOURCE_BYTES))
        return assembler.items(cands, weights, k, budget, exclude, expect_class, rows, join)


class _Types:
    """The class-like types of a request's names, declared or assigned in its file and read through the graph. A
    class, not closures in `_candidates`: the two functions call each other, and closures that do form a reference
    cycle, which would keep each request's data for the cyclic collector (paused while a query runs)."""

    __slots__ = ("bound", "enclosing", "g", "memo", "own", "reading", "resolve_head", "v")

    def __init__(self, g: Graph, v: Visible, own: dict[str, Def], enclosing: Target | None,
                 resolve_head: Callable[[str], Target | None], bound: Callable[[str], list[str] | None]) -> None:
        self.g, self.v, self.own, self.enclosing = g, v, own, enclosing
        self.resolve_head, self.bound = resolve_head, bound
        self.memo: dict[str, Target | None] = {}
        self.reading: set[str] = set()  # names read through their earlier type now (`x = self.x` loops back)

    def typed(self, name: str) -> Target | None:
        """The class-like type of a name declared or assigned in this file (None for a container: its elements
        have a type, it has none to rank)."""
        if name not in self.memo:
            self.memo[name] = None  # a name whose value is reached through itself ends here
            chain = self.v.types.get(name)
            read = chain and chain[0] != ELEMENT and (chain[0] != name or self.before(name) is not None)
            t = self.value(chain) if read else None  # type: ignore[arg-type]
            for other in reversed(self.v.options.get(name, []) if read and t is None else []):
                if other[0] not in (name, ELEMENT) and (t := self.value(other)) is not None:
                    break  # a value that is one of two: the other's type, where the fallback's names none
            self.memo[name] = t
        return self.memo[name]

    def before(self, name: str) -> list[str] | None:
        """The type a name was declared with before it was declared again from itself (`var br [4]T`, then
        `br := &br[i]`); None when it has no such earlier type."""
        earlier = [c for c in self.v.alternatives.get(name, ()) if c[0] != name]
        return earlier[-1] if earlier else None

    def local(self, name: str) -> list[str] | None:
        """A name's declared type chain, the earlier one when the last reads the name itself."""
        chain = self.v.types.get(name)
        return self.before(name) if chain and chain[0] == name else chain

    def start(self, declared: list[str], rest: list[str]) -> tuple[Target | None, list[str]]:
        """Where a chain whose head was declared with the type chain `declared` (one of its alternatives) leads
        first, and what of `rest` is left: indexing a container written out (`var br [4]T`, then `br[i].m`) gives
        its element type."""
        if declared[:1] == [ELEMENT] and rest[:1] == [ELEMENT]:
            return self.value(declared[1:]), rest[1:]
        return self.value(declared), rest

    def value(self, chain: list[str]) -> Target | None:
        """The type a chain's value has: its head an import, a name of this file or package, or another typed
        local (`fd := fds.Get(i)`), then member by member (a call's value is what the function returns, an
        element marker the type of a container's elements)."""
        if chain[0] in _SELF and len(chain) > 1 and chain[1] in self.v.types:
            chain = chain[1:]  # `self.xs`: an attribute declared in this file
        t, rest = self.resolve_head(chain[0]), chain[1:]
        if t is None and (d := self.own.get(chain[0])) is not None:  # a type of this very file
            t = ("def", d)
        if t is None and chain[0] in _SELF and rest:  # `self.method()`: the enclosing class's member
            t = self.enclosing
        if t is None and (local := self.local(chain[0])) is not None:
            seen = {chain[0]}
            while len(local) == 1 and local[0] not in seen and (alias := self.local(local[0])) is not None:
                seen.add(local[0])  # `lits := codes[:256]`: a name for the same value (a container has no type)
                local = alias
            if local[0] == ELEMENT:
                if rest[:1] == [ELEMENT]:  # an element of a local container (`for _, x := range xs`)
                    t, rest = self.value(local[1:]), rest[1:]
            elif local is not self.v.types.get(chain[0]):  # `br := &br[i]`, `n := n.next`: from its earlier type
                if chain[0] not in self.reading:
                    self.reading.add(chain[0])
                    t = self.value(local)
                    self.reading.discard(chain[0])
            else:
                t = self.typed(chain[0])
        if t is None and len(chain) == 1 and (bound := self.bound(chain[0])):
            return self.value(bound)  # `cache: TCache` in `class Q<TCache extends ApolloCache>`: the bound
        if t is None and len(chain) == 1:  # not imported (the same package, a builtin): one class of that name
            found = [d for d in self.g.by_name.get(chain[0], ()) if d.kind in TYPE_LIKE]
            t = ("def", found[0]) if len(found) == 1 else None
        elif t is None and chain[-1] != ELEMENT:  # a qualified name (`org.jsoup.nodes.Node`): its folders
            folder = "/" + "/".join(chain[:-1]) + "/"
            found = [d for d in self.g.by_name.get(chain[-1], ()) if d.kind in TYPE_LIKE and folder in "/" + d.path]
            t, rest = (("def", found[0]), []) if len(found) == 1 else (None, rest)
        for attr in rest:
            if t is None:
                return None
            t = self.g.resolve_attr(t, attr)
        if t is not None and t[0] == "def" and t[1].kind not in TYPE_LIKE:
            t = self.g.type_of(t[1])  # a call's value: what the function returns
        return t if t is not None and t[0] == "def" and t[1].kind in TYPE_LIKE else None


def _beside(a: Def, b: Def) -> bool:
    """Whether two declarations are at most TWIN_GAP_LINES apart: one snippet may show both."""
    return max(a.start_line, b.start_line) - min(a.end_line, b.end_line) <= TWIN_GAP_LINES


def _out_of_line_class(g: Graph, own: dict[str, Def], line: int,
                       resolve_head: Callable[[str], Target | None]) -> DefTarget | None:
    """The class of a C++ method defined outside it (`void DBImpl::Write(...) {`) around `line`: its members are
    in scope there as in the class's body."""
    around = [d for d in own.values() if d.kind == "method" and d.start_line <= line <= d.end_line]
    if not around:
        return None
    fn = max(around, key=lambda d: d.start_line)
    m = re.search(rf"(\w+)\s*(?:<[^<>()]*>)?\s*::\s*~?{re.escape(fn.name)}\s*\(", g.signature(fn) or "")
    t = resolve_head(m.group(1)) if m is not None else None
    return ("def", t[1]) if t is not None and isinstance(t[1], Def) and t[1].kind in CLASS_LIKE else None


def _constructor(d: Def) -> bool:
    """A member named as its class (Java, C#, C++) or `constructor` (TypeScript, JavaScript)."""
    parts = d.qualname.split(".")
    return d.name == "constructor" or (len(parts) > 1 and parts[-2] == d.name)


def _signature_end(lines: list[str], selection: tuple[int, int]) -> int:
    """The last line of the signature a selection starts with (the first line that ends a header, `{`, `=>` or `:`,
    outside its parameters' brackets: `options: {` opens a parameter's object type, not the body), or the line
    before the selection when there is none in its first lines (a one-line definition)."""
    depth = 0
    for ln in range(selection[0], min(selection[1], selection[0] + 30) + 1):
        text = lines[ln - 1].split("//")[0].split("#")[0].rstrip() if ln <= len(lines) else ""
        depth += text.count("(") + text.count("[") - text.count(")") - text.count("]")
        if depth <= 0 and text.endswith(("{", "=>", ":")):
            return ln if ln < selection[1] else selection[0] - 1
    return selection[0] - 1


def timed_context(retriever: Retriever, q: Query, **kwargs) -> tuple[list[Item], float]:
    t0 = time.perf_counter()
    items = retriever.context(q, **kwargs)
    return items, (time.perf_counter() - t0) * 1000
