"""Scale benchmark on a large PyPI sdist (default sympy 1.14.0): cold and warm indexing, one-file updates, shallow
and deep cursor queries, and the language server's memory, printed as one table of figures, targets and ratios.

usage: python bench/scale.py [--corpus DIR] [--suffixes .py] [--work DIR] [--parts cold,edit,query,server] [--json FILE]

Run it with the virtual environment whose ragls is measured (`.venv/bin/python bench/scale.py`). Without --corpus
the sdist is fetched with `pip download --no-deps --no-binary :all: sympy==1.14.0` into --work and unpacked. The
corpus is copied into --work (edits never touch the folder given) and indexed with a fresh RAGLS_HOME; the derived
model files are kept in --work/models across runs (RAGLS_MODELS), so deriving them is not counted. Leaving `cold`
out of --parts keeps the index of the last run (built if missing) to measure only the other parts. --suffixes names
the source files of another language's corpus (`--corpus redis --suffixes .c,.h`): queries and edits come from them.

Figures (targets from issue 10):
- cold `ragls index`: wall, CPU (user+sys, parser workers included), peak RSS of the process tree (sampled), and
  its CPU over the tree-sitter parse floor (parsing every indexed file once, in one process; target <= 8x);
- warm `ragls index` (nothing changed): wall;
- one-file edit: `ragls index` after editing a file (wall; target <= 1 s), and `Index.update_file` with an editor
  buffer's text, the language server's path: each file opened first (its unchanged text, as didOpen sends it), then
  edited, every other file by a function added at its end and the others by a comment typed at the end of their
  middle line (p50/p95 over --edits files; target p95 <= 100 ms; the first update, which loads the model and the
  vector store, apart);
- `ragls context --batch`: --queries cursors in the first 10% of the lines of the largest files (shallow) and as
  many in their last 10% (deep), the per-query latency ragls reports (p50/p95; target p95 <= 30 ms, deep/shallow
  p95 <= 2);
- the language server (`python -m ragls.server`, driven over stdio by pytest-lsp's client): its RSS (a) after
  indexing an unbuilt index itself, (b) started on the built index, after its own refresh, (c) after
  --requests inline completions against a local fake model, and (d) after unsaved edits of --edits open documents
  (their updates load the embedder and the vector store) (target: a <= 350 MB and a <= 1.5 x b).
Latencies are noisy on a shared machine; CPU time and RSS are robust."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sdist import sdist_folder  # bench/sdist.py (bench/ is the script's folder)

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("cold", "edit", "query", "server")
EDIT = b"\n\ndef _ragls_bench_edit(value):\n    return [value, value]\n"


def log(msg: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float:
    """The p-quantile (nearest rank) of `values`; NaN when empty."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, max(0, round(p * len(s) + 0.5) - 1))]


# ---- processes -------------------------------------------------------------------------------------------------

def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        out.setdefault(ppid, []).append(int(entry.name))
    return out


def _status_mb(pid: int, key: str) -> float:
    """A memory figure of /proc/PID/status (MB), 0 when the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_mb(pid: int) -> float:
    """Resident memory of one process (MB), 0 when it is gone."""
    return _status_mb(pid, "VmRSS:")


def hwm_mb(pid: int) -> float:
    """Peak resident memory of one process (MB)."""
    return _status_mb(pid, "VmHWM:")


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants (MB)."""
    kids = _children()
    total, stack = 0.0, [pid]
    while stack:
        p = stack.pop()
        total += rss_mb(p)
        stack.extend(kids.get(p, ()))
    return total


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # utime + stime


async def idle(pid: int, quiet_s: float = 3.0, limit_s: float = 600.0) -> None:
    """Wait until a process has used no CPU for `quiet_s` (its debounced work is done)."""
    start, last, since = time.monotonic(), cpu_ticks(pid), time.monotonic()
    while time.monotonic() - start < limit_s:
        await asyncio.sleep(0.5)
        now = cpu_ticks(pid)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return


@dataclass
class Ran:
    """A finished command: wall seconds, CPU seconds (its waited-for children included), peak tree RSS (MB)."""

    wall: float
    cpu: float
    peak_mb: float
    rc: int
    stdout: str
    stderr: str


