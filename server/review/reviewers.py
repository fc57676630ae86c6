"""Specialist reviewers (one prompt each, run concurrently) over the planned units, then one merging pass."""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from ragls.prompts.render import BudgetError, Value, load, render

from ..model.client import ModelClient, ModelError
from ..model.schema import ReplySchema
from .findings import (FINDINGS_SCHEMA, KEEP_SCHEMA, Finding, Ranges, ReplyError, ReviewError, dedupe, fingerprint,
                       parse_keep, parse_reply, to_finding)
from .plan import FOCI, Plan
from .scope import Unit

log = logging.getLogger(__name__)
T = TypeVar("T")
REPLY_TOKENS = 2000
RETRY = ("That reply cannot be used: {error}. Answer again with only the JSON object asked for, complete and "
         "valid; if there is a lot to report, keep the most important findings and short messages.")


def changes_text(batch: list[Unit]) -> str:
    return "\n\n".join(u.show() for u in batch)


def _shown(item: dict, batch: list[Unit]) -> bool:
    """Whether a context item's lines are already in the prompt as changed code."""
    return any(u.path == item["path"] and u.start <= item["end_line"] and item["start_line"] <= u.end
               for u in batch)


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
        definitions = _unique([d for u in batch for d in u.definitions if not _shown(d, batch)])
        callers = [c for c in _unique([c for u in batch for c in u.callers if not _shown(c, batch)])
                   if not any(d["path"] == c["path"] and d["start_line"] <= c["start_line"] and
                              c["end_line"] <= d["end_line"] for d in definitions)]  # not twice
        values: dict[str, Value] = {"focus": focus, "guidance": FOCI[focus], "changes": changes_text(batch),
                  "definitions": definitions, "callers": callers}
        try:
            rendered = render(load("review"), values, self.prompt_budget)
        except BudgetError as exc:
            raise ReviewError(f"a review prompt does not fit: {exc}") from exc
        if self.log_prompts:
            log.info("review prompt (%s, %d tokens):\n%s", focus, rendered.tokens, rendered.messages)
        return rendered.messages or []

    async def _ask(self, messages: list[dict], what: str, schema: ReplySchema, parse: Callable[[str], T]) -> T:
        """One model call whose reply must parse, constrained to `schema` where the endpoint can; a malformed reply
        is asked again once, saying what was wrong, then is an error."""
        for attempt in (1, 2):
            self.calls += 1
            try:
                reply = await self.client.chat(messages, max_tokens=REPLY_TOKENS, allow_empty=False, schema=schema)
            except ModelError as exc:
                raise ReviewError(f"{what}: {exc.message}") from exc
            try:
                return parse(reply)
            except ReplyError as exc:
                if attempt == 2:
                    raise ReviewError(f"{exc} (asked twice)") from exc
                log.warning("%s; asking again", exc)
                messages = [*messages, {"role": "assistant", "content": reply},
                            {"role": "user", "content": RETRY.format(error=exc.problem)}]
        raise AssertionError("unreachable")

    async def specialist(self, focus: str, batch: list[Unit], ranges: Ranges) -> list[Finding]:
        raw = await self._ask(self.prompt(focus, batch), f"the {focus} reviewer", FINDINGS_SCHEMA,
                              lambda r: parse_reply(r, focus))
        out = [f for item in raw if (f := to_finding(item, focus, ranges)) is not None]
        if len(out) < len(raw):
            log.warning("%s reviewer: %d findings named no reviewed file or line and were dropped", focus,
                        len(raw) - len(out))
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

        keep = await self._ask(rendered.messages or [], "the merge pass", KEEP_SCHEMA, parse_keep)
        ids = {i for i in keep if 0 <= i < len(findings)}
        return [f for n, f in enumerate(findings) if n in ids]


async def run(reviewer: Reviewer, p: Plan, texts: dict[str, str]) -> list[Finding]:
    """Every specialist over every batch, concurrently; de-duplicated; merged; fingerprinted."""
    ranges: Ranges = {}
    for u in p.units:
        ranges.setdefault(u.path, []).append((u.start, u.end))
    jobs = [reviewer.specialist(focus, batch, ranges) for batch in p.batches for focus in FOCI]
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
