"""Real measurements: the harness's evaluate.py running `ragls context --batch` (through engine.py, with the hand
weights or a given ranking.json) on a package's index left by its dump."""
from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

from .corpus import Package
from .dump import ENGINE, engine_env, index_dir

KEYS = {"completion": ("strict_recall@1", "strict_recall@5", "strict_recall@10", "recall@10", "tokens@5"),
        "explain": ("all@10", "strict_all@10", "recall@10", "tokens@10")}


def run(pkg: Package, mode: str, weights: Path | None, work: Path, harness: Path, label: str) -> dict[str, float]:
    """The harness's figures for one package and mode (weights None: the hand-set ones)."""
    out = work / "runs" / f"{pkg.name}.{mode}.{label}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    which = ["--hand"] if weights is None else ["--weights", str(weights)]
    engine = " ".join(shlex.quote(a) for a in [sys.executable, str(ENGINE), *which])
    cmd = f"{engine} context --repo {{repo}} --batch {{queries}} --k 10 --json --data-dir " \
          f"{shlex.quote(str(index_dir(work, pkg)))}"
    subprocess.run([sys.executable, "evaluate.py", "--queries", str(pkg.queries[mode]), "--repo", str(pkg.repo),
                    "--retriever", "cmd", "--name", label, "--cmd", cmd, "--out", str(out)],
                   cwd=harness, env=engine_env(work), check=True, stdout=subprocess.DEVNULL)
    res = json.loads(out.read_text())
    if res.get("n_errors"):
        print(f"{pkg.name} {mode} {label}: {res['n_errors']} errors: {res['errors'][:2]}", file=sys.stderr)
    return {k: float(res[k]) for k in KEYS[mode]}
