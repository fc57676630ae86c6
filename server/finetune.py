"""`ragls export-finetune`: the accepted completions, with the prompts that produced them, as fine-tuning JSONL."""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .acceptance import Example, examples

if TYPE_CHECKING:
    from ragls.indexer.cli import Commands

FORMATS = ("chat", "fim")


def register(commands: Commands) -> None:
    s = commands.add_parser(
        "export-finetune", help="write the accepted completions as fine-tuning JSONL (chat or FIM)",
        description="Each completion accepted in the editor (counted with completion.acceptance on, the default) is "
                    "kept next to the repository's index with the prompt that produced it: the retrieved "
                    "definitions, the recent edits, the code before and after the cursor, secrets already "
                    "redacted. This writes them out: `chat`, OpenAI's chat fine-tuning format ({\"messages\": "
                    "[system, user, assistant]}), or `fim`, {\"prompt\", \"completion\"} pairs in a FIM family's "
                    "template. Secrets are redacted again, duplicates dropped, and files that are now ignored or "
                    "secret left out. A summary goes to stderr.")
    s.add_argument("-v", "--verbose", action="count", default=0, help="log more (to stderr)")
    s.add_argument("--repo", help="repository root (default: the git work tree of the current folder)")
    s.add_argument("--out", metavar="FILE", help="where to write the JSONL (default: stdout)")
    s.add_argument("--format", choices=FORMATS, default="chat", help="chat (default) or fim")
    s.add_argument("--since", metavar="DATE", help="only completions accepted on or after DATE (YYYY-MM-DD, or an "
                                                   "ISO date and time; UTC unless it says otherwise)")
    s.add_argument("--fim-template", metavar="FAMILY", help="the FIM family of --format fim (starcoder, codellama, "
                                                            "deepseek, qwen, codestral; default: model.fimTemplate)")
    s.add_argument("--data-dir", help="the index folder (index.dataDir; default: the repository's under $RAGLS_HOME)")
    s.set_defaults(func=main)


@dataclass
class Summary:
    """What an export wrote and left out."""

    written: int = 0
    languages: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    refused: int = 0  # their file is now ignored, secret or outside the repository
    unreadable: int = 0  # kept by another version of ragls, in a shape this one cannot render

    def line(self, where: str) -> str:
        langs = ", ".join(f"{name} {n}" for name, n in self.languages.most_common())
        left = [f"{n} {what}" for n, what in ((self.duplicates, "duplicates"),
                                              (self.refused, "in files now ignored or secret"),
                                              (self.unreadable, "unreadable")) if n]
        return (f"ragls export-finetune: {self.written} examples" + (f" ({langs})" if langs else "") + f" to {where}"
                + (f"; left out: {', '.join(left)}" if left else ""))


def since_timestamp(text: str) -> float:
    """DATE or an ISO date and time -> seconds since the epoch (UTC when no zone is given)."""
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise SystemExit(f"ragls: --since wants a date like 2026-11-30 (or an ISO date and time), got {text!r}") \
            from None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()


def record(example: Example, fmt: str, fim_family: str | None) -> dict[str, Any]:
    """One JSONL record: the prompt rendered again from the variables as they were sent (the template of the
    format asked for), the accepted text as the answer. ValueError when the variables do not fit the template."""
    from ragls.indexer.secrets import redact
    from ragls.prompts.render import load, render

    values: Mapping[str, Any] = example.values
    completion = redact(example.completion)[0]
    if fmt == "chat":
        rendered = render(load("complete_chat"), values, budget=1 << 30)
        return {"messages": [*(rendered.messages or []), {"role": "assistant", "content": completion}]}
    rendered = render(load("complete_fim"), values, budget=1 << 30, fim_family=fim_family)
    return {"prompt": rendered.text, "completion": completion}


def export(root: Path, folder: Path, fmt: str, since: float | None, fim_family: str | None,
           summary: Summary) -> Iterator[str]:
    """The JSONL lines of the accepted completions kept in `folder` (oldest first), counted in `summary`."""
    from ragls.indexer.files import refusal

    seen: set[str] = set()
    for ex in examples(folder, since):
        if refusal(root, ex.path) is not None:  # the rules of today: a file ignored since is not exported
            summary.refused += 1
            continue
        try:
            line = json.dumps(record(ex, fmt, fim_family), ensure_ascii=False)
        except (ValueError, KeyError, TypeError):
            summary.unreadable += 1
            continue
        digest = hashlib.sha256(line.encode()).hexdigest()
        if digest in seen:
            summary.duplicates += 1
            continue
        seen.add(digest)
        summary.written += 1
        summary.languages[ex.language] += 1
        yield line


def main(args: argparse.Namespace) -> int:
    from ragls.indexer.cli import repo_dir
    from ragls.indexer.config import default_data_dir, keep_file
    from ragls.prompts.render import fim_format

    from .flags import settings_for
    from .settings import index_options

    root = repo_dir(args.repo)
    settings = settings_for(args, root)
    folder = index_options(settings)["data_dir"] or default_data_dir(root)
    family = settings.model.fim_template  # --fim-template is this key's flag
    if args.format == "fim":
        if not family:
            raise SystemExit("ragls: --format fim needs a FIM family: --fim-template starcoder (or codellama, "
                             "deepseek, qwen, codestral), or set model.fimTemplate")
        try:
            fim_format(family)
        except ValueError as exc:
            raise SystemExit(f"ragls: {exc}") from None
    since = since_timestamp(args.since) if args.since else None
    summary = Summary()
    lines = export(root, folder, args.format, since, family, summary)
    if args.out:
        try:  # whole or not at all; a folder that is not there is an error, not made
            keep_file(Path(args.out), lambda f: f.writelines((line + "\n").encode("utf-8") for line in lines),
                      make_parents=False)
        except OSError as exc:
            raise SystemExit(f"ragls: cannot write {args.out}: {exc.strerror or exc}") from None
    else:
        for line in lines:
            sys.stdout.write(line + "\n")
        sys.stdout.flush()
    print(summary.line(args.out or "stdout"), file=sys.stderr)
    return 0
