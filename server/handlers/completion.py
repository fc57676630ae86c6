"""Completion: textDocument/inlineCompletion (LSP 3.18), and textDocument/completion for clients without it, and the
commands their items run when accepted (acceptance counts)."""
from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from .. import documents, errors
from ..features.completion import CompletionRequest

if TYPE_CHECKING:
    from ..app import RaglsServer

log = logging.getLogger(__name__)
# run by the client when the user accepts a completion item (LSP 3.18 inline items, and completion items), and by a
# client that knows an item was dismissed; the argument is the item's id in the folder's acceptance store
ACCEPTED, DISMISSED = "ragls.completionAccepted", "ragls.completionDismissed"


async def _complete(ls: "RaglsServer", uri: str, position: types.Position) -> tuple[str, str | None] | None:
    """The completion at a position and its id in the acceptance store (None when not counted), or None (disabled,
    outside the workspace, a refused file, no model, a failure: logged, errors.quiet)."""
    hit = ls.folder(uri)
    if hit is None or not hit[0].session.settings.completion.enabled:
        return None
    folder, rel = hit
    doc = documents.opened(ls.workspace, uri)
    if doc is None:
        log.info("completion in %s, which the client has not opened", uri)
        return None
    if (why := await folder.session.refusal(rel)) is not None:
        log.info("no completion in %s: %s (nothing of it is sent to a model)", rel, why)
        return None
    lines, codec = doc.lines, doc.position_codec
    if position.line > len(lines) or (position.line == len(lines) and position.character > 0) or (
            position.line < len(lines) and position.character > codec.client_num_units(lines[position.line])):
        log.info("completion at %d:%d is outside %s", position.line, position.character, uri)
        return None
    pos = codec.position_from_client_units(lines, position)
    await asyncio.sleep(folder.session.settings.completion.debounce_ms / 1000)  # a newer keystroke cancels this request
    start = time.perf_counter()
    req = CompletionRequest(rel, documents.clean(doc.source), pos.line + 1, pos.character)
    with errors.quiet("completion"):  # typing goes on: a failure is logged, never shown
        result = await folder.completer.complete(req)
        ls.timings.add((time.perf_counter() - start) * 1000, result.model_ms)
        return (result.text, result.id) if result.text else None
    return None


def _next_edit_here(ls: "RaglsServer", uri: str, position: types.Position) -> types.InlineCompletionItem | None:
    """The next edit suggested on the cursor's line (ragls/nextEdit), as an inline completion replacing its range,
    while the document is as it was when it was suggested."""
    hit = ls.folder(uri)
    doc = documents.opened(ls.workspace, uri)
    if hit is None or doc is None:
        return None
    edit = hit[0].editing.offered_on(uri, documents.clean(doc.source), position.line)
    if edit is None:
        return None
    r = edit["range"]
    rng = types.Range(types.Position(r["start"]["line"], r["start"]["character"]),
                      types.Position(r["end"]["line"], r["end"]["character"]))
    return types.InlineCompletionItem(insert_text=edit["newText"], range=rng)


def _accept_command(id_: str | None) -> types.Command | None:
    """What the client runs when the user accepts the completion `id_` (no command when acceptance is off)."""
    return types.Command(title="ragls: completion accepted", command=ACCEPTED, arguments=[id_]) if id_ else None


def _record(ls: "RaglsServer", accepted: bool, args: Any) -> dict[str, bool]:
    """Count the completion named by a command's argument as accepted or dismissed in the folder whose store holds
    it; {"recorded": false} for an unknown id or arguments that are not one id (never an error: a client runs it
    on every accept)."""
    id_ = args[0] if isinstance(args, list | tuple) and len(args) == 1 else None
    if not isinstance(id_, str):
        log.info("%s: expected one completion id, got %r", ACCEPTED if accepted else DISMISSED, args)
        return {"recorded": False}
    for folder in ls.folders:
        if (folder.acceptance.accepted(id_) if accepted else folder.acceptance.dismissed(id_)):
            return {"recorded": True}
    return {"recorded": False}


def supports_inline(ls: "RaglsServer") -> bool:
    td = ls.client_capabilities.text_document
    return bool(td and getattr(td, "inline_completion", None) is not None)


def register(server: "RaglsServer") -> None:
    @server.feature(types.TEXT_DOCUMENT_INLINE_COMPLETION, types.InlineCompletionOptions())
    async def inline_completion(ls: "RaglsServer", params: types.InlineCompletionParams
                                ) -> types.InlineCompletionList | None:
        if (edit := _next_edit_here(ls, params.text_document.uri, params.position)) is not None:
            return types.InlineCompletionList(items=[edit])
        done = await _complete(ls, params.text_document.uri, params.position)
        if done is None:
            return None
        text, id_ = done
        at = types.Range(params.position, params.position)
        return types.InlineCompletionList(items=[types.InlineCompletionItem(insert_text=text, range=at,
                                                                            command=_accept_command(id_))])

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=[".", "(", " "]))
    async def completion(ls: "RaglsServer", params: types.CompletionParams) -> types.CompletionList | None:
        done = await _complete(ls, params.text_document.uri, params.position)
        if done is None:
            return None
        text, id_ = done
        at = types.Range(params.position, params.position)
        item = types.CompletionItem(label=text.split("\n", 1)[0][:80] or text[:80], kind=types.CompletionItemKind.Text,
                                    detail="ragls", sort_text="0", filter_text="",
                                    text_edit=types.TextEdit(range=at, new_text=text), command=_accept_command(id_))
        return types.CompletionList(is_incomplete=True, items=[item])

    # pygls reads the type hints of command handlers at run time: `Any`, not the server class (TYPE_CHECKING only)
    @server.command(ACCEPTED)
    def completion_accepted(ls: Any, *args: Any) -> dict[str, bool]:
        return _record(ls, True, args)

    @server.command(DISMISSED)
    def completion_dismissed(ls: Any, *args: Any) -> dict[str, bool]:
        return _record(ls, False, args)