def run(cmd: list[str], env: dict[str, str], sample: bool = False, check: bool = True, cwd: Path | None = None) -> Ran:
    """Run a command to its end, measuring it; `sample`: poll the process tree's RSS every 0.1 s."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd)
    peak = [0.0]
    done = threading.Event()

    def sampler() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))

    outs: dict[str, str] = {}
    readers = [threading.Thread(target=lambda k=k, f=f: outs.__setitem__(k, f.read()), daemon=True)
               for k, f in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    watcher = threading.Thread(target=sampler, daemon=True) if sample else None
    if watcher:
        watcher.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    done.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    ran = Ran(wall, usage.ru_utime + usage.ru_stime, max(peak[0], usage.ru_maxrss / 1024), proc.returncode,
              outs.get("out", ""), outs.get("err", ""))
    if check and ran.rc != 0:
        raise SystemExit(f"scale: {' '.join(cmd)} failed ({ran.rc}):\n{ran.stderr[-3000:]}")
    return ran


def ragls_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "ragls"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "ragls.server.cli"]


# ---- the corpus ------------------------------------------------------------------------------------------------

def measured_commit() -> str:
    """The commit of the ragls this Python imports (the venv's, which may be another checkout than this script's)."""
    import ragls.indexer

    where = Path(ragls.indexer.__file__).resolve().parents[1]
    return subprocess.run(["git", "-C", str(where), "rev-parse", "--short", "HEAD"], check=False, capture_output=True,
                          text=True).stdout.strip() or f"(not a git checkout: {where})"


def corpus(a: argparse.Namespace, work: Path) -> Path:
    """A fresh copy of the corpus under `work` (edits never touch the original)."""
    src = Path(a.corpus).resolve() if a.corpus else None
    if src is None:
        if not (work / f"{a.package}-{a.version}").is_dir():
            log(f"downloading {a.package}=={a.version}")
        src = sdist_folder(work, a.package, a.version)
    repo = work / "repo"
    if "cold" in a.parts or not repo.is_dir():
        shutil.rmtree(repo, ignore_errors=True)
        shutil.copytree(src, repo, symlinks=True)
    return repo


SUFFIXES = (".py",)  # the corpus's source files (--suffixes): queries, edits and line counts are taken from these


def sources(repo: Path) -> list[Path]:
    return sorted(p for p in repo.rglob("*") if p.suffix in SUFFIXES and p.is_file() and not p.is_symlink())


def largest(repo: Path, n: int) -> list[Path]:
    return sorted(sources(repo), key=lambda p: (-p.stat().st_size, str(p)))[:n]


def make_queries(repo: Path, n: int, seed: int = 7) -> dict[str, list[dict[str, Any]]]:
    """`n` shallow (first 10% of lines) and `n` deep (last 10%) cursors at the end of non-blank lines of the 60
    largest files."""
    rnd = random.Random(seed)
    files = largest(repo, 60)
    lines = {p: p.read_text(errors="replace").splitlines() for p in files}
    out: dict[str, list[dict[str, Any]]] = {"shallow": [], "deep": []}
    for kind, qs in out.items():
        while len(qs) < n:
            p = rnd.choice(files)
            ls = lines[p]
            lo, hi = (0, len(ls) // 10) if kind == "shallow" else (len(ls) - len(ls) // 10, len(ls) - 1)
            i = rnd.randint(lo, hi)
            if not ls[i].strip():
                continue
            qs.append({"path": p.relative_to(repo).as_posix(), "line": i + 1, "col": len(ls[i].rstrip())})
    return out


# ---- measurements ----------------------------------------------------------------------------------------------

PARSE_FLOOR = """
import json, sys, time
from pathlib import Path
from ragls.indexer.files import discover
from ragls.indexer.languages import grammar, language_for
root = Path(sys.argv[1])
parsers, total, files = {}, 0.0, 0
for rel in discover(root).files:
    spec = language_for(rel)
    if spec is None or (g := grammar(spec.name)) is None:
        continue
    data = (root / rel).read_bytes()
    parser = parsers.setdefault(spec.name, g.parser())
    t = time.process_time()
    parser.parse(data)
    total += time.process_time() - t
    files += 1
