"""LSP fuzz and long-line figures for the real server over stdio: throughput and memory under a long seeded fuzz,
inline-completion latency at the end of a 1 MB line against a short one, and ragls.status round trips while long
completions and indexing are in flight. Figures are printed, not asserted.

usage: python bench/fuzz.py [--messages 10000] [--seed 1] [--long-kb 1024] [--samples 20] [--status-s 10]
The model is the tests' local OpenAI-compatible server answering at once, in a process of its own."""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.conftest import FIXTURES, make_git_repo  # noqa: E402
from tests.test_fuzz import Fuzzer, start  # noqa: E402
from tests.test_protocol import RawServer  # noqa: E402

MODEL = """import sys
from tests.fake_openai import FakeOpenAI
with FakeOpenAI() as api:
    api.server.handle_error = lambda request, address: None  # a client that went away mid-connection
    print(api.base_url, flush=True)
    sys.stdin.read()
"""


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(p * len(s)))] if s else float("nan")


def fuzz(server: RawServer, fuzzer: Fuzzer, n: int, seed: int, timeout: float) -> None:
    """Send `n` fuzz messages, wait for the answers, print the figures."""
    err_before = server.stderr_text()
    before, _ = server.rss_mb()
    counts = dict(fuzzer.counts)
    sent: list[object] = []
    t0 = time.perf_counter()
    for data, msg_id in fuzzer.messages(n):
        server.send_raw(data)
        if msg_id is not None:
            sent.append(msg_id)
    deadline = time.monotonic() + timeout
    with server._cond:
        server._cond.wait_for(lambda: all(i in server.responses for i in sent) or server.proc.poll() is not None,
                              max(0.0, deadline - time.monotonic()))
    elapsed = time.perf_counter() - t0
    answered = sum(i in server.responses for i in sent)
    after, peak = server.rss_mb()
    err = server.stderr_text()[len(err_before):]
    print(f"fuzz: {n} messages (seed {seed}) in {elapsed:.1f} s: {n / elapsed:.0f} messages/s; "
          f"requests answered {answered}/{len(sent)}; server {'alive' if server.proc.poll() is None else 'DEAD'}")
    print(f"  RSS {before:.0f} MB before, {after:.0f} MB after, {peak:.0f} MB peak (the whole run)")
    print(f"  stderr: {len(err.splitlines())} lines, {err.count('Traceback')} tracebacks{raised(err)}")
    print(f"  kinds: {', '.join(f'{k} {v - counts.get(k, 0)}' for k, v in sorted(fuzzer.counts.items()))}")


def raised(err: str) -> str:
    """What the tracebacks in a log were of: their last lines."""
    lines = err.splitlines()
    last = [next((ln for ln in lines[i + 1:] if ln and not ln.startswith(" ")), "?")
            for i, ln in enumerate(lines) if ln.startswith("Traceback")]
    return f" ({'; '.join(sorted(set(last)))})" if last else ""


def completions(server: RawServer, uri: str, line: int, character: int, samples: int, version: int) -> list[float]:
    """Milliseconds per inline completion at the end of a line that ends at (line, character), one at a time; a
    digit is typed there before each (a new prefix: no cached suggestion answers it)."""
    times: list[float] = []
    for i in range(samples):
        at = {"line": line, "character": character + i}
        server.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version + i},
                                                 "contentChanges": [{"range": {"start": at, "end": at}, "text": "1"}]})
        t = time.perf_counter()
        reply = server.wait(server.inline(uri, line, character + i + 1), timeout=600)
        times.append((time.perf_counter() - t) * 1000)
        if "error" in reply:
            print(f"  completion failed: {reply['error']}")
        elif not reply.get("result"):
            print(f"  no suggestion at {line}:{character + i + 1}")
    return times


def status_round_trips(server: RawServer, seconds: float, busy: threading.Event | None = None) -> list[float]:
    """Milliseconds per ragls.status round trip, one every 20 ms for `seconds` (or until `busy` clears)."""
    times: list[float] = []
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end and (busy is None or busy.is_set() or not times):
        n += 1
        t = time.perf_counter()
        server.wait(server.request("workspace/executeCommand", {"command": "ragls.status"}, msg_id=f"st-{n}-{t}"),
                    timeout=600)
        times.append((time.perf_counter() - t) * 1000)
        time.sleep(0.02)
    return times


