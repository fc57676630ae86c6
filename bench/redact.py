"""What secret redaction adds to rendering a completion prompt, on prompts made from this repository's files.

usage: python bench/redact.py [--prompts 300] [--seed 1]
Two scenarios, as bench/server.py's: random positions (every prefix and suffix new; context items drawn from a
pool of the repository's definitions, so some repeat as they do in an editor) and typing (one line typed a
character at a time: the prefix grows, the context stays). Prompts are the size the completion feature sends by
default (about 2,000 tokens: prefix and suffix windows plus 1,000 tokens of context). Prints p50/p95 of the time
redaction takes (prompts/render.py's `_redact`) and of the whole `render` call, in microseconds of the thread's CPU
time (wall time on a shared machine counts the waits for a core too)."""
from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ragls.indexer import secrets as redact  # noqa: E402
from ragls.indexer.secrets import Redactor  # noqa: E402
from ragls.prompts.render import _redact, load, render  # noqa: E402

PREFIX_CHARS, SUFFIX_CHARS, CONTEXT_CHARS = 3700, 1240, 4000  # ~1,150 + 390 + 1,000 tokens at 3.2-4 chars a token


def files() -> list[tuple[str, str]]:
    names = subprocess.run(["git", "ls-files", "*.py", "*.ts", "*.lua"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    return [(n, (ROOT / n).read_text("utf-8")) for n in names if (ROOT / n).stat().st_size > 2000]


def definitions(texts: list[tuple[str, str]]) -> list[dict]:
    """Top-level blocks of the files (a line starting a def or class up to the next one), as context items."""
    out = []
    for path, text in texts:
        lines = text.split("\n")
        starts = [i for i, line in enumerate(lines) if line.startswith(("def ", "class ", "async def "))]
        for a, b in zip(starts, starts[1:] + [len(lines)], strict=True):
            body = "\n".join(lines[a:min(b, a + 40)])
            out.append({"path": path, "start_line": a + 1, "end_line": min(b, a + 40), "symbol": "", "text": body})
    return out


def context(pool: list[dict], rng: random.Random) -> list[dict]:
    items, size = [], 0
    while size < CONTEXT_CHARS:
        item = dict(rng.choice(pool))  # a fresh dict and str object, as the server builds them per request
        item["text"] = "".join(list(item["text"]))
        items.append(item)
        size += len(item["text"])
    return items


def values(path: str, text: str, cut: int, items: list[dict]) -> dict:
    """The completion feature's variables: the whole lines within so many characters before and after the cursor,
    as server/features/completion.py cuts them."""
    prefix, suffix = text[:cut], text[cut:]
    if len(prefix) > PREFIX_CHARS:
        prefix = prefix[-PREFIX_CHARS:]
        prefix = prefix[prefix.find("\n") + 1:]
    if len(suffix) > SUFFIX_CHARS:
        suffix = suffix[:SUFFIX_CHARS]
        suffix = suffix[:suffix.rfind("\n")]
    return {"language": "python", "path": path, "context": items, "edits": "", "prefix": prefix, "suffix": suffix}


def measure(samples: list[dict]) -> tuple[list[float], list[float]]:
    template = load("complete_chat")
    red, whole = [], []
    for v in samples:
        t0 = time.thread_time_ns()
        _redact(template, v, Redactor())
        t1 = time.thread_time_ns()
        render(template, v, 2048)
        t2 = time.thread_time_ns()
        red.append((t1 - t0) / 1000)
        whole.append((t2 - t1) / 1000)
    return red, whole


def pct(xs: list[float]) -> str:
    s = sorted(xs)
    return f"p50 {s[len(s) // 2]:7.0f}  p95 {s[int(len(s) * .95)]:7.0f}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--prompts", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    texts = files()
    pool = definitions(texts)
    random_positions = []
    for _ in range(args.prompts):
        path, text = rng.choice(texts)
        random_positions.append(values(path, text, rng.randrange(len(text)), context(pool, rng)))
    typing = []
    while len(typing) < args.prompts:
        path, text = rng.choice(texts)
        lines = text.split("\n")
        n = rng.randrange(len(lines))
        line = lines[n]
        items = context(pool, rng)
        start = sum(len(x) + 1 for x in lines[:n])
        rest = text[:start] + "\n".join(lines[n + 1:])  # the line is being typed: not there yet
        for k in range(len(line) + 1):
            typed = rest[:start] + line[:k] + "\n" + rest[start:]
            typing.append(values(path, typed, start + k, [dict(i) for i in items]))
    typing = typing[:args.prompts]
    measure(random_positions[:20])  # warm up imports and the templates
    for name, samples in (("random positions", random_positions), ("typing", typing)):
        redact.find.cache_clear()
        red, whole = measure(samples)
        size = sum(len(v["prefix"]) + len(v["suffix"]) + sum(len(i["text"]) for i in v["context"])
                   for v in samples) / len(samples)
        print(f"{name:17} ({len(samples)} prompts, {size / 1000:.1f} KB on average)  "
              f"redaction us: {pct(red)}   render us (redaction included): {pct(whole)}")


if __name__ == "__main__":
    main()
