"""Fix, explain and ask: chat prompts built from a selection (or a question) and the definitions it uses."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ragls.indexer import tokens
from ragls.indexer.languages import language_for
from ragls.indexer.retrieve import Query
from ragls.indexer.secrets import redact
from ragls.prompts.render import Rendered, load, render

from ..editing import Editing, signals_text
from ..model.client import ModelClient, ModelError
from ..model.schema import ReplySchema
from ..session import Session
from ..viewed import allowed, viewed_text
from . import fixes
from .completion import head_lines
from .context import citations, context_items
from .fixes import Block, Problem, Replacement

log = logging.getLogger(__name__)
FIX_REPLY = ReplySchema("fix", fixes.SCHEMA)  # where the endpoint constrains replies; fenced blocks elsewhere
# asked when a fix adds syntax errors (once): the problems are quoted from the fixed file, redacted
RETRY = ("Your fix does not parse: {problems}. Reply again with the whole of {what} (lines {start_line}-{end_line}), "
         "corrected and with no syntax errors, in one fenced code block (and one for each other location, as "
         "before), or in the JSON object asked for.")


@dataclass(frozen=True, slots=True)
class Selection:
    """Lines start_line..end_line (1-based, inclusive) of a document whose whole text is `text`."""

    path: str
    text: str
    start_line: int
    end_line: int

    @property
    def code(self) -> str:
        return "\n".join(self.text.split("\n")[self.start_line - 1:self.end_line])


@dataclass(slots=True)
class Answer:
    text: str  # Markdown (explain, ask)
    prompt: Rendered
    context: list[dict] = field(default_factory=list)


@dataclass(slots=True)
class Fix:
    """A checked fix: the replacement of its scope first, then those of the other locations the model changed."""

    replacements: list[Replacement]
    prompt: Rendered
    context: list[dict] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The scope's corrected lines."""
        return "\n".join(self.replacements[0].lines)


