"""`ragls review`: review a change with repository context, for people and CI (exit codes, SARIF, rdjson)."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from typing import TYPE_CHECKING

from ..flags import add_model_flags
from .findings import SEVERITIES, ReviewError, at_least

if TYPE_CHECKING:
    from ragls.indexer.cli import Commands

    from .plan import Plan
    from .scope import Skipped

log = logging.getLogger("ragls.review")
OK, FOUND, FAILED = 0, 1, 2
BUDGET = 40_000  # prompt tokens each reviewer may spend on one review
TIMEOUT_S = 120.0  # model.timeoutS unless set: queued calls wait for a busy server within it
EPILOG = ("exit status: 0 nothing at or above --fail-on, 1 findings at or above it, 2 the review could not run "
          "(bad ref, no model configured, a model failure or a malformed reply: never a silent pass)")


def register(commands: Commands) -> None:
    s = commands.add_parser("review", help="review the current change with repository context (CI friendly)",
                       description="Review the diff against the merge-base with --base: each hunk in its enclosing "
                                   "symbol, with the definitions it uses and its callers; four specialist "
                                   "reviewers, then a merging pass.", epilog=EPILOG)
    s.add_argument("-v", "--verbose", action="count", default=0)
    s.add_argument("--repo", help="repository (default: the one around the current directory)")
    s.add_argument("--base", help="the branch or commit the change is compared with (default: origin/HEAD, main "
                                  "or master; HEAD with --staged or --worktree)")
    mode = s.add_mutually_exclusive_group()
    mode.add_argument("--head", help="the commit under review (default: HEAD)")
    mode.add_argument("--staged", action="store_true", help="review what is staged (the index)")
    mode.add_argument("--worktree", action="store_true", help="review the working tree, untracked files included")
    s.add_argument("--format", choices=("text", "json", "markdown", "sarif", "rdjson"), default="text")
    s.add_argument("--output", "-o", help="write the result to this file (default: standard output)")
    s.add_argument("--fail-on", choices=(*SEVERITIES, "never"), default="error",
                   help="exit 1 when a finding is at least this severe (default: error)")
    s.add_argument("--budget", type=int, default=BUDGET,
                   help="prompt tokens each reviewer may spend; the least important changes beyond it are listed "
                        "as not reviewed (default: 40000)")
    s.add_argument("--prompt-budget", type=int,
                   help="tokens of one review prompt (default: the chat budget, 6000); larger definitions are cut "
                        "to the lines around their changes")
    s.add_argument("--concurrency", type=int,
                   help="model calls at once (model.maxConcurrency, default 4); 1 suits a local server that answers "
                        "one request at a time")
    add_model_flags(s, timeout=f"{TIMEOUT_S:g} here: waiting for the server included")
    s.add_argument("--dry-run", action="store_true",
                   help="list what would be reviewed, its tokens and what would be left out; no model call "
                        "(--format json for JSON)")
    s.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    import asyncio  # not at start: `ragls index` never needs them

    import git

    try:
        return asyncio.run(_review(args))
    except ReviewError as exc:
        print(f"ragls review: {exc}", file=sys.stderr)
        return FAILED
    except git.GitCommandError as exc:
        said = (exc.stderr or "").strip().removeprefix("stderr:").strip().strip("'").strip()
        print(f"ragls review: git {' '.join(map(str, exc.command[1:2]))} failed: {said or exc}", file=sys.stderr)
        return FAILED
    except OSError as exc:
        print(f"ragls review: {exc}", file=sys.stderr)
        return FAILED


async def _review(args: argparse.Namespace) -> int:
    from ragls.indexer.index import Index
    from ragls.indexer.lock import IndexLocked

    from ..flags import settings_for
    from ..settings import index_options
    from .diff import collect, open_repo, repository_url, stored
    from .formats import render
    from .pipeline import model_client, prepare, review
    from .plan import FOCI

    if (args.prompt_budget is not None and args.prompt_budget < 1000) or args.budget < 1:
        raise ReviewError("--prompt-budget must be at least 1000 tokens, and --budget positive")
    if (args.concurrency is not None and args.concurrency < 1) or (args.timeout is not None and not args.timeout > 0):
        raise ReviewError("--concurrency must be at least 1, and --timeout positive")
    repo = open_repo(Path(args.repo or ".").resolve())
    root = Path(repo.working_tree_dir or ".").resolve()
    mode = "staged" if args.staged else "worktree" if args.worktree else "commits"
    change = collect(root, args.base, args.head, mode)
    # reviewing commits (CI: a pull request), the project's settings are those of the base: the change under review
    # does not choose its own reviewer's model or budgets
    base_files = ((lambda name: stored(repo, f"{change.base}:{name}"), change.base[:12]) if mode == "commits"
                  else None)
    settings = settings_for(args, root, {"model.timeoutS": TIMEOUT_S}, "ragls review", base_files)
    client = None if args.dry_run else model_client(settings)
    print(f"ragls review: {len(change.files)} changed files ({change.base[:12]}..{change.head[:12]}); "
          "indexing for context", file=sys.stderr)
    index = Index.open(root, **index_options(settings))
    try:
        index.refresh(progress=None)
    except IndexLocked:  # an editor's ragls is indexing this repository: its index is as fresh as it gets
        log.warning("the index is being written by another ragls; using it as it is")
    prompt_budget = args.prompt_budget or settings.chat.budget
    try:
        p, skipped = prepare(index, change, args.budget, prompt_budget)
    finally:
        index.close()
    if args.dry_run:
        _emit(_dry_run(p, skipped, args.format == "json"), args.output)
        return OK
    assert client is not None
    try:
        if p.batches:
            print(f"ragls review: {len(p.units)} changes in {len(p.batches)} prompts x {len(FOCI)} reviewers",
                  file=sys.stderr)
        result = await review(client, change, p, skipped, prompt_budget, settings.log_prompts, repository_url(repo))
    finally:
        await client.aclose()
    _emit(render(result, args.format), args.output)
    if args.format != "text" or args.output:
        print(f"ragls review: {len(result.findings)} findings, {len(result.not_reviewed)} not reviewed",
              file=sys.stderr)
    failing = args.fail_on != "never" and any(at_least(f.severity, args.fail_on) for f in result.findings)
    return FOUND if failing else OK


def _emit(out: str, output: str | None) -> None:
    if output:
        Path(output).write_text(out + "\n", encoding="utf-8")
    else:
        print(out)


def _dry_run(p: Plan, skipped: list[Skipped], as_json: bool) -> str:
    """What would be sent: the units per prompt with their tokens, and what would be left out."""
    from .plan import FOCI

    calls = len(p.batches) * len(FOCI) + (1 if p.batches else 0)  # the specialists, then the merge pass
    if as_json:
        return json.dumps({
            "prompts": [[{"path": u.path, "start_line": u.start, "end_line": u.end, "symbol": u.symbol,
                          "tokens": u.own_tokens, "context_tokens": u.context_tokens,
                          "definitions": len(u.definitions), "callers": len(u.callers)} for u in b]
                        for b in p.batches],
            "model_calls": calls, "tokens_per_reviewer": p.tokens,
            "not_reviewed": [{"path": s.path, "reason": s.reason, **({"where": s.where} if s.where else {})}
                             for s in skipped]}, indent=2)
    out = []
    for n, batch in enumerate(p.batches, 1):
        out.append(f"prompt {n} (to each of {len(FOCI)} reviewers):")
        out += [f"  {u.path}:{u.start}-{u.end} {u.symbol or '(top level)'}: {u.own_tokens} tokens, "
                f"{len(u.definitions)} definitions and {len(u.callers)} callers ({u.context_tokens} tokens)"
                for u in batch]
    out.append(f"{len(p.batches)} prompts, at most {p.tokens} tokens per reviewer; {calls} model calls (one more "
               "for each reply that must be asked again)")
    out += [f"not reviewed: {s}" for s in skipped]
    return "\n".join(out)
