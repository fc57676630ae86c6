"""Ranked candidates placed as the items of an answer: best first, within a token budget, definitions beside a placed
one joined into its snippet."""
from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from .languages import LANGUAGE_NAMES, spec
from .store import ChunkRow
from .tokens import count as count_tokens

_ROW_BLOCK = 64  # candidates whose rows are read at a time, best first
FULL_VIEW_MAX_TOKENS = 120  # a chunk this small is shown whole; a larger one by its signature and docstring

# Definitions this close in one file are shown as one snippet (a block of constants, an interface's methods, two
# functions a blank line apart): one item, no text twice, and the slots left to other files.
NEAR_LINES, GAP_LINE_TOKENS = 2, 2
# Farther apart, they are one snippet when the lines between cost no more than a snippet of its own would add: its
# header (`# path:lines (symbol)` in a fence). Read for gaps of at most GAP_SCAN_LINES lines.
GAP_SCAN_LINES = 16
# When the k items fill before the budget does (slots run out first), a definition a selection uses in its body
# (feature `used` >= 1) joins a placed item of its file across more: lines between costing up to USED_GAP_TOKENS, read
# for gaps of up to USED_GAP_LINES lines. A function calling six helpers of one module would give them six of the
# answer's slots; as two or three snippets they leave the slots to the other definitions it uses. Against the
# header's cost alone (k=10, all@10 / tokens@10): TypeScript 0.897 -> 0.905 / +1%, Java 0.938 -> 0.945 / +2%, Go 0.853
# -> 0.886 / +5%, C 0.616 -> 0.618 / +6%, Python 1.000 / +1%; no gold definition left the top ten on any set. 64
# tokens gained less everywhere; 128 no more, with more tokens. Where the budget binds first (k=50) the lines between
# would only take tokens from other definitions (whole gold shown at 1,000 tokens: trpc 0.978 -> 0.971, compress 0.977
# -> 0.971, chatbot-ui 0.955 -> 0.946), so there the answer is placed as before.
USED_GAP_TOKENS, USED_GAP_LINES = 96, 32
# Another declaration of a placed definition (TypeScript's overload signatures `f(a): X; f(b): Y; f(...) {}`,
# Python's `@overload` stubs, a property's setter) is that item's, widened over the lines between when they are at
# most TWIN_GAP_LINES (their tokens counted); farther apart (a class and a namespace merged with it) it is placed as
# any candidate is. Not where a language picks one of its overloads by the arguments (an arity rule: Java's are
# methods of their own, each with its body, and the call's count says which is used).
TWIN_GAP_LINES = 48
# Past the k-th item, the next k // JOIN_PAST candidates (at least one) may still widen an item they are beside (a
# twin, a near neighbour, a cheap gap), never take a slot: `ResettableTimeout.start`, ranked just after the cut, is
# shown by its neighbour `reset`'s item. Measured against none (k=10): recall@10 of the TypeScript completions 0.955
# -> 0.960, Java's strict 0.900 -> 0.907, Go's 0.843 -> 0.850, for 1-6% more tokens (leveldb's selections: 12%); two
# a query gave the recall of three, with fewer tokens (ten: the same recall, 7-9% more tokens on the Python sets).
JOIN_PAST = 5


@dataclass(slots=True)
class Item:
    """A retrieved definition: the lines to show (start_line..end_line), their token count, and why. Its lines may
    show definitions next to it too (`joined`), ranked lower, as one snippet."""

    path: str
    symbol: str
    kind: str
    start_line: int
    end_line: int
    score: float
    tokens: int
    why: list[str] = field(default_factory=list)
    joined: list[str] = field(default_factory=list)  # the definitions beside it that its lines show too

    @property
    def label(self) -> str:
        """The definitions its lines show, by name, best first."""
        return ", ".join(n for n in (self.symbol, *self.joined) if n)

    def to_json(self) -> dict:
        d = asdict(self)
        d["score"] = round(self.score, 4)
        return d


@dataclass(slots=True)
class Cand:
    """A chunk ranked for a request, by its features' values (the weights of retrieve.W score them)."""

    chunk: int
    feats: dict[str, float] = field(default_factory=dict)


def cand(cands: dict[int, Cand], chunk: int) -> Cand:
    """The candidate of `chunk`, added when new (`setdefault` would build one on every call)."""
    if (c := cands.get(chunk)) is None:
        c = cands[chunk] = Cand(chunk)
    return c


