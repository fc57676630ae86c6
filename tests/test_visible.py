"""Reading the visible code is bounded by line windows and linear in the line: no request freezes on a long line."""
from __future__ import annotations

import random
import re

from ragls.indexer.visible import LINE_WINDOW, read, receiver

# the anchored expression ragls used before: the same answers, but quadratic in the line's length
_OLD = re.compile(r"([A-Za-z_$][\w$]*(?:[ \t]*(?:\.|::|->)[ \t]*[A-Za-z_$][\w$]*)*)[ \t]*(?:\.|::|->)[ \t]*$")


def _old_receiver(line: str) -> list[str] | None:
    m = _OLD.search(line)
    return re.split(r"[ \t]*(?:\.|::|->)[ \t]*", m.group(1)) if m else None


def test_receiver_agrees_with_the_regular_expression():
    rng = random.Random(3)
    alphabet = list("ab1_$ \t.:->()xé") + ["self.", "::", "->"]
    for _ in range(50_000):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
        assert receiver(line) == _old_receiver(line), repr(line)


def test_a_megabyte_line_is_read_through_a_window():
    line = "ICON = \"" + "A" * 1_000_000 + "\" + obj.attr."
    v = read("big.py", "import os\n" + line + "\nprint(1)\n", 2, len(line), None)
    assert v.receiver == ["obj", "attr"]
    assert all(len(ln) <= LINE_WINDOW for ln in v.lines)
    assert v.lines[-1].endswith("obj.attr.") and [r.module for r in v.imports] == ["os"]
    sel = read("big.py", "import os\n" + line + "\nprint(1)\n", 2, 0, 3)
    assert all(len(ln) <= LINE_WINDOW for ln in sel.lines) and sel.lines[-1] == "print(1)"
