"""Acceptance counts and the fine-tuning export: the store (bounded, redacted, never failing a completion), the
real server's items carrying their accept command, `ragls.status` figures, and `ragls export-finetune`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from lsprotocol import types

from ragls.prompts.render import load, render
from ragls.server.acceptance import FLUSH_EVERY, AcceptanceStore, examples, summarize

from .lsp_helpers import open_doc, start_server, wait_indexed

KEY = "AKIAIOSFODNN7EXAMPLE"  # an AWS access key id in the shape the redaction rules know


def values(prefix: str = "def total(cart):\n    return ", suffix: str = "\n", path: str = "shop/a.py") -> dict:
    """A completion prompt's variables as the server sends them: rendered (redacted, fitted) by the real renderer."""
    raw = {"language": "python", "path": path, "context": [{"path": "shop/pricing.py", "start_line": 1, "end_line": 2,
           "symbol": "apply_discount", "symbols": ["apply_discount"],
           "text": "def apply_discount(amount, percent):\n    return amount * (1 - percent / 100)\n"}],
           "edits": "", "prefix": prefix, "suffix": suffix}
    return dict(render(load("complete_chat"), raw, 2048).values)


def test_accepted_dismissed_and_counted_per_language(tmp_path):
    store = AcceptanceStore(tmp_path / "data")
    a = store.shown("shop/a.py", "python", values(), "sum(cart)")
    b = store.shown("shop/a.py", "python", values(), "len(cart)")  # a new suggestion in the same file: a dismissed
    c = store.shown("web/b.ts", "typescript", values(path="web/b.ts"), "cart.total()")
    assert a and b and c and len({a, b, c}) == 3
    assert store.accepted(b) and store.accepted(c)
    assert not store.accepted(b), "an id counts once"
    assert not store.accepted(a), "a dismissed suggestion cannot be accepted later"
    assert not store.accepted("no-such-id")
    d = store.shown("shop/a.py", "python", values(), "cart")
    assert d and store.dismissed(d)
    s = summarize(store.rows())
    assert (s["shown"], s["accepted"], s["dismissed"], s["rate"]) == (4, 2, 2, 0.5)
    assert s["languages"]["python"] == {"shown": 3, "accepted": 1, "dismissed": 2, "rate": 0.333}
    assert s["languages"]["typescript"]["rate"] == 1.0
    store.close()
    again = AcceptanceStore(tmp_path / "data")  # the counts live on disk, next to the index
    assert summarize(again.rows())["accepted"] == 2
    assert [e.completion for e in examples(tmp_path / "data")] == ["len(cart)", "cart.total()"]


def test_the_store_is_bounded_and_keeps_no_secret(tmp_path):
    store = AcceptanceStore(tmp_path, max_examples=3)
    for n in range(5):
        id_ = store.shown("a.py", "python", values(prefix=f"key = '{KEY}'\nn = {n}\nx = "), f"{n} + {KEY!r}")
        assert id_ is not None and store.accepted(id_)
    kept = list(examples(tmp_path))
    assert [e.completion.split(" ")[0] for e in kept] == ["2", "3", "4"], "the oldest go first"
    raw = (tmp_path / "acceptance.db").read_bytes()
    assert KEY.encode() not in raw, "neither the prompt nor the accepted text keeps a secret"
    assert "<redacted" in kept[0].values["prefix"] and "<redacted" in kept[0].completion


def test_a_failing_store_never_fails_a_completion(tmp_path, caplog):
    """Showing a completion writes nothing (counts are kept in memory until an accept, a summary or FLUSH_EVERY);
    a store that cannot be written is logged there and keeps the counts for the next try."""
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    store = AcceptanceStore(blocker)  # its folder cannot be made
    id_ = store.shown("a.py", "python", values(), "x")
    assert not store.accepted(id_), "the accept could not be written"
    assert summarize(store.rows())["accepted"] == 1, "its count is kept for the next write"
    (tmp_path / "ro").mkdir()
    (tmp_path / "ro" / "acceptance.db").write_bytes(b"not a database" * 100)
    store = AcceptanceStore(tmp_path / "ro")
    caplog.clear()
    for n in range(3 * FLUSH_EVERY + 1):  # past FLUSH_EVERY a write is tried, fails, and the completion goes on
        assert store.shown(f"{n}.py", "python", values(), "x")
    assert summarize(store.rows())["shown"] == 3 * FLUSH_EVERY + 1
    warned = [r for r in caplog.records if r.levelname == "WARNING" and "acceptance store" in r.getMessage()]
    assert len(warned) == 1, "said once, not at every try"


