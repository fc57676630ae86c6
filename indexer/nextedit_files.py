"""Which file the next edit goes in first: the ranked places' files weighed as files, not line by line.

The line ranker (indexer/nextedit.py) scores each line for itself; whether the change is done with the cursor's
file is a question about files. A file is described by its places in the ranking (the best one's score against
the best of all, its share of the ranking's probability mass, how early it comes, how many of the first ten it
has), what it is to the change (the cursor's file, with how much code is left below the cursor; a test file of a
change to code; a file the edits touched) and the signals of its best place. Their weights (FILE_WEIGHTS) are a
listwise logistic regression over each query's files, fitted by bench/train_nextedit.py after the line weights: the
file it favours gives the first place (its best), the rest keep their order.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from .nextedit_tests import is_test

POOL = 30  # places of the ranking the file choice reads
FILES = 8  # files it weighs: the first ones to appear in the ranking

# "room" and "end": the cursor's file's code below the cursor (log1p of its lines; none at all). Then the best place's
# line features, each named "place_" and its name in indexer/nextedit.py FEATURES.
FILE_FEATURES = ("best", "mass", "cursor", "test", "edited", "rank", "top10", "room", "end")
# fitted with indexer/nextedit.py WEIGHTS (the same command and queries), under them. Each benchmark repository
# measured by the fit on the other repositories' queries (macro): file@1 0.633 -> 0.707 (0.680 without "room" and
# "end"), R@1 0.420 -> 0.440, R@5 0.600
FILE_WEIGHTS = {"best": 0.119, "mass": 0.638, "cursor": 0.274, "test": -1.648, "edited": -0.773, "rank": -0.268,
                "top10": -1.826, "room": 0.381, "end": -1.274, "place_gone": -0.008, "place_defined": -0.081,
                "place_sibling": -0.102, "place_similar": 0.289, "place_history": -0.467, "place_below": -0.306,
                "place_below_near": -1.052, "place_above": 0.032, "place_here": 0.274, "place_definition": 0.328,
                "place_test": 1.397, "place_broken": 0.0, "place_new_test": -0.477, "place_new_test_first": 0.73,
                "place_lexical": -0.497, "place_lexical_rank": 0.143, "place_unused": -0.218, "place_fragment": -0.489,
                "place_test_end": -0.817, "place_test_end_affinity": 0.094, "place_tested": 0.418,
                "place_missing": 1.097}


def file_rows(paths: Sequence[str], scores: Sequence[float], features: Sequence[Sequence[float]], cursor_path: str,
              edited: set[str], room: int) -> list[tuple[int, list[float]]]:
    """For each of the first FILES files of a ranking (its places' paths, scores and line features, best first):
    the index of its best place and the file's features (FILE_FEATURES, then the best place's line features).
    `room`: the lines of code below the cursor in its file (an edit that reached the end of its file is done there
    more often than not)."""
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
            math.log1p(room) if p == cursor_path else 0.0,
            1.0 if p == cursor_path and room == 0 else 0.0,
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
