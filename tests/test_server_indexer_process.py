"""The language server indexes a workspace in a child process: progress comes back, queries answer from what it
stored, edits made meanwhile are applied after it, stopping the session stops it, and a failing child is one clear
message while the server keeps answering."""
from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types

from ragls.indexer.lock import IndexLocked, WriteLock
from ragls.indexer.retrieve import Query
from ragls.server import indexer_process
from ragls.server.indexer_process import IndexerProcess, IndexingStopped
from ragls.server.session import Session
from ragls.server.settings import Settings

from .conftest import write_tree
from .lsp_helpers import open_doc, start_server, wait_indexed
from .test_server_lsp import inline, prompts

pytestmark = pytest.mark.asyncio(loop_scope="function")


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[subprocess.Popen]:
    """The child processes the indexer runs, as they start."""
    seen: list[subprocess.Popen] = []
    real = subprocess.Popen

    def popen(cmd, *args, **kwargs):
        proc = real(cmd, *args, **kwargs)
        if "ragls.indexer.cli" in cmd:  # not the derivation of the model files, say
            seen.append(proc)
        return proc

    monkeypatch.setattr(indexer_process.subprocess, "Popen", popen)
    return seen


def many_files(root: Path, n: int) -> Path:
    """A repository of `n` modules, each calling a function of the one before (enough work to stop midway)."""
    files = {"pkg/__init__.py": ""}
    for i in range(n):
        prev = f"from pkg.m{i - 1} import f{i - 1}\n\n\n" if i else ""
        body = f"f{i - 1}(value) + {i}" if i else "value"
        files[f"pkg/m{i}.py"] = f'{prev}def f{i}(value: int) -> int:\n    """Step {i}."""\n    return {body}\n'
    return write_tree(root, files)


async def test_a_full_refresh_runs_in_a_child_and_its_index_answers(shop_repo, started):
    root = Path(shop_repo.working_tree_dir)
    session = Session(root, Settings(), refresh_in_process=False)
    reports: list[tuple[int, int]] = []
    try:
        line = await session.index_workspace(lambda done, total: reports.append((done, total)))
        assert line.startswith("indexed ") and session.indexed.is_set()
        assert [p.args[3:5] for p in started] == [["index", str(root.resolve())]]
        assert started[0].returncode == 0
        assert reports and reports[-1][0] == reports[-1][1] > 0
        source = (root / "shop/checkout.py").read_text()
        items = await session.context(Query("shop/checkout.py", 12, 10), source, 5, 1500)
        assert "apply_discount" in {i.symbol for i in items}
        assert "apply_discount" in {i.symbol for i in await session.search("apply discount", 5, 1500)}
        # an edit made while a second refresh runs is applied after it
        (root / "shop/extra.py").write_text("def brand_new_helper(x: int) -> int:\n    return x\n")
        again = asyncio.ensure_future(session.index_workspace())
        await asyncio.sleep(0)
        session.schedule_update("shop/checkout.py", source.replace("def checkout(", "def renamed_checkout("), 0)
        assert "1 changed" in await again  # a small refresh of a built index: in the server, no process start
        await session.flush()
        assert len(started) == 1
        found = {i.symbol for i in await session.search("brand_new_helper renamed_checkout", 10, 3000)}
        assert {"brand_new_helper", "renamed_checkout"} <= found
    finally:
        session.close()


async def test_closing_the_session_stops_the_child_and_frees_the_index(tmp_path, started):
    root = many_files(tmp_path / "big", 400)
    session = Session(root, Settings(), refresh_in_process=False)
    first = asyncio.Event()
    loop = asyncio.get_running_loop()
    run = asyncio.ensure_future(session.index_workspace(lambda d, t: loop.call_soon_threadsafe(first.set)))
    await asyncio.wait_for(first.wait(), 120)  # the child is analysing files, holding the write lock
    lock = WriteLock(session._write_index.data_dir / "write.lock")
    with pytest.raises(IndexLocked):
        lock.acquire(wait_in_process=False)
    session.close()
    with pytest.raises((IndexingStopped, asyncio.CancelledError)):
        await asyncio.wait_for(run, 60)
    assert await asyncio.to_thread(started[0].wait, 30) != 0
    lock.acquire(wait_in_process=False)  # the child released the lock on its way out
    lock.release()


async def test_a_child_stopped_while_python_starts_ends_quietly(tmp_path, capfd):
    """The stop waits until the child can take a SIGINT cleanly: during Python's own start-up the signal is a fatal
    error with a traceback in the server's log."""
    root = write_tree(tmp_path / "repo", {"a.py": "def f() -> int:\n    return 1\n"})
    for attempt, delay in enumerate([0, 0.01, 0.03, 0.06, 0.1, 0.2]):
        indexer = IndexerProcess(root, tmp_path / f"index{attempt}")
        indexer.start()
        await asyncio.sleep(delay)  # the child is still starting Python, importing its site module or ragls
        indexer.stop()
        with pytest.raises(IndexingStopped):
            await asyncio.to_thread(indexer.wait)
        lock = WriteLock(tmp_path / f"index{attempt}" / "write.lock")
        lock.acquire(wait_in_process=False)  # nothing left held
        lock.release()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Fatal" not in err, err


