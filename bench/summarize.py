"""Tabulate the harness's run files: ragls next to the baselines, macro averages first, one table per mode."""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

RETRIEVERS = ["bm25", "jaccard", "imports", "imports_bm25", "ragls"]
COLS = {
    "completion": ["strict_recall@1", "strict_recall@5", "strict_recall@10", "strict_mrr@10", "recall@5", "recall@10",
                   "tokens@5"],
    "explain": ["strict_recall@5", "strict_recall@10", "strict_all@10", "all@10", "tokens@10"],
}
TAIL = ["latency_ms_p50", "latency_ms_p95", "index_s"]


def fmt(col: str, v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.0f}" if col.startswith("tokens") else f"{v:.1f}" if col.startswith("latency") else f"{v:.3f}" \
        if "@" in col else f"{v:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("names", nargs="+")
    a = ap.parse_args()
    md = ["# Retrieval benchmark (../shared/bench)", ""]
    for mode, suffix in (("completion", ""), ("explain", ".explain")):
        cols = COLS[mode] + TAIL
        md += [f"## {mode}", "", "| package | n | retriever | " + " | ".join(cols) + " |",
               "|" + "---|" * (len(cols) + 3)]
        rows: dict[str, list[dict]] = {r: [] for r in RETRIEVERS}
        per_pkg = []
        for name in a.names:
            for r in RETRIEVERS:
                p = Path(a.runs) / f"{name}{suffix}.{r}.json"
                if p.exists():
                    res = json.loads(p.read_text())
                    rows[r].append(res)
                    per_pkg.append((name, r, res))
        for r, rs in rows.items():
            if rs:
                vals = [fmt(c, statistics.mean(x[c] for x in rs) if all(x.get(c) is not None for x in rs) else None)
                        for c in cols]
                md.append(f"| **macro avg** ({len(rs)}) | {sum(x['n'] for x in rs)} | {r} | " + " | ".join(vals) + " |")
        for name, r, res in per_pkg:
            md.append(f"| {name} | {res['n']} | {r} | " + " | ".join(fmt(c, res.get(c)) for c in cols) + " |")
        md.append("")
    Path(a.out).write_text("\n".join(md))
    print("\n".join(md))


if __name__ == "__main__":
    main()
