"""Turn retrieved items into prompt context (text read from the workspace) and cite them."""
from __future__ import annotations

from typing import Any

from ragls.indexer.assemble import Item

from ..session import Session


def context_items(session: Session, items: list[Item]) -> list[dict[str, Any]]:
    """Prompt context entries {path, start_line, end_line, symbol, symbols, text}, best first, empty texts dropped:
    `symbol` names every definition the lines show, `symbols` lists them."""
    out = []
    for i in items:
        text = session.read_lines(i)
        if text.strip():
            out.append({"path": i.path, "start_line": i.start_line, "end_line": i.end_line, "symbol": i.label,
                        "symbols": [n for n in (i.symbol, *i.joined) if n], "text": text})
    return out


def citations(items: list[dict[str, Any]]) -> str:
    """A Markdown list of the definitions a prompt used, as `path:line` references."""
    return "\n".join(f"- {', '.join(f'`{n}`' for n in i.get('symbols') or [i['symbol'] or 'code'])} "
                     f"({i['path']}:{i['start_line']})" for i in items)
