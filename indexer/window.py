"""What of a long file a query reads: a head of whole statements (its imports), a tail before the cursor that parses
as code, the lines between left empty (their numbers kept); each line cut to LINE_WINDOW characters."""
from __future__ import annotations

import re

LINE_WINDOW = 1000  # characters of a line a query reads: a long line's head, or the end before the cursor
# Of a large file a query reads the head (imports) and the code before the cursor, in characters; the lines between
# read as empty (numbers kept). The tail starts at a multiple of TAIL_QUANTUM lines, so that it stays the same while
# the cursor moves about and the previous analysis is reused, unless that adds more than TAIL_CHARS (long lines).
# A tail of 8,000 (16,000 before) lost nothing on the deep-cursor sets now that the names used above it count
# (FAR_CHARS) and what came next is searched in all the text before the cursor (BEFORE_CHARS): typeorm's deep
# cursors cost about a fifth less. 6,000: deep queries' mean a tenth less again (sympy 17.7 -> 16.3 ms, typeorm 11.6
# -> 9.9), the same answers' quality on every set but the deep cursors of five training packages (666 cursors past
# 70,000 characters: sR@1/5/10 0.446 / 0.690 / 0.791 -> 0.445 / 0.690 / 0.788); 4,000 lost there (0.683 at sR@5).
HEAD_CHARS, TAIL_CHARS, TAIL_QUANTUM, SELECTION_CHARS = 4_000, 6_000, 128, 256_000
# A selection (explain, fix: no keystroke waits on it) reads a larger head: the declarations a module or class
# starts with (Python selections: all@10 0.988 with a 4,000-character head on werkzeug, 1.000 with this).
SELECTION_HEAD_CHARS = 24_000
INDENTED = frozenset({"python"})  # languages whose blocks are their indentation
_NOT_A_START = "#)]}\"'"  # a comment, a closing bracket, a string's continuation: not where a statement starts
_NOT_A_HEADER = ("#", "//", "/*")  # a directive, a comment
_OPENERS = ("{", "(", "[")  # a line ending in one opens what the lines below it hold
HEADER_LINES = 40  # lines of a block's header (a signature over lines) read to find its `{`
FUNCTION_LOOKBACK = 5000  # lines searched upwards for the start of the function around the cursor
_TRIPLE = re.compile(r"\"\"\"|\'\'\'")


def bounded(lines: list[str], tail_last: bool) -> list[str]:
    """Lines cut to LINE_WINDOW characters (a minified bundle, a base64 literal): every later step is then bounded
    by the window, whatever the file holds. The cursor's line keeps its end, the text right before the cursor."""
    if not lines or max(map(len, lines)) <= LINE_WINDOW:
        return lines
    out = [ln if len(ln) <= LINE_WINDOW else ln[:LINE_WINDOW] for ln in lines]
    if tail_last and len(lines[-1]) > LINE_WINDOW:
        out[-1] = lines[-1][-LINE_WINDOW:]
    return out


def windowed(lines: list[str], selection_start: int | None, indented: bool = False
            ) -> tuple[list[str], tuple[int, int] | None]:
    """`lines` with those between the head and the tail before the cursor emptied (and the first and last line
    emptied, 1-based; None when none is): the work of a query is bounded whatever the size of the file. A selection
    is kept whole up to SELECTION_CHARS. In a language of indented blocks the tail starts on a line of its least
    indentation, under a stand-in block header; in a language of braces the head holds whole top-level statements
    and the tail starts on a statement, under the lines that open the blocks around it, kept where they are. Either
    way it parses as code, where a tail starting mid-block costs the parser's error recovery several times the parse
    (typeorm's deep cursors: a parse of 2.6 ms on average, 9.0 at most, is one of 1.6 and 2.7 ms)."""
    head_chars = HEAD_CHARS if selection_start is None else SELECTION_HEAD_CHARS
    head = reach(lines, range(len(lines)), head_chars)
    tail = len(lines) - reach(lines, range(len(lines) - 1, -1, -1), TAIL_CHARS)
    if selection_start is not None and selection_start < tail:
        tail = max(selection_start, len(lines) - reach(lines, range(len(lines) - 1, -1, -1), SELECTION_CHARS))
    quantized = tail // TAIL_QUANTUM * TAIL_QUANTUM
    if sum(map(len, lines[quantized:tail])) + tail - quantized <= TAIL_CHARS:  # not where lines are long
        tail = quantized
    if tail <= head:
        return lines, None
    kept = lines[:head]
    if indented:
        kept = _head_closed(lines, head, tail, head_chars)
        if selection_start is None:
            tail = max(_block_start(lines, _after_strings(lines, tail)), len(kept))
    headers: list[int] = []
    if not indented and selection_start is None:  # braces: whole statements in the head and the tail
        kept = lines[:_head_end(lines, head, tail, head_chars)]
        tail, headers = _enclosing(lines, _statement_start(lines, tail), len(kept))
    if tail <= len(kept):
        return lines, None
    out = kept + [""] * (tail - len(kept)) + lines[tail:]
    if indented and selection_start is None and tail - 1 >= len(kept) and lines[tail][:1] in " \t":
        out[tail - 1] = "if 1:"  # a stand-in header, on an emptied line: the tail is its block
    for i in headers:  # the lines that open the blocks around the tail, where they are
        out[i] = lines[i]
    return out, (len(kept) + 1, tail)


