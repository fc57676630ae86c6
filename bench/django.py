"""Indexing and latency figures on Django 5.2's package folder: cold index, one-file re-index, context p50/p95 (in
a fresh retriever, whose first queries also work out the graph's answers they meet first, and in one warmed and primed
as the language server's is; each query is the first in its file either way).

usage: python bench/django.py [--work bench/work] [--queries 300]
Downloads the Django 5.2.8 sdist from PyPI once (the benchmark, not ragls, needs the network)."""
from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ragls.indexer.index import Index
from ragls.indexer.retrieve import Query, Retriever
from sdist import sdist_folder  # bench/sdist.py (bench/ is the script's folder)


EDITED = 60  # files edited and indexed again, one by one


def django_folder(work: Path) -> Path:
    return sdist_folder(work, "django", "5.2.8") / "django"


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))]


def timed(retriever: Retriever, q: Query) -> float:
    t = time.perf_counter()
    retriever.context(q)
    return (time.perf_counter() - t) * 1000


def served(index: Index) -> Retriever:
    """A retriever as the language server's is when the first request comes: warmed (graph, postings, tokenizer),
    then primed (every class's members worked out), where the code has those steps. Its per-file caches start empty,
    so each query is still the first in its file, as in the fresh retriever."""
    r = Retriever(index)
    r.warm()
    if (prime := getattr(r, "prime", None)) is not None:  # older code (before 2026-12-01) has none
        prime()
    return r


def latency(repo: Path, data: Path, n: int, protocol: str) -> None:
    """One protocol's context latency, in a process of its own (the other's would leave its caches behind: compiled
    patterns, the chains of types read). The queries are those of the files sampled after the edited ones."""
    index = Index.open(repo, data_dir=data)
    rng = random.Random(0)
    py = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*.py"))
    rng.sample(py, EDITED)  # the files main() edited: the same draw, so the same queries
    queries = []
    for rel in rng.choices(py, k=n):
        lines = (repo / rel).read_text(errors="replace").split("\n")
        cands = [i for i, ln in enumerate(lines, 1) if ln.strip() and i > 5]
        if cands:
            ln = rng.choice(cands)
            text = lines[ln - 1]
            queries.append(Query(rel, ln, len(text) - len(text.lstrip())))
    if protocol == "served":
        retriever, label = served(index), "as the language server holds it"
    else:
        retriever, label = Retriever(index), "a fresh retriever"
    retriever.context(queries[0])
    lat = [timed(retriever, q) for q in queries]
    sel = [timed(retriever, Query(q.path, max(1, q.line - 15), end_line=q.line)) for q in queries[:100]]
    print(f"context, {label}: cursor over {len(lat)} random positions p50 {pct(lat, .5):.1f} ms, "
          f"p95 {pct(lat, .95):.1f} ms; selection (15 lines) p50 {pct(sel, .5):.1f} ms, p95 {pct(sel, .95):.1f} ms; "
          f"process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="bench/work")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--latency", choices=("fresh", "served"), help=argparse.SUPPRESS)  # main() runs each
    a = ap.parse_args()
    work = Path(a.work).resolve()
    repo = django_folder(work)
    data = work / "idx-django"
    if a.latency:
        latency(repo, data, a.queries, a.latency)
        return
    shutil.rmtree(data, ignore_errors=True)
    t0 = time.perf_counter()
    out = subprocess.run(["ragls", "index", str(repo), "--data-dir", str(data), "--json", "-q"],
                         capture_output=True, text=True, check=True)
    cold = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    summary = json.loads(out.stdout)
    print(f"cold index: {cold:.2f} s wall ({summary['seconds']:.2f} s in ragls), {summary['files']} files, "
          f"{summary['symbols']} symbols, {summary['chunks']} chunks; peak RSS of the largest process {peak_mb:.0f} MB")

    index = Index.open(repo, data_dir=data)
    rng = random.Random(0)
    py = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*.py"))
    times = []
    for rel in rng.sample(py, EDITED):
        path = repo / rel
        original = path.read_bytes()
        edited = original + b"\n# edited by the benchmark\n"
        t = time.perf_counter()
        index.update_file(rel, edited)
        times.append((time.perf_counter() - t) * 1000)
        index.update_file(rel, original)
    print(f"one changed file re-indexed (update_file): p50 {pct(times, .5):.1f} ms, p95 {pct(times, .95):.1f} ms")

    t = time.perf_counter()
    Index.open(repo, data_dir=data).refresh(progress=False)
    print(f"full refresh after those updates (no file changed; stored graph edges recomputed): "
          f"{(time.perf_counter() - t) * 1000:.0f} ms", flush=True)
    for protocol in ("fresh", "served"):
        subprocess.run([sys.executable, __file__, "--work", str(work), "--queries", str(a.queries),
                        "--latency", protocol], check=True)


if __name__ == "__main__":
    main()
