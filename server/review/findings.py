"""Review findings: parsed strictly from model replies, de-duplicated, fingerprinted stably across line shifts."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass

SEVERITIES = ("error", "warning", "info")
_ALIASES = {"critical": "error", "high": "error", "blocker": "error", "major": "warning", "medium": "warning",
            "minor": "info", "low": "info", "note": "info", "suggestion": "info", "nit": "info"}
_FENCE = re.compile(r"```[a-zA-Z]*[ \t]*\n(.*?)\n[ \t]*```", re.DOTALL)
Ranges = dict[str, list[tuple[int, int]]]  # reviewed lines (first, last) per path


class ReviewError(Exception):
    """A review that cannot run (a missing ref, not a repository, a model that fails); the message says why."""


class ReplyError(ValueError):
    """A model reply that is not the JSON the prompt asked for (malformed, truncated, wrong shape)."""

    def __init__(self, who: str, problem: str, reply: str) -> None:
        super().__init__(f"{who}'s reply {problem}: {_clip(reply)}")
        self.problem = problem  # what was wrong, for asking again


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


def _json(reply: str, who: str) -> object:
    """The one JSON value of a reply: all of it, or the one Markdown code block in it. Raises ReplyError."""
    text = reply.strip()
    blocks = _FENCE.findall(text)
    if len(blocks) == 1 and not text.startswith(("{", "[")):
        text = blocks[0].strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        opened = text.count("{") - text.count("}") + text.count("[") - text.count("]")
        hint = "truncated" if opened > 0 or exc.msg.startswith("Unterminated") else "malformed"
        raise ReplyError(who, f"is not JSON ({hint}: {exc.msg} at character {exc.pos})", reply) from None


def parse_reply(reply: str, focus: str) -> list[dict]:
    """The "findings" list of a specialist's reply. Raises ReplyError."""
    who = f"the {focus} reviewer"
    data = _json(reply, who)
    if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
        raise ReplyError(who, 'has no "findings" list', reply)
    if not all(isinstance(f, dict) for f in data["findings"]):
        raise ReplyError(who, 'has "findings" that are not all objects', reply)
    return data["findings"]


def parse_keep(reply: str) -> list[int]:
    """The "keep" list of finding ids of the merge pass's reply. Raises ReplyError."""
    data = _json(reply, "the merge pass")
    keep = data.get("keep") if isinstance(data, dict) else None
    if not isinstance(keep, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in keep):
        raise ReplyError("the merge pass", 'has no "keep" list of finding ids', reply)
    return keep


def _clip(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= n else text[:n] + "…")


def to_finding(raw: dict, focus: str, ranges: Ranges) -> Finding | None:
    """A finding from one reply item, or None when it names no reviewed file or lines (a model's invention):
    its first line must be in a reviewed range, its last is kept within that range."""
    path = str(raw.get("path") or "").removeprefix("./").removeprefix("b/")
    try:
        start = int(raw.get("line") or raw.get("start_line") or 0)
        end = int(raw.get("end_line") or start)
    except (TypeError, ValueError):
        return None
    around = next(((lo, hi) for lo, hi in ranges.get(path, ()) if lo <= start <= hi), None)
    if around is None:
        return None
    end = min(max(start, end), around[1])
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
