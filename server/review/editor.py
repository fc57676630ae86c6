"""Review on save in the editor: saves start reviews, findings become diagnostics (source `ragls`) with quick fixes."""
from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from lsprotocol import types

from .. import documents
from ..settings import model_configured
from .findings import Finding

if TYPE_CHECKING:
    from ..app import RaglsServer

log = logging.getLogger(__name__)
SOURCE = "ragls"
SEVERITY = {"error": types.DiagnosticSeverity.Error, "warning": types.DiagnosticSeverity.Warning,
            "info": types.DiagnosticSeverity.Information}


class Published:
    """Publishes one document's findings to the client (an `Editor` of `LiveReview`)."""

    def __init__(self, ls: RaglsServer, uri: str) -> None:
        self.ls = ls
        self.uri = uri

    def publish(self, rel: str, text: str, findings: list[Finding]) -> None:
        lines = text.split("\n")
        diags = [diagnostic(self.ls, f, lines) for f in findings if f.start_line <= len(lines)]
        self.ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=self.uri, diagnostics=diags))

    def warn(self, message: str) -> None:
        log.warning("%s", message)
        self.ls.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"ragls: {message}"))


def saved(ls: RaglsServer, uri: str) -> None:
    """didSave: review the document's changed definitions when `review.onSave` is on."""
    if (hit := ls.folder(uri)) is None or not (settings := hit[0].session.settings).review.on_save:
        return
    if (doc := documents.opened(ls.workspace, uri)) is None:
        return
    if not model_configured(settings):
        log.warning("review on save is on, but no model is configured: nothing is reviewed")
        return
    folder, rel = hit
    folder.reviews.schedule(rel, documents.clean(doc.source), Published(ls, uri), settings.review.debounce_ms / 1000)


def closed(ls: RaglsServer, uri: str) -> None:
    """didClose: the document's review stops and its findings are cleared."""
    if (hit := ls.folder(uri)) is not None:
        hit[0].reviews.forget(hit[1])


def settings_changed(ls: RaglsServer) -> None:
    """Review on save turned off in a folder: its reviews stop and its findings are cleared."""
    for folder in ls.folders:
        if not folder.session.settings.review.on_save:
            folder.reviews.close()


def status(ls: RaglsServer) -> dict[str, object]:
    on = any(f.session.settings.review.on_save for f in ls.folders) if ls.folders else ls.settings.review.on_save
    return {"onSave": on, "pending": sum(f.reviews.pending for f in ls.folders),
            "modelCalls": sum(f.reviews.calls for f in ls.folders)}


def _digest(lines: list[str]) -> str:
    return hashlib.sha256("\n".join(line.rstrip("\r") for line in lines).encode()).hexdigest()[:16]


def diagnostic(ls: RaglsServer, f: Finding, lines: list[str]) -> types.Diagnostic:
    """A finding as a diagnostic over its lines (from the first one's indentation); its suggested replacement, with
    a digest of the lines it replaces, in `data` for the quick fix."""
    codec = ls.workspace.position_codec
    first, last = f.start_line - 1, min(f.end_line, len(lines)) - 1
    indent = len(lines[first]) - len(lines[first].lstrip())
    rng = types.Range(codec.position_to_client_units(lines, types.Position(first, indent)),
                      codec.position_to_client_units(lines, types.Position(last, len(lines[last].rstrip("\r")))))
    message = f.title if f.message in ("", f.title) else f"{f.title}\n{f.message}"
    data = {"suggestion": f.suggestion, "lines": _digest(lines[first:last + 1])} if f.suggestion else None
    return types.Diagnostic(range=rng, message=message, severity=SEVERITY.get(f.severity), code=f.rule,
                            source=SOURCE, data=data)


def quick_fixes(ls: RaglsServer, uri: str, diags: list[types.Diagnostic]) -> list[types.CodeAction]:
    """For each ragls diagnostic with a suggested replacement, an edit that puts it in place of the diagnostic's
    lines, unless those lines were edited since the review."""
    doc = documents.opened(ls.workspace, uri)
    if doc is None:
        return []
    lines = documents.clean(doc.source).split("\n")
    out = []
    for d in diags:
        data = d.data if isinstance(d.data, dict) else {}
        suggestion = data.get("suggestion")
        first, last = d.range.start.line, d.range.end.line
        if d.source != SOURCE or not isinstance(suggestion, str) or not suggestion or last >= len(lines) or \
                _digest(lines[first:last + 1]) != data.get("lines"):
            continue
        end = ls.workspace.position_codec.position_to_client_units(
            lines, types.Position(last, len(lines[last].rstrip("\r"))))
        edit = types.TextEdit(range=types.Range(types.Position(first, 0), end),
                              new_text=suggestion.removesuffix("\n"))
        out.append(types.CodeAction(title=f"ragls: apply the suggestion ({d.message.split(chr(10))[0]})",
                                    kind=types.CodeActionKind.QuickFix, diagnostics=[d], is_preferred=True,
                                    edit=types.WorkspaceEdit(changes={uri: [edit]})))
    return out
