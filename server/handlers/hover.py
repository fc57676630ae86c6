"""textDocument/hover: the model's explanation of the line under the cursor (`chat.hover`)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from .. import errors
from .actions import explain

if TYPE_CHECKING:
    from ..app import RaglsServer


def register(server: RaglsServer) -> None:
    """Hover explanations cost a model call each: registered (and advertised) only when enabled at initialize."""
    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: RaglsServer, params: types.HoverParams) -> types.Hover | None:
        hit = ls.folder(params.text_document.uri)
        if hit is None or not hit[0].session.settings.chat.hover:
            return None
        line = params.position.line
        rng = types.Range(types.Position(line, 0), types.Position(line + 1, 0))
        try:
            answer = await explain(ls, params.text_document.uri, rng)
        except Exception as exc:  # hovering goes on: an expected failure is logged, never shown
            if not errors.expected(exc):
                raise
            errors.logged("hover", exc)
            return None
        return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=answer.text))
