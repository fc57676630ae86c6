"""Clean a model's completion so it inserts at the cursor: no fences, no echo of the prefix or the suffix,
brackets balanced against the suffix, one line or one block."""
from __future__ import annotations

import re

_FENCE = re.compile(r"^\s*```[\w+-]*\n(.*?)(?:\n```\s*)?$", re.S)
_OPEN, _CLOSE = "([{", ")]}"
_CONTINUES_BLOCK = re.compile(r"^\s*(?:[)\]}]|else\b|elif\b|except\b|finally\b|case\b|catch\b)")


def _strip_fences(text: str) -> str:
    m = _FENCE.match(text)
    return m.group(1) if m else text


def _strip_echo(text: str, line_prefix: str) -> str:
    """A chat model often repeats the line being typed; keep only what comes after it."""
    typed = line_prefix.strip()
    if typed and text.lstrip().startswith(typed):
        rest = text.lstrip()[len(typed):]
        return rest.lstrip(" \t") if line_prefix[-1:].isspace() else rest
    return text


def _cut_suffix_overlap(text: str, suffix: str) -> str:
    """Drop the end of the completion that repeats the start of the suffix (the text after the cursor)."""
    head = suffix.lstrip(" \t")
    first = head.split("\n", 1)[0].strip()
    if len(first) >= 3:
        pos = text.rfind(first)
        if pos > 0 and not text[pos + len(first):].strip():
            text = text[:pos]
    for n in range(min(len(text), len(head)), 2, -1):  # short overlaps (a lone ")") are left to _balance
        if text.endswith(head[:n]) and head[:n].strip():
            return text[: len(text) - n]
    return text


def _balance(text: str, suffix: str) -> str:
    """Remove closing brackets the completion adds beyond its own openings when the suffix already closes them."""
    depth = 0
    out = []
    for ch in text:
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            if depth == 0:
                if suffix.lstrip().startswith(ch):
                    break  # the suffix closes it already
                out.append(ch)
                continue
            depth -= 1
        out.append(ch)
    return "".join(out)


def _one_block(text: str, indent: int) -> str:
    """Multi-line: stop where the code dedents below the cursor's block (the model went on to other code)."""
    lines = text.split("\n")
    keep = [lines[0]]
    for ln in lines[1:]:
        if ln.strip() and len(ln) - len(ln.lstrip()) < indent and not _CONTINUES_BLOCK.match(ln):
            break
        keep.append(ln)
    while len(keep) > 1 and not keep[-1].strip():
        keep.pop()
    return "\n".join(keep)


def clean(text: str, line_prefix: str, suffix: str, multiline: bool, stop: list[str] | None = None) -> str:
    """The text to insert at the cursor, or "" when nothing useful is left."""
    text = _strip_fences(text.replace("\r\n", "\n"))
    for s in stop or []:
        if s and s in text:
            text = text[: text.index(s)]
    text = _strip_echo(text, line_prefix) if line_prefix.strip() else text
    mid_line = bool(suffix.split("\n", 1)[0].strip())
    if mid_line or not multiline:
        text = text.split("\n", 1)[0]
    else:
        text = _one_block(text, len(line_prefix) - len(line_prefix.lstrip()))
    text = _balance(text, suffix)
    text = _cut_suffix_overlap(text, suffix)
    return text.rstrip() if "\n" in text else text.rstrip("\n")
