"""Lexical next-edit signals: which windows of the repository read like the edits (BM25 over identifier pieces),
where the old side of an edit still appears (the rest of a find-and-replace), and which lines could use a name the
edits added that nothing uses yet.

Written here rather than taken from a BM25 library: the windows of a file are indexed once per file text and shared
by the many states of a repository (`nextedit.ScanCache`), and a query scores only its own terms' postings.
"""
from __future__ import annotations

import difflib
import math
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .hunks import Hunk

_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_PIECE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_TOKEN = re.compile(r"[A-Za-z_$][\w$]*|\d+|\S")
PIECE_STOP = frozenset(
    "self this cls return if else elif for while in is not and or none true false null undefined def class "
    "function const let var import from as export default async await the to of".split())
WINDOW = 10  # lines a window spans
STRIDE = 5  # lines between the starts of two windows
SCORED = 400  # windows whose score their lines keep
TOP_WINDOWS = 30  # windows that make a candidate of their best line
K1, B = 1.2, 0.75  # Okapi BM25's defaults
RECENCY = 0.7  # an older hunk's terms weigh this much less than the next one's
FRAGMENT_MAX = 60  # a fragment on more lines than this is too common to point anywhere
LONG_LINE = 1000  # characters: longer lines (minified, data) are not read
PAIR_SPAN = 8  # a removed line is matched with the added lines this many places either side of its own
RUN_MAX = 200  # removed lines of one run of changes read for fragments (a longer run is a rewrite)
FRAGMENTS_MAX = 48  # fragments a query looks for (the most recent edits' first)


_PIECES: dict[str, tuple[str, ...]] = {}  # identifier -> its pieces (names repeat: most lines hit this)
_PIECES_MAX = 200_000
IDENT_MAX = 100  # characters: a longer "identifier" is data (a base64 run, a fuzzer's line), not a name: no pieces


def _pieces_of(ident: str) -> tuple[str, ...]:
    if (hit := _PIECES.get(ident)) is not None:
        return hit
    if len(ident) > IDENT_MAX:
        return ()
    out = []
    for part in ident.replace("$", "_").split("_"):
        for piece in _PIECE.findall(part):
            low = piece.lower()
            if len(low) > 1 and low not in PIECE_STOP:
                out.append(low)
    if len(_PIECES) >= _PIECES_MAX:
        _PIECES.clear()
    found = _PIECES[ident] = tuple(out)
    return found


def pieces(text: str) -> list[str]:
    """The lowercase pieces of a text's identifiers (`parse_HTTPHeader` -> parse, http, header), keywords out."""
    return [p for ident in _IDENT.findall(text) for p in _pieces_of(ident)]


@dataclass(slots=True)
class Windows:
    """One file's overlapping windows as postings: piece -> window numbers and counts, interleaved in one tuple (a
    tuple per posting takes several times the memory, and a server keeps the windows of many thousand lines; a tuple
    of numbers, unlike an array, drops out of the cyclic collector's sight: see `nextedit._Scan`)."""

    postings: dict[str, tuple[int, ...]]
    lengths: array[int]  # pieces per window
    lines: list[str]  # the file's lines (the scan's own list)
    vocabulary: frozenset[str]  # every identifier of the file (comments and strings included)


def windows(lines: list[str]) -> Windows:
    """A file's windows of WINDOW lines every STRIDE lines, and its identifiers."""
    per_line: list[list[str]] = []
    vocabulary: set[str] = set()
    for line in lines:
        idents = _IDENT.findall(line) if len(line) < LONG_LINE else []
        vocabulary.update(idents)
        per_line.append([p for ident in idents for p in _pieces_of(ident)])
    postings: dict[str, array[int]] = {}
    lengths = array("I")
    for n, start in enumerate(range(0, max(1, len(lines) - WINDOW + STRIDE), STRIDE)):
        counts = Counter(p for line in per_line[start:start + WINDOW] for p in line)
        lengths.append(sum(counts.values()))
        for piece, c in counts.items():
            if (posting := postings.get(piece)) is None:
                posting = postings[piece] = array("I")
            posting.append(n)
            posting.append(c)
    return Windows({piece: tuple(p) for piece, p in postings.items()}, lengths, lines, frozenset(vocabulary))


