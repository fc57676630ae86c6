"""Fix, explain and ask: chat prompts built from a selection (or a question) and the definitions it uses."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from ragls.indexer.languages import language_for
from ragls.indexer.retrieve import Query
from ragls.prompts.render import Rendered, load, render

from ..editing import Editing, signals_text
from ..llm import ModelClient, ModelError
from ..session import Session
from .completion import head_lines
from .context import citations, context_items

log = logging.getLogger(__name__)
_CODE_BLOCK = re.compile(r"```[^\n`]*\n(.*?)```", re.S)


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
    text: str  # Markdown (explain, ask) or the replacement code (fix)
    prompt: Rendered
    context: list[dict] = field(default_factory=list)


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

    async def fix_prompt(self, sel: Selection, diagnostics: list[str]) -> tuple[Rendered, list[dict]]:
        context = await self._context(sel)
        values = {"language": self._language(sel.path), "path": sel.path, "start_line": sel.start_line,
                  "end_line": sel.end_line, "diagnostics": "\n".join(diagnostics) or "(none reported)",
                  "selection": sel.code, "context": context}
        return await self.session.run(self._render, "fix", values), context

    async def explain_prompt(self, sel: Selection) -> tuple[Rendered, list[dict]]:
        context = await self._context(sel)
        # explain may show the beginning of a selection too large for its prompt: cut it near the budget first
        # (~8 characters a token at most in code), so that exact trimming counts tokens of a bounded text
        code = head_lines(sel.code, self.session.settings.chat.budget * 8)
        edits = signals_text(self.editing, sel.path, sel.start_line, self.session.settings.chat.edits_budget, 0,
                             sel.start_line, sel.end_line)
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
        if self.client is None:
            raise ModelError("not_configured", "no model configured")
        return await self.client.chat(rendered.messages or [], max_tokens=self.session.settings.chat.max_tokens)

    async def fix(self, sel: Selection, diagnostics: list[str]) -> Answer:
        """The corrected text of the selected lines. A reply without a code block is a ModelError."""
        rendered, context = await self.fix_prompt(sel, diagnostics)
        reply = await self._ask_model(rendered)
        blocks = _CODE_BLOCK.findall(reply)
        if not blocks:
            raise ModelError("bad_response", "the model's fix has no code block; try again or rephrase")
        # the prompt showed placeholders for the secrets in the selection: the edit puts the real values back
        code = rendered.restore(max(blocks, key=len).rstrip("\n"))
        return Answer(code, rendered, context)

    async def explain(self, sel: Selection) -> Answer:
        rendered, context = await self.explain_prompt(sel)
        reply = await self._ask_model(rendered)
        return Answer(_with_sources(reply, context), rendered, context)

    async def ask(self, question: str) -> Answer:
        rendered, context = await self.ask_prompt(question)
        reply = await self._ask_model(rendered)
        return Answer(_with_sources(reply, context), rendered, context)


def _with_sources(reply: str, context: list[dict]) -> str:
    """The model's Markdown, followed by the definitions it was given (path:line), so every answer cites."""
    text = reply.strip()
    if context:
        text += "\n\n**Context used**\n" + citations(context)
    return text
