"""Language-server figures on Django's package folder: ragls's own time per inline-completion request (retrieval,
prompt assembly, LSP; the model's fixed delay subtracted) and the server's memory.

usage: python bench/server.py [--work bench/work] [--requests 200] [--model-delay-ms 50] [--viewed]
Needs the Django index of bench/django.py (run that first). The model is the tests' local OpenAI-compatible server,
run in a process of its own so that its work is not counted as ragls's. --viewed: before each request the client
also says which lines it shows (`ragls/viewedRanges`, 40 lines around the cursor), so that prompts hold the code
viewed in the files before (more often than an editor, which sends it when a scroll stops)."""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

from lsprotocol import types

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.lsp_helpers import open_doc, start_server, wait_indexed  # noqa: E402

# The model: answers after a fixed delay; on each line read from stdin it prints (JSON) how long it took to serve
# each request since the last line: from the request read to the reply written (its delay included).
MODEL = """import json, sys, time
from tests.fake_openai import FakeOpenAI
with FakeOpenAI() as api:
    api.delay_s = float(sys.argv[1])
    served = []
    handler = api.server.RequestHandlerClass
    post = handler.do_POST
    def timed(self):
        t = time.perf_counter()
        post(self)
        served.append((time.perf_counter() - t) * 1000)
    handler.do_POST = timed
    print(api.base_url, flush=True)
    for _ in sys.stdin:
        print(json.dumps(served), flush=True)
        served.clear()
"""


def rss_mb(pid: int) -> tuple[float, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    get = lambda key: int(status.split(key + ":")[1].split()[0]) / 1024  # noqa: E731
    return get("VmRSS"), get("VmHWM")


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))]


class Model:
    """The model server process: answers after a fixed delay, and tells how long it spent on each request."""

    def __init__(self, delay_ms: float) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", MODEL, str(delay_ms / 1000)], cwd=ROOT,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.base_url = self.proc.stdout.readline().strip()

    def served(self) -> list[float]:
        """Milliseconds spent serving each request since the last call."""
        self.proc.stdin.write("?\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(10)


async def scenario(name: str, a: argparse.Namespace, model: Model, repo: Path, data: Path,
                   steps: list[tuple[Path, int, int, str | None]]) -> None:
    """Run inline-completion requests at (file, line, column), or where the given text ends once typed there
    (None: nothing typed), and print the figures."""
    lsp, _ = await start_server(repo, model.base_url, Path(a.work).resolve() / "bench-home", "vscode",
                                {"index": {"dataDir": str(data), "debounceMs": 300}})
    await wait_indexed(lsp, timeout=300)
    # the documents are open before the first request, as in an editor (opening one is not a completion's cost)
    opened = {path: open_doc(lsp, path) for path, _, _, _ in steps}
    versions = dict.fromkeys(opened, 1)
    await asyncio.sleep(1.0)  # their (debounced) index updates are done
    totals: list[float] = []
    own: list[float] = []  # the request's time minus the model server's time serving it
    served_all: list[float] = []
    model.served()
    for n, (path, ln, col, text) in enumerate(steps):
        if text is not None:  # the keystroke (an incremental change), then the request, as an editor sends them
            versions[path] += 1
            at = types.Position(ln, col)
            lsp.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=opened[path], version=versions[path]),
                content_changes=[types.TextDocumentContentChangePartial(range=types.Range(at, at), text=text)]))
            ln, col = ln + text.count("\n"), (col if "\n" not in text else 0) + len(text.rsplit("\n", 1)[-1])
        if a.viewed:
            lsp.protocol.notify("ragls/viewedRanges", {"uri": opened[path], "ranges": [
                {"start": {"line": max(0, ln - 20), "character": 0}, "end": {"line": ln + 20, "character": 0}}]})
        t0 = time.perf_counter()
        await lsp.text_document_inline_completion_async(types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(opened[path]), position=types.Position(ln, col),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Automatic)))
        total = (time.perf_counter() - t0) * 1000
        served = model.served()
        served_all.extend(served)
        if n >= 5:  # the first requests load the graph and the postings
            totals.append(total - a.model_delay_ms)
            own.append(total - sum(served))
    status = await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.status"))
    now, peak = rss_mb(lsp._server.pid)
    await lsp.shutdown_session()
    inside = status["completion"]["own_ms"]
    print(f"{name}: {len(totals)} inline completions in {len(opened)} files, a model answering after "
          f"{a.model_delay_ms:.0f} ms")
    print(f"  ragls's own time (the request's time at the client minus the model server's time serving it; LSP "
          f"transport, retrieval, prompt, HTTP client): p50 {pct(own, .5):.1f} ms, p95 {pct(own, .95):.1f} ms, "
          f"mean {statistics.mean(own):.1f} ms")
    print(f"  the request's time at the client minus the model's fixed delay (also counts the model server's own "
          f"HTTP work): p50 {pct(totals, .5):.1f} ms, p95 {pct(totals, .95):.1f} ms")
    print(f"  inside the server (ragls.status: handled minus waiting on the model): p50 {inside['p50']:.1f} ms, "
          f"p95 {inside['p95']:.1f} ms; waiting on the model p50 {status['completion']['model_ms']['p50']:.1f} ms, "
          f"the model server serving p50 {pct(served_all, .5):.1f} ms")
    print(f"  server memory with Django indexed: {now:.0f} MB resident, {peak:.0f} MB peak")


