"""Which file the next edit goes in first: the ranked places' files weighed as files, not line by line.

The line ranker (indexer/nextedit.py) scores each line for itself; whether the change is done with the cursor's
file is a question about files. A file is described by its places in the ranking (the best one's score against
the best of all, its share of the ranking's probability mass, how early it comes, how many of the first ten it
has), what it is to the change (the cursor's file, a test file of a change to code, a file the edits touched) and
the signals of its best place. Their weights (FILE_WEIGHTS) are a listwise logistic regression over each query's
files, fitted by bench/train_nextedit.py after the line weights: the file it favours gives the first place (its
best), the rest keep their order.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from .nextedit_tests import is_test

POOL = 30  # places of the ranking the file choice reads
FILES = 8  # files it weighs: the first ones to appear in the ranking

FILE_FEATURES = ("best", "mass", "cursor", "test", "edited", "rank", "top10")  # then the best place's line features,
# each named "place_" and its name in indexer/nextedit.py FEATURES
# fitted with indexer/nextedit.py WEIGHTS (the same command and queries), under them. Each benchmark repository
# measured by the fit on the other repositories' queries (macro): file@1 0.627 -> 0.680, R@1 0.413 -> 0.433, R@5 0.600
FILE_WEIGHTS = {"best": 0.073, "mass": 0.709, "cursor": 0.863, "test": -1.852, "edited": -0.553, "rank": -0.296,
                "top10": -1.519, "place_gone": -0.035, "place_defined": -0.148, "place_sibling": -0.129,
                "place_similar": 0.261, "place_history": -0.529, "place_below": -0.462, "place_below_near": -1.092,
                "place_above": -0.465, "place_here": 0.863, "place_definition": 0.241, "place_test": 1.541,
                "place_broken": 0.0, "place_new_test": -0.602, "place_new_test_first": 0.572, "place_lexical": -0.834,
                "place_lexical_rank": 0.282, "place_unused": -0.292, "place_fragment": -0.578, "place_test_end": -1.184,
                "place_test_end_affinity": 0.02, "place_tested": 0.363, "place_missing": 0.908}


def file_rows(paths: Sequence[str], scores: Sequence[float], features: Sequence[Sequence[float]], cursor_path: str,
              edited: set[str]) -> list[tuple[int, list[float]]]:
    """For each of the first FILES files of a ranking (its places' paths, scores and line features, best first):
    the index of its best place and the file's features (FILE_FEATURES, then the best place's line features)."""
    if not paths:
        return []
    top = max(scores)
    total = sum(math.exp(s - top) for s in scores)
    first: dict[str, int] = {}
    mass: dict[str, float] = {}
    top10: dict[str, int] = {}
    for n, (p, s) in enumerate(zip(paths, scores, strict=True)):
        first.setdefault(p, n)
        mass[p] = mass.get(p, 0.0) + math.exp(s - top)
        top10[p] = top10.get(p, 0) + (n < 10)
    cursor_is_test = is_test(cursor_path)
    rows = []
    for p, n in list(first.items())[:FILES]:
        rows.append((n, [
            scores[n] - top,
            math.log(mass[p] / total),
            1.0 if p == cursor_path else 0.0,
            1.0 if is_test(p) and not cursor_is_test else 0.0,
            1.0 if p in edited else 0.0,
            math.log1p(n),
            top10[p] / 10,
            *features[n],
        ]))
    return rows


def names(place_features: Sequence[str]) -> list[str]:
    """The names of a file's features, given the line features' names."""
    return [*FILE_FEATURES, *(f"place_{f}" for f in place_features)]


def first_place(rows: list[tuple[int, list[float]]], place_features: Sequence[str],
                weights: dict[str, float] | None = None) -> int:
    """The index of the place to show first: the best place of the file (`file_rows`) the weights favour (0
    without weights or rows)."""
    w = FILE_WEIGHTS if weights is None else weights
    if not w:
        return 0
    vec = [w.get(f, 0.0) for f in names(place_features)]
    return max(rows, key=lambda r: (sum(a * b for a, b in zip(vec, r[1], strict=True)), -r[0]), default=(0, []))[0]