class Assembler:
    """Places one request's ranked candidates: reads their rows (`rows`), a file's language (`language`, asked
    only where a twin is met) and a file's text (`read`, for the lines between two definitions)."""

    def __init__(self, rows: Callable[[list[int]], dict[int, ChunkRow]], language: Callable[[str], str],
                 read: Callable[[str], str | None]) -> None:
        self._rows, self._language, self._read = rows, language, read

    def items(self, cands: dict[int, Cand], weights: dict[str, float], k: int, budget: int,
              exclude: tuple[str, tuple[int, int] | None] | None, expect_class: bool = False,
              rows: dict[int, ChunkRow] | None = None, join: bool = False) -> list[Item]:
        """The best `k` candidates within `budget` tokens. Rows are read best first in blocks: a candidate's score
        is bounded by its features' (its row only halves it or adds `kind_class`), and one is placed once no
        unread candidate can reach its score, so that of thousands of candidates only the first few are read. With
        `join`, the next k // JOIN_PAST candidates after the k-th item are read too, each only to widen an item; and
        where the k items leave budget over and a candidate is one a selection uses, they are placed again with its
        wider joins (USED_GAP_TOKENS), the rows read once."""
        if not cands:
            return []
        held: dict[int, ChunkRow] = {}  # (`rows`, when given, are read from it directly)
        fetch = self._rows

        def rows_of(ids: list[int]) -> dict[int, ChunkRow]:  # each row read once for both placements
            if missing := [i for i in ids if i not in held]:
                held.update(fetch(missing))
            return {i: held[i] for i in ids if i in held}

        first, used_met = self._place(cands, weights, k, budget, exclude, expect_class, rows, join, False, rows_of)
        if not (join and used_met) or len(first) < k or sum(it.tokens for it in first) >= budget:
            return first
        return self._place(cands, weights, k, budget, exclude, expect_class, rows, join, True, rows_of)[0]

    def _place(self, cands: dict[int, Cand], weights: dict[str, float], k: int, budget: int,
               exclude: tuple[str, tuple[int, int] | None] | None, expect_class: bool,
               rows: dict[int, ChunkRow] | None, join: bool, wide: bool,
               rows_of: Callable[[list[int]], dict[int, ChunkRow]]) -> tuple[list[Item], bool]:
        """`items`, with the wider joins of what a selection uses (`wide`) or without, and whether a candidate met
        is one a selection uses in its body; rows by `rows_of` unless `rows` has them all."""
        kc = weights.get("kind_class", 0.0) if expect_class else 0.0
        weight = weights.get
        bounds = []
        for cid, c in cands.items():  # a loop, not sum() over a generator: thousands of candidates
            now = 0.0
            for f, val in c.feats.items():
                now += weight(f, 0.0) * val
            best = max(now, now + kc * (1.0 - c.feats.get("kind_class", 0.0))) if kc else now
            best = best if best >= 0 else best / 2  # a negative score is halved up
            bounds.append((-(best + 1e-9 * (1.0 + abs(best))), cid))
        bounds.sort()  # best first, ties by id
        given = rows or {}
        files: dict[str, list[str]] = {}
        pending: list[tuple[float, int, tuple, Cand]] = []  # a heap of scored candidates: (-score, id, row, cand)
        out: list[Item] = []
        used, read = 0, 0
        used_met = False  # a candidate met that a selection uses in its body
        past, beyond = 0, (max(1, k // JOIN_PAST) if join else 0)  # candidates after the k-th item, read to join
        while (len(out) < k or past < beyond) and (pending or read < len(bounds)):
            unread = -bounds[read][0] if read < len(bounds) else -math.inf
            while pending and (len(out) < k or past < beyond) and -pending[0][0] > unread:
                neg, cid, r, c = heapq.heappop(pending)
                used_here = c.feats.get("used", 0.0) >= 1.0
                used_met = used_met or used_here
                _, path, start, end, head_end, kind, symbol, tokens, head_tokens = r
                if tokens > FULL_VIEW_MAX_TOKENS:
                    end, tokens = head_end, head_tokens
                if join and symbol and (twin := self._twin(out, path, start, end, symbol, tokens, files)) is not None:
                    if used + twin[1] <= budget:  # never an item of its own beside it
                        used += twin[1]
                        _join(twin[0], start, end, symbol, twin[1])
                    continue
                if join and (near := _near(out, path, start, end)) is not None:  # one snippet with its neighbour
                    extra = _extra_tokens(near, start, end, tokens)
                    if used + extra <= budget:
                        used += extra
                        _join(near, start, end, symbol, extra)
                    continue
                if join and (cheap := self._cheap_gap(out, path, start, end, symbol, files, wide and used_here)
                             ) is not None:
                    beside, gap = cheap  # apart from it: this chunk's tokens and the lines between at their own
                    extra = tokens + gap
                    if used + extra <= budget:
                        used += extra
                        _join(beside, start, end, symbol, extra)
                        continue
                if len(out) >= k:  # past the k-th: it only widens an item beside it
                    past += 1
                    continue
                if used + tokens > budget:
                    continue
                used += tokens
                why = [f"{f}={val:.2f}" for f, val in sorted(c.feats.items()) if val]
                out.append(Item(path, symbol, kind, start, end, -neg, tokens, why))
            if read < len(bounds) and (len(out) < k or past < beyond):
                block = [cid for _, cid in bounds[read:read + _ROW_BLOCK]]
                read += len(block)
                fetched = {cid: given[cid] for cid in block if cid in given} if rows is not None else \
                    rows_of(block)
                for cid in block:
                    scored = score(cands[cid], fetched.get(cid), weights, exclude, expect_class)
                    if scored is not None:
                        heapq.heappush(pending, (-scored, cid, fetched[cid], cands[cid]))
        return out, used_met

    def _twin(self, items: list[Item], path: str, start: int, end: int, symbol: str, tokens: int,
              files: dict[str, list[str]]) -> tuple[Item, int] | None:
        """A placed item of `path` that shows `symbol` (another declaration of it) within TWIN_GAP_LINES lines of
        start..end, and what widening it costs: this declaration's tokens and those of the lines between."""
        for it in items:
            if it.path != path or (it.symbol != symbol and symbol not in it.joined):
                continue
            lo, hi = _between(it, start, end)
            if hi - lo + 1 > TWIN_GAP_LINES:
                continue
            lang = self._language(path)  # asked once a twin is found: the graph reads the store
            if lang not in LANGUAGE_NAMES or spec(lang).arity is not None:
                return None
            if lo > hi:  # overlapping or touching: the lines it does not show yet
                return it, _extra_tokens(it, start, end, tokens)
            lines = self._lines(path, files)
            gap = count_tokens("\n".join(lines[lo - 1:hi])) if hi <= len(lines) else GAP_LINE_TOKENS * (hi - lo + 1)
            return it, tokens + gap
        return None

    def _lines(self, path: str, files: dict[str, list[str]]) -> list[str]:
        """The lines of `path` a prompt shows (the file's: an open buffer's differs by an edit at most), read once
        a request."""
        if path not in files:
            text = self._read(path)
            files[path] = text.split("\n") if text is not None else []
        return files[path]

    def _cheap_gap(self, items: list[Item], path: str, start: int, end: int, symbol: str,
                   files: dict[str, list[str]], used_in_body: bool = False) -> tuple[Item, int] | None:
        """A placed item of `path` whose gap to start..end (at most GAP_SCAN_LINES lines) costs no more tokens than
        the header of a snippet of its own (one a selection uses in its body: USED_GAP_LINES, USED_GAP_TOKENS), and
        that cost; None if there is none. `files`: lines read so far."""
        scan = USED_GAP_LINES if used_in_body else GAP_SCAN_LINES
        gaps = [(it, lo, hi) for it in items if it.path == path
                for lo, hi in [_between(it, start, end)] if lo <= hi < lo + scan]
        if not gaps:  # most candidates: no token is counted nor file read
            return None
        lines = self._lines(path, files)
        header = count_tokens(f"```\n# {path}:{start}-{end} ({symbol})\n```\n")
        if used_in_body:
            header = max(header, USED_GAP_TOKENS)
        for it, lo, hi in gaps:
            text = "\n".join(lines[lo - 1:hi]) if hi <= len(lines) else None
            # (longer than 8 characters a token, a text is not counted: code has fewer)
            if text is not None and len(text) <= 8 * header and (gap := count_tokens(text)) <= header:
                return it, gap
        return None


def score(c: Cand, r: ChunkRow | None, weights: dict[str, float],
          exclude: tuple[str, tuple[int, int] | None] | None, expect_class: bool) -> float | None:
    """A candidate's score from its features and its row; None when it is gone or excluded."""
    if r is None:
        return None
    if exclude is not None and r.path == exclude[0] and (
            exclude[1] is None or (r.start_line <= exclude[1][1] and exclude[1][0] <= r.end_line)):
        return None
    if expect_class and r.kind in ("class", "struct", "interface", "enum", "type"):
        c.feats["kind_class"] = 1.0  # a feature like the others (the item's `why` shows it)
    total = sum(weights.get(f, 0.0) * val for f, val in c.feats.items())
    if not r.symbol:  # module-level windows and text: context of last resort
        total *= 0.5
    return total


def _near(items: list[Item], path: str, start: int, end: int) -> Item | None:
    """The placed item of `path` whose lines overlap start..end or lie within NEAR_LINES of them, if any."""
    for it in items:
        if it.path == path and start - it.end_line - 1 <= NEAR_LINES and it.start_line - end - 1 <= NEAR_LINES:
            return it
    return None


def _between(item: Item, start: int, end: int) -> tuple[int, int]:
    """The first and last line between `item` and the lines start..end (first > last when they touch or overlap)."""
    return (item.end_line + 1, start - 1) if start > item.end_line else (end + 1, item.start_line - 1)


def _extra_tokens(item: Item, start: int, end: int, tokens: int) -> int:
    """What widening `item` to cover start..end (a definition of `tokens` tokens) adds: the definition's lines
    the item does not show yet, and the lines between them."""
    lines = end - start + 1
    fresh = lines - max(0, min(end, item.end_line) - max(start, item.start_line) + 1)
    gap = max(0, start - item.end_line - 1, item.start_line - end - 1)
    return math.ceil(tokens * fresh / lines) + GAP_LINE_TOKENS * gap if fresh else 0


def _join(item: Item, start: int, end: int, symbol: str, extra: int) -> None:
    """Widen `item` to cover start..end, the definition `symbol` beside it."""
    item.start_line, item.end_line = min(item.start_line, start), max(item.end_line, end)
    item.tokens += extra
    if symbol and symbol != item.symbol and symbol not in item.joined:
        item.joined.append(symbol)
