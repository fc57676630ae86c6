"""Convert positions between the client's code units and code points with whole-string operations, not per character."""
from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types
from pygls.workspace import TextDocument, Workspace
from pygls.workspace.position_codec import PositionCodec, ServerTextPosition

# pygls counts code units one character at a time in Python: about 0.2 s for a position on a 1 MB line, on the event
# loop, for every keystroke (didChange) and request there. These conversions encode the line once, in C.
_CODECS = {types.PositionEncodingKind.Utf8: ("utf-8", 1), types.PositionEncodingKind.Utf16: ("utf-16-le", 2),
           types.PositionEncodingKind.Utf32: (None, 1)}


class FastPositionCodec(PositionCodec):
    """pygls's PositionCodec, with the same results, in time linear in C instead of in Python."""

    def __init__(self, encoding: types.PositionEncodingKind | str | None = types.PositionEncodingKind.Utf16) -> None:
        super().__init__(encoding)
        self._codec, self._width = _CODECS.get(encoding, _CODECS[types.PositionEncodingKind.Utf16])  # type: ignore

    def client_num_units(self, string: str) -> int:
        if self._codec is None or string.isascii():
            return len(string)
        return len(string.encode(self._codec, "surrogatepass")) // self._width

    def _code_points(self, line: str, units: int) -> int:
        """Code points of `line` before client offset `units` (an offset inside a character counts it whole)."""
        if self._codec is None or line.isascii():
            return min(units, len(line))
        data = line.encode(self._codec, "surrogatepass")[: units * self._width]
        n = 0
        for cut in range(4):  # the last character may be cut in two (at most 3 of its bytes kept): drop them...
            try:
                n = len(data[: len(data) - cut].decode(self._codec, "surrogatepass"))
                break
            except UnicodeDecodeError:
                continue
        return n + 1 if n < len(line) and self.client_num_units(line[:n]) < units else n  # ...count it whole

    def position_from_client_units(self, lines: Sequence[str], position: types.Position) -> ServerTextPosition:
        if not lines:
            return ServerTextPosition(0, 0)
        if position.line >= len(lines):
            return ServerTextPosition(len(lines) - 1, self.client_num_units(lines[-1]))
        line = lines[position.line]
        if line.endswith("\r\n"):  # pygls replaces every CRLF: a line of splitlines(True) holds one, at its end
            line = line[:-2] + "\n"
        client_len = self.client_num_units(line)
        if client_len == 0:
            return ServerTextPosition(position.line, 0)
        character = position.character if position.character <= client_len else client_len - 1
        return ServerTextPosition(position.line, self._code_points(line, character))

    def position_to_client_units(self, lines: Sequence[str],
                                 position: ServerTextPosition | types.Position) -> types.Position:
        if position.line >= len(lines):
            return types.Position(line=len(lines), character=0)
        return types.Position(line=position.line,
                              character=self.client_num_units(lines[position.line][: position.character]))


def apply_incremental_change(doc: TextDocument, change: types.TextDocumentContentChangePartial) -> None:
    """pygls's incremental edit, as one splice of the text at two offsets: pygls copies the document line by line
    in Python on every keystroke (a 30,000-line file: about 10 ms on the event loop). Same results (an inverted
    range, which pygls handles in its own way, goes to pygls)."""
    lines = doc.lines
    rng = doc.position_codec.range_from_client_units(lines, change.range)
    start, end = rng.start, rng.end
    if start.line >= len(lines) or (end.line, end.character) < (start.line, start.character):
        _PYGLS_APPLY(doc, change)
        return
    source = doc.source
    at = sum(map(len, lines[:start.line])) + min(start.character, len(lines[start.line]))
    to = len(source) if end.line >= len(lines) else (
        sum(map(len, lines[:end.line])) + min(end.character, len(lines[end.line])))
    doc._source = source[:at] + change.text + source[to:]


_PYGLS_APPLY = TextDocument._apply_incremental_change


def _lines(doc: TextDocument) -> tuple[str, ...]:
    """pygls's `TextDocument.lines`, remembered for the text it was split from: an edit and the request after it
    (and the next edit) split the same text once, not every time they ask."""
    source = doc.source
    cached = getattr(doc, "_ragls_lines", None)
    if cached is not None and cached[0] is source:
        return cached[1]
    lines = tuple(source.splitlines(True))
    doc._ragls_lines = (source, lines)  # type: ignore[attr-defined]
    return lines


def install(workspace: Workspace) -> None:
    """Give the workspace (and the documents it opens from now on) the fast codec for its negotiated encoding, and
    documents the one-splice incremental edit and their lines split once per text."""
    workspace._position_codec = FastPositionCodec(workspace.position_encoding)  # pygls has no public setter
    TextDocument._apply_incremental_change = apply_incremental_change  # type: ignore[assignment,method-assign]
    TextDocument.lines = property(_lines)  # type: ignore[assignment,method-assign]
