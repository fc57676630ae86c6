"""The paired latency script (bench/pair.py) loads another checkout beside this one and asks both the same queries."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import write_tree

ROOT = Path(__file__).resolve().parent.parent


def test_two_checkouts_answer_the_same_queries_side_by_side(tmp_path: Path) -> None:
    repo = write_tree(tmp_path / "repo", {
        "pkg/lib.py": "def helper(x):\n    return x + 1\n",
        "pkg/app.py": "from pkg.lib import helper\n\n\ndef run(y):\n    return helper(y)\n",
    })
    env = {**os.environ, "RAGLS_HOME": str(tmp_path / "home")}
    subprocess.run([sys.executable, "-m", "ragls.indexer.cli", "index", str(repo), "-q"], env=env, check=True,
                   timeout=300)
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"path": "pkg/app.py", "line": 5, "col": 11}) + "\n"
                       + json.dumps({"path": "pkg/app.py", "line": 2, "col": 0}) + "\n")
    figures = tmp_path / "pair.json"
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "pair.py"), "--base", str(ROOT), "--repo", str(repo),
                          "--queries", str(queries), "--passes", "2", "--json", str(figures)],
                         env=env, capture_output=True, text=True, check=True, timeout=300).stdout
    assert "same answers: 4 of 4 (2 queries x 2 passes)" in out
    got = json.loads(figures.read_text())
    assert got["base"]["p95_ms"] > 0 and got["new"]["p95_ms"] > 0
