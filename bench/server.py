"""Language-server figures on Django's package folder: ragls's own time per inline-completion request (retrieval,
prompt assembly, LSP; the model's fixed delay subtracted) and the server's memory.

usage: python bench/server.py [--work bench/work] [--requests 200] [--model-delay-ms 50]
Needs the Django index of bench/django.py (run that first)."""
from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.fake_openai import FakeOpenAI  # noqa: E402  (the tests' local OpenAI-compatible server)
from tests.lsp_helpers import open_doc, start_server, wait_indexed  # noqa: E402


def rss_mb(pid: int) -> tuple[float, float]:
    status = Path(f"/proc/{pid}/status").read_text()
    get = lambda key: int(status.split(key + ":")[1].split()[0]) / 1024  # noqa: E731
    return get("VmRSS"), get("VmHWM")


async def run(a: argparse.Namespace) -> None:
    work = Path(a.work).resolve()
    repo = work / "django-5.2.8" / "django"
    data = work / "idx-django"
    if not (data / "index.db").exists():
        sys.exit("run bench/django.py first: it builds the Django index this benchmark serves")
    rng = random.Random(1)
    files = sorted(p for p in repo.rglob("*.py") if p.stat().st_size > 2000)
    with FakeOpenAI() as api:
        api.delay_s = a.model_delay_ms / 1000
        lsp, _ = await start_server(repo, api.base_url, work / "bench-home", "vscode",
                                    {"index": {"dataDir": str(data), "debounceMs": 300}})
        print(await wait_indexed(lsp, timeout=300))
        pid = lsp._server.pid
        opened: dict[Path, str] = {}
        totals: list[float] = []
        for n in range(a.requests):
            path = rng.choice(files)
            lines = path.read_text(errors="replace").split("\n")
            if path not in opened:
                opened[path] = open_doc(lsp, path)
            ln = rng.randrange(10, len(lines))
            col = len(lines[ln]) - len(lines[ln].lstrip())
            api.replies.append(f"value_{n}")
            t0 = time.perf_counter()
            await lsp.text_document_inline_completion_async(types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(opened[path]), position=types.Position(ln, col),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked)))
            totals.append((time.perf_counter() - t0) * 1000 - a.model_delay_ms)
        now, peak = rss_mb(pid)
        await lsp.shutdown_session()
    own = sorted(totals[5:])  # the first requests load the graph and the embedder
    pct = lambda p: own[min(len(own) - 1, int(p * len(own)))]  # noqa: E731
    print(f"inline completion, ragls's own time (model delay {a.model_delay_ms} ms subtracted), {len(own)} requests "
          f"over {len(opened)} files: p50 {pct(.5):.1f} ms, p95 {pct(.95):.1f} ms, mean {statistics.mean(own):.1f} ms")
    print(f"server memory with Django indexed: {now:.0f} MB resident, {peak:.0f} MB peak")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="bench/work")
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--model-delay-ms", type=float, default=50)
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
