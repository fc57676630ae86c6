"""A review's result as text, JSON, Markdown (a pull-request comment), SARIF 2.1.0 or reviewdog's rdjson."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .findings import Finding
from .scope import Skipped, Unit

SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note"}
RDJSON_SEVERITY = {"error": "ERROR", "warning": "WARNING", "info": "INFO"}


@dataclass(slots=True)
class Result:
    base: str
    head: str
    version: str
    reviewed: list[Unit]
    findings: list[Finding]
    not_reviewed: list[Skipped] = field(default_factory=list)
    model_calls: int = 0
    repository: str | None = None  # the repository's https URL (origin), for SARIF's version control provenance


def render(result: Result, fmt: str) -> str:
    return {"text": text, "json": as_json, "markdown": markdown, "sarif": sarif, "rdjson": rdjson}[fmt](result)


def text(r: Result) -> str:
    out = [f"{f.path}:{f.start_line}{'-' + str(f.end_line) if f.end_line != f.start_line else ''}: "
           f"{f.severity} [{f.rule}] {f.title}\n    " + f.message.replace("\n", "\n    ") for f in r.findings]
    out.append(_summary(r))
    out += [f"  not reviewed: {s}" for s in r.not_reviewed]
    return "\n".join(out)


def _summary(r: Result) -> str:
    counts = {s: sum(f.severity == s for f in r.findings) for s in ("error", "warning", "info")}
    files = len({u.path for u in r.reviewed})
    return (f"ragls review: {len(r.findings)} findings ({counts['error']} errors, {counts['warning']} warnings, "
            f"{counts['info']} info) in {len(r.reviewed)} changes of {files} files; "
            f"{len(r.not_reviewed)} not reviewed")


def as_json(r: Result) -> str:
    return json.dumps({
        "base": r.base, "head": r.head, "tool": {"name": "ragls", "version": r.version},
        "findings": [f.to_json() for f in r.findings],
        "reviewed": [{"path": u.path, "start_line": u.start, "end_line": u.end, "symbol": u.symbol,
                      "definitions": [f"{d['path']}:{d['start_line']}" for d in u.definitions],
                      "callers": [f"{c['path']}:{c['start_line']}" for c in u.callers]} for u in r.reviewed],
        "not_reviewed": _not_reviewed(r),
        "model_calls": r.model_calls}, indent=2)


def _not_reviewed(r: Result) -> list[dict]:
    return [{"path": s.path, "reason": s.reason, **({"where": s.where} if s.where else {})} for s in r.not_reviewed]


def markdown(r: Result) -> str:
    icon = {"error": "🔴", "warning": "🟠", "info": "🔵"}
    out = ["## ragls review", "", _summary(r).removeprefix("ragls review: ").capitalize(), ""]
    if r.findings:
        out += ["| | location | finding |", "|---|---|---|"]
        for f in r.findings:
            title = f.title.replace("|", "\\|")
            out.append(f"| {icon[f.severity]} {f.severity} | `{f.path}:{f.start_line}` | **{title}** (`{f.rule}`) |")
        for f in r.findings:
            out += ["", f"### {icon[f.severity]} `{f.path}:{f.start_line}`: {f.title}", "", f.message]
            if f.suggestion:
                out += ["", "Suggested change:", "", "```suggestion", f.suggestion.rstrip("\n"), "```"]
    else:
        out.append("No problems found in the reviewed changes.")
    if r.not_reviewed:
        out += ["", "<details><summary>Not reviewed</summary>", ""]
        out += [f"- `{s.path}`{' ' + s.where if s.where else ''}: {s.reason}" for s in r.not_reviewed]
        out += ["", "</details>"]
    return "\n".join(out)


def sarif(r: Result) -> str:
    rules = sorted({f.rule for f in r.findings})
    results = []
    for f in r.findings:
        region = {"startLine": f.start_line, "endLine": f.end_line}
        loc = {"physicalLocation": {"artifactLocation": {"uri": f.path, "uriBaseId": "SRCROOT"}, "region": region}}
        res: dict = {"ruleId": f.rule, "ruleIndex": rules.index(f.rule), "level": SARIF_LEVEL[f.severity],
                     "message": {"text": f"{f.title}\n\n{f.message}" if f.message != f.title else f.title},
                     "locations": [loc], "partialFingerprints": {"ragls/v1": f.fingerprint}}
        if f.suggestion:
            res["fixes"] = [{"description": {"text": f"Replace lines {f.start_line}-{f.end_line}"},
                             "artifactChanges": [{"artifactLocation": {"uri": f.path, "uriBaseId": "SRCROOT"},
                                                  "replacements": [{"deletedRegion": region, "insertedContent":
                                                                    {"text": f.suggestion}}]}]}]
        results.append(res)
    run = {
        "tool": {"driver": {"name": "ragls", "version": r.version,
                            "rules": [{"id": rule, "name": rule.replace("/", "-"),
                                       "shortDescription": {"text": rule.replace("/", ": ").replace("-", " ")},
                                       "properties": {"tags": [rule.split("/", 1)[0]]}} for rule in rules]}},
        "originalUriBaseIds": {"SRCROOT": {"description": {"text": "the repository root"}}},
        "results": results,
        "properties": {"base": r.base, "head": r.head, "notReviewed": _not_reviewed(r)},
    }
    if r.repository and len(r.head) == 40:
        run["versionControlProvenance"] = [{"repositoryUri": r.repository, "revisionId": r.head}]
    return json.dumps({"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
                       "runs": [run]}, indent=2)


def rdjson(r: Result) -> str:
    """reviewdog's DiagnosticResult. Ranges are line-wise (no columns): start..end, the end line included, so a
    suggestion replaces whole lines and its text has no final line break."""
    diags = []
    for f in r.findings:
        rng = {"start": {"line": f.start_line}, "end": {"line": f.end_line}}
        d: dict = {"message": f"{f.title}: {f.message}" if f.message != f.title else f.title,
                   "location": {"path": f.path, "range": rng},
                   "severity": RDJSON_SEVERITY[f.severity], "code": {"value": f.rule}}
        if f.suggestion:
            d["suggestions"] = [{"range": rng, "text": f.suggestion.removesuffix("\n")}]
        diags.append(d)
    return json.dumps({"source": {"name": "ragls"}, "diagnostics": diags}, indent=2)
