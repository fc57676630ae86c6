"""Small helpers over tree-sitter nodes shared by the languages' import readers."""
from __future__ import annotations

import tree_sitter as ts


def text(node: ts.Node | None) -> str:
    return node.text.decode("utf-8", "replace") if node is not None and node.text is not None else ""


def first_line(node: ts.Node) -> int:
    return node.start_point.row + 1


def unquote(node: ts.Node | None) -> str:
    """The content of a string literal node: `'./x'`, `"fmt"`, `` `raw` ``."""
    value = text(node)
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"`":
        return value[1:-1]
    return value


def compact(value: str) -> str:
    """A path with its whitespace removed (paths may be split over lines)."""
    return "".join(value.split())
