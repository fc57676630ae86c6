"""Review on save: a saved file's changed definitions through the review pipeline, cached by their text, debounced."""
from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

import git

from ..model.client import ModelClient
from ..session import Session
from .diff import Change, FileChange, text_hunks
from .findings import Finding, ReviewError, dedupe
from .plan import plan, room
from .reviewers import Reviewer, run
from .scope import Skipped, Unit, units

log = logging.getLogger(__name__)
BUDGET = 12_000  # prompt tokens each specialist may spend on one save's changed definitions
CACHE = 1024  # reviewed definitions remembered, by their text


class Editor(Protocol):
    """Where a file's review goes: its findings (all of them, each time), and why a review failed."""

    def publish(self, rel: str, text: str, findings: list[Finding]) -> None: ...

    def warn(self, message: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Reviewed:
    """One reviewed unit's lines, and its findings with their lines counted from the unit's first line (1)."""

    code: str
    findings: tuple[Finding, ...]


@dataclass(slots=True)
class _File:
    baseline: str  # the text the last completed review saw: the next save's changes are found against it
    editor: Editor
    shown: dict[str, tuple[Reviewed, int]] = field(default_factory=dict)  # key -> (unit, its first line now)


def unit_key(u: Unit) -> str:
    """A unit's cache key: its file, symbol and text (not its place: moving a definition needs no new review)."""
    return hashlib.sha256(f"{u.path}\0{u.symbol}\0{u.code}".encode()).hexdigest()


def head_text(root: Path, rel: str) -> str:
    """The file's text at git's HEAD, or "" when git does not track it there (or there is no repository)."""
    try:
        repo = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return ""
    try:
        top = Path(repo.working_tree_dir or root).resolve()
        path = (root / rel).relative_to(top).as_posix()
        data = repo.git.show(f"HEAD:{path}", stdout_as_string=False, strip_newline_in_stdout=False)
    except (git.GitCommandError, ValueError):
        return ""
    finally:
        repo.close()
    return data.decode("utf-8", "replace")


def place(code: str, lines: list[str], near: int) -> int | None:
    """The first line where `code` stands whole in `lines` (the nearest to `near` when it stands in several places),
    or None when it is no longer there."""
    want = code.split("\n")
    hits = [n for n, line in enumerate(lines, 1) if line == want[0] and lines[n - 1:n - 1 + len(want)] == want]
    return min(hits, key=lambda n: abs(n - near), default=None)


def _shifted(f: Finding, by: int) -> Finding:
    return replace(f, start_line=f.start_line + by, end_line=f.end_line + by)


class LiveReview:
    """One workspace folder's reviews of saved files. The first save of a file in a session is compared with git's
    HEAD (all of it is new when git does not track it); later saves with the text the last completed review saw.
    The units that changed go to the specialists and the merge pass unless a unit of the same text was reviewed
    before; findings of units still there unchanged stay, moved with their code. A save waits `delay_s` and
    replaces the file's pending or running review (the latest save wins). A failed review changes nothing."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.client: ModelClient | None = None
        self.calls = 0  # model calls made for reviews on save
        self._files: dict[str, _File] = {}
        self._cache: OrderedDict[str, Reviewed] = OrderedDict()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: dict[str, asyncio.Task] = {}

    @property
    def pending(self) -> int:
        """Saves waiting for their review, or being reviewed."""
        return len(self._timers) + len(self._tasks)

    def schedule(self, rel: str, text: str, editor: Editor, delay_s: float) -> None:
        self.cancel(rel)
        self._timers[rel] = asyncio.get_running_loop().call_later(delay_s, self._start, rel, text, editor)

    def _start(self, rel: str, text: str, editor: Editor) -> None:
        self._timers.pop(rel, None)
        task = asyncio.ensure_future(self._review(rel, text, editor))
        self._tasks[rel] = task
        task.add_done_callback(lambda t: self._done(rel, t))

    def _done(self, rel: str, task: asyncio.Task) -> None:
        if self._tasks.get(rel) is task:
            del self._tasks[rel]
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("review of %s on save failed", rel, exc_info=exc)

    def cancel(self, rel: str) -> None:
        """Drop the file's pending or running review."""
        if (timer := self._timers.pop(rel, None)) is not None:
            timer.cancel()
        if (task := self._tasks.pop(rel, None)) is not None:
            task.cancel()

    def forget(self, rel: str) -> None:
        """Stop reviewing a file (closed): its review is dropped and its findings cleared; the cache stays."""
        self.cancel(rel)
        if (f := self._files.pop(rel, None)) is not None and any(r.findings for r, _ in f.shown.values()):
            f.editor.publish(rel, f.baseline, [])

    def close(self) -> None:
        """Review on save turned off, or the folder closed: every file forgotten."""
        for rel in {*self._files, *self._timers, *self._tasks}:
            self.forget(rel)

    async def _review(self, rel: str, text: str, editor: Editor) -> None:
        if (why := await self.session.refusal(rel)) is not None:  # nothing of such a file goes to a model
            log.info("%s is not reviewed on save: %s", rel, why)
            return
        state = self._files.get(rel)
        baseline = state.baseline if state is not None else await asyncio.to_thread(head_text, self.session.root, rel)
        prompt_budget = self.session.settings.chat.budget
        hunks = await asyncio.to_thread(text_hunks, baseline, text)  # not on the reader: completions wait there
        change = Change("saved", "saved", [FileChange(rel, "modified", hunks=hunks, text=text)])
        found, skipped = await self.session.with_index(lambda index, retriever: units(
            index, change, room(prompt_budget), retriever))
        fresh = {unit_key(u): u for u in found if unit_key(u) not in self._cache}
        if fresh:
            try:
                reviewed = await self._ask(list(fresh.values()), prompt_budget, {rel: text})
            except ReviewError as exc:  # a model down or a reply it cannot use (said twice)
                editor.warn(f"review of {rel} on save failed, its findings are unchanged: {exc}")
                return
            skipped += reviewed
        for s in skipped:
            if s.reason != "no textual change":
                log.info("not reviewed on save: %s", s)
        self._show(rel, text, editor, found, state)

    async def _ask(self, fresh: list[Unit], prompt_budget: int, texts: dict[str, str]) -> list[Skipped]:
        """Review units never reviewed before and remember their findings; returns those left out (budget)."""
        if self.client is None:
            raise ReviewError("no model client")
        p = plan(fresh, BUDGET, prompt_budget)
        reviewer = Reviewer(self.client, prompt_budget, self.session.settings.log_prompts)
        try:
            findings = await run(reviewer, p, texts) if p.batches else []
        finally:
            self.calls += reviewer.calls
        for u in p.units:
            mine = tuple(_shifted(f, 1 - u.start) for f in findings if u.start <= f.start_line <= u.end)
            self._cache[unit_key(u)] = Reviewed(u.code, mine)
            self._cache.move_to_end(unit_key(u))
        while len(self._cache) > CACHE:
            self._cache.popitem(last=False)
        return p.skipped

    def _show(self, rel: str, text: str, editor: Editor, found: list[Unit], state: _File | None) -> None:
        """Publish the findings of the units reviewed now (fresh or cached) and of those shown before whose code is
        still there, unchanged."""
        lines = text.split("\n")
        shown: dict[str, tuple[Reviewed, int]] = {}
        for u in found:
            if (r := self._cache.get(unit_key(u))) is not None:
                shown[unit_key(u)] = (r, u.start)
        for key, (r, start) in (state.shown if state is not None else {}).items():
            if key not in shown and (now := place(r.code, lines, start)) is not None:
                shown[key] = (r, now)
        self._files[rel] = _File(text, editor, shown)
        editor.publish(rel, text, dedupe([_shifted(f, start - 1) for r, start in shown.values()
                                          for f in r.findings]))
