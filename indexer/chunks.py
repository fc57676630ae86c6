"""Cut a parsed file into retrievable chunks at AST boundaries, or into line windows without a grammar."""
from __future__ import annotations

from .lang.spec import SMALL_KINDS
from .languages import language_for
from .model import Chunk, Symbol
from .symbols import CLASS_KINDS

WINDOW_LINES = 40  # module-level code and files without a grammar
GROUP_LINES = 12  # a run of grouped definitions (C's #define constants) makes chunks of at most this many lines
MAX_CHUNK_CHARS = 6_000  # longer chunks are collapsed: the indexed text keeps the head and elides the body


def _text(lines: list[str], start: int, end: int) -> str:
    return "\n".join(lines[start - 1:end])


def _collapse(lines: list[str], start: int, end: int, head_end: int, symbol: str) -> str:
    text = _text(lines, start, end)
    if len(text) <= MAX_CHUNK_CHARS:
        return text
    head = _text(lines, start, head_end)
    return f"{head}\n    ... ({end - head_end} lines of {symbol} elided)"[:MAX_CHUNK_CHARS]


def _chunkable(symbols: list[Symbol], not_chunked: frozenset[str]) -> list[Symbol]:
    """Definitions at module level or directly inside class-like ones (not nested in functions), but for the
    language's small kinds (left to the module-level windows)."""
    by_qual = {s.qualname: s for s in symbols}
    out = []
    for s in symbols:
        p = s.parent
        ok = s.kind not in not_chunked
        while ok and p is not None:
            parent = by_qual.get(p)
            if parent is None or not parent.start_line <= s.start_line <= parent.end_line:
                break  # a member declared outside its owner (Go's methods): chunked like a top-level one
            ok = parent.kind in CLASS_KINDS
            p = parent.parent
        if ok:
            out.append(s)
    return out


def chunk_text(lines: list[str], start: int, end: int, head_end: int, symbol: str) -> str:
    """The text a chunk indexes (and embeds), from its file's lines and the span and symbol the catalog keeps: a
    definition's collapsed when long, a window's (no symbol) cut at MAX_CHUNK_CHARS. What `chunk_file` stores, so that
    vectors built later (`vector_sync.py`) embed the same text."""
    if symbol:
        return _collapse(lines, start, end, head_end, symbol)
    return _text(lines, start, end)[:MAX_CHUNK_CHARS]


def windows(path: str, lines: list[str], spans: list[tuple[int, int]], kind: str) -> list[Chunk]:
    """Line windows over the given spans, skipping blank-only ones."""
    out = []
    for lo, hi in spans:
        for s in range(lo, hi + 1, WINDOW_LINES):
            e = min(hi, s + WINDOW_LINES - 1)
            if _text(lines, s, e).strip():
                out.append(Chunk(path, s, e, min(e, s + 15), kind, "", chunk_text(lines, s, e, min(e, s + 15), "")))
    return out


def _group_runs(path: str, lines: list[str], defs: list[Symbol], kinds: frozenset[str], out: list[Chunk],
                covered: bytearray) -> list[Symbol]:
    """Runs of top-level definitions of `kinds` on consecutive lines, each run of two or more one chunk (named by
    its first, at most GROUP_LINES lines) added to `out`; the definitions left to be chunked one by one."""
    rest: list[Symbol] = []
    run: list[Symbol] = []

    def close() -> None:
        if len(run) > 1:
            first, end = run[0], run[-1].end_line
            out.append(Chunk(path, first.start_line, end, end, first.kind, first.qualname,
                             chunk_text(lines, first.start_line, end, end, first.qualname)))
            covered[first.start_line:end + 1] = b"\1" * (end - first.start_line + 1)
        else:
            rest.extend(run)
        run.clear()

    for s in sorted(defs, key=lambda d: (d.start_line, d.end_line)):
        if s.kind not in kinds or s.parent is not None:
            close()
            rest.append(s)
            continue
        if run and (s.start_line > run[-1].end_line + 1 or s.end_line - run[0].start_line + 1 > GROUP_LINES):
            close()
        run.append(s)
    close()
    return rest


def chunk_file(path: str, lines: list[str], symbols: list[Symbol]) -> list[Chunk]:
    """One chunk per definition; a class-like definition with members keeps only its header (members are chunks
    of their own); module-level code outside definitions goes into windows."""
    spec = language_for(path)
    defs = _chunkable(symbols, spec.not_chunked if spec else SMALL_KINDS)
    children: dict[str, list[Symbol]] = {}
    for s in defs:
        if s.parent is not None:
            children.setdefault(s.parent, []).append(s)
    out: list[Chunk] = []
    covered = bytearray(len(lines) + 2)
    if spec is not None and spec.grouped:
        defs = _group_runs(path, lines, defs, spec.grouped, out, covered)
    for s in defs:
        end = s.end_line
        members = [m for m in children.get(s.qualname, []) if s.start_line <= m.start_line <= s.end_line]
        if members:  # its head, up to its first member (`type P interface{ M() }`: the line both are on)
            end = max(s.start_line, s.head_end, min(m.start_line for m in members) - 1)
        head_end = min(s.head_end, end)
        out.append(Chunk(path, s.start_line, end, head_end, s.kind, s.qualname,
                         chunk_text(lines, s.start_line, end, head_end, s.qualname)))
        covered[s.start_line:s.end_line + 1] = b"\1" * (s.end_line - s.start_line + 1)
    spans, lo = [], None
    for ln in range(1, len(lines) + 1):
        if not covered[ln] and lo is None:
            lo = ln
        elif covered[ln] and lo is not None:
            spans.append((lo, ln - 1))
            lo = None
    if lo is not None:
        spans.append((lo, len(lines)))
    out.extend(windows(path, lines, spans, "module"))
    out.sort(key=lambda c: (c.start_line, c.end_line))
    return out