def cold_steps(files: list[Path], rng: random.Random, n: int) -> list[tuple[Path, int, int, str | None]]:
    """Each request at a random line of a random file: every request reads a file it has not seen (the worst
    case: no scan of an earlier request to build on)."""
    steps = []
    for _ in range(n):
        path = rng.choice(files)
        lines = path.read_text(errors="replace").split("\n")
        ln = rng.randrange(10, len(lines))
        steps.append((path, ln, len(lines[ln]) - len(lines[ln].lstrip()), None))
    return steps


def typing_steps(files: list[Path], rng: random.Random, n: int) -> list[tuple[Path, int, int, str | None]]:
    """A new line typed one character at a time in the body of a function, a request after each keystroke, in
    one file after another (what an editor sends while someone writes code)."""
    typed = "result = self.get_queryset().filter(pk=value)"
    steps: list[tuple[Path, int, int, str | None]] = []
    while len(steps) < n:
        path = rng.choice(files)
        lines = path.read_text(errors="replace").split("\n")
        bodies = [i for i, line in enumerate(lines) if line.startswith("        ") and line.strip() and i > 10]
        if not bodies:
            continue
        ln = rng.choice(bodies)
        indent = lines[ln][: len(lines[ln]) - len(lines[ln].lstrip())]
        steps.append((path, ln - 1, len(lines[ln - 1]), "\n" + indent))  # a new line, indented
        steps.extend((path, ln, len(indent) + k, ch) for k, ch in enumerate(typed))
    return steps[:n]


async def run(a: argparse.Namespace) -> None:
    work = Path(a.work).resolve()
    repo = work / "django-5.2.8" / "django"
    data = work / "idx-django"
    if not (data / "index.db").exists():
        sys.exit("run bench/django.py first: it builds the Django index this benchmark serves")
    files = sorted(p for p in repo.rglob("*.py") if p.stat().st_size > 2000)
    model = Model(a.model_delay_ms)
    try:
        await scenario("random positions", a, model, repo, data, cold_steps(files, random.Random(1), a.requests + 5))
        await scenario("typing", a, model, repo, data, typing_steps(files, random.Random(2), a.requests + 5))
    finally:
        model.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="bench/work")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--model-delay-ms", type=float, default=50)
    ap.add_argument("--viewed", action="store_true", help="send the lines around the cursor as viewed ranges")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
