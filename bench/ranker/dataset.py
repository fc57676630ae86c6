"""Labelled candidate sets as arrays: per package and mode, each query's dumped candidates with their features,
tokens, gold hits and the weight set (cursor, receiver or selection) that ranked them."""
from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .corpus import Package, read_queries
from .label import Labelled, label

WEIGHT_SETS = ("cursor", "receiver", "selection")


@dataclass(slots=True)
class CandSet:
    """One package's queries of one mode. Shapes: Q queries, C candidates (padded), F features, G golds (padded).
    `wset[q]` indexes WEIGHT_SETS; `gold_mask[q, g]` marks real golds; `strict`/`loose` [Q, C, G] hits."""

    package: str
    lang: str
    mode: str
    features: list[str]
    x: np.ndarray  # [Q, C, F] feature values
    window: np.ndarray  # [Q, C] module-level windows (their score is halved)
    valid: np.ndarray  # [Q, C]
    tokens: np.ndarray  # [Q, C] ragls's tokens (the budget)
    htokens: np.ndarray  # [Q, C] the harness's tokens (tokens@k)
    strict: np.ndarray  # [Q, C, G]
    loose: np.ndarray  # [Q, C, G]
    gold_mask: np.ndarray  # [Q, G]
    wset: np.ndarray  # [Q]


def _score(feats: dict[str, float], window: bool, weights: dict[str, float]) -> float:
    """The engine's fused score for one candidate (kind_class weighs as kind: retrieve.py's rule)."""
    s = sum(weights.get("kind" if f == "kind_class" else f, 0.0) * v for f, v in feats.items())
    return s * 0.5 if window else s


def infer_wset(lab: Labelled, mode: str, hand: dict[str, dict[str, float]]) -> int:
    """Which weight set ranked a completion query (receiver after a resolved `x.`, else cursor): the one whose
    scores match the dumped ones best (features are printed to 2 decimals, scores to 4)."""
    if mode == "explain":
        return WEIGHT_SETS.index("selection")
    err = {ws: sum(abs(_score(f, w, hand[ws]) - s) for f, w, s in zip(lab.feats, lab.window, lab.score, strict=True))
           for ws in ("cursor", "receiver")}
    return WEIGHT_SETS.index(min(err, key=err.get))


def build(pkg: Package, mode: str, dump: Path, hand: dict[str, dict[str, float]]) -> CandSet:
    """Label a dump with the harness's scoring and pack it into arrays."""
    queries = read_queries(pkg.queries[mode])
    answers = [json.loads(line) for line in dump.read_text().splitlines()]
    labs = label(queries, answers, pkg.repo)
    feats = sorted({f if f != "kind_class" else "kind" for lab in labs for fs in lab.feats for f in fs})
    fi = {f: i for i, f in enumerate(feats)}
    q, c, g = len(labs), max([len(lab.feats) for lab in labs] + [1]), max(lab.n_gold for lab in labs)
    cs = CandSet(pkg.name, pkg.lang, mode, feats, np.zeros((q, c, len(feats)), np.float32), np.zeros((q, c), bool),
                 np.zeros((q, c), bool), np.zeros((q, c), np.int32), np.zeros((q, c), np.int32),
                 np.zeros((q, c, g), bool), np.zeros((q, c, g), bool), np.zeros((q, g), bool), np.zeros(q, np.int8))
    for i, lab in enumerate(labs):
        cs.gold_mask[i, :lab.n_gold] = True
        cs.wset[i] = infer_wset(lab, mode, hand)
        for j, fs in enumerate(lab.feats):
            for f, v in fs.items():
                cs.x[i, j, fi["kind" if f == "kind_class" else f]] += v
            cs.window[i, j], cs.valid[i, j] = lab.window[j], True
            cs.tokens[i, j], cs.htokens[i, j] = lab.tokens[j], lab.harness_tokens[j]
            cs.strict[i, j, list(lab.strict[j])] = True
            cs.loose[i, j, list(lab.loose[j])] = True
    return cs


def cached(pkg: Package, mode: str, dump: Path, hand: dict[str, dict[str, float]]) -> CandSet:
    """build(), kept beside the dump as .npz until the dump changes."""
    key = hashlib.sha256(dump.read_bytes() + pkg.queries[mode].read_bytes()).hexdigest()[:16]
    path = dump.with_suffix(f".{key}.npz")
    if path.exists():
        z = np.load(path, allow_pickle=False)
        return CandSet(pkg.name, pkg.lang, mode, list(z["features"]), *(z[k] for k in (
            "x", "window", "valid", "tokens", "htokens", "strict", "loose", "gold_mask", "wset")))
    cs = build(pkg, mode, dump, hand)
    np.savez_compressed(path, features=np.array(cs.features), x=cs.x, window=cs.window, valid=cs.valid,
                        tokens=cs.tokens, htokens=cs.htokens, strict=cs.strict, loose=cs.loose,
                        gold_mask=cs.gold_mask, wset=cs.wset)
    print(f"labelled {pkg.name} {mode}: {len(cs.wset)} queries, {int(cs.valid.sum())} candidates", file=sys.stderr)
    return cs
