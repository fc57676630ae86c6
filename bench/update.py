"""One-file update figures on a large repository: `ragls index` after one edit (wall and CPU), the language server's
in-process `update_file` and the next reader's graph patch (p50/p95).

usage: python bench/update.py CORPUS [--work DIR] [--in-place] [--cli-edits 5] [--edits 20] [--profile FILE]
CORPUS (a folder, e.g. sympy-1.14.0 extracted) is copied once into DIR (default: bench/work/update) and indexed
there (RAGLS_HOME=DIR/home); each edit appends a small definition to one of the longest Python files, so its last
chunk changes, a symbol is added and the edges see a new name. Figures print to stdout, logs go to stderr."""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))]


def largest(root: Path, n: int) -> list[str]:
    """The n Python files of most lines (not of most bytes: those are a few generated expressions)."""
    files = [p for p in root.rglob("*.py") if p.is_file() and ".git" not in p.parts]
    lines = {p: p.read_bytes().count(b"\n") for p in files}
    files.sort(key=lambda p: (-lines[p], str(p)))
    return [p.relative_to(root).as_posix() for p in files[:n]]


def children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def ragls(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "ragls.indexer.cli", *args], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def edit(text: str, n: int) -> str:
    return text + f"\n\ndef _ragls_bench_edit_{n}():\n    return {n}\n"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--work", type=Path, default=Path("bench/work/update"))
    ap.add_argument("--cli-edits", type=int, default=5)
    ap.add_argument("--edits", type=int, default=20)
    ap.add_argument("--in-place", action="store_true", help="edit CORPUS itself (restored at the end), not a copy")
    ap.add_argument("--profile", type=Path, help="write a cProfile of the in-process updates here")
    args = ap.parse_args()
    repo = args.corpus.resolve() if args.in_place else args.work / args.corpus.resolve().name
    if not repo.is_dir():
        shutil.copytree(args.corpus, repo)
    env = {**os.environ, "RAGLS_HOME": str((args.work / "home").resolve()), "ANONYMIZED_TELEMETRY": "False"}
    os.environ.update(env)
    t0, c0 = time.perf_counter(), children_cpu()
    ragls("index", str(repo), "-q", env=env)  # cold the first time, else the edits of an earlier run
    print(f"index before the edits: {time.perf_counter() - t0:.2f} s wall, {children_cpu() - c0:.2f} s CPU")
    targets = largest(repo, max(args.cli_edits, args.edits + 1))
    originals = {rel: (repo / rel).read_text() for rel in targets}
    try:
        walls, cpus = [], []
        for i, rel in enumerate(targets[:args.cli_edits]):
            (repo / rel).write_text(edit(originals[rel], i))
            t0, c0 = time.perf_counter(), children_cpu()
            ragls("index", str(repo), "-q", env=env)
            walls.append(time.perf_counter() - t0)
            cpus.append(children_cpu() - c0)
        print(f"CLI one-file `ragls index` ({len(walls)} edits): wall p50 {pct(walls, .5):.2f} s, max "
              f"{max(walls):.2f} s; CPU p50 {pct(cpus, .5):.2f} s, max {max(cpus):.2f} s")
        if args.edits:
            in_process(repo, targets, originals, args)
    finally:
        for rel, text in originals.items():
            (repo / rel).write_text(text)
        ragls("index", str(repo), "-q", env=env)


def in_process(repo: Path, targets: list[str], originals: dict[str, str], args: argparse.Namespace) -> None:
    from ragls.indexer.index import Index
    from ragls.indexer.retrieve import Query, Retriever

    index = Index.open(repo)
    retriever = Retriever(index)
    retriever.warm()
    first = targets[0]
    index.update_file(first, edit(originals[first], 1000).encode())  # warm-up: model, vector store, tokenizer
    _ = retriever.graph
    walls, cpus, patches, queries = [], [], [], []
    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
    for i, rel in enumerate(targets[1:args.edits + 1]):
        data = edit(originals[rel], 2000 + i).encode()
        t0, c0 = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        index.update_file(rel, data)
        if profiler:
            profiler.disable()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        t0 = time.perf_counter()
        _ = retriever.graph
        patches.append(time.perf_counter() - t0)
        line = data.decode().count("\n")
        t0 = time.perf_counter()
        retriever.context(Query(rel, line, 4), k=10, source=data.decode())
        queries.append(time.perf_counter() - t0)
    ms = lambda v: f"p50 {pct(v, .5) * 1000:.0f} ms, p95 {pct(v, .95) * 1000:.0f} ms"  # noqa: E731
    print(f"in-process update_file ({len(walls)} edits of the largest files): wall {ms(walls)}; CPU {ms(cpus)}")
    print(f"reader's graph patch on the next query: {ms(patches)}; that whole query: {ms(queries)}")
    if profiler:
        profiler.dump_stats(str(args.profile))
    for rel in targets[:args.edits + 1]:
        index.update_file(rel, originals[rel].encode())


if __name__ == "__main__":
    main()
