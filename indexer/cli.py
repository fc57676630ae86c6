"""The `ragls` command line: index a repository, show the context retrieved for a position, search.

Exit status: 0 done; 2 a usage error; 3 another ragls process holds the index (a damaged one included); 4 `ragls
index` updated the catalog but not the vector store (a Chroma server down, a damaged store open elsewhere: the next
run stores the vectors); 5 the index cannot be read or written (disk, permissions); 130 interrupted. A damaged index
is rebuilt, not an error. `context` and `search` answer without vectors when the store is unavailable (a warning)."""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, ContextManager, TextIO, TypeVar

from .config import package_version

log = logging.getLogger("ragls")


def repo_root(start: Path) -> Path:
    """The git work tree containing `start`, or `start` itself."""
    import git

    try:
        return Path(git.Repo(start, search_parent_directories=True).working_tree_dir or start).resolve()
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        return start.resolve()


_OPENED: list[Path] = []  # the data folders this command opened (named by its error messages)
T = TypeVar("T")


def _open(args: argparse.Namespace, root: Path):
    from .index import Index

    index = Index.open(root, data_dir=Path(args.data_dir) if args.data_dir else None, embedder=args.embedder,
                       store_url=args.store, embed_base_url=args.embed_base_url,
                       embed_api_key_env=args.embed_api_key_env)
    _OPENED.append(index.data_dir)
    return index


def _ensure_index(index, quiet: bool = True) -> None:
    if not index.exists() or index.store.meta("generation") is None:
        summary = index.refresh(progress=None if not quiet else False)
        print(summary.line(), file=sys.stderr)


def _answer(index, ask: Callable[[], T]) -> T:
    """Build the index when it has none (or it was just rebuilt from damage), then ask; a catalog found damaged on
    the way is rebuilt and the question asked once more."""
    def run() -> T:
        _ensure_index(index)
        return ask()

    return index.heal(run)


def _index(args: argparse.Namespace, root: Path, asked: threading.Event):
    """`ragls index`'s run: (its summary, the index); KeyboardInterrupt once `asked` is set."""
    if args.exit_with_parent:
        _exit_with_parent()
    if args.progress_json:  # a SIGINT is a clean stop from here on (the server holds its own until this line)
        print(json.dumps({"ready": True}), flush=True)
    index = _open(args, root)
    progress: Callable[[int, int], None] | bool | None = False if args.quiet else None
    if args.progress_json:
        def progress(done: int, total: int) -> None:
            if asked.is_set():  # an interrupt Python could not raise where it came: stop here
                raise KeyboardInterrupt
            print(json.dumps({"done": done, "total": total}), flush=True)
    summary = index.refresh(progress=progress)
    if asked.is_set():  # ...or at the end: a stopped run never reports itself done
        raise KeyboardInterrupt
    return summary, index


def cmd_index(args: argparse.Namespace) -> int:
    root = Path(args.path).resolve()
    if not root.is_dir():
        print(f"ragls: {root} is not a directory", file=sys.stderr)
        return 2
    with _remembered_interrupts() as asked:
        summary, index = _index(args, root, asked)
    if args.json:
        print(json.dumps({"files": summary.files, "changed": summary.changed, "removed": summary.removed,
                          "symbols": summary.symbols, "chunks": summary.chunks, "embedded": summary.embedded,
                          "skipped": dict(summary.skipped), "seconds": round(summary.seconds, 3),
                          "data_dir": str(index.data_dir), "vectors_error": summary.vectors_error,
                          "line": summary.line()}), flush=True)
    else:
        print(summary.line())
    return 4 if summary.vectors_error else 0


@contextlib.contextmanager
def _remembered_interrupts() -> Iterator[threading.Event]:
    """While the block runs, SIGINT stops it as Ctrl-C does and is remembered (the event): one that lands where
    Python cannot raise it (in a weakref callback while a module is imported, which prints "Exception ignored" and
    goes on) still ends the run at its next check, and that lost exception is not printed (a clean stop would show a
    traceback in the server's log). The handlers before are put back after. Outside the main thread, which alone
    handles signals, the event is never set."""
    import signal

    asked = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield asked
        return

    def interrupted(signum: int, frame: object) -> None:
        asked.set()
        raise KeyboardInterrupt

    def hook(args: Any) -> None:
        if not (isinstance(args.exc_value, KeyboardInterrupt) and asked.is_set()):
            unraisable(args)

    before, unraisable = signal.signal(signal.SIGINT, interrupted), sys.unraisablehook
    sys.unraisablehook = hook
    try:
        yield asked
    finally:
        signal.signal(signal.SIGINT, before)
        sys.unraisablehook = unraisable


