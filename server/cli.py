"""The `ragls` command: the engine's commands plus `serve`, `mcp` and the model-backed complete, fix, explain, ask."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragls.indexer import cli as engine_cli

from . import finetune
from .agent import cli as agent_cli
from .flags import add_model_flags, settings_for
from .review import cli as review_cli

if TYPE_CHECKING:
    from .features.chat import Fix

log = logging.getLogger("ragls")


def _span(spec: str) -> tuple[str, int, int]:
    """PATH:LINE[-END] -> (path, start, end)."""
    try:
        path, lines = spec.rsplit(":", 1)
        start, _, end = lines.partition("-")
        return path, int(start), int(end or start)
    except ValueError:
        raise SystemExit(f"ragls: expected PATH:LINE[-END], got {spec!r}") from None


def _within(path: str, text: str, start: int, end: int) -> int:
    """`end`, at most the file's last line; SystemExit saying why when the lines (1-based) are not in the file."""
    count = text.count("\n") + 1
    if not 1 <= start <= count or end < start:
        raise SystemExit(f"ragls: {path} has lines 1-{count}; got {start}" + (f"-{end}" if end != start else ""))
    return min(end, count)


def _document(root: Path, path: str) -> tuple[str, str]:
    """(workspace-relative path, text) of a file a command is about, or SystemExit with why: the confinement rule
    (nothing secret, ignored or outside the repository reaches a model), and a read that never blocks on a FIFO."""
    from ragls.indexer.files import read_regular, refusal

    from .documents import MAX_DISK_BYTES

    rel = engine_cli.relative(root, path)
    if (why := refusal(root, rel)) is not None:
        raise SystemExit(f"ragls: {path}: {why}; ragls sends nothing of it to a model")
    try:
        data, _ = read_regular(root / rel, MAX_DISK_BYTES + 1)
    except OSError as exc:
        raise SystemExit(f"ragls: cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_DISK_BYTES:
        raise SystemExit(f"ragls: {path} is larger than {MAX_DISK_BYTES} bytes")
    return rel, data.decode("utf-8", "replace")


def _print_prompt(rendered, context: list[dict], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"tokens": rendered.tokens, "trimmed": rendered.trimmed, "redacted": rendered.redacted,
                          "messages": rendered.messages,
                          "text": rendered.text, "stop": rendered.stop,
                          "context": [{k: c[k] for k in ("path", "start_line", "end_line", "symbol", "symbols")
                                       if k in c} for c in context]}))
        return
    if rendered.text is not None:
        print(rendered.text)
    for m in rendered.messages or []:
        print(f"--- {m['role']}\n{m['content']}")
    redacted = ", ".join(f"{kind} x{n}" for kind, n in sorted(rendered.redacted.items()))
    print(f"--- {rendered.tokens} tokens, {len(context)} retrieved definitions"
          + (f", trimmed {rendered.trimmed}" if rendered.trimmed else "")
          + (f", {rendered.redactions} secrets redacted ({redacted})" if redacted else ""), file=sys.stderr)


