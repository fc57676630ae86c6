"""The ranking training script (bench/train_ranker.py) runs end to end on a tiny corpus made here."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ragls.indexer.retrieve import HAND_WEIGHTS, load_weights

SCRIPT = Path(__file__).resolve().parent.parent / "bench" / "train_ranker.py"

UTIL = '''def parse_header(line):
    """Split a header line."""
    return line.split(":", 1)


def format_header(key, value):
    return f"{key}: {value}"


class Registry:
    """Named handlers."""

    def __init__(self):
        self.items = {}

    def add(self, name, fn):
        self.items[name] = fn
'''
APP = '''from lib.util import Registry, format_header, parse_header


def handle(lines):
    reg = Registry()
    out = []
    for line in lines:
        key, value = parse_header(line)
        out.append(format_header(key, value))
    return reg, out
'''


def _span(text: str, name: str) -> tuple[int, int]:
    """The 1-based lines of the definition of `name` in text (up to the next blank-line gap)."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith((f"def {name}(", f"class {name}")))
    end = start
    while end + 1 < len(lines) and (lines[end + 1].startswith(" ") or not lines[end + 1].strip()) and not (
            not lines[end + 1].strip() and end + 2 < len(lines) and not lines[end + 2].startswith(" ")):
        end += 1
    return start + 1, end + 1


def _cursor(text: str, needle: str, nth: int = 1) -> tuple[int, int]:
    """(1-based line, column) of the nth occurrence of needle in text."""
    pos = -1
    for _ in range(nth):
        pos = text.index(needle, pos + 1)
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1)


def _package(root: Path, name: str) -> dict:
    """A two-file package with two completion queries and one explain query; its corpus entry."""
    repo = root / name
    (repo / "lib").mkdir(parents=True)
    (repo / "lib" / "__init__.py").write_text("")
    (repo / "lib" / "util.py").write_text(UTIL)
    (repo / "lib" / "app.py").write_text(APP)
    gold = {n: dict(zip(("start_line", "end_line"), _span(UTIL, n), strict=True), path="lib/util.py", name=n)
            for n in ("parse_header", "format_header", "Registry")}
    completion = []
    for i, ident in enumerate(("parse_header", "format_header")):
        line, col = _cursor(APP, ident + "(")
        completion.append({"id": f"{name}/{i}", "path": "lib/app.py", "line": line, "col": col, "ident": ident,
                           "gold": [gold[ident]]})
    start, end = _span(APP, "handle")
    explain = [{"id": f"{name}/e0", "mode": "explain", "path": "lib/app.py", "line": start, "end_line": end,
                "col": 0, "gold": list(gold.values())}]
    for stem, qs in ((f"{name}.queries.jsonl", completion), (f"{name}.explain.queries.jsonl", explain)):
        (root / stem).write_text("".join(json.dumps(q) + "\n" for q in qs))
    return {"name": name, "lang": "python", "role": "train", "repo": name,
            "completion": f"{name}.queries.jsonl", "explain": f"{name}.explain.queries.jsonl"}


def test_train_ranker_runs_on_a_tiny_corpus(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    entries = [_package(corpus, n) for n in ("alpha", "beta")]
    (corpus / "corpus.json").write_text(json.dumps(entries))
    out, work = tmp_path / "ranking.json", tmp_path / "work"
    proc = subprocess.run([sys.executable, str(SCRIPT), "--corpus", str(corpus / "corpus.json"), "--work", str(work),
                           "--folds", "2", "--passes", "1", "--out", str(out)],
                          check=False, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "CV held-out python completion sim_fit" in proc.stdout
    shipped = json.loads(out.read_text())
    assert shipped["provenance"]["train"] == ["alpha", "beta"]
    assert shipped["provenance"]["folds"] == [["alpha"], ["beta"]]
    weights = load_weights(out)
    assert set(weights) == set(HAND_WEIGHTS)
    report = json.loads((work / "report.json").read_text())
    held = report["cv"]["alpha/completion"]
    assert held["n"] == 2 and held["sim_hand"]["strict_recall@10"] == 1.0  # both golds found by the hand weights
    assert report["cv"]["beta/explain"]["sim_hand"]["all@10"] == 1.0
