"""Re-ranking of dumped candidates under given weights (the engine's fusion, k and token budget simulated) and a
coordinate search of the weights that maximises the harness's own metrics, macro-averaged over packages."""
from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from .dataset import WEIGHT_SETS, CandSet

Weights = dict[str, dict[str, float]]
K = 10
BUDGET = {"completion": 1500, "explain": 2000}  # retrieve.DEFAULT_BUDGET for a cursor and a selection
TOKEN_CAP = {"completion": (5, 1024), "explain": (10, 2000)}  # the targets: top-5 / top-10 tokens
FITTED_SETS = {"completion": ("cursor", "receiver"), "explain": ("selection",)}


def ranks(cs: CandSet, w: Weights) -> np.ndarray:
    """[Q, C] the 0-based rank of each candidate in the answer (k items within the budget), -1 when left out."""
    wm = np.array([[w[ws].get(f, 0.0) for f in cs.features] for ws in WEIGHT_SETS], np.float32)
    score = np.einsum("qcf,qf->qc", cs.x, wm[cs.wset.astype(int)])
    score = np.where(cs.window, score * 0.5, score)
    score = np.where(cs.valid, score, -np.inf)
    order = np.argsort(-score, axis=1, kind="stable")  # ties keep the engine's order
    q = np.arange(len(score))
    used, count = np.zeros(len(score), np.int64), np.zeros(len(score), np.int64)
    out = np.full(score.shape, -1, np.int64)
    for j in range(score.shape[1]):
        if (count >= K).all():
            break
        c = order[:, j]
        t = cs.tokens[q, c]
        take = cs.valid[q, c] & (count < K) & (used + t <= BUDGET[cs.mode])
        out[q[take], c[take]] = count[take]
        used += np.where(take, t, 0)
        count += take
    return out


def metrics(cs: CandSet, w: Weights) -> dict[str, float]:
    """The harness's figures for one package: completion sR@1/5/10, R@10, tokens@5; explain all@10 (loose and
    strict), recall@10, tokens@10."""
    r = ranks(cs, w)
    if cs.mode == "completion":
        def hit(lab: np.ndarray, k: int) -> float:
            return float((lab.any(axis=2) & (r >= 0) & (r < k)).any(axis=1).mean())
        return {"strict_recall@1": hit(cs.strict, 1), "strict_recall@5": hit(cs.strict, 5),
                "strict_recall@10": hit(cs.strict, 10), "recall@10": hit(cs.loose, 10),
                "tokens@5": float(np.where((r >= 0) & (r < 5), cs.htokens, 0).sum(axis=1).mean())}
    top = ((r >= 0) & (r < 10))[:, :, None]

    def found(lab: np.ndarray) -> np.ndarray:
        return (lab & top).any(axis=1) | ~cs.gold_mask

    loose, strict = found(cs.loose), found(cs.strict)
    n_gold = cs.gold_mask.sum(axis=1)
    return {"all@10": float(loose.all(axis=1).mean()), "strict_all@10": float(strict.all(axis=1).mean()),
            "recall@10": float(((loose & cs.gold_mask).sum(axis=1) / n_gold).mean()),
            "tokens@10": float(np.where(top[:, :, 0], cs.htokens, 0).sum(axis=1).mean())}


def macro(sets: list[CandSet], w: Weights) -> dict[str, float]:
    ms = [metrics(cs, w) for cs in sets]
    return {k: float(np.mean([m[k] for m in ms])) for k in ms[0]} if ms else {}


def objective(sets: list[CandSet], w: Weights, mode: str) -> float:
    """What the fit maximises: the headline recall (strict@5 and @10 for completion, all@10 for explain), less a
    penalty for tokens over the target's cap."""
    m = macro(sets, w)
    if not m:
        return 0.0
    k, cap = TOKEN_CAP[mode]
    over = max(0.0, m[f"tokens@{k}"] - cap) / cap
    if mode == "completion":
        return m["strict_recall@5"] + 0.5 * m["strict_recall@10"] + 0.1 * m["strict_recall@1"] - over
    return m["all@10"] + 0.5 * m["strict_all@10"] + 0.25 * m["recall@10"] - over


@dataclass(frozen=True, slots=True)
class FitConfig:
    """Coordinate search: multiplicative and additive steps around each weight, `passes` sweeps, an L1 pull
    toward the hand weights (`prior`) so that flat directions keep their hand-set value, `guard` times a
    language's loss against the hand weights taken off the objective."""

    passes: int = 3
    prior: float = 0.002
    guard: float = 1.0
    guard_by: str = "lang"
    factors: tuple[float, ...] = (0.0, 0.25, 0.5, 0.7, 0.85, 1.15, 1.4, 2.0, 3.0)
    steps: tuple[float, ...] = (-1.0, -0.5, -0.2, 0.2, 0.5, 1.0)


def groups(sets: list[CandSet], by: str) -> dict[str, list[CandSet]]:
    """The sets by language (by="lang") or one group per package (by="package")."""
    out: dict[str, list[CandSet]] = {}
    for cs in sets:
        out.setdefault(cs.lang if by == "lang" else cs.package, []).append(cs)
    return out


def guarded(sets: list[CandSet], w: Weights, mode: str, floor: dict[str, float], guard: float = 1.0,
            by: str = "lang") -> float:
    """objective() over all packages (macro), less `guard` times what any group (a language, or a package) loses
    against its `floor` (its objective under the hand weights): a gain on one may not be paid for by another."""
    by_group = {g: objective(part, w, mode) for g, part in groups(sets, by).items()}
    n = {g: len(part) for g, part in groups(sets, by).items()}
    overall = sum(by_group[g] * n[g] for g in by_group) / len(sets)
    return overall - guard * sum(max(0.0, floor[g] - by_group[g]) for g in by_group)


def fit(sets: list[CandSet], hand: Weights, mode: str, cfg: FitConfig = FitConfig()) -> Weights:
    """Weights of the mode's weight sets maximising guarded() on `sets` (other sets keep the hand weights)."""
    w = {ws: dict(v) for ws, v in hand.items()}
    feats = sorted({f for cs in sets for f in cs.features})
    floor = {g: objective(part, hand, mode) for g, part in groups(sets, cfg.guard_by).items()}

    def total(cand: Weights) -> float:
        pull = sum(abs(cand[ws].get(f, 0.0) - hand[ws].get(f, 0.0)) for ws in FITTED_SETS[mode] for f in feats)
        return guarded(sets, cand, mode, floor, cfg.guard, cfg.guard_by) - cfg.prior * pull

    best = total(w)
    for p in range(cfg.passes):
        improved = False
        for ws in FITTED_SETS[mode]:
            for f in feats:
                cur = w[ws].get(f, 0.0)
                tries = {round(cur * a, 3) for a in cfg.factors} | {round(cur + d, 3) for d in cfg.steps}
                scored = [(total(c), c) for c in ({**w, ws: {**w[ws], f: v}} for v in sorted(tries - {cur}))]
                s, cand = max(scored, key=lambda sc: sc[0], default=(best, w))
                if s > best + 1e-9:
                    best, w, improved = s, cand, True
        print(f"  fit {mode} pass {p + 1}: objective {best:.4f}", file=sys.stderr)
        if not improved:
            break
    return w
