"""Review units: the changed lines grown to their enclosing symbols, with the definitions they use and callers."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from ragls.indexer.analyze import analyze_bytes
from ragls.indexer.files import Limits, read_regular, refusal, skip_reason
from ragls.indexer.index import Index
from ragls.indexer.languages import language_for
from ragls.indexer.retrieve import Query, Retriever
from ragls.indexer.tokens import count

from .diff import Change, FileChange, Hunk

log = logging.getLogger(__name__)
CONTEXT_BUDGET = 1200  # tokens of definitions a unit may carry
CALLERS = 3  # call sites shown per changed symbol
ENCLOSING = ("function", "method", "class", "struct", "interface", "impl", "trait", "enum", "type", "module")
AROUND = 8  # lines shown around the changes of a definition too large to show whole
TOP_LEVEL_AROUND = 3  # lines shown around changes outside any definition
HEADER = 40  # tokens of a unit's header line, at most
LINE_OVERHEAD = 5  # tokens a shown line adds besides its text (its number and marker)
ITEM_OVERHEAD = 24  # tokens a context item adds to a prompt besides its text (fence, header, line numbers' share)


@dataclass(slots=True)
class Unit:
    """One thing to review: the changes of one file inside one symbol (or one top-level region), shown whole."""

    path: str
    language: str
    symbol: str  # qualified name, or "" for top-level code
    start: int  # new-side lines shown as the code under review
    end: int
    hunks: list[Hunk]  # the hunks that change something in start..end
    code: str = ""  # the new version's lines start..end
    definitions: list[dict] = field(default_factory=list)  # context items {path, start_line, end_line, symbol, text}
    callers: list[dict] = field(default_factory=list)
    own_tokens: int = 0  # the unit as shown (the changed code, numbered): never trimmed
    context_tokens: int = 0  # its definitions and callers: trimmed first when a prompt is full
    importance: float = 0.0

    @property
    def added(self) -> set[int]:
        return {n for h in self.hunks for n in h.changed if self.start <= n <= self.end}

    @property
    def removed(self) -> dict[int, list[str]]:
        """Removed lines by the new-side line they stood before (end + 1: after the last line shown)."""
        out: dict[int, list[str]] = {}
        for h in self.hunks:
            for n, text in h.removed:
                if self.start <= n <= self.end + 1:
                    out.setdefault(n, []).append(text)
        return out

    @property
    def changed(self) -> int:
        return len(self.added) + sum(map(len, self.removed.values()))

    @property
    def where(self) -> str:
        return f"lines {self.start}-{self.end}" + (f" ({self.symbol})" if self.symbol else "")

    def show(self) -> str:
        """How the unit appears in a review prompt: the code after the change with its line numbers, added lines
        marked `+`, removed ones shown unnumbered, marked `-`, where they were."""
        added, removed = self.added, self.removed
        out = [f"### {self.path} ({self.language}){' — ' + self.symbol if self.symbol else ''}, "
               f"lines {self.start}-{self.end}"]
        for n, line in enumerate(self.code.split("\n"), self.start):
            out += [f"{'':>5} -| {old}".rstrip() for old in removed.get(n, ())]
            out.append(f"{n:>5} {'+' if n in added else ' '}| {line}".rstrip())
        out += [f"{'':>5} -| {old}".rstrip() for old in removed.get(self.end + 1, ())]
        return "\n".join(out)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file, or a part of one (`where`: its lines and symbol), left out of the review, and why."""

    path: str
    reason: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.path}{' ' + self.where if self.where else ''}: {self.reason}"


def units(index: Index, change: Change, max_tokens: int, retriever: Retriever | None = None
          ) -> tuple[list[Unit], list[Skipped]]:
    """Units for every reviewable file of the change, each shown in at most about `max_tokens` tokens (a large
    definition is cut to the lines around its hunks), and the files left out with why (never silently). Context
    comes from `retriever` (one over `index`, kept by the caller), else a new one."""
    out: list[Unit] = []
    skipped: list[Skipped] = []
    retriever = retriever or Retriever(index)
    root = Path(index.root)
    for f in change.files:
        reason = _why_not(root, f)
        a = None
        if reason is None:
            assert f.text is not None
            a = analyze_bytes(f.path, f.text.encode("utf-8"), Limits())
            reason = a.skip_reason  # generated, minified, too large
        if reason or a is None:
            skipped.append(Skipped(f.path, reason or "unreadable"))
            continue
        symbols = [s for s in a.parsed.symbols if s.kind in ENCLOSING] if a.parsed is not None else []
        out.extend(_file_units(retriever, root, f, symbols, max_tokens))
    return out, skipped