async def _model_command(args: argparse.Namespace) -> int:
    from ragls.prompts.render import BudgetError

    from . import errors
    from .features.chat import ChatFeatures, Selection
    from .features.completion import Completer, CompletionRequest
    from .model.client import NOT_CONFIGURED, ModelClient, ModelConfig, ModelError
    from .session import Session
    from .settings import model_configured

    root = Path(args.repo).resolve() if args.repo else None
    target = args.position if args.command != "ask" else None
    if target is not None:  # the repository around the path as written: a symbolic link must not choose it
        path = target.rsplit(":", 2 if args.command == "complete" else 1)[0]
        root = root or engine_cli.workspace(Path(os.path.abspath(path)).parent)
    root = root or engine_cli.repo_root(Path.cwd())
    settings = settings_for(args, root)
    session = Session(root, settings)
    summary = await session.index_workspace()
    log.info("%s", summary)
    client = ModelClient(ModelConfig.from_settings(settings)) if model_configured(settings) else None
    if client is None and not args.show_prompt:
        print(f"ragls: {NOT_CONFIGURED}", file=sys.stderr)
        return 2
    try:
        # per command: the prompt it would send, and the call with its output as (JSON object, text)
        chat = ChatFeatures(session, client)
        call: Coroutine[Any, Any, Any]  # a Completion, Answer or Fix
        if args.command == "complete":
            path, line, col = engine_cli.parse_position(args.position)
            rel, text = _document(root, path)
            _within(path, text, line, line)
            width = len(text.split("\n", line)[line - 1])
            if col is not None and not 0 <= col <= width:
                raise SystemExit(f"ragls: {path}:{line} has {width} characters; COL must be 0-{width}")
            req = CompletionRequest(rel, text, line, col or 0)
            completer = Completer(session, client)
            prompt, call = completer.prompt(req), completer.complete(req)
            shape = lambda r: ({"text": r.text}, r.text)  # noqa: E731
        elif args.command == "ask":
            prompt, call = chat.ask_prompt(args.question), chat.ask(args.question)
            shape = lambda r: ({"markdown": r.text}, r.text)  # noqa: E731
        else:
            path, start, end = _span(args.position)
            rel, text = _document(root, path)
            end = _within(path, text, start, end)
            sel = Selection(rel, text, start, end)
            if args.command == "fix":
                diags = args.diagnostic or []
                prompt, call = chat.fix_prompt(sel, diags), chat.fix(sel, diags)
                shape = lambda r: (_fix_json(r), r.text)  # noqa: E731
            else:
                prompt, call = chat.explain_prompt(sel), chat.explain(sel)
                shape = lambda r: ({"markdown": r.text}, r.text)  # noqa: E731
        if args.show_prompt:
            call.close()  # never awaited: no model call
            _print_prompt(*(await prompt), args.json)
        else:
            prompt.close()
            as_json, text = shape(await call)
            print(json.dumps(as_json) if args.json else text)
        return 0
    except (ModelError, BudgetError) as exc:  # one line, as the editor says it (errors.message); no traceback
        print(f"ragls: {errors.message(exc)}", file=sys.stderr)
        return 1 if isinstance(exc, ModelError) else 2
    except OSError as exc:
        print(f"ragls: {exc}", file=sys.stderr)
        return 2
    finally:
        session.close()
        if client is not None:
            await client.aclose()


def _fix_json(fix: Fix) -> dict:
    """A fix as JSON: the lines it replaces and their replacement; other locations it changes under "also"."""
    first, *others = [{"path": r.path, "start_line": r.start_line, "end_line": r.end_line,
                       "replacement": "\n".join(r.lines)} for r in fix.replacements]
    return {**first, "also": others} if others else first


def cmd_serve(args: argparse.Namespace) -> int:
    from .app import create_server

    server = create_server()
    status = 0
    try:
        if args.tcp:
            host, _, port = args.tcp.rpartition(":")
            server.start_tcp(host or "127.0.0.1", int(port))
        else:
            status = server.start_io()
    finally:
        for folder in server.folders:
            folder.close()
        logging.shutdown()
        # The client is gone (exit, or stdin closed): leave now. Every index write is a committed transaction and
        # the write lock is released by the kernel, so background threads need not be waited for.
        os._exit(status)


def cmd_config(args: argparse.Namespace) -> int:
    """The effective settings and where each comes from; for a key's variable, whether it is set (never its value)."""
    from .flags import flag_values, report
    from .layers import describe, reference, resolve

    if args.reference:
        print(reference())
        return 0
    root = engine_cli.repo_dir(args.repo)
    resolved = resolve(root, flags=flag_values(args))
    report(resolved)
    shown = describe(resolved)
    if args.json:
        print(json.dumps(shown, indent=2))
        return 0
    print(f"user file:    {shown['userFile']}" + ("" if resolved.user_file.is_file() else " (none)"))
    print(f"project file: {shown['projectFile'] or f'none in {root}'}")
    rows = [(name, json.dumps(e["value"]), " ".join(filter(None, (e["source"], e.get("from")))) + (
                f"; ${e['value']} is {'set' if e['variableSet'] else 'not set'}" if "variableSet" in e else "")
             + (f"; the key is read from ${e['uses']}" if "uses" in e else ""))
            for name, e in shown["settings"].items()]
    wide = [max(len(r[i]) for r in rows) for i in (0, 1)]
    for name, value, source in rows:
        print(f"{name:<{wide[0]}}  {value:<{wide[1]}}  {source}")
    return 0