print(json.dumps({"cpu": total, "files": files}))
"""

UPDATES = """
import json, sys, time
from pathlib import Path
from ragls.indexer.index import Index
from ragls.indexer.retrieve import Retriever
root, rels, edit = Path(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3].encode()
index = Index.open(root)
index.store.defer_checkpoints()  # as the language server's writer does
if (warm := getattr(index.embedder, "warm", None)) is not None:
    warm()  # as the server warms its writer once the index is built
retriever = Retriever(index)
retriever.warm()  # the graph a server holds; the next completion after an update reads it patched
prime = getattr(retriever, "prime", lambda: True)  # as the server primes it between requests (older ragls: no)
prime()
times, graph, created, deleted = [], [], [], []
for n, rel in enumerate(rels):
    disk = (root / rel).read_bytes()
    index.update_file(rel, disk)  # opened in the editor first (didOpen: nothing changes)
    retriever.graph
    if n % 2:  # a comment typed at the end of the middle line (inside a function or class, mostly)
        lines = disk.split(b"\\n")
        mid = next(i for i in range(len(lines) // 2, len(lines)) if lines[i].strip() and not lines[i].endswith(b"\\\\"))
        lines[mid] += b"  # typed in the editor"
        data = b"\\n".join(lines)
    else:  # a function added at the end
        data = disk + edit
    t = time.perf_counter()
    index.update_file(rel, data)
    times.append((time.perf_counter() - t) * 1000)
    t = time.perf_counter()
    retriever.graph
    graph.append((time.perf_counter() - t) * 1000)
    prime()
for rel in rels:  # back to the disk's text
    index.update_file(rel, None)
def update_and_graph(rel):  # ms of update_file(rel) from the disk, and of the graph the next completion reads
    t = time.perf_counter()
    index.update_file(rel)
    t_graph = time.perf_counter()
    retriever.graph
    graph_ms = (time.perf_counter() - t_graph) * 1000
    prime()
    return (t_graph - t) * 1000, graph_ms
for n, rel in enumerate(rels[:10]):  # a copy of a file saved as a new one beside it, then deleted
    new = (rel.rsplit("/", 1)[0] + "/" if "/" in rel else "") + f"ragls_scale_new_{n}." + rel.rsplit(".", 1)[-1]
    (root / new).write_bytes((root / rel).read_bytes())
    try:
        created.append(update_and_graph(new))
    finally:
        (root / new).unlink()
    deleted.append(update_and_graph(new))
print(json.dumps({"first_ms": times[0], "ms": times[1:], "graph_ms": graph[1:], "created_ms": created,
                  "deleted_ms": deleted}))
"""


def measure_index(a: argparse.Namespace, repo: Path, env: dict[str, str], out: dict[str, Any]) -> None:
    log("parse floor")
    floor = json.loads(run([sys.executable, "-c", PARSE_FLOOR, str(repo)], env).stdout)
    out["parse_floor_cpu_s"] = floor["cpu"]
    log("cold ragls index")
    cold = run([*ragls_cmd(), "index", str(repo), "-q", "--json"], env, sample=True)
    summary = json.loads(cold.stdout.strip().splitlines()[-1])
    out.update(cold_wall_s=cold.wall, cold_cpu_s=cold.cpu, cold_peak_mb=cold.peak_mb, files=summary["files"],
               chunks=summary["chunks"], lines=sum(len(p.read_bytes().split(b"\n")) for p in sources(repo)))
    log("warm ragls index")
    warm = run([*ragls_cmd(), "index", str(repo), "-q"], env)
    out.update(warm_wall_s=warm.wall, warm_cpu_s=warm.cpu)


def measure_edit(a: argparse.Namespace, repo: Path, env: dict[str, str], out: dict[str, Any]) -> None:
    files = [p for p in sources(repo) if p.stat().st_size > 2000 and "/tests/" not in str(p)]
    picked = random.Random(3).sample(files, a.edits + 4)
    cli, server = picked[:3], picked[3:]
    log(f"one-file edits from the CLI ({len(cli)} files)")
    walls = []
    originals = {p: p.read_bytes() for p in cli}
    try:
        for p in cli:
            p.write_bytes(originals[p] + EDIT)
            walls.append(run([*ragls_cmd(), "index", str(repo), "-q"], env).wall)
    finally:
        for p, data in originals.items():
            p.write_bytes(data)
    run([*ragls_cmd(), "index", str(repo), "-q"], env)  # back to the disk's text
    out.update(cli_edit_wall_s=pct(walls, 0.5), cli_edit_wall_max_s=max(walls))
    log(f"Index.update_file with a buffer's text ({len(server)} files)")
    rels = [p.relative_to(repo).as_posix() for p in server]
    got = json.loads(run([sys.executable, "-c", UPDATES, str(repo), json.dumps(rels), EDIT.decode()], env).stdout)
    out.update(update_first_ms=got["first_ms"], update_p50_ms=pct(got["ms"], 0.5), update_p95_ms=pct(got["ms"], 0.95),
               update_ms=[round(ms, 1) for ms in got["ms"]], graph_patch_p95_ms=pct(got["graph_ms"], 0.95))
    for kind in ("created", "deleted"):  # (update_file, graph) per file
        out[f"{kind}_update_p95_ms"] = pct([u for u, _ in got[f"{kind}_ms"]], 0.95)
        out[f"{kind}_graph_p95_ms"] = pct([g for _, g in got[f"{kind}_ms"]], 0.95)


def measure_queries(a: argparse.Namespace, repo: Path, env: dict[str, str], out: dict[str, Any],
                    queries: dict[str, list[dict[str, Any]]]) -> None:
    for kind, qs in queries.items():
        log(f"{len(qs)} {kind} context queries")
        qfile = Path(a.work_dir) / f"q_{kind}.jsonl"
        qfile.write_text("".join(json.dumps(q) + "\n" for q in qs))
        ran = run([*ragls_cmd(), "context", "--repo", str(repo), "--batch", str(qfile)], env, cwd=repo)
        rows = [json.loads(line) for line in ran.stdout.splitlines() if line.strip()]
        errors = [r["error"] for r in rows if "error" in r]
        if errors:
            log(f"{len(errors)} {kind} queries failed, e.g. {errors[0]}")
        ms = [r["latency_ms"] for r in rows if "latency_ms" in r]
        out[f"{kind}_p50_ms"], out[f"{kind}_p95_ms"] = pct(ms, 0.5), pct(ms, 0.95)
    out["deep_over_shallow_p95"] = out["deep_p95_ms"] / out["shallow_p95_ms"]


async def measure_server(a: argparse.Namespace, repo: Path, env: dict[str, str], out: dict[str, Any],
                         queries: dict[str, list[dict[str, Any]]]) -> None:
    sys.path.insert(0, str(ROOT))
    from lsprotocol import types

    from tests.fake_openai import FakeOpenAI
    from tests.lsp_helpers import change_doc, open_doc, start_server, wait_indexed

    saved = dict(os.environ)
    os.environ.update({k: env[k] for k in ("RAGLS_HOME", "RAGLS_MODELS")})  # start_server passes these on
    try:
        with FakeOpenAI() as api:
            api.replies = []
            home = Path(env["RAGLS_HOME"])
            own = home / "server-own-index"
            shutil.rmtree(own, ignore_errors=True)
            log("server (a): indexing an unbuilt index itself")
            t0 = time.perf_counter()
            lsp, _ = await start_server(repo, api.base_url, home, "vscode", {"index": {"dataDir": str(own)}})
            try:
                line = await wait_indexed(lsp, timeout=a.timeout)
                if "indexing failed" in line:
                    raise SystemExit(f"scale: the server's own indexing failed: {line}")
                pid = lsp._server.pid
                out["server_index_wall_s"] = time.perf_counter() - t0
                await asyncio.sleep(0.5)
                out["rss_own_index_mb"], out["hwm_own_index_mb"] = rss_mb(pid), hwm_mb(pid)
            finally:
                await lsp.shutdown_session()
            log("server (b): started on the built index")
            lsp, _ = await start_server(repo, api.base_url, home, "vscode")
            try:
                pid = lsp._server.pid
                out["rss_initialized_mb"] = rss_mb(pid)
                await wait_indexed(lsp, timeout=a.timeout)
                await asyncio.sleep(0.5)
                out["rss_built_index_mb"] = rss_mb(pid)
                log(f"server (c): {a.requests} inline completions")
                steps = [q for pair in zip(queries["shallow"], queries["deep"], strict=False)
                         for q in pair][:a.requests]
                uris = {q["path"]: open_doc(lsp, repo / q["path"]) for q in steps}
                await asyncio.sleep(1.0)  # their (debounced) updates: the text is the disk's, nothing to index
                for q in steps:
                    await lsp.text_document_inline_completion_async(types.InlineCompletionParams(
                        text_document=types.TextDocumentIdentifier(uris[q["path"]]),
                        position=types.Position(q["line"] - 1, q["col"]),
                        context=types.InlineCompletionContext(
                            trigger_kind=types.InlineCompletionTriggerKind.Invoked)))
                status = await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.status"))
                out["rss_after_requests_mb"], out["hwm_after_requests_mb"] = rss_mb(pid), hwm_mb(pid)
                own_ms = status["completion"]["own_ms"]
                out["completion_own_p50_ms"], out["completion_own_p95_ms"] = own_ms["p50"], own_ms["p95"]
                out["model_requests"] = sum(1 for path, _ in api.requests if path.endswith("completions"))
                edited = list(uris)[:a.edits]
                log(f"server (d): unsaved edits of {len(edited)} open documents")
                for n, rel in enumerate(edited):
                    text = (repo / rel).read_text() + EDIT.decode().replace("_ragls_bench_edit", f"_bench_edit_{n}")
                    change_doc(lsp, uris[rel], text, 2)
                await idle(pid)
                out["rss_after_edits_mb"], out["hwm_after_edits_mb"] = rss_mb(pid), hwm_mb(pid)
            finally:
                await lsp.shutdown_session()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    out["own_over_built"] = out["rss_own_index_mb"] / out["rss_built_index_mb"]


# ---- the table -------------------------------------------------------------------------------------------------

ROWS: list[tuple[str, str, str, float | None]] = [  # key, label, unit, target (None: none)
    ("cold_wall_s", "cold index: wall", "s", None),
    ("cold_cpu_s", "cold index: CPU user+sys (workers incl.)", "s", None),
    ("cold_over_floor", "cold index: CPU / parse floor CPU", "x", 8),
    ("cold_peak_mb", "cold index: peak RSS, process tree", "MB", 500),
    ("warm_wall_s", "warm index (nothing changed): wall", "s", None),
    ("cli_edit_wall_s", "one-file edit, `ragls index`: wall (median of 3)", "s", 1),
    ("cli_edit_wall_max_s", "one-file edit, `ragls index`: wall (max of 3)", "s", 1),
    ("update_first_ms", "Index.update_file: first (loads model, store)", "ms", None),
    ("update_p50_ms", "Index.update_file (server path): p50", "ms", None),
    ("update_p95_ms", "Index.update_file (server path): p95", "ms", 100),
    ("graph_patch_p95_ms", "the symbol graph after that update: p95", "ms", None),
    ("created_update_p95_ms", "a new file (a copy): Index.update_file p95", "ms", None),
    ("created_graph_p95_ms", "a new file: the symbol graph after it, p95", "ms", None),
    ("deleted_update_p95_ms", "a file deleted: Index.update_file p95", "ms", None),
    ("deleted_graph_p95_ms", "a file deleted: the symbol graph after it, p95", "ms", None),
    ("shallow_p50_ms", "context, shallow cursor: p50", "ms", None),
    ("shallow_p95_ms", "context, shallow cursor: p95", "ms", 30),
    ("deep_p50_ms", "context, deep cursor: p50", "ms", None),
    ("deep_p95_ms", "context, deep cursor: p95", "ms", 30),
    ("deep_over_shallow_p95", "context: deep p95 / shallow p95", "x", 2),
    ("server_index_wall_s", "server (a): start to indexed, unbuilt index", "s", None),
    ("rss_own_index_mb", "server (a): RSS after its own indexing", "MB", 350),
    ("hwm_own_index_mb", "server (a): peak RSS of the server process", "MB", None),
    ("rss_initialized_mb", "server (b): RSS after initialize, built index", "MB", None),
    ("rss_built_index_mb", "server (b): RSS after its refresh, built index", "MB", None),
    ("own_over_built", "server: RSS (a) / (b)", "x", 1.5),
    ("rss_after_requests_mb", "server (c): RSS after the inline completions", "MB", None),
    ("hwm_after_requests_mb", "server (c): peak RSS of the server process", "MB", None),
    ("rss_after_edits_mb", "server (d): RSS after unsaved edits (+ model, store)", "MB", None),
    ("hwm_after_edits_mb", "server (d): peak RSS of the server process", "MB", None),
    ("completion_own_p50_ms", "server (c): completion, ragls's own time p50", "ms", None),
    ("completion_own_p95_ms", "server (c): completion, ragls's own time p95", "ms", None),
]


def table(out: dict[str, Any]) -> str:
    lines = [f"{'figure':<50} {'value':>9} {'':<2} {'target':>8} {'ratio':>6}", "-" * 80]
    for key, label, unit, target in ROWS:
        if key not in out:
            continue
        v = out[key]
        ratio = f"{v / target:6.2f}" if target else "     -"
        tgt = f"<= {target:g}" if target else "-"
        flag = "  !" if target and v > target else ""
        lines.append(f"{label:<50} {v:9.{2 if unit == 'x' else 1}f} {unit:<2} {tgt:>8} {ratio}{flag}")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", help="an unpacked source tree to use instead of downloading the sdist")
    ap.add_argument("--work", default=str(ROOT / "bench" / "work" / "scale"), help="work folder (kept)")
    ap.add_argument("--package", default="sympy")
    ap.add_argument("--version", default="1.14.0")
    ap.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    ap.add_argument("--edits", type=int, default=20, help="files edited through Index.update_file")
    ap.add_argument("--queries", type=int, default=100, help="shallow and as many deep context queries")
    ap.add_argument("--requests", type=int, default=100, help="inline completions sent to the server")
    ap.add_argument("--timeout", type=float, default=900, help="seconds the server may take to index")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--suffixes", default=".py", help="the corpus's source files, comma-separated (.c,.h for C)")
    a = ap.parse_args()
    global SUFFIXES
    SUFFIXES = tuple(x if x.startswith(".") else f".{x}" for x in a.suffixes.split(",") if x)
    a.parts = [p for p in a.parts.split(",") if p]
    if unknown := set(a.parts) - set(PARTS):
        ap.error(f"unknown parts: {', '.join(sorted(unknown))}")
    work = Path(a.work).resolve()
    work.mkdir(parents=True, exist_ok=True)
    a.work_dir = str(work)
    t0 = time.perf_counter()
    repo = corpus(a, work)
    home = work / "home"
    if "cold" in a.parts:
        shutil.rmtree(home, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAGLS_", "OPENAI_"))}
    env.update(RAGLS_HOME=str(home), RAGLS_MODELS=os.environ.get("RAGLS_MODELS", str(work / "models")),
               ANONYMIZED_TELEMETRY="False", PYTHONUNBUFFERED="1")
    out: dict[str, Any] = {"corpus": f"{a.package} {a.version}" if not a.corpus else str(a.corpus),
                           "commit": measured_commit()}
    if "cold" in a.parts:
        measure_index(a, repo, env, out)
        out["cold_over_floor"] = out["cold_cpu_s"] / out["parse_floor_cpu_s"]
    else:
        log("building (or refreshing) the index of the last run")
        run([*ragls_cmd(), "index", str(repo), "-q"], env)
    queries = make_queries(repo, a.queries)
    if "edit" in a.parts:
        measure_edit(a, repo, env, out)
    if "query" in a.parts:
        measure_queries(a, repo, env, out, queries)
    if "server" in a.parts:
        asyncio.run(measure_server(a, repo, env, out, queries))
    out["bench_wall_s"] = time.perf_counter() - t0
    head = (f"ragls scale benchmark: {out['corpus']} at ragls {out['commit']}"
            + (f", {out['files']} files, {out['lines']} lines of {'/'.join(SUFFIXES)}, {out['chunks']} chunks; "
               f"parse floor {out['parse_floor_cpu_s']:.1f} s CPU" if "files" in out else "")
            + f"; {os.cpu_count()} cores; bench {out['bench_wall_s']:.0f} s")
    print(head)
    print(table(out))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
