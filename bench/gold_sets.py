"""What the compiler-oracle benchmarks (bench/c_gold.py, bench/rust_gold.py) share: a function's queries from its
gold, and the seeded draw of each set written in the shared harness's format with its counts."""
from __future__ import annotations

import json
import random
from pathlib import Path


def gold(path: str, name: str, start: int, end: int, kind: str) -> dict:
    """One gold definition: the whole span counts (`spans`)."""
    return {"path": path, "name": name, "start_line": start, "end_line": end, "kind": kind, "spans": [[start, end]]}


def add_queries(completion: list[dict], explain: list[dict], path: str, func: str, start: int, end: int,
                uses: list[tuple[dict, int, int, str]]) -> None:
    """A function's queries from its gold, each with the first use (line, 0-based column, name) of it: one completion
    query per gold at that use, and the explain query of the whole function when it has at least two."""
    for g, line, col, ident in uses:
        completion.append({"path": path, "line": line, "col": col, "func": func, "ident": ident, "gold": [g],
                           "via": [g["kind"]]})
    if len(uses) >= 2:
        explain.append({"mode": "explain", "path": path, "line": start, "end_line": end, "col": 0, "func": func,
                        "gold": [g for g, _, _, _ in uses]})


def write_sets(out: Path, name: str, completion: list[dict], explain: list[dict], n: int, seed: int
               ) -> dict[str, int]:
    """`n` of each set drawn with `seed` (in their order), written as NAME.queries.jsonl and
    NAME.explain.queries.jsonl; the counts, for the manifest."""
    rng = random.Random(seed)
    picked_c = sorted(rng.sample(range(len(completion)), min(n, len(completion))))
    picked_e = sorted(rng.sample(range(len(explain)), min(n, len(explain))))
    out.mkdir(parents=True, exist_ok=True)
    _write(out / f"{name}.queries.jsonl", [completion[i] for i in picked_c], name)
    _write(out / f"{name}.explain.queries.jsonl", [explain[i] for i in picked_e], f"{name}/explain")
    return {"completion_candidates": len(completion), "explain_candidates": len(explain),
            "completion": len(picked_c), "explain": len(picked_e), "seed": seed}


def _write(path: Path, queries: list[dict], prefix: str) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for i, q in enumerate(queries):
            fh.write(json.dumps({"id": f"{prefix}/{i:04d}", **q}) + "\n")
