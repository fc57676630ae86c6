"""Review on save in the real server: findings published as diagnostics with a quick fix, cached, cleared, opt-in."""
from __future__ import annotations

import asyncio
import json
import re
import threading
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types

from .fake_openai import FakeOpenAI
from .lsp_helpers import change_doc, open_doc, start_server, wait_indexed

pytestmark = pytest.mark.asyncio(loop_scope="function")
FIXED = "    return round_money(amount * (1 - percent / 100))"
BUG = "    return round_money(amount * (1 - percent / 10))"
ON = {"review": {"onSave": True, "debounceMs": 0}}


def respond(path: str, body: dict) -> str:
    """The correctness reviewer flags the bug when the code under review holds it; the others find nothing."""
    system, prompt = body["messages"][0]["content"], json.dumps(body)
    if system.startswith("You merge"):
        return json.dumps({"keep": list(range(prompt.count('\\"id\\"')))})
    shown = re.search(r"\d+ [+ ]\| " + re.escape(BUG), "\n".join(m["content"] for m in body["messages"]))
    if "specialised in correctness" in system and shown:  # the bug in the code as it is (not a removed line)
        return json.dumps({"findings": [{"path": "shop/pricing.py", "line": 9, "severity": "error",
                                         "rule": "wrong-divisor", "title": "Discount divides by 10, not 100",
                                         "message": "percent is 0-100.", "suggestion": FIXED}]})
    return json.dumps({"findings": []})


@pytest_asyncio.fixture
async def api():
    with FakeOpenAI() as server:
        server.responder = respond
        yield server


async def serve(shop_repo, api, tmp_path, options: dict | None = None):
    root = Path(shop_repo.working_tree_dir)
    lsp, _ = await start_server(root, api.base_url, tmp_path / "home", options=options)
    lsp.root = root
    await wait_indexed(lsp)
    return lsp


def calls(api: FakeOpenAI) -> int:
    return sum(path.endswith("/chat/completions") for path, _ in api.requests)


async def status(lsp) -> dict:
    return await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.status"))


def send_save(lsp, path: Path, uri: str, text: str, version: int) -> None:
    """Write and save a new text as an editor does."""
    path.write_text(text)
    change_doc(lsp, uri, text, version)
    lsp.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))


async def save(lsp, path: Path, uri: str, text: str, version: int) -> dict:
    """Save a new text; returns the review status once no review is pending."""
    send_save(lsp, path, uri, text, version)
    for _ in range(600):
        if (review := (await status(lsp))["review"])["pending"] == 0:
            return review
        await asyncio.sleep(0.05)
    raise AssertionError("the review on save did not finish")


async def configure(lsp, on: bool) -> None:
    """Turn review on save on or off as a client does (didChangeConfiguration), and wait until it applies."""
    settings = {"ragls": {"model": {"timeoutS": 2, "maxRetries": 1}, "review": {"onSave": on, "debounceMs": 0}}}
    lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=settings))
    for _ in range(100):
        if (await status(lsp))["review"]["onSave"] is on:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the setting did not apply")


def apply(text: str, edit: types.TextEdit) -> str:
    lines = text.split("\n")
    s, e = edit.range.start, edit.range.end
    return "\n".join(lines[:s.line] + [lines[s.line][:s.character] + edit.new_text + lines[e.line][e.character:]]
                     + lines[e.line + 1:])


async def test_findings_published_with_a_quick_fix_cached_and_cleared(shop_repo, api, tmp_path):
    lsp = await serve(shop_repo, api, tmp_path, ON)
    try:
        path = lsp.root / "shop/pricing.py"
        good = path.read_text()
        bad = good.replace(FIXED, BUG)
        uri = open_doc(lsp, path)
        await save(lsp, path, uri, bad, 2)
        (diag,) = lsp.diagnostics[uri]
        assert (diag.source, diag.code, diag.severity) == ("ragls", "correctness/wrong-divisor",
                                                           types.DiagnosticSeverity.Error)
        assert diag.range.start == types.Position(8, 4) and "divides by 10" in diag.message
        sent = calls(api)
        assert sent == 4, "the four specialists; one finding needs no merge pass"
        prompt = next(json.dumps(b) for p, b in api.requests if "specialised in correctness" in json.dumps(b))
        assert "apply_discount" in prompt and "def tax_for" not in prompt, "only the changed definition"

        actions = await lsp.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri), range=diag.range,
            context=types.CodeActionContext(diagnostics=[diag])))
        fix = next(a for a in actions if a.title.startswith("ragls: apply the suggestion"))
        assert fix.kind == types.CodeActionKind.QuickFix and calls(api) == sent, "no model call for the quick fix"
        (edit,) = fix.edit.changes[uri]
        assert apply(bad, edit) == good

        review = await save(lsp, path, uri, good, 3)  # fixed: reviewed again, nothing found
        assert list(lsp.diagnostics[uri]) == [] and calls(api) == sent + 4 == review["modelCalls"]
        await save(lsp, path, uri, good, 4)  # saved again unchanged
        await save(lsp, path, uri, bad, 5)  # the bug back: that definition's text was reviewed before
        assert calls(api) == sent + 4, "nothing reviewed before is sent again"
        assert [d.code for d in lsp.diagnostics[uri]] == ["correctness/wrong-divisor"]
        await save(lsp, path, uri, "# Prices.\n" + bad, 6)  # only the new line is reviewed
        assert calls(api) == sent + 8
        assert lsp.diagnostics[uri][0].range.start.line == 9, "the finding moves with its unchanged code"

        lsp.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
        assert (await status(lsp))["review"]["pending"] == 0
        assert list(lsp.diagnostics[uri]) == [], "a closed file's findings are cleared"
    finally:
        await lsp.shutdown_session()