def test_counts_are_written_in_batches_and_on_close(tmp_path):
    store = AcceptanceStore(tmp_path)
    for n in range(3):
        store.shown(f"{n}.py", "python", values(), "x")
    assert not (tmp_path / "acceptance.db").exists(), "showing a completion writes nothing"
    assert summarize(store.rows())["shown"] == 3
    store.close()
    assert summarize(AcceptanceStore(tmp_path).rows())["shown"] == 3


def test_a_store_locked_by_another_server_is_not_waited_for(tmp_path):
    import sqlite3

    store = AcceptanceStore(tmp_path)
    first = store.shown("a.py", "python", values(), "x")
    assert store.accepted(first)  # creates the store
    second = store.shown("b.py", "python", values(), "y")
    other = sqlite3.connect(tmp_path / "acceptance.db", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another editor's server, mid-write
    try:
        assert not store.accepted(second), "not waited for past LOCK_WAIT_S: the event loop goes on"
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert store.flush()
    assert summarize(AcceptanceStore(tmp_path).rows())["accepted"] == 2, "the count was kept and written later"


def export(root: Path, home: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RAGLS_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "ragls.server.cli", "export-finetune", "--repo", str(root), *args],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.asyncio(loop_scope="function")
async def test_server_counts_accepts_and_exports_them(shop_repo, api, tmp_path):
    """A session shows three completions, the user accepts two; the export holds those two, each with the
    retrieved context of its prompt and none of the repository's secrets."""
    root, home = Path(shop_repo.working_tree_dir), tmp_path / "home"
    lsp, result = await start_server(root, api.base_url, home, "vscode", inline=True)
    try:
        assert {"ragls.completionAccepted", "ragls.completionDismissed"} <= set(
            result.capabilities.execute_command_provider.commands)
        await wait_indexed(lsp)
        text = (root / "shop/checkout.py").read_text()
        text = text.replace("    net = apply_discount(cart.total(), discount)", "    net = ")
        text = text.replace("    return format_money(net + tax)", "    return ")
        text += f'\n\nAWS_KEY = "{KEY}"\n'  # a secret in the suffix of every completion here
        uri = open_doc(lsp, root / "shop/checkout.py", text)

        async def suggest(line: int, character: int, reply: str) -> types.InlineCompletionItem:
            api.replies.append(reply)
            got = await lsp.text_document_inline_completion_async(types.InlineCompletionParams(
                text_document=types.TextDocumentIdentifier(uri), position=types.Position(line, character),
                context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked)))
            api.replies.clear()  # a request the completion cache answered left its reply unasked for
            assert got is not None and got.items[0].insert_text == reply
            return got.items[0]

        async def run(command: types.Command) -> object:
            return await lsp.workspace_execute_command_async(types.ExecuteCommandParams(command.command,
                                                                                        command.arguments))

        first = await suggest(11, 10, "apply_discount(cart.total(), discount)")  # "    net = |"
        assert first.command is not None and first.command.command == "ragls.completionAccepted"
        again = await suggest(11, 10, "apply_discount(cart.total(), discount)")  # asked again: the same id
        assert again.command.arguments == first.command.arguments
        assert await run(first.command) == {"recorded": True}
        assert await run(first.command) == {"recorded": False}, "an id counts once"
        await suggest(13, 11, "net")  # "    return |": shown, never accepted
        third = await suggest(11, 4, "assert cart.items")  # the next one: the one before is dismissed
        assert await run(third.command) == {"recorded": True}
        for junk in ([], [1, 2], [{"id": "x"}], ["unknown"]):  # a client's bad arguments: no error, nothing counted
            assert await lsp.workspace_execute_command_async(types.ExecuteCommandParams(
                "ragls.completionAccepted", junk)) == {"recorded": False}
        status = await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.status"))
        acceptance = status["acceptance"]
        assert (acceptance["shown"], acceptance["accepted"], acceptance["dismissed"]) == (3, 2, 1)
        assert acceptance["rate"] == 0.667 and acceptance["languages"]["python"]["rate"] == 0.667
        assert status["folders"][0]["acceptance"]["accepted"] == 2

        lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            {"ragls": {"completion": {"acceptance": False, "debounceMs": 0}}}))
        for _ in range(50):  # the new settings apply once the server has read them
            off = await suggest(11, 9, "apply_discount(cart.total(), 5)")
            if off.command is None:
                break
        assert off.command is None, "acceptance off: items carry no command"
    finally:
        await lsp.shutdown_session()
    assert KEY.encode() not in (next(home.rglob("acceptance.db"))).read_bytes()

    chat = export(root, home, "--out", str(tmp_path / "chat.jsonl"))
    assert chat.returncode == 0, chat.stderr
    assert "2 examples (python 2)" in chat.stderr
    records = [json.loads(line) for line in (tmp_path / "chat.jsonl").read_text().splitlines()]
    assert [r["messages"][2]["content"] for r in records] == ["apply_discount(cart.total(), discount)",
                                                               "assert cart.items"]
    assert all([m["role"] for m in r["messages"]] == ["system", "user", "assistant"] for r in records)
    assert "def apply_discount(amount: float, percent: float)" in records[0]["messages"][1]["content"], \
        "the user message holds the retrieved context the completion was made with"
    assert "    net = " in records[0]["messages"][1]["content"]
    assert KEY not in json.dumps(records) and "<redacted" in records[0]["messages"][1]["content"]
    fim = export(root, home, "--format", "fim", "--fim-template", "starcoder")
    pairs = [json.loads(line) for line in fim.stdout.splitlines()]
    assert len(pairs) == 2 and pairs[0]["prompt"].startswith("<fim_prefix>")
    assert pairs[0]["completion"] == "apply_discount(cart.total(), discount)" and KEY not in fim.stdout
    assert "0 examples" in export(root, home, "--since", "2999-01-01").stderr
    bad = export(root, home, "--since", "yesterday")
    assert bad.returncode == 2 and "--since" in bad.stderr and "Traceback" not in bad.stderr
    bad = export(root, home, "--format", "fim")
    assert bad.returncode == 2 and "FIM family" in bad.stderr
    for where in (tmp_path, tmp_path / "no" / "such" / "dir.jsonl"):  # a folder; a file in a missing folder
        bad = export(root, home, "--out", str(where))
        assert bad.returncode == 2 and "cannot write" in bad.stderr and "Traceback" not in bad.stderr
    assert not list(tmp_path.parent.glob("*.tmp")), "the temporary file of a failed write is removed"
    (root / ".raglsignore").write_text("shop/checkout.py\n")  # ignored since: its completions are not exported
    gone = export(root, home)
    assert gone.stdout == "" and "2 in files now ignored or secret" in gone.stderr


