"""Type names as written in declarations: the chain a type annotation names, and the bases a class declares."""
from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache, wraps

_NULLISH = frozenset({"None", "null", "undefined", "nil", "void"})
# What a TypeScript promise resolves to: its value is what `await` gives, and what a function's members are reached
# through (`const s = await load()` with `load(): Promise<Store>`)
_PROMISES = "Promise|PromiseLike|Awaited"
_PROMISE = re.compile(rf"^(?:{_PROMISES})\s*<\s*(.*)>$", re.S)
_WRAPPERS = re.compile(
    rf"^(?:typing\.)?(?:Optional|Annotated|ClassVar|Final|Readonly|ReadonlyArray|{_PROMISES})\s*[\[<]\s*(.*)[\]>]$",
    re.S)
# TypeScript's types of a value: `ReturnType<typeof make>` is what make returns (the chain of `make`, which the graph
# follows to its result), `InstanceType<typeof Store>` a Store
_TYPE_OF_VALUE = re.compile(r"^(?:ReturnType|InstanceType)\s*<\s*typeof\s+([A-Za-z_$][\w$.]*)\s*>$")
_TYPE_HEAD = re.compile(r"[A-Za-z_$][\w$]*(?:\s*(?:\.|::)\s*[A-Za-z_$][\w$]*)*")
# C and C++ words before a type's name that are no part of it: qualifiers (`const Slice&`, `volatile int`) and the
# keywords of elaborated types (`struct redisCommand *`, `enum Kind`, `class Foo`, `typename T::X`)
_C_QUALIFIED = re.compile(r"^(?:(?:const|volatile|struct|union|enum|class|typename|mutable|restrict)\s+)+")
_SEPARATOR = re.compile(r"\s*(?:\.|::)\s*")
_PLAIN = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")  # a name, or names joined by dots
_BRACKET = re.compile(r"[()\[\]<>{}]")
_PY_CLASS = re.compile(r"\s*class\s+\w+\s*(?:\[[^\]]*\])?\s*\((.*)\)\s*:", re.S)
_EXTENDS = re.compile(r"\b(?:extends|implements)\b(.*?)(?=\bimplements\b|\{|$)", re.S)
_CPP_BASES = re.compile(r"^\s*(?:class|struct)\s+[\w:<>]+[^:{]*:(?!:)(.*?)(?:\{|$)", re.S)
_ANNOTATION = re.compile(r"@[A-Za-z_][\w.]*(?:\([^()]*\))?\s*")  # Java's type-use annotations: `a.@Nullable B`
_ACCESS = re.compile(r"^\s*(?:public|protected|private|virtual)\s+")


MEMO_CHARS = 256  # texts up to this long have their chains kept (types repeat: typeorm's deep cursors read 122 types
# 1,101 times, at 10-30 us each); a longer one (a value written over lines) is read each time


def _memo(read: Callable[[str], list[str] | None]) -> Callable[[str], list[str] | None]:
    """`read`, its answers for short texts kept (at most 8,192), each caller given a list of its own."""
    kept = lru_cache(maxsize=8192)(lambda text: None if (chain := read(text)) is None else tuple(chain))

    @wraps(read)
    def reader(text: str) -> list[str] | None:
        if len(text) > MEMO_CHARS:
            return read(text)
        return None if (chain := kept(text)) is None else list(chain)

    return reader


@_memo
def type_chain(text: str) -> list[str] | None:
    """The name chain of the type a declaration gives (`pkg.Type` -> ["pkg", "Type"]): quotes, pointers and
    references stripped, `Optional[X]` / `X | None` / `Promise<X>` unwrapped, `ReturnType<typeof f>` read as f; None
    for what has no members of its own to rank (slices, arrays, functions, unions and intersections of several
    types)."""
    if _PLAIN.fullmatch(text) and text not in _NULLISH and not text.startswith("func") \
            and text != "chan" and not text.startswith("chan."):  # most are a name or a dotted one: what the
        return text.split(".")  # reading below makes of those (Go's `func`, `chan` types aside), 3x as fast
    return _written_type_chain(text)


