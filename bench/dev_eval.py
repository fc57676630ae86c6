"""In-process retrieval scores for quick iteration (final figures come from ../shared/bench/evaluate.py)."""
from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from ragls.indexer.index import Index
from ragls.indexer.retrieve import Query, Retriever


def overlaps(item: dict, spans: list[list[int]]) -> bool:
    return any(item["start_line"] <= e and s <= item["end_line"] for s, e in spans)


def score(work: Path, stem: str, mode: str) -> dict:
    repo = work / stem
    qfile = work / (f"{stem}.queries.jsonl" if mode == "completion" else f"{stem}.explain.queries.jsonl")
    queries = [json.loads(ln) for ln in qfile.open()]
    index = Index.open(repo, data_dir=work / "idx" / stem)
    if not index.exists():
        index.refresh(progress=False)
    r = Retriever(index)
    lines_cache: dict[str, list[str]] = {}
    hits5 = hits10 = all10 = 0.0
    toks, lat = [], []
    for q in queries:
        t0 = time.perf_counter()
        items = [i.to_json() for i in r.context(Query(q["path"], q["line"], q["col"], q.get("end_line")), k=10)]
        lat.append((time.perf_counter() - t0) * 1000)
        kk = 5 if mode == "completion" else 10

        def text(it: dict) -> str:
            ls = lines_cache.setdefault(it["path"], (repo / it["path"]).read_text(errors="replace").splitlines(True))
            return "".join(ls[it["start_line"] - 1: it["end_line"]])

        toks.append(sum(max(1, len(text(it)) // 4) for it in items[:kk]))
        ranks = []
        for g in q["gold"]:
            rk = next((n for n, it in enumerate(items, 1) if it["path"] == g["path"] and overlaps(it, g["spans"])),
                      None)
            ranks.append(rk)
        if mode == "completion":
            best = min((x for x in ranks if x), default=None)
            hits5 += bool(best and best <= 5)
            hits10 += bool(best and best <= 10)
        else:
            hits5 += sum(bool(x and x <= 5) for x in ranks) / len(ranks)
            hits10 += sum(bool(x and x <= 10) for x in ranks) / len(ranks)
            all10 += all(x and x <= 10 for x in ranks)
    n = len(queries)
    lat.sort()
    return {"pkg": stem, "n": n, "sR@5": hits5 / n, "sR@10": hits10 / n, "all@10": all10 / n,
            f"tok@{kk}": statistics.mean(toks), "p50": lat[n // 2], "p95": lat[int(0.95 * n)]}


def main() -> None:
    work = Path(sys.argv[1] if len(sys.argv) > 1 else "bench/work")
    mode = sys.argv[2] if len(sys.argv) > 2 else "completion"
    stems = sorted(p.name for p in work.iterdir()
                   if p.is_dir() and (p / "..").exists() and (p.parent / f"{p.name}.queries.jsonl").exists())
    rows = [score(work, s, mode) for s in stems]
    for r in rows:
        print("  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
    keys = [k for k in rows[0] if k not in ("pkg", "n")]
    print("MACRO  " + "  ".join(f"{k}={statistics.mean(r[k] for r in rows):.3f}" for k in keys))


if __name__ == "__main__":
    main()
