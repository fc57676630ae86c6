"""Review findings: the JSON asked of the model, read leniently from its replies, de-duplicated, fingerprinted."""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass

from ..model.schema import ReplySchema

SEVERITIES = ("error", "warning", "info")
_ALIASES = {"critical": "error", "high": "error", "blocker": "error", "major": "warning", "medium": "warning",
            "minor": "info", "low": "info", "note": "info", "suggestion": "info", "nit": "info"}
_FENCE = re.compile(r"```[a-zA-Z]*[ \t]*\n(.*?)\n[ \t]*```", re.DOTALL)
Ranges = dict[str, list[tuple[int, int]]]  # reviewed lines (first, last) per path
MAX_STARTS = 64  # places in a reply where a JSON value is looked for, at most


def _findings_schema(bounded: bool) -> dict:
    """A specialist's reply: within OpenAI's strict subset ("suggestion" is "" when there is none), or `bounded`
    for local servers' grammars (at most 8 findings, strings of at most a few hundred characters)."""
    def text(n: int) -> dict:
        return {"type": "string", "maxLength": n} if bounded else {"type": "string"}

    item = {"type": "object", "additionalProperties": False,
            "required": ["path", "line", "end_line", "severity", "rule", "title", "message", "suggestion"],
            "properties": {"path": text(200), "line": {"type": "integer"}, "end_line": {"type": "integer"},
                           "severity": {"type": "string", "enum": list(SEVERITIES)}, "rule": text(60),
                           "title": text(120), "message": text(600), "suggestion": text(600)}}
    findings = {"type": "array", "items": item, **({"maxItems": 8} if bounded else {})}
    return {"type": "object", "additionalProperties": False, "required": ["findings"],
            "properties": {"findings": findings}}


FINDINGS_SCHEMA = ReplySchema("review_findings", _findings_schema(False), _findings_schema(True))
_KEEP = {"type": "object", "additionalProperties": False, "required": ["keep"],
         "properties": {"keep": {"type": "array", "items": {"type": "integer"}}}}
KEEP_SCHEMA = ReplySchema("review_keep", _KEEP, {**_KEEP, "properties": {"keep": {
    "type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 9999}, "maxItems": 200}}})


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


def _candidates(reply: str) -> list[tuple[str, bool]]:
    """Where a reply's JSON may be, each with whether it is meant as the whole answer: all of the reply, each
    Markdown code block; then the text from each `{` or `[` on (prose around it, a reasoning model's thoughts)."""
    text = reply.strip()
    out = [(text, True), *((b.strip(), True) for b in _FENCE.findall(text))]
    starts = [m.start() for m in re.finditer(r"[{\[]", text)][:MAX_STARTS]
    return out + [(text[i:], False) for i in starts if i]


def _json(reply: str, who: str, fits: Callable[[object], bool]) -> object:
    """The reply's JSON value that `fits` the shape asked for (an object before a bare list), else the reply's or
    a code block's value, found as `_candidates` says (a value may be followed by more text). Raises ReplyError when
    there is none (a reply cut short inside its JSON is "truncated")."""
    decoder = json.JSONDecoder()
    fitting: list[object] = []
    first: list[object] = []
    error: json.JSONDecodeError | None = None
    for text, whole in _candidates(reply):
        try:
            value = decoder.raw_decode(text)[0]
        except json.JSONDecodeError as exc:
            error = error or exc
            continue
        if fits(value):
            if isinstance(value, dict):
                return value
            fitting = fitting or [value]
        elif whole:  # the answer is JSON of the wrong shape (a value inside it is not the answer)
            first = first or [value]
    if fitting or first:
        return (fitting or first)[0]
    text = reply.strip()
    text = text[min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=0):]
    opened = text.count("{") - text.count("}") + text.count("[") - text.count("]")
    assert error is not None
    hint = "truncated" if opened > 0 or error.msg.startswith("Unterminated") else "malformed"
    raise ReplyError(who, f"is not JSON ({hint}: {error.msg} at character {error.pos})", reply)


def _findings(data: object) -> list | None:
    """The findings of a reply's JSON: its "findings" list, or a bare list of them."""
    found = data.get("findings") if isinstance(data, dict) else data
    if isinstance(found, dict):  # one finding, not in a list
        found = [found]
    return found if isinstance(found, list) and all(isinstance(f, dict) for f in found) else None


def parse_reply(reply: str, focus: str) -> list[dict]:
    """The findings of a specialist's reply. Raises ReplyError."""
    who = f"the {focus} reviewer"
    data = _json(reply, who, lambda v: _findings(v) is not None and (isinstance(v, dict) or bool(v)))
    found = _findings(data)
    if found is None:
        has = isinstance(data, dict) and isinstance(data.get("findings"), list)
        raise ReplyError(who, 'has "findings" that are not all objects' if has else 'has no "findings" list', reply)
    return found


def _id(value: object) -> int | None:
    """A finding id as models write it: 3, "3", "#3", 3.0 or {"id": 3}."""
    if isinstance(value, dict):
        value = value.get("id")
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and (m := re.fullmatch(r"\s*(?:#|id\s*)?(\d+)\s*", value, re.IGNORECASE)):
        return int(m[1])
    return None


def _keep(data: object) -> list[int] | None:
    keep = data.get("keep") if isinstance(data, dict) else data
    if not isinstance(keep, list):
        return None
    ids = [_id(i) for i in keep]
    return None if any(i is None for i in ids) else [i for i in ids if i is not None]


def parse_keep(reply: str) -> list[int]:
    """The ids of the findings the merge pass keeps. Raises ReplyError."""
    keep = _keep(_json(reply, "the merge pass", lambda v: _keep(v) is not None))
    if keep is None:
        raise ReplyError("the merge pass", 'has no "keep" list of finding ids', reply)
    return keep


def _clip(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= n else text[:n] + "…")


def to_finding(raw: dict, focus: str, ranges: Ranges) -> Finding | None:
    """A finding from one reply item, or None when it names no reviewed file or lines (a model's invention):
    its first line must be in a reviewed range, its last is kept within that range."""
    path = str(raw.get("path") or "").removeprefix("./").removeprefix("b/")
    start = _line(raw.get("line") or raw.get("start_line"))
    end = _line(raw.get("end_line")) or _line(raw.get("line"), last=True) or start
    if not start:
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


def _line(value: object, last: bool = False) -> int:
    """A line number as models write it: 9, "9", 9.0, "L9" or a range "9-11" (its first line, or its `last`);
    0 when there is none."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else 0
    numbers = re.findall(r"\d+", value) if isinstance(value, str) else []
    return int(numbers[-1 if last else 0]) if numbers and len(numbers) <= 2 else 0


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
