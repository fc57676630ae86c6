"""Viewed ranges (`ragls/viewedRanges`): read from a notification's params, kept bounded and merged, moved by edits,
and shown in a prompt without the lines it holds already."""
from __future__ import annotations

import pytest
from ragls.server.editing import Editing
from ragls.server.handlers.viewed import spans_of
from ragls.server.viewed import HEADER, MAX_LINES, MAX_RANGES, Viewed, ViewedRanges, viewed_text


def rng(first: int, last: int, character: int = 0) -> dict:
    return {"start": {"line": first, "character": 0}, "end": {"line": last, "character": character}}


def test_a_notification_gives_one_based_inclusive_spans():
    assert spans_of({"uri": "file:///r/a.py", "ranges": [rng(0, 10), rng(20, 20, 5), rng(30, 31, 3)]}) == [
        (1, 10), (21, 21), (31, 32)]  # an end at a line's start leaves that line out
    assert spans_of({"uri": "file:///r/a.py", "ranges": []}) == []
    assert spans_of({"uri": "file:///r/a.py", "ranges": [rng(5, 2, 4)]}) == []  # backwards: nothing
    assert len(spans_of({"uri": "u", "ranges": [rng(n, n + 1) for n in range(50)]}) or []) == 10


def bad_start(line: object) -> dict:
    return {"uri": "file:///r/a.py", "ranges": [{"start": {"line": line, "character": 0},
                                                 "end": {"line": 2, "character": 0}}]}


@pytest.mark.parametrize("params", [
    None, [], "file:///r/a.py", {"uri": "file:///r/a.py"}, {"ranges": [rng(0, 1)]},
    {"uri": 7, "ranges": [rng(0, 1)]}, {"uri": "file:///r/a.py", "ranges": {"start": 0}},
    {"uri": "file:///r/a.py", "ranges": [{"start": {"line": 0}}]}, bad_start(-1), bad_start("1"), bad_start(True),
    {"uri": "file:///r/a.py", "ranges": [None]},
])
def test_malformed_params_are_none(params):
    assert spans_of(params) is None


def test_ranges_are_bounded_merged_and_newest_first():
    v = ViewedRanges()
    v.add("a.py", [(1, 20)])
    v.add("b.py", [(5, 9)])
    v.add("a.py", [(15, 30)])  # overlaps: one range of 30 lines, now the newest
    assert v.recent() == [Viewed("a.py", 1, 30), Viewed("b.py", 5, 9)]
    v.add("a.py", [(21, 80)])  # the union would be 80 lines: the older keeps only what the newer does not show
    assert v.recent() == [Viewed("a.py", 21, 80), Viewed("a.py", 1, 20), Viewed("b.py", 5, 9)]
    v.add("c.py", [(1, 1000)])  # a huge range keeps its middle MAX_LINES
    assert v.recent()[0].lines() == MAX_LINES and v.recent()[0].start == 471
    v.add("c.py", [(0, 3), (9, 2)])  # not lines: ignored
    v.forget("b.py")
    assert all(r.path != "b.py" for r in v.recent())
    for n in range(3 * MAX_RANGES):
        v.add(f"f{n}.py", [(1, 10)])
    assert len(v.recent()) == MAX_RANGES and v.recent()[0].path == f"f{3 * MAX_RANGES - 1}.py"


def test_edits_move_the_ranges_of_their_file():
    editing = Editing()
    editing.viewed.add("a.py", [(10, 20)])
    editing.viewed.add("b.py", [(10, 20)])
    old = "".join(f"line {n}\n" for n in range(1, 41))
    new = old.replace("line 3\n", "line 3\nnew\nnew\n")  # two lines inserted above the range
    editing.changed("a.py", old, new)
    assert editing.viewed.recent() == [Viewed("b.py", 10, 20), Viewed("a.py", 12, 22)]
    editing.changed("a.py", new, new.replace("line 15\nline 16\n", ""))  # two lines of it deleted
    assert editing.viewed.recent()[1] == Viewed("a.py", 12, 20)
    ranges = ViewedRanges()
    ranges.add("a.py", [(10, 12)])
    ranges.edited("a.py", 9, 5, 1)  # lines 9-13 replaced by one: the range holds that one
    assert ranges.recent() == [Viewed("a.py", 9, 9)]
    ranges.edited("a.py", 8, 3, 0)  # deleted: gone
    assert ranges.recent() == []


def test_the_text_leaves_out_what_the_prompt_shows_and_fits_its_share():
    files = {"a.py": [f"a{n}" for n in range(1, 101)], "b.py": ["", "  ", ""], "c.py": [f"c{n}" for n in range(1, 31)]}
    ranges = [Viewed("a.py", 10, 30), Viewed("b.py", 1, 3), Viewed("c.py", 1, 30)]
    text = viewed_text(ranges, lambda p: files.get(p, []), 1000, {"a.py": [(15, 20)], "c.py": [(1, 30)]})
    assert text.startswith(HEADER)
    assert "--- a.py:10-14\na10\na11\na12\na13\na14\n--- a.py:21-30\na21" in text
    assert "a15" not in text and "a20" not in text and "b.py" not in text and "c.py" not in text
    small = viewed_text(ranges, lambda p: files.get(p, []), 40, {})
    assert len(small) <= 40 * 3.5 and "--- a.py:10-" in small and "a30" not in small
    assert viewed_text(ranges, lambda p: [], 1000, {}) == ""  # files gone: nothing
    assert viewed_text([], lambda p: files[p], 1000, {}) == ""