class ChatFeatures:
    """Transport-free: the LSP handlers and the CLI call these."""

    def __init__(self, session: Session, client: ModelClient | None, editing: Editing | None = None) -> None:
        self.session = session
        self.client = client
        self.editing = editing

    async def _context(self, sel: Selection) -> list[dict]:
        s = self.session.settings.chat
        # a selection's own file counts too (its helpers), never the selected lines themselves
        items = await self.session.context(Query(sel.path, sel.start_line, end_line=sel.end_line), sel.text, k=10,
                                           budget=s.context_budget, same_file=True)
        return await self.session.run(context_items, self.session, items)

    def _language(self, path: str) -> str:
        spec = language_for(path)
        return spec.name if spec else "text"

    async def fix_prompt(self, sel: Selection, diagnostics: list[str], what: str = fixes.SELECTED
                         ) -> tuple[Rendered, list[dict]]:
        """The prompt asking for the corrected lines of `sel` (named `what`: a definition, the selected lines)."""
        context = await self._context(sel)
        edits = signals_text(self.editing, sel.path, sel.start_line, sel.end_line,
                             self.session.settings.chat.edits_budget, known=diagnostics)
        values = {"language": self._language(sel.path), "path": sel.path, "start_line": sel.start_line,
                  "end_line": sel.end_line, "scope": what,
                  "diagnostics": "\n".join(diagnostics) or "(none reported)", "selection": sel.code,
                  "context": context, "edits": edits or "(none)"}
        return await self.session.run(self._render, "fix", values), context

    async def explain_prompt(self, sel: Selection) -> tuple[Rendered, list[dict]]:
        context = await self._context(sel)
        # explain may show the beginning of a selection too large for its prompt: cut it near the budget first
        # (~8 characters a token at most in code), so that exact trimming counts tokens of a bounded text
        code = head_lines(sel.code, self.session.settings.chat.budget * 8)
        s = self.session.settings.chat
        edits = signals_text(self.editing, sel.path, sel.start_line, sel.end_line, s.edits_budget)
        if self.editing is not None and s.viewed_budget > 0:
            # code viewed recently, after the edits (trimmed first), but the lines the prompt shows already
            viewed = await allowed(self.editing.viewed.recent(), self.session.refusal)
            shown: dict[str, list[tuple[int, int]]] = {sel.path: [(sel.start_line, sel.end_line)]}
            for i in context:
                shown.setdefault(i["path"], []).append((i["start_line"], i["end_line"]))
            seen = await self.session.run(viewed_text, viewed, self.session.lines, s.viewed_budget, shown)
            edits = "\n\n".join(p for p in (edits, seen) if p)
        values = {"language": self._language(sel.path), "path": sel.path, "start_line": sel.start_line,
                  "end_line": sel.end_line, "selection": code, "context": context, "edits": edits or "(none)"}
        return await self.session.run(self._render, "explain", values), context

    async def ask_prompt(self, question: str) -> tuple[Rendered, list[dict]]:
        s = self.session.settings.chat
        items = await self.session.search(question, k=10, budget=s.context_budget)
        context = await self.session.run(context_items, self.session, items)
        return await self.session.run(self._render, "ask", {"question": question, "context": context}), context

    def _render(self, name: str, values: dict) -> Rendered:
        rendered = render(load(name), values, self.session.settings.chat.budget)
        if self.session.settings.log_prompts:
            log.info("%s prompt (%d tokens): %s", name, rendered.tokens, rendered.messages)
        return rendered

    async def _ask_model(self, rendered: Rendered) -> str:
        return await self._chat(rendered.messages or [], self.session.settings.chat.max_tokens)

    async def fix(self, sel: Selection, diagnostics: list[str], grow: bool = False) -> Fix:
        """The corrected text of the selected lines, or with `grow` of what encloses them (their definition, see
        fixes.scope), and of the other locations the model changed with it (fixes.blocks: each must be lines the
        prompt showed, still the same in the file, of a file a model may see). A fix that adds syntax errors is
        asked again once, with them; a second one is a ModelError, as is a reply without a code block."""
        what = fixes.SELECTED
        if grow:
            sc = await self.session.run(fixes.scope, sel.path, sel.text, sel.start_line, sel.end_line)
            sel, what = Selection(sel.path, sel.text, sc.start_line, sc.end_line), sc.what
        rendered, context = await self.fix_prompt(sel, diagnostics, what)
        messages = list(rendered.messages or [])
        # the reply holds the whole scope: room for it, whatever the setting for explanations
        limit = max(self.session.settings.chat.max_tokens, 2 * tokens.count(sel.code) + 256)
        for asked in (1, 2):
            reply = await self._chat(messages, limit, FIX_REPLY)
            reps = await self._replacements(reply, sel, rendered, context)
            broken = await self.session.run(_broken, reps)
            if broken and asked == 1:
                quoted = _safe("; ".join(f"{path} {_describe(found)}" for path, found in broken.items()),
                               rendered.originals)
                retry = RETRY.format(problems=quoted, what=what, start_line=sel.start_line, end_line=sel.end_line)
                log.info("fix: the reply adds syntax errors; asking once more: %s", retry)
                messages += [{"role": "assistant", "content": reply}, {"role": "user", "content": retry}]
                continue
            if dropped := [r for r in reps[1:] if r.path in broken]:
                log.warning("fix: dropped the changes to %s: they do not parse",
                            ", ".join(f"{r.path}:{r.start_line}-{r.end_line}" for r in dropped))
                reps = [r for r in reps if r not in dropped]
                broken = await self.session.run(_broken, reps)
            if broken:
                raise ModelError("bad_response", f"the model's fix does not parse: {_describe(broken[sel.path])}; "
                                                 "nothing was changed")
            return Fix(reps, rendered, context)
        raise AssertionError("unreachable")

    async def _chat(self, messages: list[dict[str, str]], max_tokens: int, schema: ReplySchema | None = None) -> str:
        if self.client is None:
            raise ModelError("not_configured", "no model configured")
        return await self.client.chat(messages, max_tokens=max_tokens, schema=schema)

    async def _replacements(self, reply: str, sel: Selection, rendered: Rendered,
                            context: list[dict]) -> list[Replacement]:
        """The scope's replacement from a reply, then those of the other locations it changes that pass."""
        found = fixes.blocks(reply, rendered.restore)
        main = fixes.main_block(found, sel.path, fixes.Scope(sel.start_line, sel.end_line, ""))
        if main is None or not main.lines:
            raise ModelError("bad_response", "the model's reply holds no fix (no code block, or empty code); "
                                             "try again or rephrase")
        reps = [fixes.replacement(sel.path, sel.text, sel.start_line, sel.end_line, main.lines)]
        shown = (rendered.messages or [{}])[-1].get("content", "")
        for block in found:
            if block is not main and block.location is not None \
                    and (rep := await self._other(block, sel, shown, context, reps)) is not None:
                reps.append(rep)
        return reps

    async def _other(self, block: Block, sel: Selection, shown: str, context: list[dict],
                     accepted: list[Replacement]) -> Replacement | None:
        """A block's replacement of another location, or None (logged) unless the prompt showed those lines, they
        are unchanged since, their file may reach a model, and it overlaps no other change."""
        assert block.location is not None
        path, start, end = block.location
        where = f"{path}:{start}-{end}"
        item = next((i for i in context if i["path"] == path and i["start_line"] <= start and end <= i["end_line"]
                     and _shown(shown, f"# {path}:{i['start_line']}-{i['end_line']}")), None)
        if item is None:
            log.warning("fix: dropped the change to %s: the prompt did not show those lines", where)
            return None
        if (why := await self.session.refusal(path)) is not None:
            log.warning("fix: dropped the change to %s: %s", where, why)
            return None
        text = sel.text if path == sel.path else "\n".join(await self.session.run(self.session.lines, path))
        was = item["text"].split("\n")[start - item["start_line"]:end - item["start_line"] + 1]
        now = text.split("\n")[start - 1:end]
        if [ln.removesuffix("\r") for ln in now] != [ln.removesuffix("\r") for ln in was]:
            log.warning("fix: dropped the change to %s: those lines changed since the prompt showed them", where)
            return None
        rep = fixes.replacement(path, text, start, end, block.lines)
        if any(fixes.overlaps(rep, other) for other in accepted):
            log.warning("fix: dropped the change to %s: it overlaps another change", where)
            return None
        return rep

    async def explain(self, sel: Selection) -> Answer:
        rendered, context = await self.explain_prompt(sel)
        reply = await self._ask_model(rendered)
        return Answer(_with_sources(reply, context), rendered, context)

    async def ask(self, question: str) -> Answer:
        rendered, context = await self.ask_prompt(question)
        reply = await self._ask_model(rendered)
        return Answer(_with_sources(reply, context), rendered, context)


