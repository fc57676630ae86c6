"""Review findings: parsed strictly from model replies, de-duplicated, fingerprinted stably across line shifts."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass

SEVERITIES = ("error", "warning", "info")
_ALIASES = {"critical": "error", "high": "error", "blocker": "error", "major": "warning", "medium": "warning",
            "minor": "info", "low": "info", "note": "info", "suggestion": "info", "nit": "info"}
_FENCE = re.compile(r"^\s*```[a-zA-Z]*\s*\n(.*?)\n\s*```\s*$", re.DOTALL)


class ReviewError(Exception):
    """A review that cannot run (a missing ref, not a repository, a model that fails); the message says why."""


class ReplyError(ValueError):
    """A model reply that is not the JSON the prompt asked for (malformed, truncated, wrong shape)."""


@dataclass(frozen=True, slots=True)
class Finding:
    path: str
    start_line: int
    end_line: int
    severity: str  # error, warning, info
    rule: str  # "correctness/off-by-one": the reviewer's area, then a short kebab-case name
    title: str
    message: str
    suggestion: str = ""  # replacement text for start_line..end_line, if the reviewer proposed one
    fingerprint: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def parse_reply(reply: str, focus: str) -> list[dict]:
    """The "findings" list of a reply: one JSON object, optionally in a Markdown fence. Raises ReplyError."""
    text = reply.strip()
    if m := _FENCE.match(text):
        text = m.group(1)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = "truncated" if text.count("{") > text.count("}") or text.count("[") > text.count("]") else "malformed"
        raise ReplyError(f"the {focus} reviewer's reply is not JSON ({hint}: {exc.msg} at character {exc.pos}): "
                         f"{_clip(reply)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise ReplyError(f'the {focus} reviewer\'s reply has no "findings" list: {_clip(reply)}')
    return [f for f in data["findings"] if isinstance(f, dict)]


def _clip(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= n else text[:n] + "…")


def to_finding(raw: dict, focus: str, lines_of: dict[str, int]) -> Finding | None:
    """A finding from one reply item, or None when it names no reviewed file or line (a model's invention)."""
    path = str(raw.get("path") or "").removeprefix("./").removeprefix("b/")
    if path not in lines_of:
        return None
    try:
        start = int(raw.get("line") or raw.get("start_line") or 0)
        end = int(raw.get("end_line") or start)
    except (TypeError, ValueError):
        return None
    if not 1 <= start <= lines_of[path]:
        return None
    end = min(max(start, end), lines_of[path])
    severity = str(raw.get("severity") or "warning").lower()
    severity = _ALIASES.get(severity, severity if severity in SEVERITIES else "warning")
    title = " ".join(str(raw.get("title") or "").split())[:200]
    message = str(raw.get("message") or "").strip()
    if not title and not message:
        return None
    name = re.sub(r"[^a-z0-9]+", "-", str(raw.get("rule") or title or "issue").lower()).strip("-")[:48] or "issue"
    return Finding(path, start, end, severity, f"{focus}/{name}", title or message.split("\n")[0][:120],
                   message or title, str(raw.get("suggestion") or ""))


def fingerprint(f: Finding, text: str | None) -> str:
    """Stable across runs and line shifts: the rule, the file, and the flagged lines' text (whitespace folded), not
    their numbers."""
    lines = (text or "").split("\n")[f.start_line - 1:f.end_line]
    code = " ".join(" ".join(lines).split())
    return hashlib.sha256(f"{f.rule}\0{f.path}\0{code}".encode()).hexdigest()[:32]


def dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per place and problem: overlapping lines in one file with the same rule or title keep the most
    severe (then the longest explanation)."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    ordered = sorted(findings, key=lambda f: (rank[f.severity], -len(f.message)))
    kept: list[Finding] = []
    for f in ordered:
        if not any(k.path == f.path and k.start_line <= f.end_line and f.start_line <= k.end_line and
                   (k.rule == f.rule or k.title.lower() == f.title.lower()) for k in kept):
            kept.append(f)
    return sorted(kept, key=lambda f: (f.path, f.start_line, rank[f.severity]))


def at_least(severity: str, threshold: str) -> bool:
    return SEVERITIES.index(severity) <= SEVERITIES.index(threshold)
