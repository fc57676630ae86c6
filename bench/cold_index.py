"""Cold-index cost against the parse floor: CPU (parent and workers), wall time, peak RSS of the process tree, profile.

usage: python bench/cold_index.py [CORPUS] [--work bench/work] [--profile] [--worker-profile] [--runs N]
Without CORPUS, downloads the sympy 1.14.0 sdist from PyPI once into the work folder (the benchmark, not ragls,
needs the network). Prints:
- the parse floor: CPU of reading and tree-sitter parsing every indexed file, in one process, with ragls's parsers;
- the cold index: user+sys CPU of `ragls index` and its worker processes, the ratio to the floor (issue 10: <= 8x),
  wall time, and the peak of the RSS (and PSS) summed over the indexer and its workers, sampled every 50 ms
  (issue 10: <= 500 MB);
- with --profile, a second run under cProfile: the parent's top functions by cumulative and own time;
- with --worker-profile, the worker function (`analyze_path`) run in this process over every file, profiled.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sdist import sdist_folder  # bench/sdist.py (bench/ is the script's folder)

log = logging.getLogger(__name__)
SYMPY = "sympy-1.14.0"


def sympy_folder(work: Path) -> Path:
    """The sympy 1.14.0 sdist, downloaded and extracted once."""
    return sdist_folder(work, "sympy", "1.14.0")


def parse_floor(root: Path) -> tuple[float, int, int]:
    """CPU seconds to read every indexed file and parse those with a grammar (grammars loaded beforehand)."""
    from ragls.indexer.files import discover
    from ragls.indexer.languages import grammar, language_for

    files = discover(root).files
    parsers = {}
    for rel in files:
        spec = language_for(rel)
        if spec and spec.name not in parsers and (g := grammar(spec.name)) is not None:
            parsers[spec.name] = g.parser()
    parsed = 0
    t0 = time.process_time()
    for rel in files:
        with open(root / rel, "rb") as f:
            data = f.read()
        spec = language_for(rel)
        if spec and spec.name in parsers:
            parsers[spec.name].parse(data)
            parsed += 1
    return time.process_time() - t0, len(files), parsed


def _tree(pid: int) -> list[int]:
    """pid and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _memory_kb(pid: int) -> tuple[int, int]:
    """(RSS, PSS) of one process in kB, or zeros when it is gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class TreeMemory:
    """Samples the summed RSS and PSS of a process tree every `interval` seconds; keeps the peaks."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid, self.interval = pid, interval
        self.peak_rss = self.peak_pss = 0
        self.peak_procs = 0
        self.peak_at = 0.0  # seconds after the start
        self.peak_parts: list[int] = []  # RSS (kB) of each process at the peak, the indexer first
        self._t0 = time.perf_counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            pids = _tree(self.pid)
            mem = [_memory_kb(p) for p in pids]
            rss, pss = sum(m[0] for m in mem), sum(m[1] for m in mem)
            if rss > self.peak_rss:
                self.peak_rss, self.peak_procs = rss, len([m for m in mem if m[0]])
                self.peak_at, self.peak_parts = time.perf_counter() - self._t0, [m[0] for m in mem if m[0]]
            self.peak_pss = max(self.peak_pss, pss)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def cold_index(root: Path, data: Path, env: dict[str, str], profile: Path | None = None) -> dict:
    """Run `ragls index` cold on root into data; CPU of it and its workers, wall, peak tree memory, its summary.
    With `profile`, the parent runs under cProfile (CPU time) and writes its stats there."""
    shutil.rmtree(data, ignore_errors=True)
    head = ["-c", _PROFILED, str(profile)] if profile else ["-m", "ragls.server.cli"]
    cmd = [sys.executable, *head, "index", str(root), "--data-dir", str(data), "--json", "-q"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    mem = TreeMemory(proc.pid)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    mem.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"ragls index failed ({proc.returncode}): {err[-2000:]}")
    return {"user": after.ru_utime - before.ru_utime, "sys": after.ru_stime - before.ru_stime, "wall": wall,
            "peak_rss_mb": mem.peak_rss / 1024, "peak_pss_mb": mem.peak_pss / 1024, "procs": mem.peak_procs,
            "peak_at": mem.peak_at, "peak_parts_mb": [round(k / 1024) for k in mem.peak_parts],
            "max_rss_one_mb": after.ru_maxrss / 1024, "summary": json.loads(out)}