def _with_settings(func):
    """An engine command run with the index's settings from their layers (the user's file, the environment, its
    flags): every one of them is a key a project's file may not set, so none is read."""
    def run(args: argparse.Namespace) -> int:
        from .settings import index_options

        o = index_options(settings_for(args, None))
        args.data_dir, args.embedder, args.store = o["data_dir"], o["embedder"], o["store_url"]
        args.embed_base_url, args.embed_api_key_env = o["embed_base_url"], o["embed_api_key_env"]
        return func(args)

    return run


def cmd_nvim_path(args: argparse.Namespace) -> int:
    print(Path(__file__).resolve().parent / "nvim")
    return 0


def _run_model_command(args: argparse.Namespace) -> int:
    import asyncio  # not at start: `ragls index` never needs it

    return asyncio.run(_model_command(args))


def build_parser() -> argparse.ArgumentParser:
    sub = engine_cli.commands()
    for engine in sub.parsers().values():  # index, context, search, next-edit
        engine.set_defaults(func=_with_settings(engine.get_default("func")))
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=0, help="log more (to stderr)")
    common.add_argument("--repo", help="repository root (default: the git work tree of the file)")
    common.add_argument("--show-prompt", action="store_true", help="print what would be sent (no model call)")
    common.add_argument("--json", action="store_true")
    add_model_flags(common)

    s = sub.add_parser("serve", help="run the language server (stdio by default)")
    s.add_argument("-v", "--verbose", action="count", default=0)
    s.add_argument("--tcp", metavar="HOST:PORT", help="listen on TCP instead of stdio")
    s.set_defaults(func=cmd_serve)
    for name, what in (("complete", "PATH:LINE:COL"), ("fix", "PATH:LINE[-END]"), ("explain", "PATH:LINE[-END]")):
        s = sub.add_parser(name, parents=[common], help=f"{name} at {what} with repository context")
        s.add_argument("position", metavar=what)
        if name == "fix":
            s.add_argument("--diagnostic", action="append", help="a problem to fix (repeatable)")
        s.set_defaults(func=_run_model_command)
    s = sub.add_parser("ask", parents=[common], help="answer a question about the codebase")
    s.add_argument("question")
    s.set_defaults(func=_run_model_command)
    review_cli.register(sub)
    s = sub.add_parser("config", help="print the effective settings and where each comes from (never a key)",
                       description="Settings come from, lowest first: defaults, the user's file "
                                   "($XDG_CONFIG_HOME/ragls/config.toml), the project's (.ragls.toml, or "
                                   "[tool.ragls] in pyproject.toml), the environment, flags, the editor.")
    s.add_argument("-v", "--verbose", action="count", default=0)
    s.add_argument("--repo", help="the project (default: the git work tree of the current folder)")
    s.add_argument("--json", action="store_true", help="{userFile, projectFile, settings: {KEY: {value, source, "
                                                       "from}}, problems}")
    s.add_argument("--reference", action="store_true", help="every key as a Markdown table (the README's)")
    add_model_flags(s)
    for flag, key in (("--embedder", "index.embedder"), ("--embed-base-url", "index.embedBaseUrl"),
                      ("--embed-api-key-env", "index.embedApiKeyEnv"), ("--store", "index.store"),
                      ("--data-dir", "index.dataDir")):
        s.add_argument(flag, help=f"({key})")
    s.set_defaults(func=cmd_config)
    agent_cli.register(sub)
    finetune.register(sub)
    s = sub.add_parser("nvim-path", help="print the Neovim plugin's runtime folder (append it to 'runtimepath')")
    s.add_argument("-v", "--verbose", action="count", default=0)
    s.set_defaults(func=cmd_nvim_path)
    return sub.parser


def main(argv: list[str] | None = None) -> int:
    status = engine_cli.main(argv, parser=build_parser())
    if argv is None and "chromadb" not in sys.modules and sys.getprofile() is None and sys.gettrace() is None:
        _leave(status)  # the command line's process, no vector store opened, no profiler or coverage to write out
    return status


def _leave(status: int) -> None:
    """End the process now, as `serve` does: the interpreter's teardown (freeing the token encoder's and the word
    segmenter's vocabularies, then every module) took 0.2 s of a one-file `ragls index`, a fifth of it, and
    everything the command wrote is committed. Not after chroma was loaded: its store's finalizers close it."""
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(status)


if __name__ == "__main__":
    sys.exit(main())