def _written_type_chain(text: str) -> list[str] | None:
    """`type_chain` of any text."""
    t = _ANNOTATION.sub("", text).strip().strip("\"'`").strip()
    for _ in range(3):
        if (m := _WRAPPERS.match(t)) is not None:
            t = m.group(1).split(",")[0].strip()
        parts = [p.strip() for p in t.split("|") if p.strip() and p.strip() not in _NULLISH]
        if len(parts) != 1 or sum(bool(p.strip()) for p in top_level(parts[0], "&")) > 1:  # a union, an intersection
            return None
        t = _C_QUALIFIED.sub("", parts[0].lstrip("*&").removeprefix("mut ").strip())
    if (m := _TYPE_OF_VALUE.match(t)) is not None:
        t = m.group(1)
    if t.startswith(("[", "(", "{", "func", "fn ")) or (t.endswith("]") and "[" in t and not _WRAPPERS.match(t)) \
            or ((m := _GO_CONTAINER.match(t)) is not None and m.end()):  # Go's `map[K]V`, `chan T`
        return None
    m = _TYPE_HEAD.match(t)
    return _SEPARATOR.split(m.group()) if m is not None else None


def top_level(text: str, sep: str = ",") -> list[str]:
    """`text` split at `sep` outside brackets (generic arguments keep their commas)."""
    if _BRACKET.search(text) is None:  # none to step over: not a character at a time
        return [p.strip() for p in text.split(sep) if p.strip()]
    out: list[str] = []
    cur: list[str] = []
    depth = 0
    for ch in text:
        depth += ch in "([<{"
        depth -= ch in ")]>}"
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [p.strip() for p in out if p.strip()]


def paren_bases(signature: str) -> list[list[str]]:
    """Python's `class X(A, pkg.B, Generic[T], metaclass=M):` -> [["A"], ["pkg", "B"], ["Generic"]]."""
    m = _PY_CLASS.match(signature)
    if m is None:
        return []
    return [c for p in top_level(m.group(1)) if "=" not in p and not p.startswith("*") and (c := type_chain(p))]


def extends_bases(signature: str) -> list[list[str]]:
    """TypeScript's and Java's `class X<T> extends A<T> implements B, C {` and `interface X extends A, B`."""
    return [c for m in _EXTENDS.finditer(signature) for p in top_level(m.group(1)) if (c := type_chain(p))]


def cpp_bases(signature: str) -> list[list[str]]:
    """C++'s `class X : public A, private ns::B {`."""
    m = _CPP_BASES.match(signature)
    return [c for p in top_level(m.group(1)) if (c := type_chain(_ACCESS.sub("", p)))] if m else []


ELEMENT = "[]"  # in a chain: an element of the value before it (`xs[i]`, a range over `xs`); first: a container type
# Methods of a container that give one of its elements (`cache.get(key)` of a Map or a dict, `xs.at(-1)`, `xs.pop()`,
# `xs.find(f)`): a use of one on a container type reads as indexing it
ELEMENT_METHODS = frozenset({"get", "at", "pop", "shift", "find", "findLast", "popleft"})
_NAME = re.compile(r"[A-Za-z_$][\w$]*")
_CLOSE = {"(": ")", "[": "]", "{": "}"}
# a container type written out: its element type follows (Go `[]T`, `[4]T`, `map[K]V`, `chan T`, `...T`)
_GO_CONTAINER = re.compile(r"^(?:\.\.\.|\[[^\]]*\]|map\s*\[(?:[^\[\]]|\[[^\]]*\])*\]|(?:<-\s*)?chan\b(?:\s*<-)?)\s*")
_GENERIC_CONTAINER = re.compile(r"^(?:typing\.|collections\.abc\.|java\.util\.)?(?:list|List|Sequence|MutableSequence|"
                                r"Iterable|Iterator|Collection|AbstractSet|Set|FrozenSet|set|frozenset|Generator|"
                                r"AsyncIterator|AsyncIterable|Array|ReadonlyArray|ArrayList|LinkedList|Deque|Queue|"
                                r"Vec|VecDeque|HashSet|BTreeSet)\s*[\[<](.*)[\]>]$", re.S)
