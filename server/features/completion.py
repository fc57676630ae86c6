"""Inline completion: retrieved definitions first, then the prefix and suffix, through a FIM or chat prompt."""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

from ragls.indexer.languages import language_for
from ragls.indexer.tokens import count
from ragls.indexer.assemble import Item
from ragls.indexer.retrieve import Query
from ragls.prompts.render import Rendered, Value, load, render

from ..acceptance import AcceptanceStore
from ..editing import Editing, signals_text
from ..model.client import ModelClient
from ..session import Session
from ..viewed import Viewed, allowed, viewed_text
from .context import context_items
from .postprocess import clean

log = logging.getLogger(__name__)
CACHE_SIZE = 256
NEAR_CURSOR_LINES = 40  # edits this close to the cursor in its file are in the prefix or suffix already
TEMPLATE_TOKENS = 250  # the completion templates' own text and delimiters
CODE_FLOOR = 640  # prefix and suffix tokens (the templates' `keep`: 512 + 128) that viewed code never takes
TAKEN_TAIL, TAKEN_TYPED = 80, 400  # a taken suggestion: the text after it as it was, within this much typed after
MIN_REPLY_CHARS, CHARS_PER_TOKEN_CAP = 2000, 16  # a completion reply is read up to max_tokens x 16 characters


def tail_lines(text: str, chars: int) -> str:
    """The last whole lines of text within about `chars` characters (the renderer trims exactly; this keeps
    its token counting cheap: ~4 characters a token)."""
    if len(text) <= chars:
        return text
    cut = text[-chars:]
    return cut[cut.find("\n") + 1:] if "\n" in cut else cut


def head_lines(text: str, chars: int) -> str:
    """The first whole lines of text within about `chars` characters (a cut line when the first is longer)."""
    if len(text) <= chars:
        return text
    cut = text[:chars]
    return cut[: cut.rfind("\n")] if "\n" in cut else cut


def _near(text: str, tokens: int, cut: Callable[[str, int], str]) -> str:
    """`text` cut (by `cut`: its last or first lines) to about `tokens` tokens: at ~3.2 characters a token, then, if
    that is too many (dense text: numbers, punctuation, a minified line), once more by the measured ratio. The
    renderer trims exactly; this spares it most of its search, which counts the whole prompt at every step."""
    out = cut(text, int(tokens * 3.2))
    if len(out) > tokens and (n := count(out)) > tokens:
        out = cut(out, int(len(out) * tokens / n * 0.95))
    return out


def _has_first_line(text: str) -> bool:
    """True once a reply holds a whole first line of code (after an opening Markdown fence, if any)."""
    body = text.lstrip()
    if body.startswith("```"):
        body = body.split("\n", 1)[1] if "\n" in body else ""
    return "\n" in body.lstrip("\n")


@dataclass(slots=True)
class _Answer:
    """A model call under way for one document: its request's cache key, and how many requests wait for it."""

    key: str
    task: asyncio.Future
    waiters: int = 0


@dataclass(frozen=True)
class CompletionRequest:
    """A cursor in a document: `line` 1-based, `col` a 0-based character column; `text` the whole buffer."""

    path: str  # workspace-relative
    text: str
    line: int
    col: int

    def split(self) -> tuple[str, str]:
        """(prefix, suffix): the text before and after the cursor (computed once: a request asks several times)."""
        return self._split

    @cached_property
    def _split(self) -> tuple[str, str]:
        head = self.text.split("\n", self.line - 1)  # the lines before the cursor's, then the rest whole
        end = head[-1].find("\n")
        at = sum(map(len, head[:-1])) + len(head) - 1 + min(self.col, end if end >= 0 else len(head[-1]))
        return self.text[:at], self.text[at:]


@dataclass(slots=True)
class Completion:
    text: str
    prompt: Rendered | None = None
    context: list[dict] = field(default_factory=list)
    cached: bool = False
    model_ms: float = 0.0  # waiting on the model (the rest of a request's time is ragls's own)
    id: str | None = None  # the shown completion's id in the acceptance store (its item's command argument)


class Timings:
    """The last requests' own time (all but the model's) and model time, in milliseconds: `ragls.status`."""

    def __init__(self, keep: int = 500) -> None:
        self.own: deque[float] = deque(maxlen=keep)
        self.model: deque[float] = deque(maxlen=keep)
        self.count = 0

    def add(self, total_ms: float, model_ms: float) -> None:
        self.count += 1
        self.own.append(max(0.0, total_ms - model_ms))
        if model_ms:
            self.model.append(model_ms)

    def summary(self) -> dict[str, object]:
        def pct(values: deque[float]) -> dict[str, float] | None:
            if not values:
                return None
            s = sorted(values)
            return {p: round(s[min(len(s) - 1, int(q * len(s)))], 2) for p, q in (("p50", .5), ("p95", .95))}
        return {"requests": self.count, "own_ms": pct(self.own), "model_ms": pct(self.model)}