def _exit_with_parent() -> None:
    """Stop as on Ctrl-C when the process that started this indexer exits (a language server killed or gone): the
    run ends cleanly, its lock released and its vector store closed. On Linux the kernel signals it (no thread: the
    parser workers are still forked); elsewhere a thread watches the parent."""
    import signal

    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGINT) == 0:
            if os.getppid() != parent:  # the parent left before the request took effect
                raise KeyboardInterrupt
            return

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=watch, name="ragls-parent-watch", daemon=True).start()


def parse_position(spec: str) -> tuple[str, int, int | None]:
    parts = spec.rsplit(":", 2)
    try:
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
            return parts[0], int(parts[1]), int(parts[2])
        path, line = spec.rsplit(":", 1)
        return path, int(line), None
    except ValueError:
        raise SystemExit(f"ragls: expected PATH:LINE[:COL], got {spec!r}") from None


def workspace(start: Path) -> Path:
    """The workspace of a file in folder `start`: its git work tree; outside git, the current folder when the file
    is inside it (never a folder the user did not choose, such as /etc or a home directory)."""
    root = repo_root(start)
    if (root / ".git").exists():
        return root
    cwd = Path.cwd().resolve()
    if root == cwd or cwd in root.parents:
        return cwd
    raise SystemExit(f"ragls: {start} is in no git repository and outside the current folder: pass --repo DIR to "
                     "choose the workspace")


def _confined(root: Path, rel: str) -> str:
    """`rel` if the confinement rule lets it reach a model (what `context` prints is made for prompts), else
    SystemExit with why."""
    from .files import refusal

    if (why := refusal(root, rel)) is not None:
        raise SystemExit(f"ragls: {rel}: {why}; ragls sends nothing of it to a model")
    return rel


def relative(root: Path, path: str) -> str:
    p = Path(path)
    full = (p if p.is_absolute() else (Path.cwd() / p)).resolve()
    if not full.exists() and not p.is_absolute():
        full = (root / p).resolve()
    try:
        return full.relative_to(root).as_posix()
    except ValueError:
        raise SystemExit(f"ragls: {path} is outside the repository {root}") from None


def _print_items(items, as_json: bool, latency_ms: float | None = None) -> None:
    if as_json:
        out: dict[str, Any] = {"items": [i.to_json() for i in items]}
        if latency_ms is not None:
            out["latency_ms"] = round(latency_ms, 3)
        print(json.dumps(out), flush=True)
        return
    total = sum(i.tokens for i in items)
    for i in items:
        beside = f" (with {', '.join(i.joined)})" if i.joined else ""
        print(f"{i.score:7.3f}  {i.path}:{i.start_line}-{i.end_line}  "
              f"{i.symbol or '(module code)'} [{i.kind}]{beside}  {i.tokens} tokens")
    print(f"{len(items)} items, {total} tokens" + (f", {latency_ms:.1f} ms" if latency_ms is not None else ""))


def repo_dir(repo: str | None) -> Path:
    """A command's `--repo` (default: the git work tree of the current folder), or SystemExit when it is no
    folder."""
    root = Path(repo).resolve() if repo else repo_root(Path.cwd())
    if not root.is_dir():
        raise SystemExit(f"ragls: {root} is not a directory")
    return root


def batch_source(spec: str) -> ContextManager[TextIO]:
    """The batch file of `--batch`, open, for a `with` (which closes it; "-": standard input, left open), or
    SystemExit saying why it cannot be read; asked before any indexing, so a mistyped name costs nothing."""
    if spec == "-":
        return contextlib.nullcontext(sys.stdin)
    try:
        return open(spec, encoding="utf-8")
    except OSError as exc:
        raise SystemExit(f"ragls: cannot read the batch file {spec}: {exc.strerror or exc}") from None


