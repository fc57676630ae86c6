"""A review's result as text, JSON, Markdown (a pull-request comment), SARIF 2.1.0 or reviewdog's rdjson."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from .findings import Finding
from .scope import Skipped, Unit

TOOL_URI = "https://github.com/ragls/ragls"
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


def render(result: Result, fmt: str) -> str:
    return {"text": text, "json": as_json, "markdown": markdown, "sarif": sarif, "rdjson": rdjson}[fmt](result)


def text(r: Result) -> str:
    out = [f"{f.path}:{f.start_line}{'-' + str(f.end_line) if f.end_line != f.start_line else ''}: "
           f"{f.severity} [{f.rule}] {f.title}\n    " + f.message.replace("\n", "\n    ") for f in r.findings]
    out.append(_summary(r))
    out += [f"  not reviewed: {s.path}: {s.reason}" for s in r.not_reviewed]
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
        "not_reviewed": [{"path": s.path, "reason": s.reason} for s in r.not_reviewed],
        "model_calls": r.model_calls}, indent=2)


def markdown(r: Result) -> str:
    icon = {"error": "🔴", "warning": "🟠", "info": "🔵"}
    out = ["## ragls review", "", _summary(r), ""]
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
        out += [f"- `{s.path}`: {s.reason}" for s in r.not_reviewed]
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
        "tool": {"driver": {"name": "ragls", "version": r.version, "informationUri": TOOL_URI,
                            "rules": [{"id": rule, "name": rule.replace("/", "-"),
                                       "shortDescription": {"text": rule.replace("/", ": ").replace("-", " ")},
                                       "properties": {"tags": [rule.split("/", 1)[0]]}} for rule in rules]}},
        "originalUriBaseIds": {"SRCROOT": {"description": {"text": "the repository root"}}},
        "versionControlProvenance": [{"repositoryUri": TOOL_URI, "revisionId": r.head}]
        if len(r.head) == 40 else [],
        "results": results,
        "properties": {"base": r.base, "head": r.head,
                       "notReviewed": [{"path": s.path, "reason": s.reason} for s in r.not_reviewed]},
    }
    if not run["versionControlProvenance"]:
        del run["versionControlProvenance"]
    return json.dumps({"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0",
                       "runs": [run]}, indent=2)


def rdjson(r: Result) -> str:
    diags = []
    for f in r.findings:
        rng = {"start": {"line": f.start_line, "column": 1}, "end": {"line": f.end_line + 1, "column": 1}}
        d: dict = {"message": f"{f.title}: {f.message}" if f.message != f.title else f.title,
                   "location": {"path": f.path, "range": rng},
                   "severity": RDJSON_SEVERITY[f.severity], "code": {"value": f.rule}}
        if f.suggestion:
            d["suggestions"] = [{"range": rng, "text": f.suggestion if f.suggestion.endswith("\n")
                                 else f.suggestion + "\n"}]
        diags.append(d)
    return json.dumps({"source": {"name": "ragls", "url": TOOL_URI}, "diagnostics": diags}, indent=2)