def history_terms(history: list[Hunk]) -> dict[str, float]:
    """The pieces of the edits' removed and added lines, the latest hunk's weighing most."""
    terms: dict[str, float] = defaultdict(float)
    n = len(history)
    for i, h in enumerate(history):
        r = RECENCY ** (n - 1 - i)
        for line in (*h.removed, *h.added):
            for p in pieces(line):
                terms[p] += r
    return terms


@dataclass(slots=True)
class Lexical:
    """Per candidate line (path, 0-based line): its window's BM25 score over the best one's, and 1/(1 + its rank);
    and the best line of each of the top windows, to be candidates themselves."""

    score: dict[tuple[str, int], tuple[float, float]]
    best_lines: list[tuple[str, int]]


def similar_windows(files: dict[str, Windows], terms: dict[str, float]) -> Lexical:
    """BM25 of every window of the files against the edits' pieces."""
    if not terms or not files:
        return Lexical({}, [])
    count = sum(len(w.lengths) for w in files.values())
    avg = sum(sum(w.lengths) for w in files.values()) / max(count, 1)
    df = {t: sum(len(w.postings.get(t, ())) for w in files.values()) // 2 for t in terms}
    idf = {t: math.log(1 + (count - d + 0.5) / (d + 0.5)) for t, d in df.items() if d}
    scored: list[tuple[float, str, int]] = []
    for path, w in files.items():
        acc: dict[int, float] = defaultdict(float)
        for t, weight in idf.items():
            q = terms[t] * weight
            posting = w.postings.get(t, ())
            for n, c in zip(posting[::2], posting[1::2], strict=True):
                acc[n] += q * c * (K1 + 1) / (c + K1 * (1 - B + B * w.lengths[n] / avg))
        scored.extend((s, path, n) for n, s in acc.items())
    scored.sort(key=lambda x: (-x[0], x[1], x[2]))
    if not scored:
        return Lexical({}, [])
    top = scored[0][0]
    score: dict[tuple[str, int], tuple[float, float]] = {}
    for rank, (s, path, n) in enumerate(scored[:SCORED]):
        for i in range(n * STRIDE, n * STRIDE + WINDOW):
            if (path, i) not in score or score[(path, i)][0] < s / top:
                score[(path, i)] = (s / top, 1 / (1 + rank))
    best: list[tuple[str, int]] = []
    for _, path, n in scored[:TOP_WINDOWS]:
        lines = files[path].lines
        span = range(n * STRIDE, min(n * STRIDE + WINDOW, len(lines)))
        if span:
            weigh = {i: sum(terms.get(p, 0.0) for p in set(pieces(lines[i]))) if len(lines[i]) < LONG_LINE else 0.0
                     for i in span}
            best.append((path, max(span, key=lambda i: (weigh[i], -i))))
    return Lexical(score, best)


def _changes(h: Hunk) -> list[tuple[list[str], list[str]]]:
    """A hunk's runs of changed lines between its unchanged ones: (removed, added) each."""
    out: list[tuple[list[str], list[str]]] = []
    removed: list[str] = []
    added: list[str] = []
    for line in (*h.lines, " "):
        if line.startswith("-"):
            removed.append(line[1:])
        elif line.startswith("+"):
            added.append(line[1:])
        elif removed or added:
            out.append((removed, added))
            removed, added = [], []
    return out


def fragments(history: list[Hunk]) -> dict[tuple[str, ...], float]:
    """What the edits replaced, as runs of tokens of the old lines (with a token of context each side, at least
    four): a removed line's changed part against the added line most like it among those at about its place in the
    same run of changes (PAIR_SPAN either side: the work stays linear in the edits' size), or a removed line without
    a counterpart whole. Each with the recency of its hunk."""
    out: dict[tuple[str, ...], float] = {}
    n = len(history)
    for k, h in enumerate(history):
        r = 0.6 ** (n - 1 - k)
        for removed, added_lines in _changes(h):
            added = [tuple(_TOKEN.findall(line)) if len(line) < LONG_LINE else () for line in added_lines]
            for at, line in enumerate(removed[:RUN_MAX]):
                old = tuple(_TOKEN.findall(line)) if len(line) < LONG_LINE else ()
                if len(old) < 2:
                    continue
                matcher = difflib.SequenceMatcher(None, old, autojunk=False)
                best, partner = 0.0, None
                for new in added[max(0, at - PAIR_SPAN):at + PAIR_SPAN + 1]:
                    matcher.set_seq2(new)
                    if (ratio := matcher.ratio()) > best:
                        best, partner = ratio, new
                if partner is None or best < 0.5:
                    if len(old) >= 3:
                        out[old] = max(out.get(old, 0.0), r)
                    continue
                matcher.set_seq2(partner)
                for tag, i1, i2, _, _ in matcher.get_opcodes():
                    if tag == "equal":
                        continue
                    lo, hi = max(0, i1 - 1), min(len(old), i2 + 1)
                    while hi - lo < 4 and (lo > 0 or hi < len(old)):
                        lo, hi = max(0, lo - 1), min(len(old), hi + 1)
                    frag = old[lo:hi]
                    if hi - lo >= 4 or any(len(t) >= 3 and (t[0].isalpha() or t[0] == "_") for t in frag):
                        out[frag] = max(out.get(frag, 0.0), r)
    recent = sorted(out, key=lambda f: -out[f])[:FRAGMENTS_MAX]  # each is looked for in every file that may hold it
    return {f: out[f] for f in recent}


def fragment_lines(files: Iterable[tuple[str, list[str], frozenset[str]]], frags: dict[tuple[str, ...], float],
                   skip: set[tuple[str, int]]) -> dict[tuple[str, int], float]:
    """The lines (path, 0-based) holding a fragment as a run of tokens, each scored by the fragments' recency and
    rarity; fragments on more than FRAGMENT_MAX lines are left out. `files` are (path, lines, vocabulary): a file
    is read only for the fragments whose identifiers it has."""
    needles = {f: (idents, max(idents, key=len), " " + " ".join(f) + " ")
               for f in frags if (idents := frozenset(t for t in f if _IDENT.fullmatch(t)))}
    found: dict[tuple[str, ...], list[tuple[str, int]]] = defaultdict(list)
    for path, lines, vocabulary in files:
        here = [(f, longest, needle) for f, (idents, longest, needle) in needles.items() if idents <= vocabulary]
        if not here:
            continue
        for i, line in enumerate(lines):
            if len(line) >= LONG_LINE or (path, i) in skip:
                continue
            joined: str | None = None
            for f, longest, needle in here:
                if longest in line:
                    if joined is None:
                        joined = " " + " ".join(_TOKEN.findall(line)) + " "
                    if needle in joined:
                        found[f].append((path, i))
    out: dict[tuple[str, int], float] = defaultdict(float)
    for f, at in found.items():
        if len(at) <= FRAGMENT_MAX:
            for key in at:
                out[key] += frags[f] * math.log(1 + FRAGMENT_MAX / len(at))
    return out


def unused_pieces(history: list[Hunk], uses: dict[str, int], words_of: Callable[[str], list[str]]) -> Counter[str]:
    """The pieces of the names the edits added that the repository uses nowhere but in those edits (a new constant,
    import or parameter: the next edit is likely a use of it). `uses` counts each added name's lines in the
    repository; `words_of` gives a line's names."""
    added = Counter(w for h in history for line in h.added for w in set(words_of(line)))
    removed = {w for h in history for line in h.removed for w in words_of(line)}
    return Counter(p for w, n in added.items() if w not in removed and uses.get(w, 0) <= n for p in pieces(w))


def piece_share(line: str, wanted: Counter[str]) -> float:
    """How much of the wanted pieces' weight a line holds."""
    if not wanted:
        return 0.0
    have = set(pieces(line)) if len(line) < LONG_LINE else set()
    return sum(v for p, v in wanted.items() if p in have) / sum(wanted.values())