def long_line(server: RawServer, root: Path, checkout: str, a: argparse.Namespace) -> None:
    size = a.long_kb * 1024
    item = "'k%d': %d, "
    body = "".join(item % (i, i) for i in range(size // 14))[:size]
    text = '"""A generated table."""\nTABLE = {' + body + "\ndef lookup(key):\n    return TABLE.get(key)\n"
    path = root / "shop/table.py"
    uri = path.as_uri()
    server.open(uri, text)
    end = len(text.split("\n")[1])
    short = (root / "shop/checkout.py").read_text().replace("    net = apply_discount(cart.total(), discount)",
                                                             "    net = ")
    server.open(checkout, short, version=10**6)
    completions(server, checkout, 11, 10, 2, 10**6 + 1)  # warm
    long_ms = completions(server, uri, 1, end, a.samples, 2)
    short_ms = completions(server, checkout, 11, 12, a.samples, 10**6 + 3)
    end += a.samples
    print(f"inline completion, a model answering at once ({a.samples} each):")
    print(f"  at the end of a {size // 1024} KB line: p50 {pct(long_ms, .5):.1f} ms, p95 {pct(long_ms, .95):.1f} ms")
    print(f"  at the end of a short line: p50 {pct(short_ms, .5):.1f} ms, p95 {pct(short_ms, .95):.1f} ms")

    idle = status_round_trips(server, 1.0)
    busy = threading.Event()
    busy.set()

    def load() -> None:  # long-line completions and edits of the long line (each re-indexes it), and a reindex
        try:
            deadline = time.monotonic() + a.status_s
            n = 0
            server.request("workspace/executeCommand", {"command": "ragls.reindex"}, msg_id="reindex")
            while time.monotonic() < deadline:
                n += 1
                server.send({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
                    "textDocument": {"uri": uri, "version": 10**5 + n}, "contentChanges": [{
                        "range": {"start": {"line": 1, "character": end}, "end": {"line": 1, "character": end}},
                        "text": " "}]}})
                server.wait(server.request("textDocument/inlineCompletion", {
                    "textDocument": {"uri": uri}, "position": {"line": 1, "character": end + n},
                    "context": {"triggerKind": 2}}, msg_id=f"bg-{n}"), timeout=600)
            server.wait("reindex", timeout=600)
        finally:
            busy.clear()

    worker = threading.Thread(target=load)
    worker.start()
    loaded = status_round_trips(server, a.status_s + 600, busy)
    worker.join()
    print(f"ragls.status round trip: idle p50 {pct(idle, .5):.1f} ms, max {max(idle):.1f} ms; while long-line "
          f"completions, edits and a reindex are in flight ({len(loaded)} probes): p50 {pct(loaded, .5):.1f} ms, "
          f"p95 {pct(loaded, .95):.1f} ms, max {max(loaded):.1f} ms (target <= 50 ms)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--long-kb", type=int, default=1024)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--status-s", type=float, default=10)
    ap.add_argument("--timeout", type=float, default=600, help="how long to wait for the fuzz's answers")
    a = ap.parse_args()
    model = subprocess.Popen([sys.executable, "-c", MODEL], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    assert model.stdin is not None and model.stdout is not None
    with tempfile.TemporaryDirectory(prefix="ragls-fuzz-") as tmp:
        try:
            base_url = model.stdout.readline().strip()
            root = Path(tmp, "repo")
            make_git_repo(FIXTURES / "pyrepo", root)
            root = root.resolve()
            server, fuzzer, checkout = start(root, base_url, Path(tmp, "home"), a.seed)
            try:
                fuzz(server, fuzzer, min(500, a.messages), a.seed, a.timeout)  # warm-up: what the first requests load
                print("(the above was the warm-up)")
                fuzz(server, fuzzer, a.messages, a.seed, a.timeout)
                long_line(server, root, checkout, a)
                err = server.stderr_text()
                print(f"whole run: stderr {len(err.splitlines())} lines, {err.count('Traceback')} tracebacks"
                      f"{raised(err)}; "
                      f"exit status after shutdown/exit: {server.shutdown(120)}")
            finally:
                server.kill()
        finally:
            model.stdin.close()
            model.wait(10)


if __name__ == "__main__":
    main()