def _top_level(line: str) -> bool:
    """Whether `line` starts a statement of the file's top level: not indented, nor a closing bracket, a string's
    continuation or a block comment's."""
    return _opens_statement(line) and line[0] not in " \t/"


def _head_end(lines: list[str], head: int, tail: int, head_chars: int) -> int:
    """Where a head of `head` lines stops so that it holds whole top-level statements (in a language of braces):
    at the next top-level line when it comes within half the head's size, else at the last one in the head (a head
    that ends inside a class or a function leaves the parser reading everything after it as one error, at several
    times the cost of the parse); `head` when there is none."""
    budget, at = head_chars // 2, None
    for k in range(head, tail):
        if _top_level(lines[k]):
            at = k
            break
        budget -= len(lines[k]) + 1
        if budget < 0:
            break
    if at is None and (at := next((k for k in range(head - 1, 0, -1) if _top_level(lines[k])), None)) is None:
        return head
    return _statement_above(lines, at, 0) if lines[at].startswith("{") else at


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def _opens_statement(code: str) -> bool:
    """Whether a line whose code (indentation stripped) is `code` may start a statement: not blank, nor a closing
    bracket, a string's continuation, or a block comment's inner line."""
    return bool(code) and code[0] not in ")]}\"'*"


def _statement_start(lines: list[str], tail: int) -> int:
    """The first line from `tail` on that may start a statement (within HEADER_LINES lines; else `tail`)."""
    return next((i for i in range(tail, min(len(lines), tail + HEADER_LINES))
                 if _opens_statement(lines[i].lstrip(" \t"))), tail)


def _enclosing(lines: list[str], first: int, low: int) -> tuple[int, list[int]]:
    """Where a tail that would start at line `first` (0-based) starts, and the lines between `low` and it that open
    the blocks around it, found by indentation as an editor's sticky scroll finds them: for each lesser indentation,
    the nearest line that may start a statement, with the lines after it down to the lines kept below it when they
    are near (a signature over lines, a call whose argument is the block: `xs.map((x) => {`), else down to the line
    at its indentation that opens its block (`) {`, a `{` alone), else the line alone when it ends in an opening
    bracket (`routes = [`). Lines kept right before the tail start it. A tail then
    parses as the members or statements it holds, where a tail starting inside a class or a call leaves the parser
    reading it all as one error, at several times the cost of the parse."""
    if first >= len(lines):
        return first, []
    depth, below, out = _indent(lines[first]), first, list[int]()
    for i in range(first - 1, low - 1, -1):
        if depth == 0 or first - i > FUNCTION_LOOKBACK:
            break
        line = lines[i]
        if line[:depth].isspace():  # indented as deep (most lines: the test that costs least)
            continue
        code = line.lstrip(" \t")
        if not _opens_statement(code) or code.startswith(_NOT_A_HEADER) or (d := len(line) - len(code)) >= depth:
            continue
        if below - i <= HEADER_LINES:
            end = below - 1
        elif (end := next((j for j in range(i, i + HEADER_LINES)
                           if (j == i or _indent(lines[j]) == d) and lines[j].rstrip().endswith("{")), -1)) < 0:
            if not line.rstrip().endswith(_OPENERS):
                break
            end = i
        if code.startswith("{"):  # a brace on a line of its own: its statement's lines above it open the block
            i = _statement_above(lines, i, max(low, i - HEADER_LINES))
        if end == first - 1:
            first = i
        else:
            out.extend(range(i, end + 1))
        below, depth = i, d
    return first, sorted(out)


