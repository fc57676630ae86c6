"""Specialist reviewers (one prompt each, run concurrently) over the planned units, then one merging pass."""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass, field, replace

from ragls.prompts.render import BudgetError, load, render

from ..llm import ModelClient, ModelError
from .findings import Finding, ReplyError, ReviewError, dedupe, fingerprint, parse_reply, to_finding
from .scope import Skipped, Unit

log = logging.getLogger(__name__)
FOCI = {
    "correctness": "Look for logic errors, wrong conditions or arithmetic, off-by-one errors, unhandled None or "
                   "error cases, broken contracts with the definitions and callers shown, and race conditions.",
    "security": "Look for injection (SQL, shell, templates), unsafe deserialisation, path traversal, secrets in "
                "code, missing authorisation or validation of untrusted input, and weak cryptography.",
    "performance": "Look for needless quadratic work, repeated I/O or queries in loops, unbounded memory, blocking "
                   "calls on hot or async paths, and work that could be cached or hoisted.",
    "maintainability": "Look for misleading names or comments, dead or duplicated code, functions doing too "
                       "much, and changes that break the conventions of the surrounding code.",
}
PROMPT_OVERHEAD = 700  # tokens of the review template's own text
REPLY_TOKENS = 2000


@dataclass(slots=True)
class Plan:
    batches: list[list[Unit]]  # units per prompt, most important first
    skipped: list[Skipped] = field(default_factory=list)

    @property
    def units(self) -> list[Unit]:
        return [u for b in self.batches for u in b]


def plan(units: list[Unit], budget: int, prompt_budget: int) -> Plan:
    """Most important units first while their tokens fit `budget` (per reviewer); packed into prompts of at most
    `prompt_budget` tokens. What does not fit is listed, with why."""
    room = prompt_budget - PROMPT_OVERHEAD
    ordered = sorted(units, key=lambda u: -u.importance)
    p = Plan([])
    used = 0
    for u in ordered:
        own = u.tokens - sum(_t(d) for d in u.definitions + u.callers)  # definitions and callers can be trimmed
        if own > room:
            p.skipped.append(Skipped(u.path, f"{_where(u)}: too large for one prompt ({own} tokens)"))
            continue
        cost = min(u.tokens, room)
        if used + cost > budget:
            p.skipped.append(Skipped(u.path, f"{_where(u)}: over the review budget of {budget} tokens"))
            continue
        used += cost
        if p.batches and sum(min(x.tokens, room) for x in p.batches[-1]) + cost <= room:
            p.batches[-1].append(u)
        else:
            p.batches.append([u])
    return p


