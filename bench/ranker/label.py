"""Labels of dumped candidates: which gold definitions each one hits, strictly (the gold's key spans) or loosely (its
whole range), by the harness's rule (README "Metrics": same path, overlapping lines), and its size as the harness
counts it (characters / 4 of the lines it names)."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(slots=True)
class Labelled:
    """A query's candidates in the engine's order: features, ragls tokens, harness tokens, golds hit (strict and
    loose, as indexes into the query's gold list), whether the item is a module-level window, its fused score."""

    qid: str
    n_gold: int
    feats: list[dict[str, float]]
    tokens: list[int]
    harness_tokens: list[int]
    strict: list[frozenset[int]]
    loose: list[frozenset[int]]
    window: list[bool]
    score: list[float]


def parse_why(why: list[str]) -> dict[str, float]:
    """An item's `why` (["lex=0.31", ...]) as features."""
    return {k: float(v) for k, _, v in (w.partition("=") for w in why)}


def _hits(item: dict, path: str, golds: list[dict], strict: bool) -> frozenset[int]:
    s, e = item["start_line"], item["end_line"]
    return frozenset(i for i, g in enumerate(golds) if g["path"] == path and any(
        s <= ge and gs <= e for gs, ge in (g.get("spans") or [[g["start_line"], g["end_line"]]] if strict
                                           else [[g["start_line"], g["end_line"]]])))


class _Lines:
    """The repository's files as the harness reads them (UTF-8, errors replaced, lines with their ends)."""

    def __init__(self, repo: Path) -> None:
        self.repo, self.cache = repo, {}

    def tokens(self, path: str, start: int, end: int) -> int:
        if path not in self.cache:
            try:
                self.cache[path] = (self.repo / path).read_text(encoding="utf-8", errors="replace").splitlines(True)
            except OSError:
                self.cache[path] = []
        return max(1, len("".join(self.cache[path][max(0, start - 1):end])) // 4)


def label(queries: list[dict], answers: list[dict], repo: Path) -> list[Labelled]:
    """One Labelled per query (completion: any gold counts, so all are folded into gold 0)."""
    lines = _Lines(repo)
    out = []
    for q, a in zip(queries, answers, strict=True):
        explain = q.get("mode") == "explain"
        lab = Labelled(q["id"], len(q["gold"]) if explain else 1, [], [], [], [], [], [], [])
        for it in a.get("items", []):
            path = os.path.relpath(it["path"], repo) if os.path.isabs(it["path"]) else it["path"]
            strict, loose = _hits(it, path, q["gold"], True), _hits(it, path, q["gold"], False)
            if not explain:
                strict, loose = frozenset({0} if strict else ()), frozenset({0} if loose else ())
            lab.feats.append(parse_why(it.get("why", [])))
            lab.tokens.append(int(it["tokens"]))
            lab.harness_tokens.append(lines.tokens(path, it["start_line"], it["end_line"]))
            lab.strict.append(strict)
            lab.loose.append(loose)
            lab.window.append(not it.get("symbol"))
            lab.score.append(float(it.get("score", 0.0)))
        out.append(lab)
    return out
