"""Candidate dumps: the top candidates of every query with their features, from real `ragls context` runs (hand
weights, one cold index per package), cached until ragls's retrieval code or the queries change."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .corpus import Package, read_queries

ENGINE = Path(__file__).with_name("engine.py")
DUMP_K, DUMP_BUDGET = 50, 1_000_000


def ragls_fingerprint() -> str:
    """A hash of the engine's code (every source and query file of ragls.indexer, the weights file left out)."""
    import ragls.indexer as pkg

    root = Path(pkg.__file__).parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and p.suffix in (".py", ".scm") and "__pycache__" not in p.parts:
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def engine_env(work: Path) -> dict[str, str]:
    """ragls's data under the work folder; the static model's cut vocabulary derived once, outside RAGLS_HOME."""
    return {**os.environ, "RAGLS_HOME": str(work / "home"),
            "RAGLS_MODELS": os.environ.get("RAGLS_MODELS", str(work / "models")), "ANONYMIZED_TELEMETRY": "False"}


def index_dir(work: Path, pkg: Package) -> Path:
    return work / "idx" / pkg.name


def batch_file(queries: list[dict], path: Path) -> Path:
    """The engine's input: what a user's editor would send (path, line, col and end_line), nothing of the gold."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for q in queries:
            f.write(json.dumps({k: q[k] for k in ("path", "line", "col", "end_line") if k in q}) + "\n")
    return path


def dump_package(pkg: Package, work: Path, fingerprint: str, reuse: bool = False) -> dict[str, Path]:
    """The dump file per mode (JSONL, one ragls answer per query); rebuilt with a cold index when stale."""
    out = {m: work / "dumps" / f"{pkg.name}.{m}.jsonl" for m in pkg.queries}
    keys = {m: f"{fingerprint} {hashlib.sha256(q.read_bytes()).hexdigest()[:16]} {DUMP_K}"
            for m, q in pkg.queries.items()}
    fresh = {m: p.exists() and p.with_suffix(".key").exists()
             and (reuse or p.with_suffix(".key").read_text() == keys[m]) for m, p in out.items()}
    if all(fresh.values()):
        return out
    env, data = engine_env(work), index_dir(work, pkg)
    shutil.rmtree(data, ignore_errors=True)  # a cold index: what a first run on the package sees
    t0 = time.perf_counter()
    subprocess.run([sys.executable, str(ENGINE), "--hand", "index", str(pkg.repo), "-q", "--data-dir", str(data)],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    for mode, path in out.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        queries = read_queries(pkg.queries[mode])
        batch = batch_file(queries, work / "batches" / f"{pkg.name}.{mode}.jsonl")
        with path.open("w") as f:
            subprocess.run([sys.executable, str(ENGINE), "--hand", "context", "--repo", str(pkg.repo), "--batch",
                            str(batch), "--k", str(DUMP_K), "--budget", str(DUMP_BUDGET), "--json",
                            "--data-dir", str(data)], env=env, check=True, stdout=f)
        n = sum(1 for _ in path.open())
        if n != len(queries):
            raise RuntimeError(f"{path}: {n} answers for {len(queries)} queries")
        path.with_suffix(".key").write_text(keys[mode])
    print(f"dumped {pkg.name} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    return out