def _t(item: dict) -> int:
    return max(1, len(item["text"]) // 4)


def _where(u: Unit) -> str:
    return f"{u.path}:{u.start}-{u.end}" + (f" ({u.symbol})" if u.symbol else "")


def changes_text(batch: list[Unit]) -> str:
    parts = []
    for u in batch:
        numbered = "\n".join(f"{n:>5} | {line}".rstrip() for n, line in enumerate(u.code.split("\n"), u.start))
        hunks = "\n".join(h.text.rstrip("\n") for h in u.hunks)
        parts.append(f"### {u.path} ({u.language}){' — ' + u.symbol if u.symbol else ''}, lines {u.start}-{u.end}\n"
                     f"Diff:\n{hunks}\nAfter the change:\n{numbered}")
    return "\n\n".join(parts)


def _unique(items: list[dict]) -> list[dict]:
    seen, out = set(), []
    for i in items:
        key = (i["path"], i["start_line"], i["end_line"])
        if key not in seen:
            seen.add(key)
            out.append(i)
    return out


class Reviewer:
    """Runs the specialists and the merge pass against one model client."""

    def __init__(self, client: ModelClient, prompt_budget: int, log_prompts: bool = False) -> None:
        self.client = client
        self.prompt_budget = prompt_budget
        self.log_prompts = log_prompts
        self.calls = 0

    def prompt(self, focus: str, batch: list[Unit]) -> list[dict]:
        batch_paths = {u.path for u in batch}
        values = {"focus": focus, "guidance": FOCI[focus], "changes": changes_text(batch),
                  "definitions": _unique([d for u in batch for d in u.definitions if d["path"] not in batch_paths]),
                  "callers": _unique([c for u in batch for c in u.callers])}
        try:
            rendered = render(load("review"), values, self.prompt_budget)
        except BudgetError as exc:
            raise ReviewError(f"a review prompt does not fit: {exc}") from exc
        if self.log_prompts:
            log.info("review prompt (%s, %d tokens):\n%s", focus, rendered.tokens, rendered.messages)
        return rendered.messages or []

    async def _ask(self, messages: list[dict], what: str, parse) -> object:
        """One model call whose reply must parse; a malformed reply is asked again once, then is an error."""
        for attempt in (1, 2):
            self.calls += 1
            try:
                reply = await self.client.chat(messages, max_tokens=REPLY_TOKENS, allow_empty=False)
            except ModelError as exc:
                raise ReviewError(f"{what}: {exc.message}") from exc
            try:
                return parse(reply)
            except ReplyError as exc:
                if attempt == 2:
                    raise ReviewError(str(exc)) from exc
                log.warning("%s; asking again", exc)
        raise AssertionError("unreachable")

    async def specialist(self, focus: str, batch: list[Unit], lines_of: dict[str, int]) -> list[Finding]:
        raw = await self._ask(self.prompt(focus, batch), f"the {focus} reviewer",
                              lambda r: parse_reply(r, focus))
        out = [f for item in raw if (f := to_finding(item, focus, lines_of)) is not None]  # type: ignore[union-attr]
        if len(out) < len(raw):  # type: ignore[arg-type]
            log.warning("%s reviewer: %d findings named no reviewed file or line and were dropped", focus,
                        len(raw) - len(out))  # type: ignore[arg-type]
        return out

    async def merge(self, findings: list[Finding], batches: list[list[Unit]]) -> list[Finding]:
        """One pass over every specialist's findings: the model picks which to keep (by id, so it cannot alter
        paths, lines or text)."""
        listed = [{"id": n, **{k: v for k, v in f.to_json().items() if k != "fingerprint"}}
                  for n, f in enumerate(findings)]
        values = {"findings": json.dumps(listed, indent=1), "changes": "\n\n".join(changes_text(b) for b in batches)}
        try:
            rendered = render(load("review_merge"), values, self.prompt_budget + REPLY_TOKENS)
        except BudgetError:  # too many findings to merge in one prompt: the deterministic merge stands
            log.warning("too many findings (%d) for the merge pass; kept after de-duplication", len(findings))
            return findings

        def parse(reply: str) -> list[int]:
            text = reply.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ReplyError(f"the merge pass's reply is not JSON ({exc.msg}): {reply[:160]!r}") from None
            keep = data.get("keep") if isinstance(data, dict) else None
            if not isinstance(keep, list) or not all(isinstance(i, int) for i in keep):
                raise ReplyError(f'the merge pass\'s reply has no "keep" list of ids: {reply[:160]!r}')
            return keep

        keep = await self._ask(rendered.messages or [], "the merge pass", parse)
        ids = {i for i in keep if 0 <= i < len(findings)}  # type: ignore[union-attr]
        return [f for n, f in enumerate(findings) if n in ids]


async def run(reviewer: Reviewer, p: Plan, texts: dict[str, str]) -> list[Finding]:
    """Every specialist over every batch, concurrently; de-duplicated; merged; fingerprinted."""
    lines_of = {path: len(text.split("\n")) for path, text in texts.items()}
    jobs = [reviewer.specialist(focus, batch, lines_of) for batch in p.batches for focus in FOCI]
    results = await asyncio.gather(*jobs, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:  # never a partial review passed off as a whole one
        if not all(isinstance(e, ReviewError) for e in errors):
            raise errors[0]
        raise ReviewError("; ".join(dict.fromkeys(str(e) for e in errors)))
    found = dedupe([f for r in results for f in r])  # type: ignore[union-attr]
    if len(found) > 1:
        found = dedupe(await reviewer.merge(found, p.batches))
    return [replace(f, fingerprint=fingerprint(f, texts.get(f.path))) for f in found]
