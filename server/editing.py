"""One workspace folder's editing signals: the recent edits as hunks in today's line numbers, the client's
diagnostics of its open files and the ranges it showed recently."""
from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from ragls.indexer.hunks import Hunk, between

from .viewed import ViewedRanges

MAX_EDITS = 24  # hunks kept, oldest dropped first
MAX_HUNK_LINES = 80  # a bigger hunk (a paste, a formatter's rewrite) is kept cut to its first lines
MAX_LINE_CHARS = 1000  # ...and a longer line (minified, data) to its first characters
MERGE_LINES = 3  # a change this close to the edit being made extends it (typing makes one hunk, not hundreds)
MERGE_S = 30.0  # ...if it comes within this many seconds of the last one
MAX_DIAGNOSTICS = 50  # per file


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A client's diagnostic of an open file (any source but ragls's own), lines 1-based."""

    line: int
    end_line: int
    message: str
    severity: int = 1
    source: str = ""
    code: str = ""

    def text(self) -> str:
        what = {1: "error", 2: "warning", 3: "info", 4: "hint"}.get(self.severity, "error")
        tag = f" [{self.source}{' ' + self.code if self.code else ''}]" if self.source or self.code else ""
        return f"line {self.line}: {what}: {self.message}{tag}"


class Editing:
    """Fed from didChange, `ragls/diagnostics` and `ragls/viewedRanges`; read by next-edit, completion, fix and
    explain prompts."""

    def __init__(self) -> None:
        self._edits: deque[Hunk] = deque(maxlen=MAX_EDITS)
        self._base: str | None = None  # the text before the last hunk began (extended while typing goes on)
        self._last_at = 0.0
        self.diagnostics: dict[str, list[Diagnostic]] = {}
        self._offered: dict[str, tuple[int, list[dict]]] = {}  # uri -> (hash of its text, the next edits there)
        self.viewed = ViewedRanges()

    def changed(self, path: str, old: str, new: str, now: float | None = None) -> None:
        """A document's text went from `old` to `new`: extend the edit being made, or start a new one."""
        now = time.monotonic() if now is None else now
        step = between(path, old, new, context=0)
        if step is None:
            return
        first = step.start
        delta = step.new_length() - step.old_length()
        self.viewed.edited(path, first, step.old_length(), step.new_length())
        last = self._edits[-1] if self._edits else None
        extend = (last is not None and last.path == path and self._base is not None and now - self._last_at < MERGE_S
                  and _near(last, first, step.old_length()))
        # older hunks of this file below the change move with it
        for n, h in enumerate(self._edits):
            if h.path == path and (h is not last or not extend) and h.start > first:
                self._edits[n] = h.shifted(delta)
        if extend:
            merged = between(path, self._base or "", new)
            self._edits.pop()
            if merged is not None:
                self._edits.append(_bounded(merged))
            else:
                self._base = None  # typed and deleted again: no edit left
        else:
            self._base = old
            if (hunk := between(path, old, new)) is not None:
                self._edits.append(_bounded(hunk))
        self._last_at = now

    def history(self) -> list[Hunk]:
        """The edits, oldest first, each in its file's current numbering."""
        return list(self._edits)

    def offer(self, uri: str, text: str, edits: list[dict]) -> None:
        """The next edits last suggested in a document, while its text is `text` (LSP edits: uri, range, newText)."""
        self._offered[uri] = (hash(text), [e for e in edits if e["uri"] == uri])

    def offered_on(self, uri: str, text: str, line: int) -> dict | None:
        """The suggested next edit starting on `line` (0-based) of a document, if its text has not changed since."""
        hit = self._offered.get(uri)
        if hit is None or hit[0] != hash(text):
            return None
        return next((e for e in hit[1] if e["range"]["start"]["line"] == line), None)

    def set_diagnostics(self, path: str, diags: list[Diagnostic]) -> None:
        if diags:
            self.diagnostics[path] = diags[:MAX_DIAGNOSTICS]
        else:
            self.diagnostics.pop(path, None)

    def diagnostics_near(self, path: str, first: int, last: int, margin: int = 5) -> list[Diagnostic]:
        return [d for d in self.diagnostics.get(path, []) if d.end_line >= first - margin and d.line <= last + margin]


def _near(h: Hunk, first: int, removed: int) -> bool:
    lo, hi = h.changed_span()
    return lo - MERGE_LINES <= first <= hi + MERGE_LINES + 1 or lo - MERGE_LINES <= first + removed <= hi + 1


def _overlaps(span: tuple[int, int], first: int, last: int) -> bool:
    return span[1] >= first and span[0] <= last


def _bounded(h: Hunk) -> Hunk:
    if len(h.lines) <= MAX_HUNK_LINES and all(len(ln) <= MAX_LINE_CHARS for ln in h.lines):
        return h
    lines = tuple(ln[:MAX_LINE_CHARS] for ln in h.lines[:MAX_HUNK_LINES])
    return Hunk(h.path, h.start, lines, h.old_start)


def history_text(hunks: list[Hunk], limit_chars: int) -> str:
    """The edits as diffs, newest first (a prompt trimmed from its end loses the oldest), within about
    `limit_chars`."""
    parts: list[str] = []
    used = 0
    for h in reversed(hunks):
        text = f"--- {h.path}\n{h.text()}"
        if used + len(text) > limit_chars and parts:
            break
        parts.append(text[:limit_chars] if not parts else text)
        used += len(text)
    return "".join(parts).rstrip("\n")


def signals_text(editing: Editing | None, path: str, first: int, last: int, budget: int, skip_near: int = 0,
                 known: Sequence[str] = ()) -> str:
    """For a prompt about lines first..last of `path`: the recent edits (those of `path` within `skip_near` lines of
    them left out: the prompt shows that text) and the client's diagnostics near them (not those in `known`),
    within about `budget` tokens (about 3.5 characters a token; the renderer trims exactly). Empty when there is
    nothing to say."""
    if editing is None or budget <= 0:
        return ""
    hunks = [h for h in editing.history() if h.path != path or not _overlaps(h.changed_span(), first - skip_near,
                                                                            last + skip_near)]
    parts = []
    # the client's diagnostics near the lines, but those the request names already (a code action's own)
    diags = [d for d in editing.diagnostics_near(path, first, last) if not any(d.message in k for k in known)]
    if diags:
        parts.append("Problems the editor reports here:\n" + "\n".join(d.text() for d in diags[:10]))
    if hunks:
        room = int(budget * 3.5) - sum(len(p) for p in parts)
        if room > 200:
            parts.append("Recent edits (newest first):\n" + history_text(hunks, room))
    return "\n\n".join(parts)
