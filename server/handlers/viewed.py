"""`ragls/viewedRanges`: the lines a client shows of a workspace file, kept (bounded) for completion and explain
prompts."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from .. import errors
from .nextedit import plain

if TYPE_CHECKING:
    from ..app import RaglsServer
    from ..folders import Folder

log = logging.getLogger(__name__)
VIEWED = "ragls/viewedRanges"
MAX_RANGES = 10  # of one notification (a window with folds shows several); the rest are ignored
USAGE = "takes {uri, ranges: [{start: {line, character}, end: {line, character}}]}"
_checking: set[asyncio.Future] = set()  # the confinement checks under way (a task nobody holds may be collected)


def register(server: RaglsServer) -> None:
    @server.feature(VIEWED)
    def viewed_ranges(ls: RaglsServer, params: Any) -> None:
        p = plain(params)
        spans = spans_of(p)
        if spans is None:  # a client's bug: said, never an error (a notification has no answer)
            log.warning("%s ignored: it %s, not %s", VIEWED, USAGE, errors.clip(repr(p), 200))
            return
        hit = ls.folder(p["uri"])
        if hit is None:
            return
        folder, rel = hit
        # kept at once, so that a request after it sees it; a prompt shows nothing of a file no model may see (it asks
        # again), and such a file's ranges go as soon as the confinement rule has said so
        folder.editing.viewed.add(rel, spans)
        _checking.add(task := asyncio.ensure_future(_confined(folder, rel)))
        task.add_done_callback(_checking.discard)


async def _confined(folder: Folder, rel: str) -> None:
    try:
        why = await folder.session.refusal(rel)
    except Exception as exc:  # the ranges stay: every prompt asks the rule again
        errors.logged(f"the confinement check of {rel}", exc)
        return
    if why is not None:
        log.debug("viewed ranges of %s not kept: %s", rel, why)
        folder.editing.viewed.forget(rel)


def spans_of(p: Any) -> list[tuple[int, int]] | None:
    """The 1-based inclusive line spans of a notification's LSP ranges (end exclusive at character 0), or None when
    it is not {uri, ranges} with well-formed ranges."""
    if not isinstance(p, dict) or not isinstance(p.get("uri"), str) or not isinstance(p.get("ranges"), list):
        return None
    out = []
    for rng in p["ranges"][:MAX_RANGES]:
        try:
            start, end = rng["start"], rng["end"]
            first, last, col = start["line"], end["line"], end["character"]
        except (KeyError, TypeError):
            return None
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (first, last, col)):
            return None
        if last > first and col == 0:
            last -= 1  # the range ends where that line begins
        if last >= first:
            out.append((first + 1, last + 1))
    return out
