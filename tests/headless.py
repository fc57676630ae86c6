"""Run a headless editor (Neovim, Emacs) under a deadline: its whole process group is killed if it outlives it."""
from __future__ import annotations

import os
import signal
import subprocess

import pytest


def run_headless(argv: list[str], env: dict[str, str], cwd: str, timeout_s: float) -> tuple[int, str]:
    """The editor's exit status and its output (stdout and stderr, the last 4,000 characters); the test fails with
    that output when the editor does not finish within `timeout_s`."""
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"{os.path.basename(argv[0])} did not finish in {timeout_s}s:\n"
                    f"{out.decode(errors='replace')[-4000:]}")
    return proc.returncode, out.decode(errors="replace")[-4000:]