def _why_not(root: Path, f: FileChange) -> str | None:
    """Why a changed file is not reviewed by its name and kind: the indexer's rules (secrets, ignored, binary:
    nothing of such a file is ever sent to a model), deleted, or nothing to read."""
    if f.unreadable is not None:
        return f.unreadable
    if reason := skip_reason(root, f.path):
        return reason
    if f.status != "deleted" and (reason := refusal(root, f.path)):
        return reason
    if f.status == "deleted":
        return "deleted"
    if f.binary or f.text is None:
        return "binary"
    if not f.hunks:
        return "renamed without changes" if f.status == "renamed" else "no textual change"
    return None


def _file_units(retriever: Retriever, root: Path, f: FileChange, symbols: list, max_tokens: int) -> list[Unit]:
    """Each changed line goes to the innermost definition holding it, and the definition is shown whole; a
    definition changed around a nested one that changed too (a class and its method) is reviewed as one when it
    fits. A definition too large to show whole gives the lines around its changes; changed lines outside any
    definition give the regions around them."""
    assert f.text is not None
    spec = language_for(f.path)
    lines = f.text.split("\n")
    last = max(1, len(lines) - (lines[-1] == ""))
    size = {}  # tokens of a line range as shown, estimated line by line

    def fits(start: int, end: int) -> bool:
        if (start, end) not in size:
            size[start, end] = sum(count(line) + LINE_OVERHEAD for line in lines[start - 1:end])
        return size[start, end] <= max_tokens - HEADER

    marks: dict[tuple[str, int, int] | None, set[int]] = {}
    for h in f.hunks:
        # where it changed: non-blank added lines, and the line a removal stood before (or after, when that is
        # blank: the end of a definition); blank added lines only when nothing else changed
        places = {n for n in h.changed if n <= last and lines[n - 1].strip()}
        places |= {m if lines[m - 1].strip() or m == 1 else m - 1 for m in (min(n, last) for n, _ in h.removed)}
        for n in places or [min(n, last) for n in h.changed] or [min(h.start, last)]:
            holders = [s for s in symbols if s.start_line <= n <= s.end_line]
            best = min(holders, key=lambda s: s.end_line - s.start_line, default=None)
            marks.setdefault((best.qualname, best.start_line, best.end_line) if best else None, set()).add(n)
    keys = sorted((k for k in marks if k is not None), key=lambda k: (k[1], -k[2]))
    for outer in keys:
        for inner in keys:
            if inner != outer and inner in marks and outer in marks and outer[1] <= inner[1] and \
                    inner[2] <= outer[2] and fits(outer[1], outer[2]):
                marks[outer] |= marks.pop(inner)
    regions: list[tuple[str, int, int]] = []
    for key, marked in marks.items():
        if key is not None and fits(key[1], key[2]):
            regions.append(key)
            continue
        symbol, lo, hi = key if key is not None else ("", 1, last)
        around = AROUND if key is not None else TOP_LEVEL_AROUND
        for first, final in _clusters(sorted(marked), 2 * around):
            start, end = max(lo, first - around), min(hi, final + around)
            regions += [(symbol, a, b) for a, b in _windows(start, end, fits)]
    out = []
    for symbol, start, end in sorted(_tidy(regions, lines), key=lambda r: r[1]):
        hunks = [h for h in f.hunks if any(start <= n <= end + 1 for n in h.places)]
        u = Unit(f.path, spec.name if spec else "text", symbol, start, end, hunks, "\n".join(lines[start - 1:end]))
        u.own_tokens = count(u.show())
        _context(retriever, root, u, f.text)
        u.context_tokens = sum(count(i["text"]) + ITEM_OVERHEAD for i in u.definitions + u.callers)
        u.importance = _importance(u)
        out.append(u)
    return out


def _tidy(regions: list[tuple[str, int, int]], lines: list[str]) -> list[tuple[str, int, int]]:
    """Top-level regions without blank edges or the lines a definition's region shows anyway."""
    held = [(a, b) for symbol, a, b in regions if symbol]

    def spare(n: int) -> bool:
        return not lines[n - 1].strip() or any(a <= n <= b for a, b in held)

    out = []
    for symbol, start, end in regions:
        if not symbol:
            while start < end and spare(start):
                start += 1
            while end > start and spare(end):
                end -= 1
        out.append((symbol, start, end))
    return out


