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
            cur.append(raw)
        elif cur is not None and raw == "":
            continue  # the diff's last newline, or an empty context line written without its space
    if cur is not None:
        out.append(Hunk(path, start, tuple(cur), old_start))
    return [h for h in out if any(ln[:1] in "+-" for ln in h.lines)]


def between(path: str, old: str, new: str, context: int = CONTEXT) -> Hunk | None:
    """The one hunk from `old` to `new` (everything from the first to the last differing line), or None when equal.
    Trimming the common head and tail is linear, where a full diff of a large file on every keystroke is not."""
    if old == new:
        return None
    a, b = old.split("\n"), new.split("\n")
    head = 0
    limit = min(len(a), len(b))
    while head < limit and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < limit - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    lo = max(0, head - context)
    before = [" " + ln for ln in a[lo:head]]
    removed = ["-" + ln for ln in a[head:len(a) - tail]]
    added = ["+" + ln for ln in b[head:len(b) - tail]]
    after = [" " + ln for ln in a[len(a) - tail:min(len(a), len(a) - tail + context)]]
    return Hunk(path, lo + 1, tuple(before + removed + added + after), lo + 1)
