"""Paired latency of `context` for two checkouts of ragls, in one process: the measure of a change of a few ms.

usage: python bench/pair.py --base CHECKOUT --repo REPO --queries FILE [--passes 3] [--json FILE]

On a shared machine a run of `bench/scale.py` can be twice as slow as the next (the same code gave redis's deep p95
29-48 ms within ten minutes), so two runs one after the other cannot tell a change of a few milliseconds from the
machine's phases. This loads the ragls this Python imports ("new") and the `indexer/` of another checkout ("base",
for example a `git worktree` of an older commit) side by side, opens the same built index with both, and asks every
query of each in alternating order, so that both meet the same phases. Each pass starts with empty per-file caches
(the scans, and what-came-next's file texts where a checkout keeps them; the graph's answers are kept, as a
long-lived process keeps them); the fastest of the passes counts for each query. It prints mean, p50 and p95 per
side, and how many answers (the paths and lines of the items) were the same. The index is built by the new code
(`ragls index REPO` first); the base must read the same catalog format. Queries are JSONL lines
`{"path", "line", "col"}` (scale.py writes q_deep.jsonl and q_shallow.jsonl in its --work folder).
"""
from __future__ import annotations

import argparse
import importlib
import json
import statistics
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from scale import pct  # bench/scale.py (bench/ is the script's folder): the p95 its query target is measured by

SUBPACKAGES = ("indexer", "prompts", "server")


def load_base(checkout: Path, into: Path) -> ModuleType:
    """The base checkout's `ragls.indexer.retrieve`, imported as package `ragls_base` (links under `into`)."""
    package = into / "ragls_base"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in SUBPACKAGES:
        if (checkout / name).is_dir():
            (package / name).symlink_to((checkout / name).resolve())
    sys.path.insert(0, str(into))
    return importlib.import_module("ragls_base.indexer.retrieve")


def measure(sides: dict[str, ModuleType], repo: Path, queries: list[dict[str, Any]], passes: int) -> dict[str, Any]:
    retrievers = {}
    for name, retrieve in sides.items():
        index_module = importlib.import_module(retrieve.__name__.rsplit(".", 1)[0] + ".index")
        retrievers[name] = retrieve.Retriever(index_module.Index.open(repo))
        retrievers[name].warm()
    best = {name: [float("inf")] * len(queries) for name in sides}
    same = 0
    for n in range(passes):
        for name, retrieve in sides.items():
            visible = importlib.import_module(retrieve.__name__.rsplit(".", 1)[0] + ".visible")
            r = retrievers[name]
            r._scans = visible.Scans()
            if (nxt := getattr(r, "_next", None)) is not None:  # what-came-next's caches, where it keeps any
                for cache in ("_texts", "_files"):
                    getattr(nxt, cache, {}).clear()
        for i, q in enumerate(queries):
            order = list(sides) if (i + n) % 2 == 0 else list(sides)[::-1]
            answers = []
            for name in order:
                retrieve = sides[name]
                items, ms = retrieve.timed_context(retrievers[name], retrieve.Query(q["path"], q["line"], q.get("col")),
                                                   k=10)
                best[name][i] = min(best[name][i], ms)
                answers.append([(it.path, it.start_line, it.end_line) for it in items])
            same += answers[0] == answers[1]
    out: dict[str, Any] = {"queries": len(queries), "passes": passes, "same_answers": same,
                           "answers": len(queries) * passes}
    for name, ms in best.items():
        out[name] = {"mean_ms": statistics.fmean(ms), "p50_ms": pct(ms, 0.5), "p95_ms": pct(ms, 0.95)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", required=True, help="the other checkout (its indexer/ is imported)")
    ap.add_argument("--repo", required=True, help="an indexed repository")
    ap.add_argument("--queries", required=True, help="JSONL of {path, line, col}")
    ap.add_argument("--passes", type=int, default=3)
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args()
    from ragls.indexer import retrieve as new

    queries = [json.loads(line) for line in Path(a.queries).read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as links:
        base = load_base(Path(a.base), Path(links))
        got = measure({"base": base, "new": new}, Path(a.repo).resolve(), queries, a.passes)
    for name in ("base", "new"):
        f = got[name]
        print(f"{name:5} mean {f['mean_ms']:6.2f} ms   p50 {f['p50_ms']:6.1f} ms   p95 {f['p95_ms']:6.1f} ms")
    print(f"same answers: {got['same_answers']} of {got['answers']} "
          f"({got['queries']} queries x {got['passes']} passes)")
    if a.json:
        Path(a.json).write_text(json.dumps(got, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
