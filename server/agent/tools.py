"""The agent tools' logic, free of any transport: context, search, definition and review over one repository's
index, confined and redacted as every prompt is."""
from __future__ import annotations

import asyncio
import logging
import math
import os
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ragls.indexer.files import NotRegular, read_regular
from ragls.indexer.graph import Def, Graph
from ragls.indexer.languages import language_for
from ragls.indexer.assemble import Item
from ragls.indexer.retrieve import DEFAULT_BUDGET, MAX_SOURCE_BYTES, Query
from ragls.indexer.secrets import Redactor

from ..session import Session

log = logging.getLogger(__name__)
FRESH_S = 2.0  # the index is brought up to date before a call at most this often (a burst of calls shares one)
RESULTS = 10  # definitions a context or search answer holds at most
DEFINITIONS = 8  # definitions of one name shown at most
DEFINITION_LINES = 200  # of one definition's code (the rest is said to be there)
MAX_QUERY_CHARS = 2000
CLOSE_NAMES = 5  # names suggested when none matches exactly
NO_MODEL = ("review needs a model, and none is configured: set OPENAI_BASE_URL and RAGLS_MODEL (and the key in "
            "OPENAI_API_KEY) in the environment of `ragls mcp` (the `env` of its entry in the agent's MCP settings)")


class ToolFailed(Exception):
    """A call a tool cannot answer (bad arguments, a refused file, no model); the message says why."""


@dataclass(frozen=True, slots=True)
class Snippet:
    """Lines of one file shown to the agent: what they define, and their code (secrets redacted)."""

    path: str
    start_line: int
    end_line: int
    label: str  # the definitions the lines show, best first
    kind: str
    code: str
    more: int = 0  # lines of the definition after end_line that are not shown