def _statement_above(lines: list[str], at: int, low: int) -> int:
    """Where the statement that line `at` continues starts: the lines above it (from `low` on) up to a blank line, a
    directive, or one that ends a statement or a block (`int\\nsum(int n)\\n{` starts at `int`)."""
    while at > low and (above := lines[at - 1].rstrip()) and not above.endswith((";", "}", "{", "*/")) \
            and not above.lstrip().startswith(_NOT_A_HEADER):
        at -= 1
    return at


def _open_string(lines: list[str]) -> tuple[int, str] | None:
    """Where a string that `lines` leave open starts (a triple quote not closed by their end) and its quote."""
    delimiter, opened = None, 0
    for i, line in enumerate(lines):
        if '"""' not in line and "\'\'\'" not in line:
            continue
        for m in _TRIPLE.finditer(line):
            if delimiter is None:
                delimiter, opened = m.group(), i
            elif m.group() == delimiter:
                delimiter = None
    return (opened, delimiter) if delimiter is not None else None


def _head_closed(lines: list[str], head: int, tail: int, head_chars: int) -> list[str]:
    """The head in whole top-level statements, as `_head_end` ends a head of braces (after a head ending in `x = (`
    the parser reads the gap's blank lines as an error), and never leaving a string open (the parser would read the
    rest of the window as its text): a string open at its end reads to its closing line, the lines between as empty,
    and the head goes on for half its size after it (the imports after a long docstring); else it ends before the
    string."""
    kept = lines[:head]
    if (open_at := _open_string(kept)) is None:
        whole = lines[:_head_end(lines, head, tail, head_chars)]
        return whole if _open_string(whole) is None else kept
    for j in range(head, tail):
        if open_at[1] in lines[j]:
            more = lines[j + 1:j + 1 + reach(lines, range(j + 1, tail), head_chars // 2)]
            if (again := _open_string(more)) is not None:
                more = more[:again[0]]
            return kept + [""] * (j - head) + lines[j:j + 1] + more
    return kept[:open_at[0]]


def _after_strings(lines: list[str], tail: int) -> int:
    """`tail`, or past the string it would start inside of (a docstring's text is no place to start reading)."""
    if (open_at := _open_string(lines[:tail])) is None:
        return tail
    for j in range(tail, len(lines)):
        if open_at[1] in lines[j]:
            return j + 1
    return tail


def _block_start(lines: list[str], tail: int) -> int:
    """The first line from `tail` on indented as little as any line after it: nothing in the tail then closes a
    block it did not open."""
    least, at = None, tail
    for i in range(len(lines) - 1, tail - 1, -1):
        line = lines[i]
        code = line.lstrip()
        if not code or code[0] in _NOT_A_START:
            continue
        depth = len(line) - len(code)
        if least is None or depth <= least:
            least, at = depth, i
    return at


REACH_BLOCK = 256  # lines `reach` sums at a time


def reach(lines: list[str], order: range, chars: int) -> int:
    """How many lines, taken in `order` (a range of step 1 or -1), fit in `chars` characters (newlines included).
    Summed a block of lines at a time, and line by line only in the block where they stop fitting: a deep query
    reads thousands of lines' lengths this way (FAR_CHARS, BEFORE_CHARS): a third of the time of a loop (96,000
    characters: 0.17 -> 0.06 ms)."""
    n, at, end, forward = 0, order.start, order.stop, order.step > 0
    while at < end if forward else at > end:
        nxt = min(at + REACH_BLOCK, end) if forward else max(at - REACH_BLOCK, end)
        block = lines[at:nxt] if forward else lines[nxt + 1:at + 1]
        cost = sum(map(len, block)) + len(block)
        if cost > chars:  # they stop fitting in this block
            for line in block if forward else reversed(block):
                chars -= len(line) + 1
                if chars < 0:
                    break
                n += 1
            return n
        chars -= cost
        n += len(block)
        at = nxt
    return n
