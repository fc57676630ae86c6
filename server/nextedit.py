"""`ragls/nextEdit` (where the user's change goes next, and the edit there) and `ragls/diagnostics` (the client's
diagnostics of its open files, for prompts)."""
from __future__ import annotations

import difflib
import logging
import re
from typing import TYPE_CHECKING, Any

from lsprotocol import types
from ragls.indexer.hunks import Hunk
from ragls.indexer.languages import language_for
from ragls.indexer.nextedit import Location, locate
from ragls.prompts.render import BudgetError, load, render

from . import documents
from .editing import Diagnostic, history_text
from .llm import ModelError

if TYPE_CHECKING:
    from .app import RaglsServer
    from .folders import Folder

log = logging.getLogger(__name__)
NEXT_EDIT, DIAGNOSTICS = "ragls/nextEdit", "ragls/diagnostics"
REGION_LINES = 8  # lines each side of a location that the model may rewrite
LOCATIONS = 10
_CODE_BLOCK = re.compile(r"```[^\n`]*\n(.*?)```", re.DOTALL)


def plain(value: Any) -> Any:
    """A custom request's params (pygls makes named tuples of them) as plain dicts and lists."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def line_edits(old: list[str], new: list[str], first_line: int) -> list[tuple[int, int, list[str]]]:
    """The changed blocks from `old` to `new` lines (0-based `first_line` of old[0]): (start, end, replacement),
    old lines start..end-1 replaced; the lines that stay are not part of any edit."""
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "equal":
            out.append((first_line + i1, first_line + i2, new[j1:j2]))
    return out


def text_edits(lines: list[str], blocks: list[tuple[int, int, list[str]]], codec: Any) -> list[types.TextEdit]:
    """LSP edits of whole lines (positions in the client's units), from `line_edits` blocks over `lines`."""
    out = []
    eol = "\r\n" if lines and lines[0].endswith("\r") else "\n"
    for start, end, new in blocks:
        text = "".join(line + eol for line in new)
        if end >= len(lines) and end > start:  # replacing up to the last line, which has no line break after it
            last = len(lines) - 1
            tail = types.Position(last, len(lines[last].rstrip("\r")))
            rng = types.Range(types.Position(start, 0), codec.position_to_client_units(lines, tail))
            text = text[:-len(eol)] if text else text
        else:
            rng = types.Range(types.Position(start, 0), types.Position(end, 0))
        out.append(types.TextEdit(range=rng, new_text=text))
    return out


def register(server: RaglsServer) -> None:
    @server.feature(DIAGNOSTICS)
    def diagnostics(ls: RaglsServer, params: Any) -> None:
        p = plain(params)
        uri = p.get("uri") if isinstance(p, dict) else None
        hit = ls.folder(uri) if isinstance(uri, str) else None
        if hit is None:
            return
        folder, rel = hit
        folder.editing.set_diagnostics(rel, _diagnostics(p.get("diagnostics")))

    @server.feature(NEXT_EDIT)
    async def next_edit(ls: RaglsServer, params: Any) -> dict:
        p = plain(params)
        try:
            uri = p["textDocument"]["uri"]
            line = int(p["position"]["line"])
        except (KeyError, TypeError, ValueError):
            raise ValueError("ragls/nextEdit takes {textDocument: {uri}, position: {line, character}}") from None
        hit = ls.folder(uri)
        if hit is None:
            return {"edits": [], "locations": []}
        folder, rel = hit
        history = await _allowed(folder, folder.editing.history())
        found = await folder.session.run(_locate, folder, rel, line + 1, history)
        found = [loc for loc in found if await folder.session.refusal(loc.path) is None]
        out: dict[str, Any] = {"locations": [_location(ls, folder, loc) for loc in found], "edits": []}
        settings = folder.session.settings.next_edit
        if not settings.enabled or not history or not found or folder.chat.client is None:
            return out
        try:
            out["edits"] = await _edit_at(ls, folder, found[0], history)
        except (ModelError, BudgetError, documents.Unreadable) as exc:
            out["error"] = getattr(exc, "message", None) or str(exc)
            log.warning("next edit: %s", out["error"])
        return out


def _diagnostics(raw: Any) -> list[Diagnostic]:
    out = []
    for d in raw if isinstance(raw, list) else []:
        try:
            if d.get("source") == "ragls":
                continue
            rng = d["range"]
            out.append(Diagnostic(int(rng["start"]["line"]) + 1, int(rng["end"]["line"]) + 1, str(d["message"]),
                                  int(d.get("severity") or 1), str(d.get("source") or ""), str(d.get("code") or "")))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return out


async def _allowed(folder: Folder, hunks: list[Hunk]) -> list[Hunk]:
    """The history without the edits of files no model may see (secrets, ignored files)."""
    return [h for h in hunks if await folder.session.refusal(h.path) is None]


def _locate(folder: Folder, rel: str, line: int, history: list[Hunk]) -> list[Location]:
    return locate(folder.session.next_edit_corpus(), rel, line, history, LOCATIONS)


def _location(ls: RaglsServer, folder: Folder, loc: Location) -> dict:
    uri = (folder.root / loc.path).as_uri()
    pos = {"line": loc.line - 1, "character": 0}
    return {"uri": uri, "range": {"start": pos, "end": pos}, "score": loc.score, "why": loc.why}


async def _edit_at(ls: RaglsServer, folder: Folder, loc: Location, history: list[Hunk]) -> list[dict]:
    """Ask the model for the edit at `loc`: its region rewritten, applied as the lines that changed."""
    session = folder.session
    uri = (folder.root / loc.path).as_uri()
    source = documents.text(ls.workspace, uri, str(folder.root / loc.path))  # documents.Unreadable: said
    lines = source.split("\n")
    first = max(1, loc.line - REGION_LINES)
    last = min(len(lines), loc.line + REGION_LINES)
    region = "\n".join(line.rstrip("\r") for line in lines[first - 1:last])
    s = session.settings.next_edit
    diags = folder.editing.diagnostics_near(loc.path, first, last)
    spec = language_for(loc.path)
    values = {"language": spec.name if spec else "text", "path": loc.path, "start_line": first, "end_line": last,
              "edits": history_text(history, s.history_chars),
              "diagnostics": "\n".join(d.text() for d in diags) or "(none)", "region": region}
    rendered = await session.run(render, load("next_edit"), values, s.budget)
    if session.settings.log_prompts:
        log.info("next_edit prompt (%d tokens): %s", rendered.tokens, rendered.messages)
    client = folder.chat.client
    assert client is not None
    reply = await client.chat(rendered.messages or [], max_tokens=s.max_tokens)
    if reply.strip().startswith("NO_CHANGE"):
        return []
    blocks = _CODE_BLOCK.findall(reply)
    if not blocks:
        raise ModelError("bad_response", "the model's next edit has no code block")
    new = rendered.restore(max(blocks, key=len).rstrip("\n")).split("\n")
    old = region.split("\n")
    changes = line_edits(old, new, first - 1)
    edits = text_edits([ln for ln in lines], changes, ls.workspace.position_codec)
    return [{"uri": uri, "range": _plain_range(e.range), "newText": e.new_text} for e in edits]


def _plain_range(r: types.Range) -> dict:
    return {"start": {"line": r.start.line, "character": r.start.character},
            "end": {"line": r.end.line, "character": r.end.character}}
