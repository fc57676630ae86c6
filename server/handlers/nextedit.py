"""`ragls/nextEdit` (where the user's change goes next, and the edit there) and `ragls/diagnostics` (the client's
diagnostics of its open files, for prompts)."""
from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from pygls.exceptions import JsonRpcInvalidParams
from ragls.indexer.hunks import Hunk
from ragls.indexer.languages import language_for
from ragls.indexer.nextedit import Location, locate
from ragls.prompts.render import load, render

from .. import documents, errors
from ..editing import Diagnostic, history_text
from ..features import fixes
from ..model.client import ModelError
from .actions import plain_range, replacement_edits

if TYPE_CHECKING:
    from ..app import RaglsServer
    from ..folders import Folder

log = logging.getLogger(__name__)
NEXT_EDIT, DIAGNOSTICS = "ragls/nextEdit", "ragls/diagnostics"
REGION_LINES = 8  # lines each side of a location that the model may rewrite
LOCATIONS = 10
MESSAGE_CHARS = 400  # of a client diagnostic's message kept for prompts
REPLY_CACHE = 64  # the model's last next-edit replies, by their prompt
_REPLIES: OrderedDict[str, str] = OrderedDict()


def plain(value: Any) -> Any:
    """A custom request's params or result (pygls makes named tuples of them) as plain dicts and lists."""
    if hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


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
            uri, line = p["textDocument"]["uri"], p["position"]["line"]
        except (KeyError, TypeError):
            uri = line = None
        if not isinstance(uri, str) or not isinstance(line, int) or isinstance(line, bool) or line < 0:
            raise JsonRpcInvalidParams("ragls/nextEdit takes {textDocument: {uri}, position: {line, character}}")
        hit = ls.folder(uri)
        if hit is None:
            return {"edits": [], "locations": []}
        folder, rel = hit
        history = await _allowed(folder, folder.editing.history())
        found = await folder.session.run(_locate, folder, rel, line + 1, history)
        found = [loc for loc in found if await folder.session.refusal(loc.path) is None]
        out: dict[str, Any] = {"locations": [_location(folder, loc) for loc in found], "edits": []}
        settings = folder.session.settings.next_edit
        if not settings.enabled or not history or not found or folder.chat.client is None:
            return out
        try:
            out["edits"] = await _edit_at(ls, folder, found[0], history)
        except Exception as exc:  # an expected failure is the answer's "error" (the client may show it); a bug raises
            if not errors.expected(exc):
                raise
            out["error"] = errors.message(exc)
            errors.logged("next edit", exc)
        return out


def _diagnostics(raw: Any) -> list[Diagnostic]:
    out = []
    for d in raw if isinstance(raw, list) else []:
        try:
            if d.get("source") == "ragls":
                continue
            rng = d["range"]
            out.append(Diagnostic(int(rng["start"]["line"]) + 1, int(rng["end"]["line"]) + 1,
                                  str(d["message"])[:MESSAGE_CHARS], int(d.get("severity") or 1),
                                  str(d.get("source") or "")[:40], str(d.get("code") or "")[:40]))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return out


async def _allowed(folder: Folder, hunks: list[Hunk]) -> list[Hunk]:
    """The history without the edits of files no model may see (secrets, ignored files)."""
    return [h for h in hunks if await folder.session.refusal(h.path) is None]


def _locate(folder: Folder, rel: str, line: int, history: list[Hunk]) -> list[Location]:
    return locate(folder.session.next_edit_corpus(), rel, line, history, LOCATIONS)


def _location(folder: Folder, loc: Location) -> dict:
    uri = (folder.root / loc.path).as_uri()
    pos = {"line": loc.line - 1, "character": 0}
    region = {"start": {"line": loc.start - 1, "character": 0}, "end": {"line": loc.end, "character": 0}}
    return {"uri": uri, "range": {"start": pos, "end": pos}, "region": region, "score": loc.score, "why": loc.why}


async def _edit_at(ls: RaglsServer, folder: Folder, loc: Location, history: list[Hunk]) -> list[dict]:
    """Ask the model for the edit at `loc`: its region rewritten, applied as the lines that changed."""
    session = folder.session
    uri = (folder.root / loc.path).as_uri()
    source = documents.text(ls.workspace, uri, str(folder.root / loc.path))  # documents.Unreadable: said
    lines = source.split("\n")
    first = max(1, loc.line - REGION_LINES)
    last = min(len(lines), loc.line + REGION_LINES)
    region = "\n".join(line.rstrip("\r") for line in lines[first - 1:last])  # shown numbered from `first`
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
    # a client asks after every pause in typing: the same prompt (nothing changed since) is not asked again
    which = [client.config.base_url, client.config.chat_model, s.max_tokens, rendered.messages]
    key = hashlib.sha256(json.dumps(which, sort_keys=True).encode()).hexdigest()
    reply = _REPLIES.get(key)
    if reply is None:
        reply = await client.chat(rendered.messages or [], max_tokens=s.max_tokens)
        _REPLIES[key] = reply
        while len(_REPLIES) > REPLY_CACHE:
            _REPLIES.popitem(last=False)
    else:
        _REPLIES.move_to_end(key)
    if reply.strip().startswith("NO_CHANGE"):
        return []
    found = fixes.blocks(reply, rendered.restore)
    if not found:
        raise ModelError("bad_response", "the model's next edit has no code block")
    rep = fixes.replacement(loc.path, source, first, last, max(found, key=lambda b: len(b.lines)).lines)
    if broke := fixes.new_problems(loc.path, source, fixes.apply(source, [rep])):
        log.info("next edit at %s:%d dropped: it does not parse (line %d)", loc.path, loc.line, broke[0].line)
        return []
    edits = [{"uri": uri, "range": plain_range(e.range), "newText": e.new_text}
             for e in replacement_edits(rep, ls.workspace.position_codec)]
    folder.editing.offer(uri, source, edits)  # an inline completion on one of these lines shows it
    return edits