def test_export_drops_duplicates_and_redacts(tmp_path, shop_repo):
    root = Path(shop_repo.working_tree_dir)
    store = AcceptanceStore(tmp_path / "data")
    for _ in range(3):
        id_ = store.shown("shop/checkout.py", "python", values(path="shop/checkout.py"), "sum(cart)")
        assert id_ and store.accepted(id_)
    id_ = store.shown("shop/checkout.py", "python", values(prefix=f"k = '{KEY}'\n"), "x")
    assert id_ and store.accepted(id_)
    store.close()
    out = export(root, tmp_path / "home", "--data-dir", str(tmp_path / "data"))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 2 and "2 duplicates" in out.stderr
    assert KEY not in out.stdout


@pytest.mark.asyncio(loop_scope="function")
async def test_a_suggestion_the_document_now_holds_counts_as_accepted(shop_repo, api, tmp_path):
    """A client that runs no item command (Emacs's eglot) still inserts the text: the next request in the document
    finds the suggestion where it was made and counts it accepted, once; a suggestion the user typed over is not."""
    from .lsp_helpers import change_doc

    root = Path(shop_repo.working_tree_dir)
    lsp, _ = await start_server(root, api.base_url, tmp_path / "home", "neovim")
    try:
        await wait_indexed(lsp)
        text = (root / "shop/checkout.py").read_text()
        typing = text.replace("    net = apply_discount(cart.total(), discount)", "    net = ")
        uri = open_doc(lsp, root / "shop/checkout.py", typing)

        async def complete(line: int, character: int, reply: str) -> None:
            api.replies.append(reply)
            got = await lsp.text_document_completion_async(types.CompletionParams(
                text_document=types.TextDocumentIdentifier(uri), position=types.Position(line, character)))
            assert got is not None and got.items[0].text_edit.new_text == reply

        async def acceptance() -> dict:
            return (await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.status")))[
                "acceptance"]

        await complete(11, 10, "apply_discount(cart.total(), discount)")
        change_doc(lsp, uri, text, 2)  # the menu item inserted, its command not run
        await complete(14, 0, "TOTAL = 1")  # the next request in the document: the last suggestion is there
        assert (await acceptance())["accepted"] == 1
        change_doc(lsp, uri, text, 3)  # the user typed something else where TOTAL = 1 was suggested
        await complete(15, 0, "LIMIT = 2")
        got = await acceptance()
        assert (got["shown"], got["accepted"], got["dismissed"]) == (3, 1, 1), got
    finally:
        await lsp.shutdown_session()
