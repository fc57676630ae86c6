"""A full refresh of a workspace's index in a child process (`python -m ragls.indexer.cli index`), so that the
language server never keeps the memory indexing needs: progress comes back as JSON lines, the child's log is
relayed to the server's, and a failure is one clear line."""
from __future__ import annotations

import json
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO

log = logging.getLogger(__name__)
KILL_AFTER_S = 5.0  # a stopped indexer that has not exited by then is killed
OK_STATUSES = (0, 4)  # 4: the catalog is up to date but the vector store was not written (the next run does it)


class IndexingFailed(RuntimeError):
    """The indexer process failed; the message is its own one-line explanation."""


class IndexingStopped(IndexingFailed):
    """The indexer process was stopped before it finished (its folder closed, the server shutting down)."""


class IndexerProcess:
    """One run of the indexer in a child process. `run` blocks until it ends (call it on the index's writer thread:
    the child holds the index's write lock meanwhile); `stop` may be called from any thread."""

    def __init__(self, root: Path, data_dir: Path, embedder: str | None = None, store: str | None = None,
                 embed_base_url: str | None = None, embed_api_key_env: str | None = None) -> None:
        """The index's settings go as flags (the key's variable by name: the child inherits the environment)."""
        self.cmd = [sys.executable, "-m", "ragls.indexer.cli", "index", str(root), "--data-dir", str(data_dir),
                    "--json", "--progress-json", "--exit-with-parent", "--quiet"]
        for flag, value in (("--embedder", embedder), ("--store", store), ("--embed-base-url", embed_base_url),
                            ("--embed-api-key-env", embed_api_key_env)):
            if value:
                self.cmd += [flag, value]
        self._proc: subprocess.Popen[str] | None = None
        self._stopped = False
        self._ready = False  # the child said it handles SIGINT (before that, one kills it while Python starts)
        self._guard = threading.Lock()
        self._tail: deque[str] = deque(maxlen=40)  # the child's last log lines: its failure message
        self._relay: threading.Thread | None = None
        self._messages: queue.SimpleQueue[dict | None] = queue.SimpleQueue()  # the child's, None after the last

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def run(self, progress: Callable[[int, int], None] | None = None) -> str:
        """Index, calling `progress(done, total)` as files are analysed; returns the summary line. Raises
        IndexingFailed with the indexer's own message, IndexingStopped when `stop` ended it."""
        self.start()
        return self.wait(progress)

    def start(self) -> None:
        """Start the child (its log is relayed and its messages read from now on); IndexingStopped if `stop` came
        first."""
        with self._guard:
            if self._stopped:
                raise IndexingStopped("indexing was stopped")
            env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "PYTHONUNBUFFERED": "1"}
            self._proc = proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                                 stderr=subprocess.PIPE, text=True, env=env)
        log.info("indexing in process %d: %s", proc.pid, " ".join(self.cmd[1:]))
        self._relay = threading.Thread(target=_relay, args=(proc.stderr, self._tail), name="ragls-indexer-log",
                                       daemon=True)
        self._relay.start()
        # read at once, not only once `wait` runs: a `stop` meanwhile must learn that the child is ready
        threading.Thread(target=self._read, args=(proc,), name="ragls-indexer-read", daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            try:
                msg = json.loads(raw)
            except ValueError:
                log.warning("indexer: %s", raw.rstrip())
                continue
            if isinstance(msg, dict) and msg.get("ready"):
                self._on_ready(proc)
            elif isinstance(msg, dict):
                self._messages.put(msg)
        self._messages.put(None)

    def wait(self, progress: Callable[[int, int], None] | None = None) -> str:
        """Take the started child's progress until it ends (its progress reports wait in a queue until then)."""
        proc, tail, relay = self._proc, self._tail, self._relay
        assert proc is not None and relay is not None
        summary: dict | None = None
        while (msg := self._messages.get()) is not None:
            if "done" in msg:
                if progress is not None:
                    progress(int(msg["done"]), int(msg["total"]))
            elif "line" in msg:
                summary = msg
        status = proc.wait()
        relay.join(5)
        if status in OK_STATUSES and summary is not None:
            return str(summary["line"])
        if self._stopped:
            raise IndexingStopped("indexing was stopped")
        raise IndexingFailed(_reason(status, list(tail)))

    def stop(self) -> None:
        """End the run: the child stops as on Ctrl-C (releasing the lock, closing the vector store cleanly), and is
        killed if it has not exited after KILL_AFTER_S. A child still starting gets its SIGINT once it says it is
        ready: the signal while Python imports its site module is a fatal error with a traceback."""
        with self._guard:
            self._stopped = True
            proc, ready = self._proc, self._ready
        if proc is None or proc.poll() is not None:
            return
        if ready:
            _interrupt(proc)
        timer = threading.Timer(KILL_AFTER_S, _kill, args=(proc,))
        timer.daemon = True
        timer.start()

    def _on_ready(self, proc: subprocess.Popen[str]) -> None:
        with self._guard:
            self._ready = True
            stopped = self._stopped
        if stopped:
            _interrupt(proc)


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()


def _interrupt(proc: subprocess.Popen[str]) -> None:
    try:
        proc.send_signal(signal.SIGINT)
    except OSError:  # it has just exited
        pass


def _relay(stream: IO[str] | None, tail: deque[str]) -> None:
    """Copy the child's log (stderr) to the server's, keeping its last lines for the failure message."""
    if stream is None:
        return
    for line in stream:
        tail.append(line.rstrip("\n"))
        try:
            sys.stderr.write(line)
            sys.stderr.flush()
        except (OSError, ValueError):  # the server's stderr is gone: keep draining the pipe
            pass


def _reason(status: int, tail: list[str]) -> str:
    """One line: the indexer's own "ragls: ..." message, else the last line it wrote (an exception's), else its
    exit status or signal."""
    for line in reversed(tail):
        if line.startswith("ragls: "):
            return line[len("ragls: "):]
    if status < 0:
        try:
            return f"the indexer was killed by {signal.Signals(-status).name}"
        except ValueError:
            return f"the indexer was killed by signal {-status}"
    last = next((line.strip() for line in reversed(tail) if line.strip()), None)
    return last[:300] if last else f"the indexer exited with status {status}"
