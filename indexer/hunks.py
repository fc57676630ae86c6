"""Edits as unified-diff hunks: parsed from text, made from two versions of a file, and shifted as later edits move
their lines (the edit history of a next-edit query and of the editor's session)."""
from __future__ import annotations

import re
from dataclasses import dataclass

CONTEXT = 3  # git's context lines
_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


@dataclass(frozen=True, slots=True)
class Hunk:
    """One hunk of a file's edit: `lines` are git's (' ', '-', '+' then the text), `start` the new side's first line
    (1-based, in the file's current numbering)."""

    path: str
    start: int
    lines: tuple[str, ...]
    old_start: int = 0

    @property
    def removed(self) -> list[str]:
        return [ln[1:] for ln in self.lines if ln.startswith("-")]

    @property
    def added(self) -> list[str]:
        return [ln[1:] for ln in self.lines if ln.startswith("+")]

    def added_at(self) -> list[tuple[int, str]]:
        """The added lines with their numbers on the new side (1-based)."""
        out, line = [], self.start
        for ln in self.lines:
            if ln.startswith("+"):
                out.append((line, ln[1:]))
            if not ln.startswith("-"):
                line += 1
        return out

    def changed_span(self) -> tuple[int, int]:
        """The new-side lines (first, last; 1-based) of what changed: the added lines, or for a pure deletion the
        line after the deleted text (first == last)."""
        line, first, last = self.start, 0, 0
        for ln in self.lines:
            if ln.startswith("+"):
                first, last = first or line, line
                line += 1
            elif ln.startswith("-"):
                first = first or line
            else:
                line += 1
        if not first:
            first = self.start
        return first, max(first, last)

    def new_length(self) -> int:
        return sum(1 for ln in self.lines if not ln.startswith("-"))

    def old_length(self) -> int:
        return sum(1 for ln in self.lines if not ln.startswith("+"))

    def shifted(self, delta: int) -> Hunk:
        return Hunk(self.path, self.start + delta, self.lines, self.old_start)

    def text(self) -> str:
        """The hunk as git prints it (header without the function name)."""
        old, new = self.old_length(), self.new_length()
        head = f"@@ -{self.old_start or self.start},{old} +{self.start},{new} @@"
        return "\n".join([head, *self.lines]) + "\n"


def parse(path: str, diff: str) -> list[Hunk]:
    """The hunks of one file's unified diff (file headers and `\\ No newline` markers skipped)."""
    out: list[Hunk] = []
    cur: list[str] | None = None
    start = old_start = 0
    for raw in diff.split("\n"):
        m = _HEADER.match(raw)
        if m:
            if cur is not None:
                out.append(Hunk(path, start, tuple(cur), old_start))
            old_start, start, cur = int(m.group(1)), int(m.group(3)), []
        elif cur is not None and raw[:1] in (" ", "-", "+") and not raw.startswith(("--- ", "+++ ")):
            cur.append(raw)  # an empty line (the diff's last newline) is none of these: skipped
    if cur is not None:
        out.append(Hunk(path, start, tuple(cur), old_start))
    return [h for h in out if any(ln[:1] in "+-" for ln in h.lines)]


def between(path: str, old: str, new: str, context: int = CONTEXT) -> Hunk | None:
    """The one hunk from `old` to `new` (everything from the first to the last differing line), or None when equal.
    Only the lines around the change are split: the common head and tail are found by comparing blocks of text
    (an editor sends the whole buffer on every keystroke; a full diff, or a split of a large file, each time is not
    cheap)."""
    if old == new:
        return None
    start = old.rfind("\n", 0, _common_prefix(old, new)) + 1  # the first differing line's start
    tail = _common_suffix(old, new, start)
    a_stop, b_stop = _line_end(old, len(old) - tail), _line_end(new, len(new) - tail)  # the rest is equal
    a, b = old[start:a_stop].split("\n"), new[start:b_stop].split("\n")
    head, limit = 0, min(len(a), len(b))  # the same trimming by whole lines, on these few lines only
    while head < limit and a[head] == b[head]:
        head += 1
    same_end = 0
    while same_end < limit - head and a[-1 - same_end] == b[-1 - same_end]:
        same_end += 1
    # context: the last lines before `start` (only those are split off) and those after the change
    first = start
    for _ in range(context):
        if first:
            first = old.rfind("\n", 0, first - 1) + 1
    above = (old[first:start - 1].split("\n") if first < start else []) + a[:head]
    below = a[len(a) - same_end:] + (old[a_stop + 1:].split("\n", context)[:context] if a_stop < len(old) else [])
    before = above[max(0, len(above) - context):] if context else []
    lines = ([" " + ln for ln in before] + ["-" + ln for ln in a[head:len(a) - same_end]]
             + ["+" + ln for ln in b[head:len(b) - same_end]] + [" " + ln for ln in below[:context]])
    lo = old.count("\n", 0, start) + head - len(before)  # the first context line (0-based)
    return Hunk(path, lo + 1, tuple(lines), lo + 1)


def _line_end(text: str, at: int) -> int:
    """Where the line holding position `at` ends (its line break, or the text's end)."""
    end = text.find("\n", at)
    return len(text) if end < 0 else end


def _common_prefix(a: str, b: str, block: int = 4096) -> int:
    """How many characters `a` and `b` share at their start: blocks compared in C, halved near the difference."""
    n, i = min(len(a), len(b)), 0
    while block:
        while i + block <= n and a[i:i + block] == b[i:i + block]:
            i += block
        block //= 2
    return i


def _common_suffix(a: str, b: str, floor: int = 0, block: int = 4096) -> int:
    """How many characters `a` and `b` share at their end, not counting their first `floor` characters."""
    n, i, la, lb = min(len(a), len(b)) - floor, 0, len(a), len(b)
    while block:
        while i + block <= n and a[la - i - block:la - i] == b[lb - i - block:lb - i]:
            i += block
        block //= 2
    return i