_MAPPING = re.compile(r"^(?:typing\.|java\.util\.)?(?:dict|Dict|Mapping|MutableMapping|Map|HashMap|TreeMap|Record|"
                      r"BTreeMap)\s*[\[<](.*)[\]>]$", re.S)


@_memo
def elem_chain(text: str) -> list[str] | None:
    """The type chain of a container type's elements (what indexing or iterating it gives): Go's `[]*T`, `[N]T`,
    `map[K]V`, `chan T`, `...T`; `T[]`; `list[T]`, `Sequence[T]`, `List<T>`, `Array<T>`, `Vec<T>`; a mapping's
    values (`dict[K, V]`, `Map<K, V>`). None when `text` is no container of a type with members."""
    t = text.strip().lstrip("*&").strip()
    while (m := _PROMISE.match(t)) is not None:  # `Promise<Store[]>`: the elements of what it resolves to
        t = m.group(1).strip()
    if (m := _GO_CONTAINER.match(t)) is not None and m.end():
        return type_chain(t[m.end():])
    if t.endswith("[]"):
        return type_chain(t[:-2])
    if (m := _GENERIC_CONTAINER.match(t)) is not None:
        args = top_level(m.group(1))
        return type_chain(args[0]) if args else None
    if (m := _MAPPING.match(t)) is not None:
        args = top_level(m.group(1))
        return type_chain(args[-1]) if len(args) == 2 else None
    return None


_HELD = re.compile(r"[A-Za-z_$][\w$.]*\s*(?:\{.*\})?", re.S)  # what a parenthesized start may hold: a name, a literal


@_memo
def value_chain(text: str) -> list[str] | None:
    """The chain an expression's value is reached by, through calls and indexing: `m.Descriptor().Fields()` ->
    ["m", "Descriptor", "Fields"] (a call's value is what the function returns), `xs[i].y` -> ["xs", "[]", "y"],
    `&T{...}` and `T(x)` -> ["T"]; Go's type assertion `v.(*T).M()` -> ["T", "M"]; a parenthesized start, as in
    `(T{}).M()` or `(&T{}).M()`, is the chain of what it holds. Retrieval resolves it name by name.
    The chain ends at the first operator; None when the expression does not start with a name."""
    t = text.strip().lstrip("&*").lstrip()
    if t.startswith("(") and (close := matching(t, 0)) > 0:
        inner = value_chain(t[1:close]) if _HELD.fullmatch(t[1:close].strip().lstrip("&*")) else None
        rest = t[close + 1:].lstrip()
        if inner is None or not rest:
            return inner
        tail = value_chain(rest[1:]) if rest.startswith(".") and not rest.startswith(".(") else None
        return inner + tail if tail is not None else None
    out: list[str] = []
    i, n = 0, len(t)
    while i < n:
        m = _NAME.match(t, i)
        if m is None:
            break
        out.append(m.group())
        i = m.end()
        while i < n:  # calls and indexing after a name; then a separator, or the end
            c = t[i]
            if c in "([":
                close = matching(t, i)
                if close < 0:
                    return out or None
                if c == "[":
                    out.append(ELEMENT)
                i = close + 1
            elif c in " \t\r\n":
                i += 1
            else:
                break
        if t.startswith(".(", i):  # a type assertion: its value has the type named, and the chain goes on from it
            close = matching(t, i + 1)
            inner = type_chain(t[i + 2:close]) if close > 0 else None
            if inner is None:
                return None
            out, i = list(inner), close + 1
        for sep in ("?.", "!.", ".", "::", "->"):
            if t.startswith(sep, i):
                i += len(sep)
                while i < n and t[i] in " \t\r\n":
                    i += 1
                break
        else:
            break
    return out or None


def matching(text: str, i: int) -> int:
    """The index of the bracket closing the one at `i` (brackets in string literals do not count), or -1."""
    depth, quote = 0, ""
    for j in range(i, len(text)):
        c = text[j]
        if quote:
            if c == quote and text[j - 1] != "\\":
                quote = ""
        elif c in "\"'`":
            quote = c
        elif c in _CLOSE:
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return j
    return -1
