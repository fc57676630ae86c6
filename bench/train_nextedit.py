"""Fits the next-edit ranker's feature weights (indexer/nextedit.py WEIGHTS, indexer/nextedit_files.py FILE_WEIGHTS)
on the next-edit benchmark, with leave-one-repository-out cross-validation, and prints the figures and the weights
to ship.

usage: python bench/train_nextedit.py --work WORK [--repos requests,werkzeug,ky] [--l2 0.001]
          [--train-work TWORK --train-repos requests.train,werkzeug.train,ky.train,trpc.train,apollo-client.train]
Each query's candidates are kept in memory for the fits (about 10 GB for the 1,708 queries; 5 minutes on 2 cores).
WORK is the benchmark's work folder (../shared/bench/nextedit: `WORK=... GIT_MIRRORS=... bash run_all.sh` builds
WORK/queries/NAME.queries.jsonl and WORK/states/). Those repositories are what ../shared/bench/TRAINING.md allows
for next-edit tuning. The model is a listwise softmax over each query's candidate lines (the engine's own
candidates and features): it maximises the probability of the lines whose region (nextedit.region: the 10 lines a
location stands for) comes within 3 lines of a remaining hunk (the benchmark's hit rule). Each repository is then
measured by the fit on the others, through the engine's own ranking (its spacing of locations included):
recall@1/5/10, file@1.

With --train-work, the fit uses other queries mined from the same repositories (bench/nextedit_trainset.py: the
benchmark's mine.py with another seed, the benchmark's commits left out, built by its build.py into TWORK) and
from the TypeScript projects it adds: each benchmark repository is measured by the fit on the training queries of
the other repositories, and the weights to ship are fitted on all of them (the shipped WEIGHTS are fitted so).

A second fit, with the line weights of the same fold, weighs each query's files (indexer/nextedit_files.py: the
first FILES files of its ranking) the same listwise way, for the files that hold a remaining hunk: it chooses the
file of the first place (FILE_WEIGHTS).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from ragls.indexer.hunks import parse
from ragls.indexer.nextedit import (
    FEATURES,
    WEIGHTS,
    Candidates,
    Corpus,
    ScanCache,
    candidates,
    choice_rows,
    locate,
    ranking,
    region,
    room_below,
)
from ragls.indexer.nextedit_cli import state_corpus
from ragls.indexer.nextedit_files import FILE_WEIGHTS, POOL, names

Query = tuple[Corpus, dict, list, Candidates]


def load(work: Path, name: str, cache: ScanCache) -> list[Query]:
    out = []
    for raw in (work / "queries" / f"{name}.queries.jsonl").read_text(encoding="utf-8").splitlines():
        q = json.loads(raw)
        history = [h for e in q["history"] for h in parse(e["path"], e["diff"])]
        corpus = state_corpus(work / "states" / q["state"], cache)
        out.append((corpus, q, history, candidates(corpus, q["cursor"]["path"], q["cursor"]["line"], history)))
    return out


def hit(path: str, start: int, end: int, gold: list[dict]) -> bool:
    """The benchmark's rule: a region (its first 10 lines) within 3 lines of a remaining hunk."""
    end = min(end, start + 9)
    return any(path == g["path"] and start <= g["end_line"] + 3 and end >= g["start_line"] - 3 for g in gold)


def dataset(queries: list[Query]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per query: the candidates' features and whether the region of each is a hit (queries without a hit are left
    out)."""
    out = []
    for corpus, q, _history, c in queries:
        length = {p: len(s.lines) if (s := corpus.scan(p)) is not None else i + 1 for p, i in c.lines}
        y = np.array([hit(p, *region(i + 1, max(length[p], i + 1)), q["gold"]) for p, i in c.lines],
                     dtype=float)
        if y.any():
            out.append((np.array(c.features, dtype=float), y))
    return out


def file_dataset(queries: list[Query], weights: dict[str, float]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per query: its files' features under the line weights, and whether each holds a remaining hunk."""
    out = []
    for corpus, q, history, c in queries:
        ranked = ranking(corpus, q["cursor"]["path"], q["cursor"]["line"], history, POOL, weights, c)
        room = room_below(corpus, q["cursor"]["path"], q["cursor"]["line"])
        # none where broken code leads: no file is chosen
        rows = choice_rows(ranked, q["cursor"]["path"], history, room)
        gold = {g["path"] for g in q["gold"]}
        y = np.array([ranked[n][0].path in gold for n, _ in rows], dtype=float)
        if len(rows) > 1 and y.any():
            out.append((np.array([x for _, x in rows], dtype=float), y))
    return out