def _broken(reps: list[Replacement]) -> dict[str, list[Problem]]:
    """Per file, the syntax errors its replacements add (files without a grammar are not checked)."""
    out = {}
    for path in dict.fromkeys(r.path for r in reps):
        mine = [r for r in reps if r.path == path]
        if found := fixes.new_problems(path, mine[0].text, fixes.apply(mine[0].text, mine)):
            out[path] = found
    return out


def _shown(prompt: str, header: str) -> bool:
    """Whether a prompt showed the context item with this header (`# path:start-end`, then its symbol or its code)."""
    return f"{header} (" in prompt or f"{header}\n" in prompt


def _describe(found: list[Problem]) -> str:
    return "; ".join(f"line {p.line}: {p.message}" for p in found[:fixes.MAX_PROBLEMS])


def _safe(text: str, originals: dict[str, str]) -> str:
    """Text quoted from a fixed file, for a prompt: the prompt's secrets back to their placeholders, others
    redacted."""
    for placeholder, value in originals.items():
        text = text.replace(value, placeholder)
    return redact(text)[0].replace("<<<", "<<\u200b<")


def _with_sources(reply: str, context: list[dict]) -> str:
    """The model's Markdown, followed by the definitions it was given (path:line), so every answer cites."""
    text = reply.strip()
    if context:
        text += "\n\n**Context used**\n" + citations(context)
    return text