def cmd_context(args: argparse.Namespace) -> int:
    from .retrieve import Query, Retriever, timed_context

    root = Path(args.repo).resolve() if args.repo else None
    if args.batch:
        source = batch_source(args.batch)
        repo = root or repo_root(Path.cwd())
        index = _open(args, repo)
        retriever = _answer(index, lambda: Retriever(index))
        _answer(index, retriever.warm)
        _answer(index, retriever.prime)  # a batch asks many files: what their first queries would work out, now
        confined: dict[str, str | SystemExit] = {}  # a path's verdict, asked once (it may ask git)

        def allowed(path: str) -> str:
            if path not in confined:
                try:
                    confined[path] = _confined(repo, relative(repo, path))
                except SystemExit as exc:
                    confined[path] = exc
            if isinstance(verdict := confined[path], SystemExit):
                raise verdict
            return verdict

        with source as f:
            for n, raw in enumerate(f, 1):
                if not raw.strip():
                    continue
                try:
                    obj = json.loads(raw)
                    q = Query(allowed(obj["path"]), int(obj["line"]), obj.get("col"), obj.get("end_line"))
                    # _answer runs the lambda before the loop goes on: it asks this line's q (B023 does not apply)
                    items, ms = _answer(index, lambda: timed_context(retriever, q, k=args.k,  # noqa: B023
                                                                     budget=args.budget, same_file=args.same_file))
                    _print_items(items, True, ms)
                except (ValueError, KeyError, TypeError, OSError, SystemExit) as exc:
                    log.error("query %d: %s", n, exc)
                    print(json.dumps({"items": [], "error": str(exc)}), flush=True)
                except Exception as exc:  # noqa: BLE001  # a bug met by one query must not end the others
                    log.exception("query %d: internal error", n)
                    print(json.dumps({"items": [], "error": f"internal error: {type(exc).__name__}: {exc}"}),
                          flush=True)
        return 0
    if not args.position:
        print("ragls context: give PATH:LINE[:COL] or --batch FILE", file=sys.stderr)
        return 2
    path, line, col = parse_position(args.position)
    root = root or workspace(Path(os.path.abspath(path)).parent)  # as written: a link must not choose it
    q = Query(_confined(root, relative(root, path)), line, col, args.end_line)
    index = _open(args, root)
    try:
        items, ms = _answer(index, lambda: timed_context(Retriever(index), q, k=args.k, budget=args.budget,
                                                         same_file=args.same_file))
    except OSError as exc:
        print(f"ragls: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    _print_items(items, args.json, ms)
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from .retrieve import Retriever

    index = _open(args, repo_dir(args.repo))
    t0 = time.perf_counter()
    items = _answer(index, lambda: Retriever(index).search(args.query, k=args.k, budget=args.budget))
    _print_items(items, args.json, (time.perf_counter() - t0) * 1000)
    return 0


class Commands:
    """The `ragls` subcommands, the public way to add one: a module registers its own with `add_parser` (the call
    argparse's subparsers take) and reads the others with `parsers`, so nothing outside names argparse's private
    subparsers type."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.parser = parser
        self._sub = parser.add_subparsers(dest="command", required=True)

    def add_parser(self, name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return self._sub.add_parser(name, **kwargs)

    def parsers(self) -> dict[str, argparse.ArgumentParser]:
        """The subcommands registered so far, by name."""
        return dict(self._sub.choices)


def build_parser() -> argparse.ArgumentParser:
    return commands().parser


def commands() -> Commands:
    """The engine's commands (index, context, search, next-edit), for a front end to add its own to."""
    p = argparse.ArgumentParser(prog="ragls", description="Retrieval-augmented language server and its engine.")
    p.add_argument("--version", action="version", version=f"ragls {package_version()}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", help="index folder (default: a per-repository folder under ~/.cache/ragls)")
    common.add_argument("--store", metavar="URL", help="use a Chroma server (chroma run) at http://HOST:PORT")
    common.add_argument("--embedder", help="'static' (default, offline) or 'openai:MODEL' (index.embedder)")
    common.add_argument("--embed-base-url", metavar="URL", help="openai:MODEL's endpoint (index.embedBaseUrl)")
    common.add_argument("--embed-api-key-env", metavar="VAR",
                        help="the environment variable holding its key (index.embedApiKeyEnv)")
    sub = Commands(p)

    common.add_argument("-v", "--verbose", action="count", default=0, help="log more (to stderr)")
    s = sub.add_parser("index", parents=[common], help="index (or refresh the index of) a repository")
    s.add_argument("path", nargs="?", default=".")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.add_argument("--json", action="store_true", help="print the summary as JSON")
    s.add_argument("--progress-json", action="store_true",
                   help='print progress as JSON lines {"done": N, "total": M} on stdout (for a parent process)')
    s.add_argument("--exit-with-parent", action="store_true",
                   help="stop (as on Ctrl-C) when the process that started this one exits")
    s.set_defaults(func=cmd_index)

    s = sub.add_parser("context", parents=[common], help="show the context retrieved for a cursor or selection")
    s.add_argument("position", nargs="?", help="PATH:LINE[:COL] (line 1-based, column 0-based)")
    s.add_argument("--repo", help="repository root (default: the git work tree of PATH)")
    s.add_argument("--end-line", type=int, help="select lines LINE..END_LINE (explain/fix) instead of a cursor")
    s.add_argument("--k", type=int, default=10, help="number of items (default 10)")
    s.add_argument("--budget", type=int, help="token budget (default 1500 for a cursor, 2000 for a selection)")
    s.add_argument("--same-file", action="store_true", help="also return definitions from the query's own file")
    s.add_argument("--json", action="store_true", help="one JSON object: {items, latency_ms}")
    s.add_argument("--batch", metavar="FILE",
                   help='JSONL queries {"path","line","col"[,"end_line"]}: one JSON line each')
    s.set_defaults(func=cmd_context)

    s = sub.add_parser("search", parents=[common], help="search the index with words or identifiers")
    s.add_argument("query")
    s.add_argument("--repo", help="repository root (default: the git work tree of the current folder)")
    s.add_argument("--k", type=int, default=10)
    s.add_argument("--budget", type=int)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_search)

    from .nextedit_cli import add_parser as add_next_edit

    add_next_edit(sub, common)
    return sub


