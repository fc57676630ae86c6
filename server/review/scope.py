"""Review units: each changed hunk extended to its enclosing symbol, with the definitions it uses and its callers."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

from ragls.indexer.analyze import analyze_bytes
from ragls.indexer.files import Limits, skip_reason
from ragls.indexer.index import Index
from ragls.indexer.languages import language_for
from ragls.indexer.retrieve import Query, Retriever
from ragls.indexer.tokens import count

from .diff import Change, FileChange, Hunk

log = logging.getLogger(__name__)
CONTEXT_BUDGET = 1200  # tokens of definitions a unit may carry
CALLERS = 3  # call sites shown per changed symbol
ENCLOSING = ("function", "method", "class", "struct", "interface", "impl", "trait", "enum", "type", "module")
AROUND = 8  # lines shown around the hunks of a definition too large to show whole
ITEM_OVERHEAD = 24  # tokens a context item adds to a prompt besides its text (fence, header, line numbers' share)


@dataclass(slots=True)
class Unit:
    """One thing to review: the hunks of one file inside one symbol (or one top-level region)."""

    path: str
    language: str
    symbol: str  # qualified name, or "" for top-level code
    start: int  # new-side lines shown as the code under review
    end: int
    hunks: list[Hunk]
    code: str = ""  # the new version's lines start..end
    definitions: list[dict] = field(default_factory=list)  # context items {path, start_line, end_line, symbol, text}
    callers: list[dict] = field(default_factory=list)
    own_tokens: int = 0  # the unit as shown (diff and numbered code): never trimmed
    context_tokens: int = 0  # its definitions and callers: trimmed first when a prompt is full
    importance: float = 0.0

    @property
    def changed(self) -> int:
        return sum(h.added + h.removed for h in self.hunks)

    @property
    def where(self) -> str:
        return f"lines {self.start}-{self.end}" + (f" ({self.symbol})" if self.symbol else "")

    def show(self) -> str:
        """How the unit appears in a review prompt: its diff hunks, then its code after the change, numbered."""
        numbered = "\n".join(f"{n:>5} | {line}".rstrip() for n, line in enumerate(self.code.split("\n"), self.start))
        hunks = "\n".join(h.text.rstrip("\n") for h in self.hunks)
        return (f"### {self.path} ({self.language}){' — ' + self.symbol if self.symbol else ''}, "
                f"lines {self.start}-{self.end}\nDiff:\n{hunks}\nAfter the change:\n{numbered}")


@dataclass(frozen=True, slots=True)
class Skipped:
    """A file, or a part of one (`where`: its lines and symbol), left out of the review, and why."""

    path: str
    reason: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.path}{' ' + self.where if self.where else ''}: {self.reason}"


def units(index: Index, change: Change, max_tokens: int) -> tuple[list[Unit], list[Skipped]]:
    """Units for every reviewable file of the change, each shown in at most about `max_tokens` tokens (a large
    definition is cut to the lines around its hunks), and the files left out with why (never silently)."""
    out: list[Unit] = []
    skipped: list[Skipped] = []
    retriever = Retriever(index)
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
    if reason := skip_reason(root, f.path):
        return reason
    if f.status == "deleted":
        return "deleted"
    if f.binary or f.text is None:
        return "binary"
    if not f.hunks:
        return "renamed without changes" if f.status == "renamed" else "no textual change"
    return None


def _file_units(retriever: Retriever, root: Path, f: FileChange, symbols: list, max_tokens: int) -> list[Unit]:
    assert f.text is not None
    spec = language_for(f.path)
    lines = f.text.split("\n")
    groups: dict[tuple[str, int, int], list[Hunk]] = {}
    for h in f.hunks:
        # each changed line goes to the innermost definition holding it (a long one is not shown whole); blank
        # lines, and a pure deletion, to the definition around them if there is one
        focus = [n for n in h.changed if n <= len(lines) and lines[n - 1].strip()] or list(h.changed) or [h.start]
        for n in focus:
            inner = [s for s in symbols if s.start_line <= n <= s.end_line and s.end_line - s.start_line <= 400]
            best = min(inner, key=lambda s: s.end_line - s.start_line, default=None)
            key = ((best.qualname, best.start_line, best.end_line) if best is not None else
                   ("", max(1, h.start), min(len(lines), h.end)))
            if h not in groups.setdefault(key, []):
                groups[key].append(h)
    # a definition changed around a nested one that changed too (a class and its method): review them as one
    keys = sorted(groups, key=lambda k: (k[1], -k[2]))
    for outer in keys:
        for inner in keys:
            if inner != outer and inner in groups and outer in groups and outer[1] <= inner[1] and \
                    inner[2] <= outer[2]:
                groups[outer] += [h for h in groups.pop(inner) if h not in groups[outer]]
    out = []
    for (symbol, start, end), hunks in groups.items():
        u = Unit(f.path, spec.name if spec else "text", symbol, start, end, hunks)
        u.code = "\n".join(lines[start - 1:end])
        u.own_tokens = count(u.show())
        if u.own_tokens > max_tokens and (start, end) != _around(hunks, start, end):
            u.start, u.end = _around(hunks, start, end)  # too large whole: the lines around its hunks
            u.code = "\n".join(lines[u.start - 1:u.end])
            u.own_tokens = count(u.show())
        _context(retriever, root, u, f.text)
        u.context_tokens = sum(count(i["text"]) + ITEM_OVERHEAD for i in u.definitions + u.callers)
        u.importance = _importance(u)
        out.append(u)
    return out


def _around(hunks: list[Hunk], start: int, end: int) -> tuple[int, int]:
    """The hunks' lines with AROUND lines each side, within start..end."""
    return max(start, min(h.start for h in hunks) - AROUND), min(end, max(h.end for h in hunks) + AROUND)


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
                                  "symbol": i.symbol, "text": body})
    if u.symbol:
        u.callers = callers(retriever.index, root, u.path, u.symbol)


def callers(index: Index, root: Path, path: str, qualname: str) -> list[dict]:
    """Where other files call `qualname` of `path`: the resolved edges of the symbol graph, then the lines that
    name it in those files (a few, with a line of context)."""
    name = qualname.rsplit(".", 1)[-1]
    db = index.store.db
    files = [r[0] for r in db.execute("SELECT DISTINCT src FROM edges WHERE dst=? AND (dst_symbol=? OR "
                                      "dst_symbol=?) AND src<>? ORDER BY src", (path, qualname, name, path))]
    if not files and "." not in qualname:  # no resolved edge (another language, say): files naming it (not for
        # methods: a name like `get` is called everywhere)
        files = [r[0] for r in db.execute("SELECT path FROM refs WHERE name=? AND path<>? ORDER BY count DESC "
                                          "LIMIT 5", (name, path))]
    before = r"[.]" if "." in qualname else r"(?<![.\w])"  # obj.method( ; a function's own name(
    pattern = re.compile(before + re.escape(name) + r"\s*\(")
    out: list[dict] = []
    for src in files:
        try:
            lines = (root / src).read_text(encoding="utf-8", errors="replace").split("\n")
        except OSError:
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
    try:
        return "\n".join((root / rel).read_text(encoding="utf-8", errors="replace").split("\n")[start - 1:end])
    except OSError:
        return ""


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