LOST_INTERRUPT = """
import os, signal, sys, weakref
from ragls.indexer import cli, index

def lose_an_interrupt():
    # a SIGINT handled inside a weakref callback (as while a module is imported): Python cannot raise it there
    class Held:
        pass

    def callback(_):
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10 ** 7):
            pass

    held = Held()
    ref = weakref.ref(held, callback)
    del held
    return ref

refresh = index.Index.refresh

def refresh_losing_an_interrupt(self, progress=None):
    summary = refresh(self, progress)
    lose_an_interrupt()
    print("went on", flush=True)
    return summary

index.Index.refresh = refresh_losing_an_interrupt
sys.exit(cli.main(sys.argv[1:]))
"""


async def test_an_interrupt_python_cannot_raise_still_stops_the_index_run_quietly(tmp_path):
    """A SIGINT that lands in a weakref callback (an import's lock) is "ignored" by Python and the run goes on: the
    run remembers it and stops at its end (exit 130, no summary, the lock free), and prints no traceback for it."""
    root = write_tree(tmp_path / "repo", {"a.py": "def f() -> int:\n    return 1\n"})
    data = tmp_path / "index"
    run = await asyncio.to_thread(subprocess.run, [sys.executable, "-c", LOST_INTERRUPT, "index", str(root),
                                  "--data-dir", str(data), "--json", "--progress-json", "--quiet"],
                                  capture_output=True, text=True, timeout=120)
    assert "went on" in run.stdout  # the interrupt was lost where it landed
    assert run.returncode == 130 and '"line"' not in run.stdout, (run.returncode, run.stdout, run.stderr)
    assert "interrupted" in run.stderr and "Traceback" not in run.stderr and "Exception ignored" not in run.stderr
    lock = WriteLock(data / "write.lock")
    lock.acquire(wait_in_process=False)
    lock.release()


async def test_a_failing_child_is_one_clear_message_and_the_server_answers_on(shop_repo, api, tmp_path):
    root, data = Path(shop_repo.working_tree_dir), tmp_path / "index"
    held = WriteLock(data / "write.lock")  # another ragls process indexing this repository: the child fails
    held.acquire()
    lsp, _ = await start_server(root, api.base_url, tmp_path / "home", "vscode", {"index": {"dataDir": str(data)}})
    try:
        line = await wait_indexed(lsp)
        assert line.startswith("ragls: indexing failed: another ragls process") and "\n" not in line
        shown = [m.message for m in lsp.messages if "indexing failed" in m.message]
        assert len(shown) == 1 and "\n" not in shown[0] and "Traceback" not in shown[0]
        status = await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.status"))
        assert status["state"] == "error" and "another ragls process" in status["folders"][0]["index"]
        uri = open_doc(lsp, root / "shop/checkout.py")
        api.replies.append("apply_discount(cart.total(), discount)")
        await inline(lsp, uri, 11, 10)  # answered (with what the index holds), not a dead server
        held.release()
        summary = await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.reindex"))
        assert summary.startswith("indexed ")
        status = await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.status"))
        assert status["folders"][0]["state"] == "ready"
    finally:
        held.release()
        await lsp.shutdown_session()


async def test_the_server_indexes_in_a_child_with_progress(shop_repo, api, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    lsp, _ = await start_server(root, api.base_url, tmp_path / "home", "vscode")
    try:
        assert "indexed" in await wait_indexed(lsp)
        reports = [v for values in lsp.progress_reports.values() for v in values]
        assert isinstance(reports[0], types.WorkDoneProgressBegin)
        assert any(isinstance(r, types.WorkDoneProgressReport) and r.message and "/" in r.message for r in reports)
        assert isinstance(reports[-1], types.WorkDoneProgressEnd) and "indexed" in reports[-1].message
        uri = open_doc(lsp, root / "shop/checkout.py")
        api.replies.append("apply_discount(cart.total(), discount)")
        await inline(lsp, uri, 11, 10)
        assert "def apply_discount" in prompts(api)[-1]
    finally:
        await lsp.shutdown_session()


async def _until(ready, timeout_s: float = 30.0) -> None:
    """Wait until `ready()` holds (polled), or fail."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while not ready():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.02)


async def test_the_retrieval_thread_primes_the_graph_in_slices_between_requests(tmp_path, monkeypatch):
    """Once the index is ready the graph is primed (every class's members worked out before a query needs them),
    a slice at a time, so that a request waits for at most one; a request that patched the graph (an edit) primes
    it again."""
    from ragls.indexer.graph import Graph
    from ragls.server import session as session_module

    files = {f"pkg/c{i}.py": f"class C{i}:\n    def run{i}(self):\n        return {i}\n" for i in range(40)}
    files["pkg/use.py"] = "from pkg.c0 import C0\n\n\ndef go():\n    return C0().run0()\n"
    root = write_tree(tmp_path / "repo", files)
    monkeypatch.setattr(session_module, "PRIME_SLICE_S", 0.0)  # one class a slice
    slices: list[bool] = []
    real = Graph.prime
    monkeypatch.setattr(Graph, "prime", lambda self, until=None: slices.append(real(self, until)) or slices[-1])
    session = Session(root, Settings())
    try:
        await session.index_workspace()
        await _until(lambda: session._retriever.primed)
        assert len(slices) > 1 and slices[-1] and not any(slices[:-1])  # sliced, then done
        source = (root / "pkg/use.py").read_text()
        session.schedule_update("pkg/c0.py", "class C0:\n    def run0(self):\n        return 100\n", 0.0)
        await session.flush()
        items = await session.context(Query("pkg/use.py", 5, 22), source, 5, 1500)
        assert "C0.run0" in {i.symbol for i in items}
        await _until(lambda: session._retriever.primed)  # the request patched the graph: primed again
    finally:
        session.close()
