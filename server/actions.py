"""Code actions (fix, explain), commands (ragls.fix, .explain, .ask, .reindex, .status) and hover."""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .features.chat import Selection
from .llm import ModelError

if TYPE_CHECKING:
    from .app import RaglsServer
    from .folders import Folder

log = logging.getLogger(__name__)
FIX, EXPLAIN, ASK, REINDEX, STATUS = "ragls.fix", "ragls.explain", "ragls.ask", "ragls.reindex", "ragls.status"


class CommandError(Exception):
    """An explicit command failed; the message says why and how to fix it (the client shows it)."""


class QuietCommandErrors(logging.Filter):
    """pygls logs every failed request with its traceback; a CommandError is an answer to the user (shown by the
    client), so it is logged as one warning line instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, CommandError):
            record.msg, record.args, record.exc_info, record.exc_text = "command failed: %s", (str(exc),), None, None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True


def _selection(ls: "RaglsServer", uri: str, rng: types.Range) -> tuple["Folder", Selection]:
    hit = ls.folder(uri)
    if hit is None:
        raise CommandError(f"{uri} is outside the workspace folders" if ls.folders else
                           "the server is still starting")
    folder, rel = hit
    doc = ls.workspace.get_text_document(uri)
    start = rng.start.line + 1
    end = rng.end.line + (0 if rng.end.character == 0 and rng.end.line > rng.start.line else 1)
    return folder, Selection(rel, doc.source, start, max(start, end))


def _folder_for(ls: "RaglsServer", uri: Any) -> "Folder":
    """The folder of an optional document URI argument; else the only (or first) folder."""
    hit = ls.folder(uri) if isinstance(uri, str) and uri else None
    if hit is not None:
        return hit[0]
    if not ls.folders:
        raise CommandError("the server is still starting")
    return ls.folders[0]


def _diagnostics_text(diags: list[types.Diagnostic]) -> list[str]:
    return [f"line {d.range.start.line + 1}: {d.message}" + (f" [{d.code}]" if d.code else "") for d in diags]


async def _fix_edit(ls: "RaglsServer", uri: str, rng: types.Range, diags: list[str]) -> types.WorkspaceEdit:
    folder, sel = _selection(ls, uri, rng)
    try:
        answer = await folder.chat.fix(sel, diags)
    except ModelError as exc:
        raise CommandError(exc.message) from exc
    doc = ls.workspace.get_text_document(uri)
    last = sel.end_line - 1
    end_char = len(doc.lines[last].rstrip("\r\n")) if last < len(doc.lines) else 0
    target = types.Range(types.Position(sel.start_line - 1, 0), types.Position(last, end_char))
    target = doc.range_to_client_units(doc.range_from_client_units(target))
    return types.WorkspaceEdit(changes={uri: [types.TextEdit(range=target, new_text=answer.text)]})


def _supports_resolve(ls: "RaglsServer") -> bool:
    td = ls.client_capabilities.text_document
    ca = td.code_action if td else None
    return bool(ca and ca.resolve_support and "edit" in ca.resolve_support.properties)


def register(server: "RaglsServer") -> None:
    kinds = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=kinds,
                                                                            resolve_provider=True))
    def code_action(ls: "RaglsServer", params: types.CodeActionParams) -> list[types.CodeAction] | None:
        if ls.rel(params.text_document.uri) is None:
            return None
        uri, rng, diags = params.text_document.uri, params.range, list(params.context.diagnostics)
        selected = rng.start != rng.end
        if not diags and not selected:
            return None
        args = [uri, _plain(rng), _diagnostics_text(diags)]
        title = f"ragls: fix {'this problem' if diags else 'the selection'}"
        fix = types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix if diags else
                               types.CodeActionKind.RefactorRewrite, diagnostics=diags or None)
        if _supports_resolve(ls):
            fix.data = {"command": FIX, "arguments": args}
        else:
            fix.command = types.Command(title=title, command=FIX, arguments=args)
        actions = [fix]
        if selected:
            actions.append(types.CodeAction(title="ragls: explain the selection", kind=types.CodeActionKind.Empty,
                                            command=types.Command(title="ragls: explain", command=EXPLAIN,
                                                                  arguments=[uri, _plain(rng)])))
        return actions

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: "RaglsServer", action: types.CodeAction) -> types.CodeAction:
        data = action.data or {}
        if data.get("command") == FIX:
            uri, rng, diags = data["arguments"]
            action.edit = await _fix_edit(ls, uri, _range(rng), diags)
        return action

    @server.command(FIX)
    async def fix_command(ls: Any, *args: Any) -> dict:
        uri, rng = args[0], _range(args[1])
        diags = args[2] if len(args) > 2 else []
        edit = await _guard(ls, _fix_edit(ls, uri, rng, diags))
        result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label="ragls: fix"))
        return {"applied": result.applied}

    @server.command(EXPLAIN)
    async def explain_command(ls: Any, *args: Any) -> str:
        folder, sel = _selection(ls, args[0], _range(args[1]))
        return (await _guard(ls, folder.chat.explain(sel))).text

    @server.command(ASK)
    async def ask_command(ls: Any, *args: Any) -> str:
        question = str(args[0]) if args else ""
        if not question.strip():
            raise CommandError("ragls.ask needs a question")
        folder = _folder_for(ls, args[1] if len(args) > 1 else None)
        return (await _guard(ls, folder.chat.ask(question))).text

    @server.command(REINDEX)
    async def reindex_command(ls: Any, *args: Any) -> str:
        folders = [_folder_for(ls, args[0])] if args and args[0] else list(ls.folders)
        if not folders:
            raise CommandError("the server is still starting")
        for folder in folders:
            folder.summary = await folder.session.index_workspace()
        return "\n".join(f.summary or "" for f in folders)

    @server.command(STATUS)
    def status_command(ls: Any, *args: Any) -> dict:
        return ls.status()


def register_hover(server: "RaglsServer") -> None:
    """Hover explanations cost a model call each: registered (and advertised) only when enabled at initialize."""
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: "RaglsServer", params: types.HoverParams) -> types.Hover | None:
        if not ls.settings.chat.hover or ls.folder(params.text_document.uri) is None:
            return None
        line = params.position.line
        rng = types.Range(types.Position(line, 0), types.Position(line + 1, 0))
        try:
            folder, sel = _selection(ls, params.text_document.uri, rng)
            answer = await folder.chat.explain(sel)
        except (ModelError, CommandError) as exc:
            log.warning("hover: %s", exc)
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=answer.text))


async def _guard(ls: "RaglsServer", coro):
    """Run an explicit command's work; a failure is shown to the user and returned as a clear error."""
    try:
        return await coro
    except ModelError as exc:
        ls.show_error(exc.message)
        raise CommandError(exc.message) from exc
    except CommandError as exc:
        ls.show_error(str(exc))
        raise
    except asyncio.CancelledError:
        raise


def _plain(rng: types.Range) -> dict:
    return {"start": {"line": rng.start.line, "character": rng.start.character},
            "end": {"line": rng.end.line, "character": rng.end.character}}


def _range(value: Any) -> types.Range:
    if isinstance(value, types.Range):
        return value
    s, e = value["start"], value["end"]
    return types.Range(types.Position(s["line"], s["character"]), types.Position(e["line"], e["character"]))
