"""Editing signals in the real server: `ragls/nextEdit` points a rename at its remaining uses in other files and
brings the model's edit there back as the changed lines only; the edit history, the client's diagnostics and the
ranges it showed reach the next-edit and completion prompts (never a secret or ignored file's)."""
from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types
from ragls.server.handlers.nextedit import plain

from .lsp_helpers import change_doc, open_doc, start_server, wait_indexed
from .test_redact import GH_TOKEN
from .test_server_lsp import inline, prompts

pytestmark = pytest.mark.asyncio(loop_scope="function")


async def next_edit(lsp, uri: str, line: int) -> dict:
    return await lsp.protocol.send_request_async(
        "ragls/nextEdit", {"textDocument": {"uri": uri}, "position": {"line": line, "character": 0}})


def edit_in_editor(lsp, path: Path, old: str, new: str) -> str:
    """Open a file and change `old` to `new` in it, as typing would (didOpen, then didChange); its URI."""
    text = path.read_text()
    uri = open_doc(lsp, path, text)
    change_doc(lsp, uri, text.replace(old, new, 1), 2)
    return uri


async def test_a_rename_points_at_the_remaining_calls_and_the_edit_changes_only_them(shop_repo, api, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    (root / ".env").write_text("API_TOKEN=hunter2-very-secret\n")
    lsp, _ = await start_server(root, api.base_url, tmp_path / "home")
    try:
        await wait_indexed(lsp)
        uri = edit_in_editor(lsp, root / "shop/pricing.py", "def apply_discount(", "def discounted(")
        env = open_doc(lsp, root / ".env")
        change_doc(lsp, env, "API_TOKEN=hunter2-very-secret-2\n", 2)
        lsp.protocol.notify("ragls/diagnostics", {"uri": (root / "shop/checkout.py").as_uri(), "diagnostics": [
            {"range": {"start": {"line": 11, "character": 10}, "end": {"line": 11, "character": 24}},
             "message": "\"apply_discount\" is unknown import symbol", "severity": 1, "source": "Pyright"}]})
        api.replies.append("NO_CHANGE")
        first = plain(await next_edit(lsp, uri, 4))
        assert first["edits"] == [] and "error" not in first
        top = first["locations"][0]

        assert top["uri"].endswith("shop/checkout.py") and "apply_discount" in top["why"]
        line, region = top["range"]["start"]["line"], top["region"]  # the place, and the lines it stands for
        assert region["start"]["line"] <= line < region["end"]["line"] <= region["start"]["line"] + 10
        prompt = prompts(api)[-1]
        assert "-def apply_discount(" in prompt and "+def discounted(" in prompt  # the edit history
        assert "is unknown import symbol" in prompt  # the client's diagnostic near the region
        assert "hunter2" not in prompt and ".env" not in prompt  # a secret file's edits never reach the model

        checkout = (root / "shop/checkout.py").read_text().split("\n")
        line = top["range"]["start"]["line"] + 1
        first_line, last_line = max(1, line - 8), min(len(checkout), line + 8)
        region = "\n".join(checkout[first_line - 1:last_line]).replace("apply_discount", "discounted")
        api.replies.append(f"```python\n{region}\n```")
        # the same prompt is not asked again: the user edits on (the docstring), so the model is asked anew
        text = (root / "shop/pricing.py").read_text().replace("def apply_discount(", "def discounted(")
        change_doc(lsp, uri, text.replace("Return `amount` reduced", "Return the amount reduced"), 3)
        second = plain(await next_edit(lsp, uri, 4))
        edits = second["edits"]
        assert edits and all(e["uri"].endswith("shop/checkout.py") for e in edits)
        changed = sorted(e["range"]["start"]["line"] + 1 for e in edits)
        assert changed == [n for n in range(first_line, last_line + 1) if "apply_discount" in checkout[n - 1]]
        assert all("\n" not in e["newText"] and "discounted" in e["newText"] for e in edits)  # one line each
        calls = len(prompts(api))
        assert plain(await next_edit(lsp, uri, 4))["edits"] == edits  # asked again, nothing changed: no model call
        assert len(prompts(api)) == calls
        # the edit on a line is also an inline completion there, replacing its range, until the document changes
        target = open_doc(lsp, root / "shop/checkout.py")
        at = edits[0]["range"]["start"]
        shown = await inline(lsp, target, at["line"], at["character"] + 3)
        [item] = shown.items
        assert item.insert_text == edits[0]["newText"] and item.range.start.line == at["line"]
    finally:
        await lsp.shutdown_session()


async def test_next_edit_without_history_or_model_gives_locations_only(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    lsp, _ = await start_server(root, "http://127.0.0.1:9/v1", tmp_path / "home")
    try:
        await wait_indexed(lsp)
        uri = open_doc(lsp, root / "shop/checkout.py")
        result = plain(await next_edit(lsp, uri, 3))
        assert result["edits"] == [] and all(loc["uri"].endswith(".py") for loc in result["locations"])
        with pytest.raises(Exception, match="nextEdit takes"):
            await lsp.protocol.send_request_async("ragls/nextEdit", {"position": 3})
    finally:
        await lsp.shutdown_session()


async def test_completion_prompts_show_recent_edits_elsewhere_and_diagnostics_here(shop_repo, api, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    lsp, _ = await start_server(root, api.base_url, tmp_path / "home")
    try:
        await wait_indexed(lsp)
        edit_in_editor(lsp, root / "shop/models.py", "class Cart", "class ShoppingCart")
        checkout = open_doc(lsp, root / "shop/checkout.py")
        lsp.protocol.notify("ragls/diagnostics", {"uri": checkout, "diagnostics": [
            {"range": {"start": {"line": 11, "character": 4}, "end": {"line": 11, "character": 7}},
             "message": "Variable \"net\" is not accessed", "severity": 2, "source": "Pylance"}]})
        api.replies.append("apply_discount(cart.total(), discount)")
        await inline(lsp, checkout, 11, 10)
        prompt = prompts(api)[-1]
        assert "Recent edits (newest first)" in prompt and "+class ShoppingCart" in prompt
        assert "is not accessed" in prompt and "warning" in prompt
        api.replies.append("It totals the cart.")
        rng = {"start": {"line": 7, "character": 0}, "end": {"line": 13, "character": 0}}
        await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.explain", [checkout, rng]))
        prompt = prompts(api)[-1]
        assert "+class ShoppingCart" in prompt and "is not accessed" in prompt
    finally:
        await lsp.shutdown_session()


async def test_a_client_with_inline_completion_is_not_offered_textdocument_completion(shop_repo, tmp_path):
    """One model call a keystroke, not two: completions come inline only. (Shut down at once, while the server still
    waits on its own requests to the client, it answers the shutdown cleanly.)"""
    root = Path(shop_repo.working_tree_dir)
    lsp, result = await start_server(root, "http://127.0.0.1:9/v1", tmp_path / "home", inline=True)
    try:
        assert result.capabilities.completion_provider is None
        assert result.capabilities.inline_completion_provider is not None
    finally:
        await lsp.shutdown_session()


def viewed(lsp, path: Path, first: int, last: int) -> None:
    """The client shows lines first..last - 1 (0-based) of a file."""
    lsp.protocol.notify("ragls/viewedRanges", {"uri": path.as_uri(), "ranges": [
        {"start": {"line": first, "character": 0}, "end": {"line": last, "character": 0}}]})


def last_user_prompt(api) -> str:
    return [b for p, b in api.requests if p.endswith("/chat/completions")][-1]["messages"][-1]["content"]


async def test_prompts_show_code_viewed_elsewhere_never_a_secret_or_ignored_files(shop_repo, api, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    lsp, _ = await start_server(root, api.base_url, tmp_path / "home")
    try:
        await wait_indexed(lsp)
        # written after indexing, so that no retrieval finds them: only having been viewed brings them to a prompt
        (root / "scratch").mkdir()
        zones = root / "scratch/zones.py"
        zones.write_text("".join(f"ZONE_{n} = 'shipping zone {n} of the warehouse rota'\n" for n in range(100))
                         .replace("ZONE_27 = 'shipping zone 27", f"ZONE_27 = '{GH_TOKEN}"))
        (root / ".env").write_text("API_TOKEN=hunter2-very-secret\n")
        with (root / ".gitignore").open("a") as f:
            f.write("build/\n")
        (root / "build").mkdir()
        (root / "build/gen.py").write_text("GENERATED_MARKER = 1\n")
        checkout = open_doc(lsp, root / "shop/checkout.py")
        viewed(lsp, root / ".env", 0, 1)
        viewed(lsp, root / "build/gen.py", 0, 1)
        for bad in (None, [], "all", {"uri": checkout}, {"uri": checkout, "ranges": "all"}, {"uri": 3, "ranges": []},
                    {"uri": checkout, "ranges": [{"start": {"line": -1}}]}, {"uri": "file:///elsewhere/x.py",
                    "ranges": [{"start": {"line": 0, "character": 0}, "end": {"line": 9, "character": 0}}]}):
            lsp.protocol.notify("ragls/viewedRanges", bad)  # ignored (and logged): the server answers on
        viewed(lsp, zones, 10, 100)  # 90 lines: the middle 60 are kept, and shown as far as the share allows
        api.replies.append("apply_discount(cart.total(), discount)")
        await inline(lsp, checkout, 11, 10)  # the notifications before it are in: no waiting
        prompt = last_user_prompt(api)
        section = prompt.split("Code viewed recently in the editor (newest first):\n", 1)[1]
        section = section.split("<<<END REPOSITORY TEXT>>>", 1)[0]
        assert section.startswith("--- scratch/zones.py:26-") and "ZONE_25 = 'shipping zone 25" in section
        assert len(section) <= 256 * 3.5 and "ZONE_84" not in section  # the share: completion.viewedBudget
        assert "<<<BEGIN REPOSITORY TEXT>>>\nCode viewed recently" in prompt  # fenced as repository text
        assert "hunter2" not in prompt and "GENERATED_MARKER" not in prompt
        assert GH_TOKEN not in prompt and "ZONE_27 = '<redacted:github-token>" in prompt  # redacted as any context
        api.replies.append("It totals the cart.")
        rng = {"start": {"line": 7, "character": 0}, "end": {"line": 13, "character": 0}}
        await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.explain", [checkout, rng]))
        explain = last_user_prompt(api)  # explain shows them too, within chat.viewedBudget
        assert "--- scratch/zones.py:26-" in explain and "ZONE_45 = " in explain and "ZONE_84" not in explain
        assert "hunter2" not in explain and "GENERATED_MARKER" not in explain

        # ignored since it was viewed: never in a prompt again
        (root / ".raglsignore").write_text("scratch/\n")
        lsp.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
            uri=(root / ".raglsignore").as_uri(), type=types.FileChangeType.Created)]))
        api.replies.append("apply_discount(cart.total(), discount)")
        await inline(lsp, checkout, 12, 8)  # elsewhere: a completion is cached on its prefix
        assert "def checkout(" in (prompt := last_user_prompt(api)) and "ZONE_" not in prompt
        assert not any("hunter2" in p or "GENERATED_MARKER" in p for p in prompts(api))
    finally:
        await lsp.shutdown_session()
