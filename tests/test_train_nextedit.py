"""The next-edit training script (bench/train_nextedit.py) fits and cross-validates on a tiny benchmark made here."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ragls.indexer.nextedit import FEATURES
from ragls.indexer.nextedit_files import names

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "train_nextedit.py"


def make_repo(work: Path, name: str, n: int) -> None:
    """n queries of one "repository": a function renamed in lib.py, its call in app.py still to change."""
    lines = []
    for k in range(n):
        state = f"{name}/s{k}"
        root = work / "states" / state
        (root / "pkg").mkdir(parents=True)
        old, new = f"compute_{k}", f"evaluate_{k}"
        filler = "".join(f"value_{i} = {i}\n" for i in range(30))
        (root / "pkg" / "lib.py").write_text(f"def {new}(x):\n    return x + {k}\n" + filler)
        (root / "pkg" / "app.py").write_text(filler + f"from .lib import {old}\n\nresult = {old}(2)\n")
        diff = f"@@ -1,2 +1,2 @@\n-def {old}(x):\n+def {new}(x):\n     return x + {k}\n"
        lines.append(json.dumps({"id": f"{name}/{k:04d}", "state": state,
                                 "cursor": {"path": "pkg/lib.py", "line": 1, "col": 0},
                                 "history": [{"path": "pkg/lib.py", "diff": diff}],
                                 "gold": [{"path": "pkg/app.py", "start_line": 31, "end_line": 31, "hunk": 2},
                                          {"path": "pkg/app.py", "start_line": 33, "end_line": 33, "hunk": 3}]}))
    (work / "queries").mkdir(parents=True, exist_ok=True)
    (work / "queries" / f"{name}.queries.jsonl").write_text("\n".join(lines) + "\n")


def test_the_script_fits_cross_validates_and_prints_every_feature_weight(tmp_path):
    for name in ("a", "b"):
        make_repo(tmp_path, name, 3)
    out = subprocess.run([sys.executable, str(SCRIPT), "--work", str(tmp_path), "--repos", "a,b"],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    macro = json.loads(next(line for line in out.splitlines() if line.startswith("macro cv")).split(" ", 2)[2]
                       .replace("'", '"'))
    assert macro["R@1"] == 1.0 and macro["file@1"] == 1.0  # the remaining call is the next edit, first
    shipped = {line.split(":", 1)[0]: json.loads(line.split(":", 1)[1]) for line in out.splitlines()
               if "weights to ship:" in line}
    assert set(shipped["weights to ship"]) == set(FEATURES)
    assert set(shipped["file weights to ship"]) == set(names(FEATURES))