def _top(stats_file: str, n: int) -> str:
    """The n top functions by cumulative, then by own CPU time."""
    out = []
    for key in ("cumulative", "tottime"):
        s = io.StringIO()
        pstats.Stats(stats_file, stream=s).strip_dirs().sort_stats(key).print_stats(n)
        lines = s.getvalue().splitlines()
        start = next(i for i, ln in enumerate(lines) if "ncalls" in ln)
        out.append(f"by {key}:")
        out.extend(ln for ln in lines[start:] if ln.strip())
    return "\n".join(out)


_PROFILED = """import cProfile, runpy, sys, time
out = sys.argv.pop(1)
sys.argv[0] = "ragls"
p = cProfile.Profile(time.process_time)  # CPU, not wall: the machine is shared
try:
    p.runcall(runpy.run_module, "ragls.server.cli", run_name="__main__")
except SystemExit as exc:
    if exc.code:
        raise
finally:
    p.dump_stats(out)
"""


def worker_profile(root: Path, n: int) -> str:
    """The worker function over every file, in this process, under cProfile."""
    from ragls.indexer.analyze import analyze_path
    from ragls.indexer.files import Limits, discover

    jobs = [(str(root), rel, None, Limits()) for rel in discover(root).files]
    prof = cProfile.Profile(time.process_time)
    t0 = time.process_time()
    prof.enable()
    for job in jobs:
        analyze_path(job)
    prof.disable()
    cpu = time.process_time() - t0
    with tempfile.NamedTemporaryFile(suffix=".prof", delete=False) as f:
        prof.dump_stats(f.name)
    try:
        return f"analyze_path over {len(jobs)} files in one process: {cpu:.2f} s CPU (profiled)\n" + _top(f.name, n)
    finally:
        os.unlink(f.name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", help="a folder to index (default: the sympy 1.14.0 sdist, downloaded)")
    ap.add_argument("--work", default="bench/work")
    ap.add_argument("--runs", type=int, default=1, help="cold runs (the figures of each, then the best CPU)")
    ap.add_argument("--profile", action="store_true", help="one more run of the parent under cProfile")
    ap.add_argument("--worker-profile", action="store_true", help="profile the worker function in-process")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--floor", type=float, help="use this parse floor (CPU seconds measured before) instead")
    a = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    work = Path(a.work).resolve()
    root = Path(a.corpus).resolve() if a.corpus else sympy_folder(work)
    env = dict(os.environ)
    env.setdefault("RAGLS_MODELS", str(work / "models"))  # the cut vocabulary is derived once, not per run
    with tempfile.TemporaryDirectory(prefix="ragls-cold-") as tmp:
        data = Path(tmp) / "idx"
        subprocess.run([sys.executable, "-c", "from ragls.indexer.embed import StaticEmbedder; StaticEmbedder()"],
                       env=env, check=True)  # derive the model files outside the measured runs
        if a.floor:
            floor = a.floor
            print(f"corpus: {root}; parse floor given: {floor:.2f} s CPU")
        else:
            floor, n_files, n_parsed = parse_floor(root)
            print(f"corpus: {root} ({n_files} files, {n_parsed} with a grammar)")
            print(f"parse floor: {floor:.2f} s CPU (read + tree-sitter parse, one process)")
        runs = []
        for i in range(a.runs):
            r = cold_index(root, data, env)
            runs.append(r)
            s = r["summary"]
            cpu = r["user"] + r["sys"]
            print(f"cold index run {i + 1}: {cpu:.2f} s CPU (user {r['user']:.2f} + sys {r['sys']:.2f}), "
                  f"ratio {cpu / floor:.1f}x the parse floor (target <= 8x); wall {r['wall']:.1f} s; "
                  f"peak RSS summed over {r['procs']} processes {r['peak_rss_mb']:.0f} MB "
                  f"(PSS {r['peak_pss_mb']:.0f} MB; target <= 500 MB); largest single process "
                  f"{r['max_rss_one_mb']:.0f} MB")
            print(f"  at the peak ({r['peak_at']:.0f} s in): RSS MB per process {r['peak_parts_mb']}")
            print(f"  {s['files']} files, {s['symbols']} symbols, {s['chunks']} chunks, {s['embedded']} embedded; "
                  f"{s['seconds']:.1f} s in ragls")
        if len(runs) > 1:
            best = min(runs, key=lambda r: r["user"] + r["sys"])
            print(f"best: {best['user'] + best['sys']:.2f} s CPU, {(best['user'] + best['sys']) / floor:.1f}x")
        if a.profile:
            stats = Path(tmp) / "parent.prof"
            r = cold_index(root, data, env, stats)
            print(f"\nparent under cProfile ({r['user'] + r['sys']:.1f} s CPU with workers, "
                  "profiler overhead included):")
            print(_top(str(stats), a.top))
        if a.worker_profile:
            print()
            print(worker_profile(root, a.top))


if __name__ == "__main__":
    main()