async def test_off_by_default_and_turning_it_off_clears(shop_repo, api, tmp_path):
    lsp = await serve(shop_repo, api, tmp_path)
    try:
        path = lsp.root / "shop/pricing.py"
        bad = path.read_text().replace(FIXED, BUG)
        uri = open_doc(lsp, path)
        review = await save(lsp, path, uri, bad, 2)
        assert review["onSave"] is False and calls(api) == 0 and uri not in lsp.diagnostics
        await configure(lsp, True)
        await save(lsp, path, uri, bad, 3)
        assert calls(api) == 4 and len(lsp.diagnostics[uri]) == 1
        await configure(lsp, False)
        assert list(lsp.diagnostics[uri]) == [], "turned off: its findings are cleared"
    finally:
        await lsp.shutdown_session()


async def test_refused_files_are_never_sent_and_a_failing_model_changes_nothing(shop_repo, api, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    (root / ".gitignore").write_text("build/\n")
    (root / "build").mkdir()
    lsp = await serve(shop_repo, api, tmp_path, ON)
    try:
        for rel, text in ((".env", "PAYMENT_API_KEY=sk-live-do-not-send\n"),
                          ("build/gen.py", "def generated():\n    return 'SECRET_IGNORED'\n")):
            uri = open_doc(lsp, root / rel, "")
            await save(lsp, root / rel, uri, text, 2)
            assert uri not in lsp.diagnostics
        assert calls(api) == 0, "nothing of a secret or ignored file goes to a model"

        path = root / "shop/pricing.py"
        bad = path.read_text().replace(FIXED, BUG)
        uri = open_doc(lsp, path)
        await save(lsp, path, uri, bad, 2)
        assert len(lsp.diagnostics[uri]) == 1
        api.fail_next = [500] * 20  # the model is down
        await save(lsp, path, uri, bad.replace("self.country = country", "self.country = country.upper()"), 3)
        assert any("review of shop/pricing.py on save failed" in m.message for m in lsp.log_messages)
        assert [d.code for d in lsp.diagnostics[uri]] == ["correctness/wrong-divisor"], "findings unchanged"
        assert (await status(lsp))["state"] == "ready"
    finally:
        await lsp.shutdown_session()


async def test_a_new_save_replaces_the_review_under_way(shop_repo, api, tmp_path):
    release = threading.Event()
    api.responder = lambda path, body: respond(path, body) if release.wait(60) else None
    lsp = await serve(shop_repo, api, tmp_path, {**ON, "model": {"timeoutS": 60, "maxRetries": 0}})
    try:
        path = lsp.root / "shop/pricing.py"
        good = path.read_text()
        bad = good.replace(FIXED, BUG)
        uri = open_doc(lsp, path)
        send_save(lsp, path, uri, bad, 2)
        for _ in range(600):  # the specialists are asked, and wait for their replies
            if calls(api) == 4:
                break
            await asyncio.sleep(0.05)
        await save(lsp, path, uri, good, 3)  # fixed before the replies came: back to HEAD's text, nothing to review
        release.set()
        assert calls(api) == 4 and list(lsp.diagnostics[uri]) == []
        assert not any("failed" in m.message for m in lsp.log_messages), "cancelled, not failed"
        await save(lsp, path, uri, bad, 4)
        assert calls(api) == 8, "the replaced review left nothing in the cache"
        assert [d.code for d in lsp.diagnostics[uri]] == ["correctness/wrong-divisor"]
    finally:
        release.set()
        await lsp.shutdown_session()
