"""`ragls next-edit`: where the next edit goes, for JSONL queries of repository states, cursors and edit histories.

A query line: {"state": ROOT, "cursor": {"path", "line", "col"}, "history": [{"path", "diff"}, ...]} (`state` may
be left out with --repo). An answer line: {"locations": [{"path", "start_line", "end_line", "focus", "score",
"why"}, ...], "latency_ms"} (a location: the region of lines the next edit is predicted in, and the line in it most
likely to change), or {"locations": [], "error": "..."} for a query that cannot be read. A state's files are
listed, read and scanned first (the analogue of indexing); `latency_ms` is the ranking after that. Files equal
across states are scanned once.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from .files import Limits, discover, read_text
from .hunks import parse
from .languages import language_for
from .nextedit import Corpus, ScanCache, locate, locations_json


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    s = sub.add_parser("next-edit", parents=[common], help="rank where the next edit of a change goes")
    s.add_argument("--batch", metavar="FILE", required=True,
                   help='JSONL queries {"state","cursor":{"path","line","col"},"history":[{"path","diff"}]}')
    s.add_argument("--repo", help="repository root of queries without a state")
    s.add_argument("--k", type=int, default=10, help="locations per query (default 10)")
    s.add_argument("--json", action="store_true", help="one JSON line per query (the only output format)")
    s.set_defaults(func=cmd_next_edit)


def state_corpus(root: Path, cache: ScanCache) -> Corpus:
    """A state's source files (what ragls would index: no secrets, no ignored files), each read at most once."""
    paths = [p for p in discover(root).files if language_for(p) is not None]
    limit = Limits().max_file_bytes
    return Corpus(paths, lambda rel: read_text(root / rel, limit), cache=cache)


def answer(q: dict, default_root: str | None, corpora: dict[str, Corpus], cache: ScanCache,
           k: int) -> dict:
    root = q.get("state") or default_root
    cursor = q.get("cursor") or {}
    if not root or not isinstance(cursor.get("path"), str) or not isinstance(cursor.get("line"), int):
        return {"locations": [], "error": "a query needs a state (or --repo) and a cursor {path, line}"}
    if not Path(root).is_dir():
        return {"locations": [], "error": f"{root} is not a directory"}
    if root not in corpora:
        corpora.clear()  # one state at a time: its scans stay in the shared cache
        corpora[root] = corpus = state_corpus(Path(root), cache)
        for p in corpus.paths:  # the state's "index": each file's names and windows (once per text)
            if (scanned := corpus.scan(p)) is not None:
                scanned.windows()
    corpus = corpora[root]
    history = [h for e in q.get("history") or [] if isinstance(e, dict) and isinstance(e.get("diff"), str)
               for h in parse(str(e.get("path", "")), e["diff"])]
    t0 = time.perf_counter()
    found = locate(corpus, cursor["path"], cursor["line"], history, k)
    return {"locations": locations_json(found), "latency_ms": round((time.perf_counter() - t0) * 1000, 2)}


def cmd_next_edit(args: argparse.Namespace) -> int:
    cache = ScanCache()
    corpora: dict[str, Corpus] = {}
    from .cli import batch_source

    with batch_source(args.batch) as source:
        for raw in source:
            if not raw.strip():
                continue
            try:
                q = json.loads(raw)
                out = answer(q, args.repo, corpora, cache, args.k) if isinstance(q, dict) else \
                    {"locations": [], "error": "a query is a JSON object"}
            except ValueError as exc:
                out = {"locations": [], "error": f"not JSON: {exc}"}
            print(json.dumps(out), flush=True)
    return 0