class _Format(logging.Formatter):
    """Records meant for the user (`extra={"user": True}`: a repaired index, an unreachable store) as one plain
    "ragls: ..." line; the others with their level and logger."""

    def __init__(self) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "user", False):
            return f"ragls: {record.getMessage()}"
        return super().format(record)


def _about_index(exc: OSError) -> bool:
    """The error concerns a file of an opened index (its folder unwritable, the disk full), not the repository."""
    name = exc.filename
    if not isinstance(name, (str, os.PathLike)):
        return False
    path = Path(name).absolute()
    return any(path == d or d in path.parents or path in d.parents for d in map(Path.absolute, _OPENED))


def _where() -> str:
    return f" at {_OPENED[-1]}" if _OPENED else ""


def main(argv: list[str] | None = None, parser: argparse.ArgumentParser | None = None) -> int:
    args = (parser or build_parser()).parse_args(argv)
    level = os.environ.get("RAGLS_LOG_LEVEL", "").upper() or logging.WARNING - 10 * min(args.verbose, 2)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Format())
    logging.basicConfig(level=level, handlers=[handler])
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from .embed import EmbeddingError
    from .lock import IndexLocked
    from .vectors import VectorStoreError

    try:
        return args.func(args)
    except IndexLocked as exc:
        print(f"ragls: {exc}", file=sys.stderr)
        return 3
    except (VectorStoreError, EmbeddingError) as exc:
        print(f"ragls: {exc}", file=sys.stderr)
        return 4
    except sqlite3.Error as exc:  # not damage (that is rebuilt): a full disk, a read-only folder, an I/O error
        print(f"ragls: the index{_where()} cannot be used: {exc}", file=sys.stderr)
        return 5
    except OSError as exc:
        if not _about_index(exc):
            raise
        print(f"ragls: the index{_where()} cannot be used: {exc.strerror or exc}: {exc.filename}", file=sys.stderr)
        return 5
    except (KeyboardInterrupt, RuntimeError) as exc:  # Python 3.11 wraps an interrupt that lands in a class's
        if isinstance(exc, RuntimeError) and not isinstance(exc.__cause__, KeyboardInterrupt):  # `__set_name__` (a
            raise  # module being imported, as `Index` is lazily) in a RuntimeError
        print("ragls: interrupted; the index keeps what was stored and the next run completes it", file=sys.stderr)
        return 130
    except SystemExit as exc:  # a usage error or a refused file, said in one line: exit 2, as the README says
        if not isinstance(exc.code, str):
            raise
        print(exc.code, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