def _clusters(marked: list[int], gap: int) -> list[tuple[int, int]]:
    """Runs of sorted line numbers, split where two are more than `gap` lines apart."""
    out: list[tuple[int, int]] = []
    for n in marked:
        if out and n - out[-1][1] <= gap:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def _windows(start: int, end: int, fits) -> list[tuple[int, int]]:
    """start..end in consecutive pieces that each fit (a single line always counts as one piece)."""
    out = []
    while start <= end:
        lo, hi = start, end  # the longest start..x that fits: bisect
        while lo < hi:
            mid = (lo + hi + 1) // 2
            lo, hi = (mid, hi) if fits(start, mid) else (lo, mid - 1)
        out.append((start, lo))
        start = lo + 1
    return out


def _context(retriever: Retriever, root: Path, u: Unit, text: str) -> None:
    """Definitions the unit's code uses (a selection query over it) and call sites of its symbol elsewhere."""
    try:
        items = retriever.context(Query(u.path, u.start, end_line=u.end), k=6, budget=CONTEXT_BUDGET, source=text)
    except Exception as exc:  # an unindexed language or a damaged index: review without definitions
        log.warning("%s: no definitions retrieved (%s)", u.path, exc)
        items = []
    for i in items:
        body = _lines(root, i.path, i.start_line, i.end_line)
        if body.strip():
            u.definitions.append({"path": i.path, "start_line": i.start_line, "end_line": i.end_line,
                                  "symbol": i.label, "text": body})
    if u.symbol:
        u.callers = callers(retriever.index, root, u.path, u.symbol)


def callers(index: Index, root: Path, path: str, qualname: str) -> list[dict]:
    """Where other files call `qualname` of `path`: the resolved edges of the symbol graph, then the lines that
    name it in those files (a few, with a line of context)."""
    name = qualname.rsplit(".", 1)[-1]
    files = index.store.caller_files(path, qualname, name)
    if not files and "." not in qualname:  # no resolved edge (another language, say): files naming it (not for
        # methods: a name like `get` is called everywhere)
        files = index.store.files_naming(name, path, 5)
    before = r"[.]" if "." in qualname else r"(?<![.\w])"  # obj.method( ; a function's own name(
    pattern = re.compile(before + re.escape(name) + r"\s*\(")
    out: list[dict] = []
    for src in files:
        if not (lines := _file_lines(root, src)):
            continue
        for n, line in enumerate(lines, 1):
            if pattern.search(line) and not re.match(r"\s*(def|function|func|fn|class)\b", line):
                lo, hi = max(1, n - 1), min(len(lines), n + 1)
                out.append({"path": src, "start_line": lo, "end_line": hi, "symbol": f"call of {name}",
                            "text": "\n".join(lines[lo - 1:hi])})
                break  # one call site a file
        if len(out) >= CALLERS:
            break
    return out


def _lines(root: Path, rel: str, start: int, end: int) -> str:
    return "\n".join(_file_lines(root, rel)[start - 1:end])


def _file_lines(root: Path, rel: str) -> list[str]:
    """An indexed file's lines, read as every other read is (no link followed, no FIFO opened); [] if it cannot be."""
    try:
        data, _ = read_regular(root / rel, Limits().max_file_bytes)
    except OSError:
        return []
    return data.decode("utf-8", "replace").split("\n")


_TEST = re.compile(r"(^|/)(tests?|spec|__tests__)/|(^|/)test_[^/]*$|_test\.[a-z]+$|\.(spec|test)\.[jt]sx?$")
_DOCS = re.compile(r"\.(md|rst|txt|adoc)$|(^|/)docs?/")
_SENSITIVE = re.compile(r"auth|login|password|token|secret|crypt|session|permission|sql|query|exec|shell|upload",
                        re.IGNORECASE)


def _importance(u: Unit) -> float:
    """Which units go first when not everything fits: source before tests and docs, security-sensitive code, more
    changed lines, code that others call."""
    score = 1.0 + min(u.changed, 200) / 20
    if _TEST.search(u.path):
        score *= 0.5
    if _DOCS.search(u.path):
        score *= 0.2
    if _SENSITIVE.search(u.path) or _SENSITIVE.search(u.code):
        score *= 1.5
    return score + 0.5 * len(u.callers)
