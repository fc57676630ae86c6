"""Convert positions between the client's code units and code points with whole-string operations, not per character."""
from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types
from pygls.workspace import Workspace
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
        line = lines[position.line].replace("\r\n", "\n")
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


def install(workspace: Workspace) -> None:
    """Give the workspace (and the documents it opens from now on) the fast codec for its negotiated encoding."""
    workspace._position_codec = FastPositionCodec(workspace.position_encoding)  # pygls has no public setter
