"""What the code before a cursor expects next: a value of some type (`if ` a bool, `x == ` x's type, `case ` the
switch's subject's, `return ` the function's result, Go's `Field: ` the field's, `f(a, ` f's second parameter's),
read from the text alone."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .lang.types import matching, top_level, type_chain, value_chain

NUMBER = "number"  # some numeric type, which one unknown (`n > `)
_NUMERIC = frozenset({
    "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "uintptr", "byte",
    "rune", "float32", "float64", "complex64", "complex128", "number", "long", "short", "double", "float",
    "Integer", "Long", "Short", "Byte", "Double", "Float", "BigInteger"})
_BUILTIN = _NUMERIC | {"bool", "boolean", "Boolean", "string", "String", "str", "error"}
_INT_FUNCTIONS = frozenset({"len", "cap", "copy"})

_BOOL_SLOT = re.compile(r"(?:(?:^|[^\w.])(?:if|elif|while|and|or|not|assert)\s+!?|\b(?:if|while)\s*\(\s*!?|&&\s*!?"
                        r"|\|\|\s*!?|(?:^|[\s(=,])!)$")
_OPERATOR = re.compile(r"(?:==|!=|<=|>=|<<=?|>>=?|&\^=?|[-+*/%|^&]=?|<|>|=)\s*$")
_CASE = re.compile(r"^\s*case\s+(?:[^:]*,\s*)?$")
_SWITCH = re.compile(r"^(\s*)(?:\}\s*)?(?:switch|match)\b\s*(.*?)\s*[{:]?\s*$")
_RETURN = re.compile(r"^\s*return\s+(.*)$")
_KEY = re.compile(r"(?:^|[{,])\s*([A-Za-z_]\w*)\s*:\s*$")
_COMPOSITE = re.compile(r"&?\s*([A-Za-z_][\w.]*)(?:\[[^\]]*\])?\s*$")
_BLOCK = re.compile(r"^\s*(?:\}\s*)?(?:else\s+)?(?:if|for|switch|select|func|go|defer|else)\b")
LOOKBACK = 60  # lines searched for a switch's subject or a composite literal's type


@dataclass(frozen=True, slots=True)
class Expect:
    """One of: a type as written (`bool`, `(int, error)`'s `int`, NUMBER); the value whose type is expected (`x.y`
    of `x.y == `, a name chain); a composite literal's type chain and the field being set; a called chain and the
    argument being written."""

    type: str = ""
    chain: tuple[str, ...] = ()
    field: tuple[tuple[str, ...], str] | None = None
    numeric: bool = False  # when the chain's type is unknown, some numeric type is (`n > `, `n - `)
    argument: int | None = None  # with `chain`: the chain is called and this argument is next (`f(a, ` -> 1)


@functools.lru_cache(maxsize=8192)
def type_key(text: str) -> str:
    """The name a type is compared by: its last name (`*pkg.Kind` -> Kind); Go's untyped constants' kinds."""
    if text.startswith("untyped "):
        kind = text[8:]
        return NUMBER if kind in ("int", "float", "rune") else kind
    chain = type_chain(text) if text else None
    return chain[-1] if chain else ""


def fit(expected: str, actual: str) -> float:
    """How well a value of type `actual` fits where `expected` is: 1 the same type, 0.5 both numbers."""
    if not expected or not actual:
        return 0.0
    if expected == actual:
        return 1.0
    return 0.5 if expected in _NUMERIC and actual in _NUMERIC else 0.0


def builtin(name: str) -> bool:
    return name in _BUILTIN


def expect(lines: list[str], function_start: int, language: str | None) -> Expect | None:
    """What the last line of `lines` (cut at the cursor) expects next, or None when nothing is known."""
    if not lines:
        return None
    prefix = lines[-1][-300:]
    if _BOOL_SLOT.search(prefix):
        return Expect(type="bool")
    recent = "\n".join(lines[-CALL_LINES:])
    if _ARGUMENT_START.search(recent) and (call := _call_argument(recent)) is not None:
        return call
    if _CASE.match(prefix):
        return _switch_subject(lines)
    if (m := _RETURN.match(prefix)) is not None or prefix.strip() == "return":
        return _result(lines, function_start, _commas(m.group(1)) if m else 0, language)
    if language == "go" and (m := _KEY.search(prefix)) is not None:
        before_key = lines[-1][:len(lines[-1]) - len(m.group(0)) + (m.group(0)[:1] in "{,")]
        return _composite_field("\n".join([*lines[-LOOKBACK:-1], before_key]), m.group(1))
    if (m := _OPERATOR.search(prefix)) is not None:
        return _operand(prefix[:m.start()], m.group().strip())
    return None


_ARGUMENT_START = re.compile(r"[(,]\s*$")
_NOT_CALLED = frozenset({"if", "for", "while", "switch", "catch", "func", "function", "def", "return", "elif", "in",
                         "and", "or", "not", "with", "synchronized"})
_BEFORE_CALL = frozenset({"return", "new", "await", "yield", "go", "defer", "throw", "else", "in", "not", "and", "or",
                          "case", "print"})
CALL_LINES = 8  # lines searched back for the open parenthesis of the call an argument belongs to


def _unclosed(text: str) -> int:
    """The index of the innermost bracket still open at the end of `text`, or -1."""
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        c = text[i]
        if c in ")]}":
            depth += 1
        elif c in "([{":
            if not depth:
                return i
            depth -= 1
    return -1


def _call_argument(text: str) -> Expect | None:
    """`f(a, `: the call's chain and the argument's position; a conversion's type (`uint32(`); Go's `make(T, `."""
    i = _unclosed(text)
    if i < 0 or text[i] != "(":
        return None
    before = text[:i].rstrip()
    callee = _left_operand(before)
    if not callee or not (callee[-1].isalnum() or callee[-1] == "_") or callee in _NOT_CALLED:
        return None
    word = before[:len(before) - len(callee)].rstrip().rsplit(None, 1)[-1:]  # `int f(` declares f
    if word and (word[0][-1].isalnum() or word[0][-1] in "_>]") and word[0] not in _BEFORE_CALL:
        return None
    position = _commas(text[i + 1:])
    if callee in _BUILTIN:
        return Expect(type=callee) if position == 0 else None
    if callee == "make":
        return Expect(type="int") if position else None
    chain = value_chain(callee)
    return Expect(chain=tuple(chain), argument=position) if chain else None


_ANNOTATIONS = re.compile(r"@[\w.]+(?:\([^()]*\))?\s*|\bfinal\s+")
_RECEIVERS = frozenset({"self", "cls", "this"})


def parameter_types(name: str, signature: str, language: str | None) -> list[str]:
    """The declared types of a function's parameters, in order, from its signature (`func f(a, b int, c *T)` ->
    int, int, *T; `void f(final int a)`, `f(a: A, b?: B)`, `def f(self, a: A)` -> A); "" where none is written."""
    m = re.search(rf"\b{re.escape(name)}\s*(?:<[^()]*>|\[[^()]*\])?\s*\(", signature)
    if m is None:
        return []
    close = matching(signature, m.end() - 1)
    parts = [p.strip() for p in top_level(signature[m.end():close if close > 0 else len(signature)]) if p.strip()]
    if language == "go":
        named = any(len(p.split()) > 1 for p in parts)
        out, pending = [], ""
        for p in reversed(parts):
            words = p.split(None, 1)
            pending = (words[1] if len(words) > 1 else pending) if named else p
            out.append(pending)
        return [t.removeprefix("...") for t in reversed(out)]
    if language == "java":
        out = []
        for p in parts:
            words = _ANNOTATIONS.sub("", p).split()
            out.append(" ".join(words[:-1]).replace("...", "") if len(words) > 1 else "")
        return out
    out = []
    for p in parts:
        head, _, rest = p.partition(":")
        head = head.strip().rstrip("?")
        if head.startswith("*") or head in ("/", "*"):
            break
        if head in _RECEIVERS and not out and not rest:
            continue
        out.append(rest.split("=", 1)[0].strip() if rest else "")
    return out


def _operand(before: str, op: str) -> Expect | None:
    """The expectation an operator sets: the type of the operand before it (a binary operator's)."""
    stripped = before.rstrip()
    if not stripped or not (stripped[-1].isalnum() or stripped[-1] in "_)]\"'`"):
        return Expect(type=NUMBER) if op == "-" else None  # unary: `-x` is a number; `&T{`, `*p` are not values
    if op in ("<", ">") and before == stripped:  # `List<`, `a>`: a generic's brackets, not a comparison
        return None
    if op in (":=", "=") and stripped.endswith(":"):
        return None
    numeric = op not in ("==", "!=", "=", "+", "+=") and op not in ("&&", "||")
    left = _left_operand(stripped)
    if not left:
        return None
    if left[0] in "\"'`":
        return Expect(type="string")
    if left[0].isdigit():
        return Expect(type=NUMBER)
    head = re.match(r"(\w+)\s*\(", left)
    if head is not None and head.group(1) in _INT_FUNCTIONS:
        return Expect(type="int")
    if head is not None and head.group(1) in _BUILTIN:  # a conversion: `uint32(x) <`
        return Expect(type=head.group(1))
    chain = value_chain(left)
    if not chain:
        return Expect(type=NUMBER) if numeric else None
    return Expect(chain=tuple(chain), numeric=numeric)


def _left_operand(text: str) -> str:
    """The operand that ends `text`: names, dots, and balanced brackets (`s.out[i].n`, `len(x)`, `f(a).b`)."""
    i = len(text)
    while i > 0:
        c = text[i - 1]
        if c.isalnum() or c in "_.$":
            i -= 1
        elif c in ")]":
            depth, j = 0, i - 1
            while j >= 0:
                depth += text[j] in ")]"
                depth -= text[j] in "(["
                if depth == 0:
                    break
                j -= 1
            if j < 0:
                return ""
            i = j
        elif c in "\"'`" and i == len(text):
            start = text.rfind(c, 0, i - 1)
            return text[start:] if start >= 0 else ""
        else:
            break
    return text[i:]


def _commas(text: str) -> int:
    """Top-level commas in `text` (a result list's position)."""
    depth, n = 0, 0
    for c in text:
        depth += c in "([{"
        depth -= c in ")]}"
        n += c == "," and depth == 0
    return n


def _switch_subject(lines: list[str]) -> Expect | None:
    """`case ` of a `switch x {` / `switch (x) {` / `match x:`: x's type; of a bare `switch {`: a bool."""
    indent = len(lines[-1]) - len(lines[-1].lstrip())
    for ln in reversed(lines[max(0, len(lines) - 1 - LOOKBACK):-1]):
        m = _SWITCH.match(ln)
        if m is None or len(m.group(1)) > indent:
            continue
        subject = m.group(2).rsplit(";", 1)[-1].strip()
        if subject.startswith("(") and subject.endswith(")"):
            subject = subject[1:-1].strip()
        if not subject:
            return Expect(type="bool")
        if ".(type)" in subject:
            return None
        chain = value_chain(subject)
        return Expect(chain=tuple(chain)) if chain and len(subject) == len(_left_operand(subject)) else None
    return None


_GO_FUNC = re.compile(r"^\s*func\s*(?:\([^)]*\)\s*)?\w*\s*(?:\[[^\]]*\])?\s*\(")
_ARROW = re.compile(r"\)\s*(?:->|:)\s*([^{=]+?)\s*(?:[:{]|=>)?\s*$")


def _result(lines: list[str], function_start: int, position: int, language: str | None) -> Expect | None:
    """`return a, ` : the enclosing function's declared result at that position (Go's result lists, Python's and
    TypeScript's annotations)."""
    if not 0 < function_start <= len(lines):
        return None
    signature = " ".join(ln.strip() for ln in lines[function_start - 1:function_start + 9])
    signature = signature.split("{", 1)[0] if language == "go" else signature
    if language == "go":
        m = _GO_FUNC.match(signature)
        if m is None:
            return None
        depth, i = 1, m.end()
        while i < len(signature) and depth:
            depth += signature[i] == "("
            depth -= signature[i] == ")"
            i += 1
        results = signature[i:].strip()
        if results.startswith("(") and results.endswith(")"):
            parts = [p.strip() for p in top_level(results[1:-1]) if p.strip()]
        else:
            parts = [results] if results else []
        if position >= len(parts):
            return None
        words = parts[position].split()
        return Expect(type=words[-1]) if words else None
    if language in ("python", "typescript", "tsx") and position == 0:
        for ln in lines[function_start - 1:function_start + 9]:
            if (m := _ARROW.search(ln)) is not None:
                return Expect(type=m.group(1))
    return None


def _composite_field(text: str, key: str) -> Expect | None:
    """Go's `T{..., Key: ` (`text` ends before the key): the literal's type chain and the field; None when the
    brace opens no literal."""
    i = _unclosed(text)
    if i < 0 or text[i] != "{":
        return None
    line = text[text.rfind("\n", 0, i) + 1:i]
    m = _COMPOSITE.search(line)
    if m is None or m.group(1) in ("struct", "interface", "func", "else", "map") \
            or _BLOCK.match(line):  # `if x {`: a block, no literal
        return None
    chain = type_chain(m.group(1))
    return Expect(field=(tuple(chain), key)) if chain else None