class AgentTools:
    """The tools over one repository: its index opened through a `Session` (the same index `ragls serve` and
    `ragls index` use), refreshed before a call when this process can take its write lock, else used as it is
    (another ragls, an editor's, is writing it)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.root = session.root
        self._checked = -math.inf
        self._freshening: asyncio.Lock | None = None
        self.unwritable: str | None = None  # why the last refresh could not write the index, if it could not

    # ---- the index --------------------------------------------------------------------------------------------
    async def freshen(self, force: bool = False) -> None:
        """Bring the index up to date with the files (at most every FRESH_S seconds unless `force`). When another
        process holds the write lock, or the refresh fails, the index is used as it is (logged once per reason)."""
        if self._freshening is None:
            self._freshening = asyncio.Lock()
        async with self._freshening:
            if not force and time.monotonic() - self._checked < FRESH_S:
                return
            try:
                line = await self.session.index_workspace()
                log.debug("%s", line)
                self.unwritable = None
            except Exception as exc:  # noqa: BLE001 -- the lock held elsewhere, a store down: answer from the index
                if str(exc) != self.unwritable:
                    log.warning("the index of %s was not refreshed, so it is used as it is: %s", self.root, exc)
                self.unwritable = str(exc)
            finally:
                self._checked = time.monotonic()

    async def _ready(self) -> None:
        """A fresh index, or ToolFailed when there is none to answer from yet."""
        await self.freshen()
        built = await self.session.with_index(lambda index, _: index.store.meta("generation") is not None)
        if not built:
            why = f" ({self.unwritable})" if self.unwritable else ""
            raise ToolFailed(f"the index of {self.root} is not built yet{why}; try again in a minute")

    # ---- tools ------------------------------------------------------------------------------------------------
    async def context(self, path: str, line: int, col: int | None = None, end_line: int | None = None,
                      budget: int | None = None) -> str:
        """The definitions the code at a cursor (`line`, `col`: the text before it) or a selection (`line` to
        `end_line`) uses, best first, within `budget` tokens."""
        rel = await self._confined(path)
        text = await asyncio.to_thread(self._read, rel)
        lines = text.split("\n")
        _check_position(rel, lines, line, col, end_line)
        await self._ready()
        q = Query(rel, line, col, end_line)
        items = await self.session.context(q, text, k=RESULTS, budget=budget or DEFAULT_BUDGET[q.mode])
        where = f"{rel}:{line}" + (f"-{end_line}" if end_line is not None else f":{col}" if col is not None else "")
        return render(await self._item_snippets(items), f"the code at {where} uses", "best first")

    async def search(self, query: str, budget: int | None = None) -> str:
        """The definitions that best match words or identifiers."""
        query = query.strip()
        if not query:
            raise ToolFailed("query is empty: give words or identifiers to search for")
        if len(query) > MAX_QUERY_CHARS:
            raise ToolFailed(f"query is {len(query)} characters long: give at most {MAX_QUERY_CHARS}")
        await self._ready()
        items = await self.session.with_index(lambda _, retriever: retriever.search(query, k=RESULTS, budget=budget))
        return render(await self._item_snippets(items), f"matching {query!r}", "best first")

    async def definition(self, symbol: str) -> str:
        """Where a name (`name`, `Class.method`, `module.name`) is defined, and its code."""
        name = _normal_name(symbol)
        if not name:
            raise ToolFailed("symbol is empty: give a name such as `parse` or `Parser.parse`")
        await self._ready()
        defs, close = await self.session.with_index(lambda _, retriever: find_definitions(retriever.graph, name))
        if not defs:
            hint = f" Close names: {', '.join(close)}." if close else ""
            return f"No definition of {symbol!r} is indexed.{hint} `search` finds definitions by words."
        snippets = []
        for d in defs:
            end = min(d.end_line, d.start_line + DEFINITION_LINES - 1)
            snippets.append(Snippet(d.path, d.start_line, end, d.qualname, d.kind, "", d.end_line - end))
        return render(await self._with_code(snippets), f"of {symbol!r}")

    async def review(self, base: str | None = None) -> str:
        """The configured model's review of the working tree's changes against `base` (default HEAD), as
        Markdown."""
        import git

        from ..review.cli import BUDGET
        from ..review.diff import collect
        from ..review.findings import ReviewError
        from ..review.formats import render as render_review
        from ..review.pipeline import model_client, prepare, review

        settings = self.session.settings
        if base is not None and (not base.strip() or base.startswith("-")):
            raise ToolFailed(f"base {base!r} is not a branch or commit")
        try:
            client = model_client(settings)
        except ReviewError:
            raise ToolFailed(NO_MODEL) from None
        try:
            change = await asyncio.to_thread(collect, self.root, base, None, "worktree")
            if not change.files:
                return f"Nothing to review: the working tree is the same as {base or 'HEAD'}."
            await self._ready()
            prompt_budget = settings.chat.budget
            p, skipped = await self.session.with_index(
                lambda index, retriever: prepare(index, change, BUDGET, prompt_budget, retriever))
            result = await review(client, change, p, skipped, prompt_budget, settings.log_prompts)
        except ReviewError as exc:
            raise ToolFailed(f"the review could not run: {exc}") from None
        except git.GitCommandError as exc:
            said = (exc.stderr or "").strip().removeprefix("stderr:").strip().strip("'").strip()
            raise ToolFailed(f"git failed: {said or exc}") from None
        finally:
            await client.aclose()
        return render_review(result, "markdown")

    # ---- confinement and reading ------------------------------------------------------------------------------
    async def _confined(self, path: str) -> str:
        """The repository-relative path of a file the agent names, if the confinement rule lets it be read
        (inside the repository, links resolved; not secret, not ignored), else ToolFailed with why."""
        if not path.strip():
            raise ToolFailed("path is empty: give a file path relative to the repository root")
        given = Path(path)
        full = Path(os.path.normpath(given if given.is_absolute() else self.root / given))
        # as written, else through its folder's real path (the repository reached through a link); the file itself
        # is judged by the confinement rule, links included
        for spelled in (full, Path(os.path.realpath(full.parent)) / full.name):
            try:
                rel = spelled.relative_to(self.root).as_posix()
                break
            except ValueError:
                continue
        else:
            raise ToolFailed(f"{path}: outside the repository {self.root}; give a path inside it")
        if (why := await self.session.refusal(rel)) is not None:
            raise ToolFailed(f"{path}: {why}; ragls shows nothing of it")
        return rel

    def _read(self, rel: str) -> str:
        try:
            data, _ = read_regular(self.root / rel, MAX_SOURCE_BYTES)
        except FileNotFoundError:
            raise ToolFailed(f"{rel}: no such file in the repository {self.root}") from None
        except NotRegular as exc:
            raise ToolFailed(f"{rel}: {exc.strerror}, not a file ragls reads") from None
        except IsADirectoryError:
            raise ToolFailed(f"{rel}: a folder, not a file") from None
        except OSError as exc:
            raise ToolFailed(f"{rel}: cannot be read ({exc.strerror or exc})") from None
        return data.decode("utf-8", "replace")

    async def _item_snippets(self, items: list[Item]) -> list[Snippet]:
        return await self._with_code([Snippet(i.path, i.start_line, i.end_line, i.label, "" if i.joined else i.kind,
                                              "") for i in items])

    async def _with_code(self, snippets: list[Snippet]) -> list[Snippet]:
        """The snippets with their lines read (the index never holds a refused file, but the rules may have changed
        since it was written: such files are dropped), secrets redacted; empty ones dropped."""
        allowed = {p: await self.session.refusal(p) is None for p in dict.fromkeys(s.path for s in snippets)}
        kept = [s for s in snippets if allowed[s.path]]
        texts = await self.session.run(self._lines, kept)
        redact = Redactor()
        return [Snippet(s.path, s.start_line, s.end_line, s.label, s.kind, redact(text), s.more)
                for s, text in zip(kept, texts, strict=True) if text.strip()]

    def _lines(self, snippets: list[Snippet]) -> list[str]:
        return ["\n".join(self.session.lines(s.path)[s.start_line - 1:s.end_line]) for s in snippets]


def _check_position(rel: str, lines: list[str], line: int, col: int | None, end_line: int | None) -> None:
    n = len(lines)
    if not 1 <= line <= n:
        raise ToolFailed(f"line {line} is outside {rel}, which has lines 1 to {n}")
    if col is not None and not 0 <= col <= len(lines[line - 1]):
        raise ToolFailed(f"col {col} is outside line {line} of {rel}, which has columns 0 to {len(lines[line - 1])}")
    if end_line is not None:
        if col is not None:
            raise ToolFailed("give col for a cursor or end_line for a selection, not both")
        if not line <= end_line <= n:
            raise ToolFailed(f"end_line {end_line} must be from line ({line}) to the last line of {rel} ({n})")


def _normal_name(symbol: str) -> str:
    """A name as the graph spells qualified names: `a::b`, `a#b` and `a->b` become `a.b`."""
    return re.sub(r"::|#|->", ".", symbol.strip()).strip(".")


_KIND_RANK = {"class": 0, "struct": 0, "interface": 0, "trait": 0, "enum": 0, "type": 1, "function": 1, "method": 1}


def find_definitions(graph: Graph, name: str) -> tuple[list[Def], list[str]]:
    """The definitions a (possibly qualified) name means, those whose qualified name is the name itself first, and
    when there are none, a few names that differ from it in case only or contain it."""
    last = name.rsplit(".", 1)[-1]
    found = []
    for d in dict.fromkeys(graph.by_name.get(last, ())):
        qualified = [d.qualname]
        if (module := graph.module_of.get(d.path, ("", ""))[0]):
            qualified.append(f"{module}.{d.qualname}")
        if any(q == name or q.endswith("." + name) for q in qualified):
            found.append(d)
    found.sort(key=lambda d: (d.qualname != name, _KIND_RANK.get(d.kind, 2), d.path, d.start_line))
    if found:
        return found[:DEFINITIONS], []
    low = last.lower()
    close = sorted((n for n in graph.by_name if n.lower() == low or (len(low) >= 4 and low in n.lower())),
                   key=lambda n: (n.lower() != low, len(n), n))
    return [], close[:CLOSE_NAMES]


def render(snippets: Iterable[Snippet], what: str, order: str = "") -> str:
    """Snippets as text an agent reads: "N definitions {what}", then a header line per snippet (path:lines, what
    they define) and its code, fenced (by more backticks than the code holds in a row)."""
    snippets = list(snippets)
    if not snippets:
        return f"No definitions found {what}."
    noun = "definition" if len(snippets) == 1 else "definitions"
    out = [f"{len(snippets)} {noun} {what}{', ' + order if order and len(snippets) > 1 else ''}:"]
    for s in snippets:
        spec = language_for(s.path)
        fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", s.code)), default=0))
        head = f"{s.path}:{s.start_line}-{s.end_line}" + (f" {s.label}" if s.label else "") + \
            (f" ({s.kind})" if s.kind else "")
        out += ["", head, f"{fence}{spec.name if spec else ''}", s.code, fence]
        if s.more:
            out.append(f"({s.more} more lines of it, to line {s.end_line + s.more}: read the file for them)")
    return "\n".join(out)