class Completer:
    """Builds completion prompts and asks the model; caches on the prefix; a newer request for the same document
    cancels the one still running."""

    def __init__(self, session: Session, client: ModelClient | None, editing: Editing | None = None,
                 acceptance: AcceptanceStore | None = None) -> None:
        self.session = session
        self.client = client
        self.editing = editing
        self.acceptance = acceptance  # None: acceptance is not counted (completion.acceptance off)
        self._cache: OrderedDict[str, tuple[str, str | None]] = OrderedDict()  # key -> (completion, its id)
        self._running: dict[str, _Answer] = {}  # path -> the completion being asked for it
        # path -> (prefix, suffix, completion, its id) last shown
        self._last: dict[str, tuple[str, str, str, str | None]] = {}

    async def prompt(self, req: CompletionRequest) -> tuple[Rendered, list[dict]]:
        """The prompt that would be sent, and the retrieved context in it (assembled off the event loop)."""
        items = await self.session.context(Query(req.path, req.line, req.col), req.text, k=8,
                                           budget=self.session.settings.completion.context_budget)
        viewed = await self._viewed()
        return await self.session.run(self._render, req, items, viewed)

    async def _viewed(self) -> list[Viewed]:
        """The ranges viewed recently, newest first, but those of files no model may see now."""
        if self.editing is None or self.session.settings.completion.viewed_budget <= 0:
            return []
        return await allowed(self.editing.viewed.recent(), self.session.refusal)

    def _render(self, req: CompletionRequest, items: list[Item], viewed: Sequence[Viewed] = ()
                ) -> tuple[Rendered, list[dict]]:
        s = self.session.settings
        prefix, suffix = req.split()
        context = context_items(self.session, items)
        spec = language_for(req.path)
        # What the retrieved definitions leave of the budget goes 3:1 to prefix and suffix; cutting them near that
        # size first (at ~3.2 characters a token) spares the renderer most of its exact, slower trimming.
        room = max(256, s.completion.budget - sum(i.tokens for i in items) - TEMPLATE_TOKENS)
        edits = signals_text(self.editing, req.path, req.line, req.line, s.completion.edits_budget, NEAR_CURSOR_LINES)
        room -= count(edits) if edits else 0
        # code viewed recently: the least sure signal, so only what prefix and suffix can spare above their floor
        share = min(s.completion.viewed_budget, room - CODE_FLOOR) if viewed else 0
        room -= max(share, 0)
        shown_prefix, shown_suffix = _near(prefix, int(room * 0.75), tail_lines), _near(suffix, int(room * 0.25),
                                                                                         head_lines)
        if share > 0:
            # not the lines the prompt shows already: the retrieved definitions, the code around the cursor
            shown: dict[str, list[tuple[int, int]]] = {req.path: [
                (req.line - shown_prefix.count("\n"), req.line + shown_suffix.count("\n"))]}
            for i in items:
                shown.setdefault(i.path, []).append((i.start_line, i.end_line))
            seen = viewed_text(viewed, self.session.lines, share, shown)
            edits = "\n\n".join(p for p in (edits, seen) if p)
        values: dict[str, Value] = {"language": spec.name if spec else "text", "path": req.path, "context": context,
                  "edits": edits, "prefix": shown_prefix, "suffix": shown_suffix}
        fim = s.model.fim_template
        template = load("complete_fim" if fim else "complete_chat")
        rendered = render(template, values, s.completion.budget, fim_family=fim)
        if s.log_prompts:
            log.info("completion prompt (%d tokens):\n%s", rendered.tokens, rendered.text or rendered.messages)
        return rendered, context

    async def complete(self, req: CompletionRequest) -> Completion:
        """The text to insert at the cursor ("" when the model has nothing useful). Model errors propagate."""
        self._taken(req)
        key = self._key(req)
        if (hit := self._cache.get(key)) is not None:
            self._cache.move_to_end(key)
            return Completion(hit[0], cached=True, id=hit[1])
        if (rest := self._typed_through(req)) is not None:
            return Completion(rest[0], cached=True, id=rest[1])
        answer = self._running.get(req.path)
        if answer is None or answer.key != key or answer.task.done():  # else the same request again: one call
            if answer is not None and not answer.task.done():
                answer.task.cancel()  # the user typed on: the older request is stale
            answer = self._running[req.path] = _Answer(key, asyncio.ensure_future(self._complete(req)))
        answer.waiters += 1
        try:
            result = await asyncio.shield(answer.task)
        except asyncio.CancelledError:
            if answer.waiters == 1:  # the last request waiting for it was cancelled: so is the model call
                answer.task.cancel()
            raise
        finally:
            answer.waiters -= 1
            if not answer.waiters and self._running.get(req.path) is answer:
                del self._running[req.path]
        if result.text:
            if result.id is None and self.acceptance is not None and result.prompt is not None:
                values = result.prompt.values  # as sent: its language is the one the prompt named
                result.id = self.acceptance.shown(req.path, str(values["language"]), values, result.text)
            self._cache[key] = (result.text, result.id)
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
            self._last[req.path] = (*req.split(), result.text, result.id)
        return result

    def _taken(self, req: CompletionRequest) -> None:
        """Count the last suggestion in this document as accepted when the text now holds it where it was made: a
        client that runs no item command (Emacs's eglot) took it, or the user typed it out. A client that ran the
        command counted it already (an id counts once)."""
        last = self._last.get(req.path)
        if last is None or self.acceptance is None:
            return
        old_prefix, old_suffix, text, id_ = last
        if id_ is None:
            return
        now = req.text
        if not (now.startswith(old_prefix) and now.startswith(text, len(old_prefix))):
            return
        after, tail = now[len(old_prefix) + len(text):], old_suffix[:TAKEN_TAIL]
        if after.startswith(tail) or tail in after[:len(tail) + TAKEN_TYPED]:  # what followed it still follows
            self.acceptance.accepted(id_)

    def _typed_through(self, req: CompletionRequest) -> tuple[str, str | None] | None:
        """The rest of the last completion, and its id, when the user has typed its beginning (no model call):
        typing through a suggestion must not ask for it again. Accepting the rest accepts the completion."""
        last = self._last.get(req.path)
        if last is None:
            return None
        old_prefix, old_suffix, text, id_ = last
        prefix, suffix = req.split()
        typed = prefix[len(old_prefix):] if prefix.startswith(old_prefix) else None
        if not typed or suffix != old_suffix or len(typed) >= len(text) or not text.startswith(typed):
            return None
        return text[len(typed):], id_

    async def _complete(self, req: CompletionRequest) -> Completion:
        if self.client is None:
            raise RuntimeError("no model configured")
        s = self.session.settings
        t0 = time.perf_counter()
        rendered, context = await self.prompt(req)
        t1 = time.perf_counter()
        prefix, suffix = req.split()
        line_prefix = prefix.rsplit("\n", 1)[-1]
        if rendered.text is not None:
            reply = await self.client.complete(rendered.text, max_tokens=s.completion.max_tokens, stop=rendered.stop,
                                               max_chars=self._max_chars())
        else:
            reply = await self._stream(rendered.messages or [], single_line=not s.completion.multiline or
                                       bool(suffix.split("\n", 1)[0].strip()))
        t2 = time.perf_counter()
        text = clean(reply, line_prefix, suffix, s.completion.multiline, rendered.stop)
        log.info("completion %s:%d: context+prompt %.1f ms (%d tokens), model %.1f ms", req.path, req.line,
                 (t1 - t0) * 1000, rendered.tokens, (t2 - t1) * 1000)
        return Completion(text, rendered, context, model_ms=(t2 - t1) * 1000)

    async def _stream(self, messages: list[dict], single_line: bool) -> str:
        """Stream the reply; a one-line completion stops reading (and closes the upstream call) at its line end."""
        assert self.client is not None
        parts: list[str] = []
        stream = self.client.stream_chat(messages, max_tokens=self.session.settings.completion.max_tokens,
                                         allow_empty=True, max_chars=self._max_chars())
        async with contextlib.aclosing(stream):
            async for piece in stream:
                parts.append(piece)
                if single_line and _has_first_line("".join(parts)):
                    break
        return "".join(parts)

    def _max_chars(self) -> int:
        """The most characters of a reply read for one completion (a misbehaving endpoint may send megabytes)."""
        return max(MIN_REPLY_CHARS, self.session.settings.completion.max_tokens * CHARS_PER_TOKEN_CAP)

    def _key(self, req: CompletionRequest) -> str:
        """The prefix and suffix near the cursor, and the index version (an edit elsewhere changes the context)."""
        prefix, suffix = req.split()
        raw = f"{self.session.version}\0{req.path}\0{prefix[-4000:]}\0{suffix[:400]}"
        return hashlib.sha1(raw.encode()).hexdigest()
