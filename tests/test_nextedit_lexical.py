"""Lexical next-edit signals: identifier pieces, windows that read like the edits, the rest of a find-and-replace,
and uses of a name the edits added that nothing uses yet."""
from __future__ import annotations

from collections import Counter

from ragls.indexer.hunks import parse
from ragls.indexer.nextedit import Corpus, locate
from ragls.indexer.nextedit_lexical import (
    fragment_lines,
    fragments,
    history_terms,
    piece_share,
    pieces,
    similar_windows,
    unused_pieces,
    windows,
)


def filler(n: int, stem: str = "value", call: str = "compute") -> str:
    return "".join(f"{stem}_{i} = {call}({i})\n" for i in range(n))


def test_identifiers_split_into_lowercase_pieces_without_keywords():
    assert pieces("def parse_HTTPHeader(self, maxSize): return None") == ["parse", "http", "header", "max", "size"]
    assert pieces("x = 1") == []  # one-letter names say nothing
    assert pieces("key = " + "QmFzZTY0" * 50_000) == ["key"]  # a base64 run is data, not a name (nor cached)


def test_the_window_that_reads_like_the_edits_scores_best_and_its_best_line_is_a_candidate():
    a = filler(40) + "retry_backoff = compute_backoff(retry_count)\n" + filler(20, "other")
    b = filler(60, "misc", "measure")
    files = {"a.py": windows(a.split("\n")), "b.py": windows(b.split("\n"))}
    history = parse("c.py", "@@ -1,1 +1,1 @@\n-delay = backoff(retries)\n+delay = compute_backoff(retry_count)\n")
    found = similar_windows(files, history_terms(history))
    assert found.best_lines[0] == ("a.py", 40)
    assert found.score[("a.py", 40)][0] == 1.0 and ("b.py", 0) not in found.score


def test_what_an_edit_replaced_is_found_where_it_is_still_written():
    history = parse("pkg/a.py", "@@ -1,1 +1,1 @@\n-names = dict.fromkeys(['a', 'b'])\n"
                                "+names = frozenset(['a', 'b'])\n")
    frags = fragments(history)
    assert any("fromkeys" in f for f in frags) and not any("frozenset" in f for f in frags)
    lines = ["import os", "runtime = dict.fromkeys(('x', 'y'))", "fromkeys = 1", "other = dict(a=1)"]
    found = fragment_lines([("pkg/b.py", lines, windows(lines).vocabulary)], frags, set())
    assert set(found) == {("pkg/b.py", 1)}  # the token run, not the bare name
    assert fragment_lines([("pkg/c.py", lines, frozenset({"os"}))], frags, set()) == {}  # a file without its names


def test_a_name_added_that_nothing_uses_points_at_lines_of_its_pieces():
    history = parse("m.py", "@@ -1,1 +1,2 @@\n import os\n+CONTENT_CHUNK_SIZE = 10 * 1024\n")
    wanted = unused_pieces(history, {"CONTENT_CHUNK_SIZE": 1}, lambda line: [w for w in line.split() if w.isupper()])
    assert wanted == Counter({"content": 1, "chunk": 1, "size": 1})
    assert piece_share("data = b''.join(self.iter_content(chunk_size))", wanted) > 0.5
    assert piece_share("return None", wanted) == 0.0
    used = unused_pieces(history, {"CONTENT_CHUNK_SIZE": 3}, lambda line: [w for w in line.split() if w.isupper()])
    assert not used  # used elsewhere already: nothing to point at


def test_a_replaced_call_leads_to_its_other_spelling_in_another_file():
    init = "attribute_modules = frozenset(['exceptions', 'routing'])\n" + filler(30)
    templates = filler(30, "setting") + "runtime_vars = dict.fromkeys(('Undefined', '__context'))\n" + filler(30, "z")
    files = {"pkg/__init__.py": init, "pkg/templates.py": templates, "pkg/misc.py": filler(60, "misc")}
    history = parse("pkg/__init__.py", "@@ -1,1 +1,1 @@\n"
                                       "-attribute_modules = dict.fromkeys(['exceptions', 'routing'])\n"
                                       "+attribute_modules = frozenset(['exceptions', 'routing'])\n")
    found = locate(Corpus(sorted(files), files.get), "pkg/__init__.py", 1, history, k=5)
    assert ("pkg/templates.py", 31) in [(loc.path, loc.line) for loc in found[:2]]


def test_a_large_rewrite_gives_a_bounded_number_of_fragments_and_compared_lines():
    from ragls.indexer.hunks import Hunk
    from ragls.indexer.nextedit import BEFORE_MAX, signals
    from ragls.indexer.nextedit_lexical import FRAGMENTS_MAX

    rewrite = Hunk("a.py", 1, tuple([f"-old_{i} = compute_{i}(alpha, beta)" for i in range(3000)]
                                    + [f"+new_{i} = evaluate_{i}(alpha, gamma)" for i in range(3000)]))
    frags = fragments([rewrite])
    assert 0 < len(frags) <= FRAGMENTS_MAX
    assert len(signals([rewrite]).before) == BEFORE_MAX
