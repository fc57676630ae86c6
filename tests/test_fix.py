"""Fixes that fix: the real server rewrites the definition around a diagnostic, applies the model's corrected
definition as an edit of the changed lines only, asks again when the reply does not parse, and takes the other
locations a reply changes only where they are safe."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types
from ragls.server.features import fixes
from ragls.server.features.chat import ChatFeatures, Selection
from ragls.server.features.fixes import Block
from ragls.server.session import Session
from ragls.server.settings import Settings

from .conftest import commit_all, write_tree
from .fake_openai import FakeOpenAI
from .lsp_helpers import open_doc, start_server, wait_indexed

on_loop = pytest.mark.asyncio(loop_scope="function")

STATS = '''"""Statistics of lists of numbers."""
from util import clean


def total(values: list[float]) -> float:
    """The sum of the values."""
    values = clean(values)
    result = 0.0
    for i in range(len(values) + 1):
        result += values[i]
    return result


def mean(values: list[float]) -> float:
    return total(values) / len(values)
'''
UTIL = '''"""Helpers."""


def clean(values: list[float]) -> list[float]:
    """The values that are numbers."""
    return [v for v in values if v == v]
'''
CORRECTED = '''def total(values: list[float]) -> float:
    """The sum of the values."""
    values = clean(values)
    result = 0.0
    for i in range(len(values)):
        result += values[i]
    return result'''
BROKEN = CORRECTED.replace("range(len(values)):", "range(len(values):")
INDEX_LINE = 9  # 0-based: "        result += values[i]", where the IndexError is reported


async def _server(root: Path, api: FakeOpenAI, home: Path, client: str = "vscode"):
    lsp, _ = await start_server(root, api.base_url, home, client)
    await wait_indexed(lsp)
    return lsp


@pytest_asyncio.fixture
async def stats(tmp_path, api):
    """The server on a repository with stats.py (an off-by-one loop) and util.py, stats.py open."""
    root = write_tree(tmp_path / "repo", {"stats.py": STATS, "util.py": UTIL, ".env": "TOKEN=abc\n"})
    lsp = await _server(root, api, tmp_path / "home")
    lsp.root = root
    lsp.uri = open_doc(lsp, root / "stats.py")
    yield lsp
    await lsp.shutdown_session()


def chat_requests(api: FakeOpenAI) -> list[dict]:
    return [body for path, body in api.requests if path.endswith("/chat/completions")]


def index_error() -> types.Diagnostic:
    return types.Diagnostic(range=types.Range(types.Position(INDEX_LINE, 18), types.Position(INDEX_LINE, 27)),
                            message="IndexError: list index out of range", source="pytest")


async def resolve_fix(lsp, uri: str, diag: types.Diagnostic) -> types.WorkspaceEdit:
    actions = await lsp.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=diag.range,
        context=types.CodeActionContext(diagnostics=[diag])))
    fix = next(a for a in actions if a.title.startswith("ragls: fix"))
    resolved = await lsp.code_action_resolve_async(fix)
    assert resolved.edit is not None
    return resolved.edit


def applied(text: str, edits: list[types.TextEdit]) -> str:
    """`text` with the edits made (ASCII text: characters are UTF-16 units), the last one first."""
    starts = [0]
    for line in text.split("\n")[:-1]:
        starts.append(starts[-1] + len(line) + 1)

    def offset(p: types.Position) -> int:
        return starts[p.line] + p.character

    for e in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[:offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
    return text


@on_loop
async def test_the_fix_above_applies_to_give_the_corrected_function_and_leaves_the_other_lines_unchanged(stats, api):
    # the IndexError is reported at `result += values[i]`; its cause is the loop's bound on the line above
    api.replies.append(f"The loop runs one index too far.\n\n```python\n{CORRECTED}\n```\n")
    edit = await resolve_fix(stats, stats.uri, index_error())
    (change,) = edit.changes[stats.uri]  # one edit: the loop's line, nothing else
    assert change.range.start.line == change.range.end.line == INDEX_LINE - 1
    assert applied(STATS, [change]) == STATS.replace("range(len(values) + 1)", "range(len(values))")
    (request,) = chat_requests(api)
    prompt = request["messages"][-1]["content"]
    assert "the definition of `total`" in prompt and "lines 5-11" in prompt  # the enclosing definition was asked
    assert "IndexError: list index out of range" in prompt and "def clean(" in prompt  # with what it uses


@on_loop
async def test_the_fix_asks_for_its_json_schema_and_falls_back_to_fences_where_it_is_refused(stats, api):
    # an endpoint that constrains replies: the schema goes as response_format, the reply is its JSON
    api.replies.append(json.dumps({"code": CORRECTED, "others": []}))
    edit = await resolve_fix(stats, stats.uri, index_error())
    assert applied(STATS, edit.changes[stats.uri]) == STATS.replace("range(len(values) + 1)", "range(len(values))")
    (request,) = chat_requests(api)
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["name"] == "fix"
    # one that refuses every form (remembered per model): a fenced reply, as before
    api.requests.clear()
    api.refuse_formats.update({"json_schema": 400, "json_object": 400})
    stats.workspace_did_change_configuration(types.DidChangeConfigurationParams(
        settings={"ragls": {"model": {"chatModel": "another-model"}}}))
    api.replies.append(f"```python\n{CORRECTED}\n```")
    edit = await resolve_fix(stats, stats.uri, index_error())
    assert applied(STATS, edit.changes[stats.uri]) == STATS.replace("range(len(values) + 1)", "range(len(values))")
    assert "response_format" not in chat_requests(api)[-1]


@on_loop
async def test_a_fix_reply_with_a_syntax_error_is_asked_again(stats, api):
    api.replies += [f"```python\n{BROKEN}\n```", f"```python\n{CORRECTED}\n```"]
    edit = await resolve_fix(stats, stats.uri, index_error())
    assert applied(STATS, edit.changes[stats.uri]) == STATS.replace("range(len(values) + 1)", "range(len(values))")
    first, second = chat_requests(api)
    assert second["messages"][:len(first["messages"])] == first["messages"]  # the same conversation, continued
    assert second["messages"][-2] == {"role": "assistant", "content": f"```python\n{BROKEN}\n```"}
    retry = second["messages"][-1]["content"]
    assert "does not parse" in retry and "line 9" in retry and "lines 5-11" in retry


@on_loop
async def test_a_fix_that_does_not_parse_twice_is_a_clear_error_and_no_edit(stats, api):
    api.replies += [f"```python\n{BROKEN}\n```", f"```python\n{BROKEN}\n```", "never asked"]
    actions = await stats.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(stats.uri), range=index_error().range,
        context=types.CodeActionContext(diagnostics=[index_error()])))
    fix = next(a for a in actions if a.title.startswith("ragls: fix"))
    with pytest.raises(Exception, match="the model's fix does not parse: .*line 9") as err:
        await stats.code_action_resolve_async(fix)
    assert "nothing was changed" in str(err.value)
    assert len(chat_requests(api)) == 2 and api.replies == ["never asked"]


@on_loop
async def test_a_crlf_file_keeps_its_line_ends_through_the_fix_command(tmp_path, api):
    crlf = STATS.replace("\n", "\r\n")
    root = tmp_path / "repo"
    root.mkdir()
    (root / "util.py").write_text(UTIL)
    (root / "stats.py").write_bytes(crlf.encode())
    commit_all(root)
    lsp = await _server(root, api, tmp_path / "home", "neovim")
    received: list[types.WorkspaceEdit] = []

    @lsp.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        received.append(params.edit)
        return types.ApplyWorkspaceEditResult(applied=True)

    try:
        uri = open_doc(lsp, root / "stats.py", crlf)
        api.replies.append(f"```python\n{CORRECTED}\n```")  # the model answers with \n line ends
        result = await lsp.workspace_execute_command_async(types.ExecuteCommandParams(
            "ragls.fix", [uri, {"start": {"line": INDEX_LINE, "character": 18}, "end": {"line": INDEX_LINE,
                                                                                    "character": 27}},
                          ["line 10: IndexError: list index out of range"]]))
        assert result == {"applied": True}
        (edit,) = received
        assert applied(crlf, edit.changes[uri]) == crlf.replace("range(len(values) + 1)", "range(len(values))")
    finally:
        await lsp.shutdown_session()


def shown_location(api: FakeOpenAI, path: str) -> tuple[int, int]:
    """The lines of `path` the last prompt showed, from its header `# path:start-end`."""
    prompt = chat_requests(api)[-1]["messages"][-1]["content"]
    m = re.search(rf"# {re.escape(path)}:(\d+)-(\d+)", prompt)
    assert m, prompt
    return int(m[1]), int(m[2])


@on_loop
async def test_a_reply_that_changes_another_definition_it_was_shown_is_one_edit(stats, api):
    util_uri = (stats.root / "util.py").as_uri()
    clean_fixed = UTIL.split("\n\n\n")[1].replace("if v == v", "if v == v and v is not None").rstrip("\n")

    def reply(path: str, body: dict) -> str:
        start, end = shown_location(api, "util.py")
        return (f"```python\n{CORRECTED}\n```\n\nThe helper must drop None too:\n\n"
                f"`util.py:{start}-{end}`\n```python\n{clean_fixed}\n```\n")

    api.responder = reply
    edit = await resolve_fix(stats, stats.uri, index_error())
    assert applied(STATS, edit.changes[stats.uri]) == STATS.replace("range(len(values) + 1)", "range(len(values))")
    (change,) = edit.changes[util_uri]
    assert applied(UTIL, [change]) == UTIL.replace("if v == v", "if v == v and v is not None")
    assert change.range.start.line == change.range.end.line == 5  # only the changed line


@on_loop
async def test_changes_to_lines_not_shown_or_to_a_secret_file_are_dropped(stats, api):
    def reply(path: str, body: dict) -> str:
        start, end = shown_location(api, "util.py")
        return (f"```python\n{CORRECTED}\n```\n\n.env:1-1\n```\nTOKEN=stolen\n```\n\n"  # never shown: dropped
                f"util.py:{start}-{end + 3}\n```python\ndef clean(values):\n    return values\n```\n")  # not all shown

    api.responder = reply
    edit = await resolve_fix(stats, stats.uri, index_error())
    assert set(edit.changes) == {stats.uri}
    assert applied(STATS, edit.changes[stats.uri]) == STATS.replace("range(len(values) + 1)", "range(len(values))")


@on_loop
async def test_a_location_shown_in_a_file_now_refused_is_dropped(tmp_path):
    """A shown location whose file a model may no longer see (now in .raglsignore) is never edited."""
    root = write_tree(tmp_path / "repo", {"stats.py": STATS, "util.py": UTIL})
    (root / ".raglsignore").write_text("util.py\n")
    session = Session(root, Settings())
    try:
        chat = ChatFeatures(session, None)
        item = {"path": "util.py", "start_line": 4, "end_line": 6, "symbol": "clean",
                "text": "\n".join(UTIL.split("\n")[3:6])}
        block = Block(("util.py", 4, 6), ["def clean(values):", "    return values"])
        sel = Selection("stats.py", STATS, 5, 11)
        assert await chat._other(block, sel, "# util.py:4-6 (clean)", [item], []) is None
        (root / ".raglsignore").unlink()
        session.forget_refusals()
        rep = await chat._other(block, sel, "# util.py:4-6 (clean)", [item], [])
        assert rep is not None and rep.lines == block.lines  # the same location, once the file may be seen
    finally:
        session.close()


BIG = ('def big(rows):\n' + "".join(f"    x{i} = rows[{i}]\n" for i in range(150))
       + "    for row in rows:\n        if row:\n            y = row[0]\n"
       + "".join(f"    z{i} = rows[{i}]\n" for i in range(30)) + "    return y\n")


def test_scopes_enclosing_definition_bounded_region_statement_and_paragraph():
    assert fixes.scope("stats.py", STATS, 10, 10) == fixes.Scope(5, 11, "the definition of `total`")
    method = "class A:\n    def f(self):\n        return 1\n\n    def g(self):\n        return 2\n"
    assert fixes.scope("a.py", method, 6, 6) == fixes.Scope(5, 6, "the definition of `A.g`")
    # too long to rewrite whole: whole statements within REGION_LINES of the line, inside the definition
    row = BIG.split("\n").index("            y = row[0]") + 1
    sc = fixes.scope("big.py", BIG, row, row)
    assert sc == fixes.Scope(row - fixes.REGION_LINES, row + fixes.REGION_LINES, fixes.REGION)
    assert fixes.scope("a.py", "import os\nprint(1,\n      2)\n", 3, 3) == fixes.Scope(2, 3, fixes.REGION)
    text = "one\ntwo\n\nthree\nfour\nfive\n\nsix\n"
    assert fixes.scope("notes.txt", text, 5, 5) == fixes.Scope(4, 6, fixes.REGION)  # no grammar: the paragraph


def test_a_reply_echoing_line_numbers_or_dedented_is_read_as_the_scope_lines():
    method = "class A:\n    def f(self):\n        return 1\n"
    reply = "```python\n   2 | def f(self):\n   3 |     return 2\n\n```"
    (block,) = fixes.blocks(reply, lambda s: s)
    assert block.location is None and block.lines == ["def f(self):", "    return 2"]
    rep = fixes.replacement("a.py", method, 2, 3, block.lines)
    assert rep.lines == ["    def f(self):", "        return 2"]  # indented as the method was
    assert fixes.edits(rep) == [((2, 0), (2, 16), "        return 2")]


def test_edits_delete_and_insert_whole_lines_up_to_a_file_without_a_last_line_end():
    text = "def f():\n    a = 1\n    b = 2"
    drop = fixes.replacement("a.py", text, 1, 3, ["def f():", "    a = 1"])
    assert fixes.edits(drop) == [((1, 9), (2, 9), "")]
    add = fixes.replacement("a.py", text, 1, 3, ["def f():", "    a = 1", "    b = 2", "    return b"])
    assert fixes.edits(add) == [((2, 9), (2, 9), "\n    return b")]
    assert fixes.apply(text, [add]) == text + "\n    return b"


def test_a_reply_that_leaves_out_the_comments_above_a_definition_keeps_them():
    js = "// The sum.\n// Of the values.\nfunction total(v) {\n  let t = 0;\n" \
         "  for (let i = 0; i <= v.length; i++) t += v[i];\n  return t;\n}\n"
    sc = fixes.scope("sum.js", js, 5, 5)
    assert (sc.start_line, sc.end_line) == (1, 7)  # the definition with its comments
    fixed = js.split("\n")[2:7]
    fixed[2] = fixed[2].replace("<=", "<")
    rep = fixes.replacement("sum.js", js, sc.start_line, sc.end_line, fixed)
    assert fixes.edits(rep) == [((4, 0), (4, 48), fixed[2])]
