"""Type names as written in declarations: the chain a type annotation names, and the bases a class declares."""
from __future__ import annotations

import re

_NULLISH = frozenset({"None", "null", "undefined", "nil", "void"})
_WRAPPERS = re.compile(r"^(?:typing\.)?(?:Optional|Annotated|ClassVar|Final|Readonly|ReadonlyArray)\s*[\[<]\s*(.*)[\]>]$",
                       re.S)
_TYPE_HEAD = re.compile(r"[A-Za-z_$][\w$]*(?:\s*(?:\.|::)\s*[A-Za-z_$][\w$]*)*")
_SEPARATOR = re.compile(r"\s*(?:\.|::)\s*")
_PY_CLASS = re.compile(r"\s*class\s+\w+\s*(?:\[[^\]]*\])?\s*\((.*)\)\s*:", re.S)
_EXTENDS = re.compile(r"\b(?:extends|implements)\b(.*?)(?=\bimplements\b|\{|$)", re.S)
_CPP_BASES = re.compile(r"^\s*(?:class|struct)\s+[\w:<>]+[^:{]*:(?!:)(.*?)(?:\{|$)", re.S)
_ACCESS = re.compile(r"^\s*(?:public|protected|private|virtual)\s+")


def type_chain(text: str) -> list[str] | None:
    """The name chain of the type a declaration gives (`pkg.Type` -> ["pkg", "Type"]): quotes, pointers and
    references stripped, `Optional[X]` / `X | None` unwrapped; None for what has no members of its own to rank
    (slices, arrays, functions, unions of several types)."""
    t = text.strip().strip("\"'`").strip()
    for _ in range(3):
        if (m := _WRAPPERS.match(t)) is not None:
            t = m.group(1).split(",")[0].strip()
        parts = [p.strip() for p in t.split("|") if p.strip() and p.strip() not in _NULLISH]
        if len(parts) != 1:
            return None
        t = parts[0].lstrip("*&").removeprefix("mut ").strip()
    if t.startswith(("[", "(", "{", "func", "fn ")) or (t.endswith("]") and "[" in t and not _WRAPPERS.match(t)):
        return None
    m = _TYPE_HEAD.match(t)
    return _SEPARATOR.split(m.group()) if m is not None else None


def _top_level(text: str, sep: str = ",") -> list[str]:
    """`text` split at `sep` outside brackets (generic arguments keep their commas)."""
    out, depth, cur = [], 0, []
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
    return [c for p in _top_level(m.group(1)) if "=" not in p and not p.startswith("*") and (c := type_chain(p))]


def extends_bases(signature: str) -> list[list[str]]:
    """TypeScript's and Java's `class X<T> extends A<T> implements B, C {` and `interface X extends A, B`."""
    return [c for m in _EXTENDS.finditer(signature) for p in _top_level(m.group(1)) if (c := type_chain(p))]


def cpp_bases(signature: str) -> list[list[str]]:
    """C++'s `class X : public A, private ns::B {`."""
    m = _CPP_BASES.match(signature)
    return [c for p in _top_level(m.group(1)) if (c := type_chain(_ACCESS.sub("", p)))] if m else []
