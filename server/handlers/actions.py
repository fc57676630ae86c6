"""Code actions (fix, explain), `codeAction/resolve` and the commands (ragls.fix, .explain, .ask, .reindex, .status).

A failure is the request's error response, worded by errors.message at the protocol's edge: nothing else is shown."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .. import documents
from ..errors import CommandError
from ..features import fixes
from ..features.chat import Answer, Selection
from ..review.editor import quick_fixes

if TYPE_CHECKING:
    from ..app import RaglsServer
    from ..folders import Folder

log = logging.getLogger(__name__)
FIX, EXPLAIN, ASK, REINDEX, STATUS = "ragls.fix", "ragls.explain", "ragls.ask", "ragls.reindex", "ragls.status"


async def _selection(ls: "RaglsServer", uri: Any, rng: types.Range) -> tuple["Folder", Selection]:
    """The selected lines of a document, unless the confinement rule refuses its file (CommandError: why)."""
    hit = ls.folder(uri) if isinstance(uri, str) else None
    if hit is None:
        raise CommandError(f"{uri} is outside the workspace folders" if ls.folders else
                           "the server is still starting")
    folder, rel = hit
    if (why := await folder.session.refusal(rel)) is not None:
        raise CommandError(f"{rel}: {why}; ragls sends nothing of it to a model")
    try:
        source = documents.text(ls.workspace, uri, str(folder.root / rel))
    except documents.Unreadable as exc:
        raise CommandError(str(exc)) from None
    start = rng.start.line + 1
    end = rng.end.line + (0 if rng.end.character == 0 and rng.end.line > rng.start.line else 1)
    return folder, Selection(rel, source, start, max(start, end))


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
    """The model's fix as one edit of the changed lines only. With diagnostics it rewrites their enclosing
    definition; a selection without them, the selected lines. Other definitions it changes go in the same edit."""
    folder, sel = await _selection(ls, uri, rng)
    fix = await folder.chat.fix(sel, diags, grow=bool(diags))
    changes: dict[str, list[types.TextEdit]] = {}
    codec = ls.workspace.position_codec
    for rep in fix.replacements:
        target = uri if rep.path == sel.path else (folder.root / rep.path).as_uri()
        if edits := replacement_edits(rep, codec):
            changes.setdefault(target, []).extend(edits)
    if not changes:
        first = fix.replacements[0]
        raise CommandError(f"the model's fix changes nothing in lines {first.start_line}-{first.end_line}")
    return types.WorkspaceEdit(changes=changes)


def replacement_edits(rep: fixes.Replacement, codec: Any) -> list[types.TextEdit]:
    """A replacement's changed lines (fixes.edits) as LSP edits, positions in the client's code units."""
    lines = rep.text.split("\n")
    return [types.TextEdit(range=types.Range(codec.position_to_client_units(lines, types.Position(*start)),
                                             codec.position_to_client_units(lines, types.Position(*end))),
                           new_text=text) for start, end, text in fixes.edits(rep)]


def _supports_resolve(ls: "RaglsServer") -> bool:
    td = ls.client_capabilities.text_document
    ca = td.code_action if td else None
    return bool(ca and ca.resolve_support and "edit" in ca.resolve_support.properties)


def register(server: "RaglsServer") -> None:
    kinds = [types.CodeActionKind.QuickFix, types.CodeActionKind.RefactorRewrite]

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=kinds,
                                                                            resolve_provider=True))
    async def code_action(ls: "RaglsServer", params: types.CodeActionParams) -> list[types.CodeAction] | None:
        hit = ls.folder(params.text_document.uri)
        if hit is None or await hit[0].session.refusal(hit[1]) is not None:
            return None  # nothing of a refused file goes to a model: no action to offer
        uri, rng, diags = params.text_document.uri, params.range, list(params.context.diagnostics)
        selected = rng.start != rng.end
        if not diags and not selected:
            return None
        args = [uri, plain_range(rng), _diagnostics_text(diags)]
        title = f"ragls: fix {'this problem' if diags else 'the selection'}"
        fix = types.CodeAction(title=title, kind=types.CodeActionKind.QuickFix if diags else
                               types.CodeActionKind.RefactorRewrite, diagnostics=diags or None)
        if _supports_resolve(ls):
            fix.data = {"command": FIX, "arguments": args}
        else:
            fix.command = types.Command(title=title, command=FIX, arguments=args)
        actions = [*quick_fixes(ls, uri, diags), fix]  # a review finding's own replacement first
        if selected:
            actions.append(types.CodeAction(title="ragls: explain the selection", kind=types.CodeActionKind.Empty,
                                            command=types.Command(title="ragls: explain", command=EXPLAIN,
                                                                  arguments=[uri, plain_range(rng)])))
        return actions

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def resolve(ls: "RaglsServer", action: types.CodeAction) -> types.CodeAction:
        data = action.data if isinstance(action.data, dict) else {}
        if data.get("command") == FIX:
            args = data.get("arguments")
            if not isinstance(args, list) or len(args) != 3 or not isinstance(args[2], list):
                raise CommandError("invalid code action data: expected [uri, range, diagnostics]")
            action.edit = await _fix_edit(ls, args[0], _range(args[1]), [str(d) for d in args[2]])
        return action

    @server.command(FIX)
    async def fix_command(ls: Any, *args: Any) -> dict:
        if len(args) < 2:
            raise CommandError("ragls.fix takes [uri, range, diagnostics?]")
        uri, rng = args[0], _range(args[1])
        diags = [str(d) for d in args[2]] if len(args) > 2 and isinstance(args[2], list) else []
        edit = await _fix_edit(ls, uri, rng, diags)
        result = await ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label="ragls: fix"))
        return {"applied": result.applied}

    @server.command(EXPLAIN)
    async def explain_command(ls: Any, *args: Any) -> str:
        if len(args) < 2:
            raise CommandError("ragls.explain takes [uri, range]")
        return (await explain(ls, args[0], _range(args[1]))).text

    @server.command(ASK)
    async def ask_command(ls: Any, *args: Any) -> str:
        question = str(args[0]) if args else ""
        if not question.strip():
            raise CommandError("ragls.ask needs a question")
        folder = _folder_for(ls, args[1] if len(args) > 1 else None)
        return (await folder.chat.ask(question)).text

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


async def explain(ls: "RaglsServer", uri: Any, rng: types.Range) -> Answer:
    """The model's explanation of a document's lines (ragls.explain, hover)."""
    folder, sel = await _selection(ls, uri, rng)
    return await folder.chat.explain(sel)


def plain_range(rng: types.Range) -> dict:
    return {"start": {"line": rng.start.line, "character": rng.start.character},
            "end": {"line": rng.end.line, "character": rng.end.character}}


def _range(value: Any) -> types.Range:
    """A range argument, from a Range or its JSON form; CommandError for anything else."""
    if isinstance(value, types.Range):
        return value
    try:
        s, e = value["start"], value["end"]
        numbers = [s["line"], s["character"], e["line"], e["character"]]
    except (KeyError, TypeError):
        numbers = []
    if len(numbers) != 4 or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**31
                                    for n in numbers):
        raise CommandError(f"invalid range {str(value)[:80]!r}: expected {{start: {{line, character}}, end: ...}}")
    return types.Range(types.Position(numbers[0], numbers[1]), types.Position(numbers[2], numbers[3]))
