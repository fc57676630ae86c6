"""The line ranges a client showed recently (`ragls/viewedRanges`), bounded and merged, and their text for prompts."""
from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

MAX_RANGES = 20  # per workspace folder, the oldest dropped first
MAX_LINES = 60  # of one range (a tall editor window); a bigger one keeps its middle lines
CHARS_PER_TOKEN = 3.5  # the renderer trims exactly; this only keeps the text near its share
HEADER = "Code viewed recently in the editor (newest first):"


@dataclass(frozen=True, slots=True)
class Viewed:
    """Lines `start`..`end` (1-based, inclusive) of a workspace file, as a client showed them."""

    path: str
    start: int
    end: int

    def lines(self) -> int:
        return self.end - self.start + 1


class ViewedRanges:
    """The newest last; a range overlapping an older one of its file merges with it while the two fit MAX_LINES, else
    the older one keeps only its lines outside the newer."""

    def __init__(self) -> None:
        self._ranges: list[Viewed] = []

    def add(self, path: str, spans: Iterable[tuple[int, int]]) -> None:
        """A client shows these lines of `path` now (1-based, inclusive; several for a window with folds)."""
        for start, end in spans:
            if end < start or start < 1:
                continue
            if end - start + 1 > MAX_LINES:
                start += (end - start + 1 - MAX_LINES) // 2
                end = start + MAX_LINES - 1
            self._add(Viewed(path, start, end))
        del self._ranges[:-MAX_RANGES]

    def _add(self, new: Viewed) -> None:
        kept: list[Viewed] = []
        for old in self._ranges:
            if old.path != new.path or old.end < new.start - 1 or old.start > new.end + 1:
                kept.append(old)
            elif max(old.end, new.end) - min(old.start, new.start) + 1 <= MAX_LINES:
                new = Viewed(new.path, min(old.start, new.start), max(old.end, new.end))
            elif old.start < new.start:  # neither holds the other (each fits MAX_LINES, their union does not)
                kept.append(Viewed(old.path, old.start, new.start - 1))
            else:
                kept.append(Viewed(old.path, new.end + 1, old.end))
        kept.append(new)
        self._ranges = kept

    def edited(self, path: str, first: int, removed: int, added: int) -> None:
        """Lines `first`..`first + removed - 1` of `path` became `added` lines: a range below them moves with them,
        one that starts or ends in them starts or ends in the new lines, one that only held deleted lines goes."""
        delta = added - removed
        if not delta:
            return
        out = []
        for r in self._ranges:
            if r.path == path and r.end >= first:
                start = r.start + delta if r.start >= first + removed else min(r.start, first + max(added - 1, 0))
                end = r.end + delta if r.end >= first + removed else min(r.end, first + added - 1)
                if end < start:
                    continue
                r = Viewed(path, start, end)
            out.append(r)
        self._ranges = out

    def forget(self, path: str) -> None:
        """No range of `path` any more (a file no model may see)."""
        self._ranges = [r for r in self._ranges if r.path != path]

    def recent(self) -> list[Viewed]:
        """The ranges, newest first."""
        return self._ranges[::-1]


async def allowed(ranges: Sequence[Viewed], refusal: Callable[[str], Awaitable[str | None]]) -> list[Viewed]:
    """`ranges` but those of files no model may see now (ignored since they were viewed, ...): `refusal` (the
    session's confinement rule, its verdicts kept a few seconds) is asked once a file, for every prompt."""
    may: dict[str, bool] = {}
    for r in ranges:
        if r.path not in may:
            may[r.path] = await refusal(r.path) is None
    return [r for r in ranges if may[r.path]]


def viewed_text(ranges: Sequence[Viewed], lines_of: Callable[[str], list[str]], budget: int,
                shown: Mapping[str, Sequence[tuple[int, int]]]) -> str:
    """The text of `ranges` (newest first) for a prompt, each as "--- path:start-end" and its lines, within about
    `budget` tokens; the lines a prompt shows already (`shown`: path -> spans, 1-based inclusive: retrieved
    definitions, the code around the cursor) and blank pieces are left out. Empty when nothing is left."""
    room = int(budget * CHARS_PER_TOKEN) - len(HEADER) - 1
    parts: list[str] = []
    for r in ranges:
        for start, end in _outside(r.start, r.end, shown.get(r.path, ())):
            if room <= 0:
                break
            text = [line.rstrip("\r") for line in lines_of(r.path)[start - 1:end]]
            while text and not text[-1].strip():
                text.pop()
            if not "".join(text).strip():
                continue
            head = f"--- {r.path}:{start}-{{}}\n"
            kept, used = [], len(head) + 4
            for line in text:
                if used + len(line) + 1 > room:
                    break
                kept.append(line)
                used += len(line) + 1
            if not "".join(kept).strip():
                room = 0  # not even its first lines fit
                break
            parts.append(head.format(start + len(kept) - 1) + "\n".join(kept))
            room -= used
    return "\n".join([HEADER, *parts]) if parts else ""


def _outside(start: int, end: int, spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The pieces of start..end outside every span."""
    pieces = [(start, end)]
    for lo, hi in spans:
        pieces = [p for a, b in pieces for p in ((a, min(b, lo - 1)), (max(a, hi + 1), b)) if p[0] <= p[1]]
    return pieces
