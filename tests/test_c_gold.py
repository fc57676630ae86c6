"""bench/c_gold.py, the C and C++ benchmark with clang as the oracle, on a tiny repository: its queries and gold."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest.importorskip("clang.cindex")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import c_gold  # noqa: E402

FILES = {
    "src/buf.h": ("#ifndef BUF_H\n#define BUF_H\n#define BUF_MAX 64\n"
                  "typedef struct buf { int used; } buf;\n"
                  "typedef enum { BUF_OK, BUF_FULL } buf_status;\n"
                  "int buf_room(const buf *b);\n#endif\n"),
    "src/buf.c": "#include \"buf.h\"\n\nint buf_room(const buf *b) {\n    return BUF_MAX - b->used;\n}\n",
    "src/main.c": ("#include \"buf.h\"\n\nstatic int twice(int x) { return 2 * x; }\n\n"
                   "buf_status fill(buf *b) {\n    int local = twice(1);\n"
                   "    if (buf_room(b) < local) return BUF_FULL;\n    b->used += local;\n    return BUF_OK;\n}\n"),
    "tests/test_buf.c": "#include \"../src/buf.h\"\nint t(void) { buf b = {0}; return buf_room(&b); }\n",
}


def test_c_gold_queries_and_gold_from_clang(tmp_path):
    repo = tmp_path / "repo"
    for rel, text in FILES.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    assert c_gold.main(["--repo", str(repo), "--name", "buf", "--out", str(tmp_path / "q"), "--n", "50"]) == 0
    completion = [json.loads(x) for x in (tmp_path / "q/buf.queries.jsonl").read_text().splitlines()]
    explain = [json.loads(x) for x in (tmp_path / "q/buf.explain.queries.jsonl").read_text().splitlines()]
    # the uses in fill() of names another file defines: the type, the enum constants (the enum's line), the function
    # (its definition in buf.c, not the header's prototype) and the macro a function of buf.c expands
    gold = {(g["name"], g["path"], g["start_line"], g["kind"]) for q in completion for g in q["gold"]}
    assert ("buf_room", "src/buf.c", 3, "func") in gold
    assert ("buf", "src/buf.h", 4, "type") in gold and ("BUF_FULL", "src/buf.h", 5, "const") in gold
    assert ("BUF_MAX", "src/buf.h", 3, "macro") in gold
    assert not any(g[0] in ("twice", "local", "used") for g in gold)  # same file, locals and fields are not gold
    assert all(q["path"] != "tests/test_buf.c" for q in completion)  # tests are not query sources
    call = next(q for q in completion if q["gold"][0]["name"] == "buf_room" and q["path"] == "src/main.c")
    line = FILES["src/main.c"].splitlines()[call["line"] - 1]
    assert line[call["col"]:].startswith("buf_room(")  # the cursor is at the use, 0-based in characters
    fill = next(q for q in explain if q["func"] == "fill")
    assert (fill["line"], fill["end_line"]) == (5, 10) and len(fill["gold"]) >= 3
    manifest = json.loads((tmp_path / "q/buf.manifest.json").read_text())
    assert manifest["sources"] == 2 and manifest["completion"] == len(completion)
