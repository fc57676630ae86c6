"""bench/rust_gold.py, the Rust benchmark with rustdoc's jump-to-definition as the oracle, on a tiny crate."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import rust_gold  # noqa: E402


def _nightly_rustdoc() -> bool:
    if shutil.which("rustdoc") is None:
        return False
    try:
        done = subprocess.run(["rustdoc", "+nightly", "--version"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


pytestmark = pytest.mark.skipif(not _nightly_rustdoc(), reason="needs rustup's nightly rustdoc")

FILES = {
    "src/lib.rs": "pub mod shapes;\npub mod util;\n",
    "src/shapes.rs": ("/// A circle.\npub struct Circle {\n    pub radius: f64,\n}\n\n"
                      "pub enum Kind {\n    Round,\n    Square(f64),\n}\n\n"
                      "impl Circle {\n    pub fn area(&self) -> f64 {\n"
                      "        PI * self.radius * self.radius\n    }\n}\n\n"
                      "pub const PI: f64 = 3.14159;\n"),
    "src/util.rs": ("use crate::shapes::{Circle, Kind};\n\n"
                    "pub fn describe(c: &Circle) -> Kind {\n    let local = c.area();\n"
                    "    if local > 1.0 { Kind::Round } else { Kind::Square(local) }\n}\n\n"
                    "#[cfg(test)]\nmod tests {\n    use super::*;\n    #[test]\n    fn t() {\n"
                    "        let _ = describe(&Circle { radius: 1.0 });\n    }\n}\n"),
}


def test_rust_gold_queries_and_gold_from_rustdoc(tmp_path):
    crate = tmp_path / "kit"
    for rel, text in FILES.items():
        (crate / rel).parent.mkdir(parents=True, exist_ok=True)
        (crate / rel).write_text(text)
    assert rust_gold.main(["--crate", str(crate), "--name", "kit", "--out", str(tmp_path / "q"), "--n", "50"]) == 0
    completion = [json.loads(x) for x in (tmp_path / "q/kit.queries.jsonl").read_text().splitlines()]
    explain = [json.loads(x) for x in (tmp_path / "q/kit.explain.queries.jsonl").read_text().splitlines()]
    gold = {(g["name"], g["path"], g["start_line"], g["kind"]) for q in completion for g in q["gold"]}
    # describe() uses, from shapes.rs: the struct, its method (through the receiver's type), the enum's variants
    assert ("Circle", "src/shapes.rs", 2, "type") in gold and ("Circle::area", "src/shapes.rs", 12, "method") in gold
    assert ("Kind::Round", "src/shapes.rs", 7, "variant") in gold
    assert ("Kind::Square", "src/shapes.rs", 8, "variant") in gold
    assert not any(g[0] in ("local", "radius", "PI", "shapes") for g in gold)  # locals, fields, same file, modules
    assert {q["func"] for q in completion} == {"describe"}  # the test module is no query source
    area = next(q for q in completion if q["gold"][0]["name"] == "Circle::area")
    line = FILES["src/util.rs"].splitlines()[area["line"] - 1]
    assert line[area["col"]:].startswith("area()")  # the cursor at the use, 0-based in characters
    kind = next(q for q in completion if q["gold"][0]["name"] == "Kind::Round")
    assert FILES["src/util.rs"].splitlines()[kind["line"] - 1][kind["col"]:].startswith("Round")  # the last segment
    (fn,) = explain
    assert (fn["func"], fn["line"], fn["end_line"]) == ("describe", 3, 6) and len(fn["gold"]) >= 3
    manifest = json.loads((tmp_path / "q/kit.manifest.json").read_text())
    assert manifest["completion"] == len(completion) and manifest["pages"] == 3