def fit(data: list[tuple[np.ndarray, np.ndarray]], width: int, l2: float, steps: int = 400) -> np.ndarray:
    """Listwise softmax: maximise each query's probability mass on its hits (Adam, L2, from zero weights: the fit
    does not depend on the weights shipped)."""
    w = np.zeros(width)
    if not data:
        return w
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t in range(1, steps + 1):
        grad = l2 * w
        for x, y in data:
            s = x @ w
            p = np.exp(s - s.max())
            p /= p.sum()
            q = p * y
            q /= q.sum()
            grad += (x.T @ (p - q)) / len(data)
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad ** 2
        w -= 0.05 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    return w


def measure(queries: list[Query], weights: dict[str, float], file_weights: dict[str, float]) -> dict[str, float]:
    """recall@1/5/10 and file@1 of the locations (their regions), and recall@1/5 of their lines alone."""
    got = dict.fromkeys(("R@1", "R@5", "R@10", "file@1", "line R@1", "line R@5"), 0)
    for corpus, q, history, c in queries:
        found = locate(corpus, q["cursor"]["path"], q["cursor"]["line"], history, 10, weights, file_weights, c)
        first = next((n for n, loc in enumerate(found) if hit(loc.path, loc.start, loc.end, q["gold"])), 99)
        line = next((n for n, loc in enumerate(found) if hit(loc.path, loc.line, loc.line, q["gold"])), 99)
        for name, k, at in (("R@1", 1, first), ("R@5", 5, first), ("R@10", 10, first), ("line R@1", 1, line),
                            ("line R@5", 5, line)):
            got[name] += at < k
        got["file@1"] += bool(found) and found[0].path in {g["path"] for g in q["gold"]}
    return {m: v / max(len(queries), 1) for m, v in got.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--repos", default="requests,werkzeug,ky")
    ap.add_argument("--l2", type=float, default=0.001)
    ap.add_argument("--train-work", type=Path)
    ap.add_argument("--train-repos", default="")
    a = ap.parse_args()
    repos = a.repos.split(",")
    cache = ScanCache()
    queries = {n: load(a.work, n, cache) for n in repos}
    fitted = {n: load(a.train_work, n, cache) for n in a.train_repos.split(",") if n} if a.train_work else queries
    data = {n: dataset(qs) for n, qs in fitted.items()}
    file_names = names(FEATURES)

    def fit_both(use: list[str]) -> tuple[dict[str, float], dict[str, float]]:
        """Line weights on the named sets' queries, then file weights on the same queries under them."""
        line_fit = fit([d for n in use for d in data[n]], len(FEATURES), a.l2)
        lines = dict(zip(FEATURES, map(float, line_fit), strict=True))
        files = fit([d for n in use for d in file_dataset(fitted[n], lines)], len(file_names), a.l2)
        return lines, dict(zip(file_names, map(float, files), strict=True))

    rows = {}
    for held in repos:
        fold, fold_files = fit_both([n for n in fitted if n.split(".")[0] != held])
        rows[held] = {"hand": measure(queries[held], WEIGHTS, FILE_WEIGHTS),
                      "cv": measure(queries[held], fold, fold_files),
                      "cv lines only": measure(queries[held], fold, {})}
        print(held, {k: {m: round(x, 3) for m, x in v.items()} for k, v in rows[held].items()}, flush=True)
    for which in rows[repos[0]]:
        macro = {m: round(float(np.mean([rows[n][which][m] for n in repos])), 3) for m in rows[repos[0]][which]}
        print("macro", which, macro)
    final, final_files = fit_both(list(fitted))
    print("weights to ship:", json.dumps({f: round(x, 3) for f, x in final.items()}))
    print("file weights to ship:", json.dumps({f: round(x, 3) for f, x in final_files.items()}))


if __name__ == "__main__":
    main()
