"""What the reviewers see within the token budget: units most important first, packed into prompts; the rest listed."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from ragls.prompts.render import load, render

from .scope import Skipped, Unit

FOCI = dict(load("review").guidance)  # focus -> what its reviewer looks for (prompts/templates/review.toml)
SEPARATOR = 2  # tokens between two units in one prompt


@dataclass(slots=True)
class Plan:
    """Units per prompt (each prompt goes to every specialist), most important first, and what was left out."""

    batches: list[list[Unit]]
    skipped: list[Skipped] = field(default_factory=list)
    tokens: int = 0  # prompt tokens each specialist will be sent, at most

    @property
    def units(self) -> list[Unit]:
        return [u for b in self.batches for u in b]


@cache
def overhead() -> int:
    """Tokens of a review prompt with no changes in it: the template's own text and the longest guidance."""
    focus = max(FOCI, key=lambda f: len(FOCI[f]))
    return render(load("review"), {"focus": focus, "guidance": FOCI[focus], "changes": "", "definitions": [],
                                   "callers": []}, 1 << 30).tokens


def room(prompt_budget: int) -> int:
    """Tokens one prompt has for units (their code, diff, definitions and callers), less a margin for the redaction
    placeholders, which can be a few tokens longer than the secrets they replace (units are counted before it)."""
    return prompt_budget - overhead() - max(50, prompt_budget // 50)


def cost(u: Unit) -> int:
    """Tokens a unit is counted for: its code, and its definitions and callers up to as much again (the renderer
    trims what a full prompt has no room for, and a prompt's units share their definitions)."""
    return u.own_tokens + min(u.context_tokens, u.own_tokens) + SEPARATOR


def plan(units: list[Unit], budget: int, prompt_budget: int) -> Plan:
    """The most important units while each specialist's prompts stay within `budget` tokens in all, packed into
    prompts of at most `prompt_budget` tokens, a file's units together and in order. A unit whose code does not
    fit one prompt, or beyond the budget, is listed with why."""
    space, fixed = room(prompt_budget), overhead()
    p = Plan([])
    chosen: list[Unit] = []
    for u in sorted(units, key=lambda u: -u.importance):
        if u.own_tokens > space:
            p.skipped.append(Skipped(u.path, f"too large for one prompt ({u.own_tokens} tokens; "
                                             f"--prompt-budget is {prompt_budget})", u.where))
            continue
        batches = _pack([*chosen, u], space)
        tokens = sum(min(sum(map(cost, b)), space) for b in batches) + fixed * len(batches)
        if tokens > budget:
            p.skipped.append(Skipped(u.path, f"over the review budget of {budget} tokens", u.where))
            continue
        chosen.append(u)
        p.batches, p.tokens = batches, tokens
    return p


def _pack(units: list[Unit], space: int) -> list[list[Unit]]:
    """Units into prompts of `space` tokens in reading order: files by their most important unit, a file's units
    by line."""
    rank: dict[str, float] = {}
    for u in units:
        rank[u.path] = max(rank.get(u.path, 0.0), u.importance)
    batches: list[list[Unit]] = []
    filled = 0
    for u in sorted(units, key=lambda u: (-rank[u.path], u.path, u.start)):
        c = min(cost(u), space)
        if batches and filled + c <= space:
            batches[-1].append(u)
            filled += c
        else:
            batches.append([u])
            filled = c
    return batches
