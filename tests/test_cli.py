"""The `ragls` command line end to end, in subprocesses: index, context (single and --batch), search, errors."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path


def ragls(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ragls.indexer.cli", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_index_then_context_then_search(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    data = str(tmp_path / "data")
    out = ragls("index", str(root), "--data-dir", data, "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["files"] == 7 and summary["changed"] == 7 and summary["symbols"] >= 15
    again = json.loads(ragls("index", str(root), "--data-dir", data, "--json").stdout)
    assert again["changed"] == 0 and again["embedded"] == 0

    out = ragls("context", "shop/checkout.py:12:10", "--data-dir", data, "--json", cwd=root)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["latency_ms"] > 0
    top = result["items"][0]
    assert {"path", "symbol", "kind", "start_line", "end_line", "score", "tokens"} <= top.keys()
    assert any(i["symbol"] == "apply_discount" for i in result["items"][:3])

    text = ragls("context", "shop/checkout.py:12:10", "--data-dir", data, cwd=root)
    # apply_discount, with the definitions a blank line or two from it shown in the same lines
    assert re.search(r"shop/pricing\.py:\d+-\d+  apply_discount \[function\] \(with [^)]+\)  \d+ tokens", text.stdout)

    out = ragls("search", "tax by country", "--data-dir", data, "--json", cwd=root)
    assert json.loads(out.stdout)["items"][0]["symbol"].startswith("TaxPolicy")


def test_batch_prints_one_line_per_query_in_order(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    queries = tmp_path / "q.jsonl"
    queries.write_text("\n".join(json.dumps(q) for q in [
        {"path": "shop/checkout.py", "line": 12, "col": 10},
        {"path": "shop/missing.py", "line": 1, "col": 0},
        {"path": "shop/checkout.py", "line": 8, "col": 0, "end_line": 14},
        {"line": 3},
    ]) + "\n")
    out = ragls("context", "--repo", str(root), "--batch", str(queries), "--k", "5", "--json",
                "--data-dir", str(tmp_path / "data"))
    assert out.returncode == 0, out.stderr
    lines = [json.loads(ln) for ln in out.stdout.splitlines()]
    assert len(lines) == 4
    assert any(i["symbol"] == "apply_discount" for i in lines[0]["items"]) and "latency_ms" in lines[0]
    assert lines[1]["items"] == [] and "error" in lines[1]
    assert len(lines[2]["items"]) == 5
    assert lines[3]["items"] == [] and "error" in lines[3]


def test_a_query_that_meets_a_bug_does_not_end_the_batch(shop_repo, tmp_path, monkeypatch, capsys):
    """An unexpected exception in one query's retrieval is that query's error line; the next queries answer."""
    from ragls.indexer import cli, retrieve

    real = retrieve.timed_context

    def flaky(retriever, q, **kwargs):
        if q.line == 8:
            raise RecursionError("maximum recursion depth exceeded")
        return real(retriever, q, **kwargs)

    monkeypatch.setattr(retrieve, "timed_context", flaky)
    root = Path(shop_repo.working_tree_dir)
    queries = tmp_path / "q.jsonl"
    queries.write_text("".join(json.dumps(q) + "\n" for q in [
        {"path": "shop/checkout.py", "line": 8, "col": 0}, {"path": "shop/checkout.py", "line": 12, "col": 10}]))
    assert cli.main(["context", "--repo", str(root), "--batch", str(queries), "--json",
                     "--data-dir", str(tmp_path / "data")]) == 0
    lines = [json.loads(ln) for ln in capsys.readouterr().out.splitlines() if ln.startswith("{")]
    assert lines[0]["items"] == [] and "RecursionError" in lines[0]["error"]
    assert any(i["symbol"] == "apply_discount" for i in lines[1]["items"])


def test_clear_errors(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    data = str(tmp_path / "data")
    bad = ragls("context", "shop/checkout.py:x", "--data-dir", data, cwd=root)
    assert bad.returncode == 2 and "PATH:LINE" in bad.stderr
    outside = ragls("context", str(tmp_path / "elsewhere.py") + ":1", "--repo", str(root), "--data-dir", data)
    assert outside.returncode == 2 and "outside the repository" in outside.stderr
    missing = ragls("index", str(tmp_path / "nope"), "--data-dir", data)
    assert missing.returncode == 2 and "not a directory" in missing.stderr
    for command in (["context", "--batch"], ["next-edit", "--json", "--batch"]):  # read before any indexing
        nofile = ragls(*command, str(tmp_path / "no-such.jsonl"), "--data-dir", data, cwd=root)
        assert nofile.returncode == 2 and "cannot read the batch file" in nofile.stderr
        assert "Traceback" not in nofile.stderr and not (tmp_path / "data").exists()


def test_progress_bar_on_a_terminal_then_one_summary_line(shop_repo, tmp_path):
    import fcntl
    import os
    import pty
    import select
    import struct
    import termios

    root = Path(shop_repo.working_tree_dir)
    for i in range(60):  # enough files for the parallel path too
        (root / f"gen_{i}.py").write_text(f"def generated_{i}(x):\n    return x + {i}\n")
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "ragls.indexer.cli", "index", str(root), "--data-dir",
                             str(tmp_path / "data")], stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.3)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
        elif proc.poll() is not None:
            break
    os.close(master)
    out = proc.stdout.read().decode()
    assert proc.wait() == 0
    assert b"file/s" in shown and b"/67" in shown  # the bar, on the terminal (stderr)
    assert out.count("\n") == 1 and out.startswith("indexed 67 files")


def test_the_engine_commands_load_no_model_client(shop_repo, tmp_path):
    """`ragls index` and `ragls context` through the `ragls` entry point import neither openai nor the language
    server: their start-up stays a fraction of a second (openai alone took 0.4 s of each command)."""
    code = ("import json, sys\n"
            "from ragls.server.cli import main\n"
            f"a = main(['index', {shop_repo.working_tree_dir!r}, '--data-dir', {str(tmp_path / 'data')!r}, '-q'])\n"
            f"b = main(['context', 'shop/checkout.py:12:10', '--repo', {shop_repo.working_tree_dir!r},\n"
            f"          '--data-dir', {str(tmp_path / 'data')!r}, '--json'])\n"
            "print(json.dumps([a, b, sorted({m.split('.')[0] for m in sys.modules}\n"
            "                  & {'openai', 'httpx2', 'pygls', 'lsprotocol'})]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)
    a, b, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert a == b == 0 and loaded == [], (loaded, done.stderr[-2000:])


def test_subcommands_register_through_the_public_commands_type():
    """A module adds its subcommand with Commands.add_parser; nothing names argparse's private subparsers type."""
    from ragls.indexer.cli import commands
    from ragls.server.cli import build_parser

    sub = commands()
    assert set(sub.parsers()) == {"index", "context", "search", "next-edit"}
    sub.add_parser("hello").set_defaults(func=lambda args: 7)
    args = sub.parser.parse_args(["hello"])
    assert args.command == "hello" and args.func(args) == 7
    server = build_parser()
    assert server.parse_args(["review", "--dry-run"]).command == "review"
    assert server.parse_args(["mcp"]).command == "mcp"
    root = Path(__file__).resolve().parent.parent
    private = [p for folder in ("server", "indexer") for p in (root / folder).rglob("*.py")
               if "_SubParsersAction" in p.read_text()]
    assert private == []


def test_version_is_the_installed_packages():
    from importlib import metadata

    out = subprocess.run([sys.executable, "-m", "ragls.server.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"ragls {metadata.version('ragls')}"


def test_an_interrupt_during_an_import_is_an_interrupt(monkeypatch, capsys):
    """A SIGINT that lands while a module defines a class reaches Python 3.11 as a RuntimeError from `__set_name__`
    caused by the KeyboardInterrupt (seen when a server stopped its indexer child as it imported `Index`): it ends
    the command as an interrupt does, exit 130 and one line, no traceback. Another RuntimeError is not hidden."""
    import pytest
    from ragls.indexer import cli

    def interrupted(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise RuntimeError("Error calling __set_name__ on 'cached_property' instance") from exc

    monkeypatch.setattr(cli, "cmd_index", interrupted)  # the parser binds the command when it is built
    assert cli.main(["index", "."], cli.build_parser()) == 130
    assert capsys.readouterr().err.startswith("ragls: interrupted")

    def broken(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cli, "cmd_index", broken)
    with pytest.raises(RuntimeError, match="a bug"):
        cli.main(["index", "."], cli.build_parser())
