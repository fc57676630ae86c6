"""The real server over stdio (pytest-lsp) with VS Code's and Neovim's capabilities, against a local model."""
from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from .fake_openai import FakeOpenAI
from .lsp_helpers import change_doc, open_doc, start_server, wait_indexed

pytestmark = pytest.mark.asyncio(loop_scope="function")


@pytest_asyncio.fixture(params=["vscode", "neovim"])
async def lsp(request, shop_repo, api, tmp_path):
    client, result = await start_server(Path(shop_repo.working_tree_dir), api.base_url, tmp_path / "home",
                                        request.param)
    client.init_result = result
    client.root = Path(shop_repo.working_tree_dir)
    client.kind = request.param
    await wait_indexed(client)
    yield client
    await client.shutdown_session()


def typing_checkout(root: Path) -> str:
    """checkout.py as if the user were typing line 12: "    net = " and nothing after the cursor on it."""
    return (root / "shop/checkout.py").read_text().replace("    net = apply_discount(cart.total(), discount)",
                                                           "    net = ")


def prompts(api: FakeOpenAI) -> list[str]:
    return [json.dumps(body) for path, body in api.requests if path.endswith("/chat/completions")]


async def prompt_with(lsp, api, uri: str, line: int, character: int, reply: str, needle: str) -> str:
    """The last prompt sent once it contains `needle`: edits are indexed after a debounce, so poll (bounded)."""
    for _ in range(100):
        api.replies.append(reply)
        await inline(lsp, uri, line, character)
        if needle in prompts(api)[-1]:
            break
        await asyncio.sleep(0.1)
    return prompts(api)[-1]


def inline_params(uri: str, line: int, character: int, invoked: bool = False) -> types.InlineCompletionParams:
    kind = types.InlineCompletionTriggerKind.Invoked if invoked else types.InlineCompletionTriggerKind.Automatic
    return types.InlineCompletionParams(text_document=types.TextDocumentIdentifier(uri),
                                        position=types.Position(line, character),
                                        context=types.InlineCompletionContext(trigger_kind=kind))


async def inline(lsp, uri: str, line: int, character: int):
    return await lsp.text_document_inline_completion_async(inline_params(uri, line, character))


async def test_capabilities_and_indexing_progress(lsp):
    caps = lsp.init_result.capabilities
    assert caps.inline_completion_provider is not None
    assert caps.code_action_provider and caps.code_action_provider.resolve_provider
    assert {"ragls.fix", "ragls.explain", "ragls.ask"} <= set(caps.execute_command_provider.commands)
    assert caps.hover_provider is None  # hover costs a model call: off unless enabled
    assert caps.completion_provider is not None  # these clients' recorded capabilities have no inline completion
    reports = [v for values in lsp.progress_reports.values() for v in values]
    if lsp.kind == "vscode":
        assert isinstance(reports[0], types.WorkDoneProgressBegin)
        assert isinstance(reports[-1], types.WorkDoneProgressEnd)
        assert "indexed" in reports[-1].message


async def test_completion_prompt_holds_the_cross_file_definition(lsp, api):
    api.replies.append("apply_discount(cart.total(), discount)")
    uri = open_doc(lsp, lsp.root / "shop/checkout.py", typing_checkout(lsp.root))
    result = await inline(lsp, uri, 11, 10)  # "    net = |"
    assert result is not None and result.items[0].insert_text.startswith("apply_discount(cart.total()")
    sent = prompts(api)[-1]
    assert "def apply_discount(amount: float, percent: float)" in sent
    assert "shop/pricing.py" in sent


async def test_unsaved_edit_shows_up_in_the_next_prompt(lsp, api):
    pricing = lsp.root / "shop/pricing.py"
    checkout = lsp.root / "shop/checkout.py"
    p_uri = open_doc(lsp, pricing)
    change_doc(lsp, p_uri, pricing.read_text() + "\n\ndef loyalty_bonus(points: int) -> float:\n"
               "    \"\"\"Cash value of loyalty points.\"\"\"\n    return points / 100\n", 2)
    text = checkout.read_text().replace("from .pricing import TaxPolicy, apply_discount",
                                        "from .pricing import TaxPolicy, apply_discount, loyalty_bonus")
    text = text.replace("    return format_money(net + tax)", "    bonus = \n    return format_money(net + tax)")
    c_uri = open_doc(lsp, checkout, text)
    sent = await prompt_with(lsp, api, c_uri, 13, 12, "loyalty_bonus(10)", "def loyalty_bonus")
    assert "def loyalty_bonus(points: int)" in sent
    assert pricing.read_text().count("loyalty_bonus") == 0  # nothing was written to disk


async def test_fix_code_action_returns_an_edit_that_applies(lsp, api):
    path = lsp.root / "shop/checkout.py"
    uri = open_doc(lsp, path)
    diag = types.Diagnostic(range=types.Range(types.Position(12, 4), types.Position(12, 41)),
                            message="tax_for expects a positive amount", source="lint")
    actions = await lsp.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=diag.range,
        context=types.CodeActionContext(diagnostics=[diag])))
    fix = next(a for a in actions if a.title.startswith("ragls: fix"))
    definition = "\n".join(path.read_text().split("\n")[7:14])  # the fix asks for the enclosing definition
    api.replies.append(f"```python\n{definition.replace('tax_for(net)', 'tax_for(max(net, 0.0))')}\n```")
    if fix.edit is None and fix.data is not None:
        fix = await lsp.code_action_resolve_async(fix)
        edit = fix.edit
        assert "class TaxPolicy" in prompts(api)[-1] and "tax_for expects a positive amount" in prompts(api)[-1]
    else:  # a client without resolve support runs the command, which applies the edit through the client
        await lsp.workspace_execute_command_async(types.ExecuteCommandParams(fix.command.command,
                                                                             fix.command.arguments))
        edit = None
    if edit is not None:
        (change,) = edit.changes[uri]
        lines = path.read_text().split("\n")
        start, end = change.range.start, change.range.end
        new = lines[:start.line] + [lines[start.line][:start.character] + change.new_text
                                    + lines[end.line][end.character:]] + lines[end.line + 1:]
        assert new[12] == "    tax = TaxPolicy(country).tax_for(max(net, 0.0))"
        assert new[11] == lines[11] and new[13] == lines[13] and len(new) == len(lines)


async def test_explain_and_ask_commands_cite_symbols(lsp, api, tmp_path):
    assert list((tmp_path / "home").glob("*/index.db"))
    assert not list((tmp_path / "home").glob("*/chroma")), "indexing and explain build no vectors (static embedder)"
    uri = open_doc(lsp, lsp.root / "shop/checkout.py")
    api.replies.append("It totals the cart, applies the discount and adds tax.")
    rng = {"start": {"line": 7, "character": 0}, "end": {"line": 13, "character": 0}}
    md = await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.explain", [uri, rng]))
    assert "applies the discount" in md
    assert "`apply_discount`" in next(line for line in md.splitlines() if "(shop/pricing.py:" in line)
    api.replies.append("Taxes are computed by TaxPolicy.tax_for.")
    md = await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.ask", ["how is tax computed?"]))
    assert "TaxPolicy" in md and "shop/pricing.py" in md
    assert list((tmp_path / "home").glob("*/chroma")), "the first question (a search) built them"


async def test_cancel_stops_the_upstream_call(lsp, api):
    api.replies.append(" ".join(f"w{i}" for i in range(40)))
    api.stream_chunk_delay_s = 0.2
    uri = open_doc(lsp, lsp.root / "shop/checkout.py", typing_checkout(lsp.root))
    params = inline_params(uri, 11, 10, invoked=True)
    fut = lsp.protocol.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="cancel-me")
    for _ in range(100):
        if api.requests and api.requests[-1][0].endswith("/chat/completions"):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)
    lsp.protocol.notify("$/cancelRequest", types.CancelParams(id="cancel-me"))
    assert await asyncio.to_thread(api.wait_aborted, 1, 5.0)
    fut.cancel()


async def test_the_same_completion_asked_twice_at_once_is_one_model_call(lsp, api):
    """A client that asks again for the same spot while the first answer is coming (a retry, a second trigger)
    waits for that answer: one model call, both get it; cancelling one of the two does not stop the call."""
    api.replies.append("apply_discount(subtotal, percent)")
    api.stream_chunk_delay_s = 0.05
    api.delay_s = 0.5
    uri = open_doc(lsp, lsp.root / "shop/checkout.py", typing_checkout(lsp.root))
    params = inline_params(uri, 11, 10, invoked=True)
    first = lsp.protocol.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="first")
    second = lsp.protocol.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="second")
    third = lsp.protocol.send_request(types.TEXT_DOCUMENT_INLINE_COMPLETION, params, msg_id="third")
    await asyncio.sleep(0.2)
    lsp.protocol.notify("$/cancelRequest", types.CancelParams(id="first"))
    answers = [await asyncio.wait_for(asyncio.wrap_future(f), 20) for f in (second, third)]
    texts = [a.items[0].insert_text if a and a.items else None for a in answers]
    assert texts[0] == texts[1] and texts[0] and "apply_discount" in texts[0], texts
    calls = [p for p, _ in api.requests if p.endswith(("/chat/completions", "/completions"))]
    assert len(calls) == 1, calls
    first.cancel()  # its answer is the cancellation: nothing to wait for


@pytest.mark.parametrize("fault", ["429", "500", "timeout", "garbage"])
async def test_model_faults_give_nothing_and_the_server_lives_on(lsp, api, fault):
    uri = open_doc(lsp, lsp.root / "shop/checkout.py", typing_checkout(lsp.root).replace(
        "    return format_money(net + tax)", "    return "))
    if fault == "429":
        api.fail_next.append((429, {"Retry-After": "0"}))
        api.replies.append("apply_discount(1, 2)")
    elif fault == "500":
        api.fail_next.extend([500, 500, 500])
    elif fault == "timeout":
        api.delay_s = 3.0
    else:
        api.garbage_next = 3
    result = await inline(lsp, uri, 11, 10)
    if fault == "429":  # retried after Retry-After, then answered
        assert result is not None and result.items[0].insert_text.startswith("apply_discount")
    else:
        assert result is None
    api.delay_s, api.fail_next, api.garbage_next = 0.0, [], 0
    api.replies.append("format_money(net)")
    again = await inline(lsp, uri, 13, 11)  # "    return |"
    assert again is not None and again.items[0].insert_text.startswith("format_money")


async def test_explicit_command_failure_is_a_clear_message(lsp, api):
    uri = open_doc(lsp, lsp.root / "shop/checkout.py")
    api.fail_next.extend([500, 500, 500])
    rng = {"start": {"line": 7, "character": 0}, "end": {"line": 13, "character": 0}}
    with pytest.raises(Exception) as err:
        await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.explain", [uri, rng]))
    text = str(getattr(err.value, "message", err.value))
    assert "server" in text.lower() or "500" in text
    assert not text.startswith("ragls") and "Error:" not in text, text  # its words alone (server/errors.py)
    # said once: in the error response, which the client shows; never again as window/showMessage
    assert not any(m.type == types.MessageType.Error for m in lsp.messages), lsp.messages
    api.fail_next.clear()
    api.replies.append("ok")
    assert await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.explain", [uri, rng]))


async def test_hover_when_enabled_and_settings_changes_apply(shop_repo, api, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    client, result = await start_server(root, api.base_url, tmp_path / "home", "vscode", {"chat": {"hover": True}})
    try:
        assert result.capabilities.hover_provider is not None
        await wait_indexed(client)
        uri = open_doc(client, root / "shop/checkout.py", typing_checkout(root))
        api.replies.append("Applies the discount.")
        hover = await client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri), position=types.Position(12, 12)))
        assert "Applies the discount." in hover.contents.value
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"ragls": {"completion": {"enabled": False}}}))
        before = len(api.requests)
        assert await inline(client, uri, 11, 10) is None
        assert len(api.requests) == before  # disabled: no model call
    finally:
        await client.shutdown_session()


async def test_bad_requests_get_clear_answers_and_the_server_lives_on(lsp, api):
    uri = open_doc(lsp, lsp.root / "shop/checkout.py", typing_checkout(lsp.root))
    assert await inline(lsp, uri, 500, 3) is None  # past the end of the document
    outside = (lsp.root.parent / "elsewhere.py").as_uri()
    assert await inline(lsp, outside, 0, 0) is None  # outside the workspace: never read
    with pytest.raises(JsonRpcException):  # an error answer, not a dropped connection
        await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.explain", ["not-a-uri"]))
    with pytest.raises(JsonRpcException):
        await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.ask", [""]))
    api.replies.append("apply_discount(cart.total(), discount)")
    result = await inline(lsp, uri, 11, 10)
    assert result is not None and result.items[0].insert_text.startswith("apply_discount")


async def test_external_edits_reach_the_index_through_watched_files(lsp, api):
    pricing = lsp.root / "shop/pricing.py"
    pricing.write_text(pricing.read_text().replace("def apply_discount(amount: float, percent: float)",
                                                   "def apply_discount(amount: float, percent: float, cap: float)"))
    lsp.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
        uri=pricing.as_uri(), type=types.FileChangeType.Changed)]))
    uri = open_doc(lsp, lsp.root / "shop/checkout.py", typing_checkout(lsp.root))
    sent = await prompt_with(lsp, api, uri, 11, 10, "apply_discount(1, 2, 3)", "cap: float")
    assert "percent: float, cap: float)" in sent


async def test_a_file_created_and_deleted_outside_the_editor_comes_and_goes_from_prompts(lsp, api):
    """A new module (the watched files' Created) is patched into the graph: code importing it gets its definition;
    once deleted (Deleted), the definition is gone from prompts."""
    rounding = lsp.root / "shop/rounding.py"
    rounding.write_text('def round_cents(amount: float) -> float:\n    """Round to whole cents."""\n'
                        "    return round(amount, 2)\n")

    def watched(kind: types.FileChangeType) -> None:
        lsp.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
            uri=rounding.as_uri(), type=kind)]))

    watched(types.FileChangeType.Created)
    text = "from shop.rounding import round_cents\n" + typing_checkout(lsp.root)
    uri = open_doc(lsp, lsp.root / "shop/checkout.py", text)
    sent = await prompt_with(lsp, api, uri, 12, 10, "round_cents(1.0)", "def round_cents")
    assert "Round to whole cents" in sent
    rounding.unlink()
    watched(types.FileChangeType.Deleted)
    for _ in range(100):
        api.replies.append("round_cents(1.0)")
        await inline(lsp, uri, 12, 10)
        if "def round_cents" not in prompts(api)[-1]:
            break
        await asyncio.sleep(0.1)
    assert "def round_cents" not in prompts(api)[-1]


async def test_typing_through_a_suggestion_needs_no_new_model_call(lsp, api):
    text = typing_checkout(lsp.root)
    uri = open_doc(lsp, lsp.root / "shop/checkout.py", text)
    api.replies.append("apply_discount(cart.total(), discount)")
    first = await inline(lsp, uri, 11, 10)
    assert first.items[0].insert_text == "apply_discount(cart.total(), discount)"
    calls = len(prompts(api))
    change_doc(lsp, uri, text.replace("    net = \n", "    net = apply_\n"), 2)
    second = await inline(lsp, uri, 11, 16)
    assert second.items[0].insert_text == "discount(cart.total(), discount)"
    assert len(prompts(api)) == calls


async def test_status_reports_the_index_and_completion_timings(lsp, api):
    status = await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.status"))
    assert status["state"] == "ready" and "indexed" in status["folders"][0]["index"]
    assert status["model"]["configured"] and status["model"]["chatModel"] == "test-chat"
    assert status["completion"]["requests"] == 0
    uri = open_doc(lsp, lsp.root / "shop/checkout.py", typing_checkout(lsp.root))
    api.replies.append("apply_discount(cart.total(), discount)")
    await inline(lsp, uri, 11, 10)
    status = await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.status"))
    timing = status["completion"]
    assert timing["requests"] == 1 and timing["own_ms"]["p50"] >= 0 and timing["model_ms"]["p50"] > 0
    assert "sk-test-secret" not in json.dumps(status), "the key is never reported"


async def test_every_workspace_folder_is_indexed_and_served(shop_repo, api, tmp_path):
    """A multi-root workspace: each folder its own index; folders added and removed while running."""
    from .conftest import make_git_repo

    def repo(name: str, module: str, func: str) -> Path:
        src = tmp_path / f"src-{name}"
        (src / "lib").mkdir(parents=True)
        (src / "lib" / "__init__.py").write_text("")
        (src / "lib" / f"{module}.py").write_text(f"def {func}(value: int) -> int:\n    return value * 7\n")
        (src / "lib" / "main.py").write_text(f"from lib.{module} import {func}\n\n\ndef run():\n    x = \n")
        make_git_repo(src, tmp_path / name)
        return tmp_path / name

    shop, second, third = Path(shop_repo.working_tree_dir), repo("second", "scale", "scale_seven"), \
        repo("third", "grow", "grow_seven")
    lsp, result = await start_server(shop, api.base_url, tmp_path / "home", "vscode", more_folders=(second,))
    try:
        folders = result.capabilities.workspace.workspace_folders
        assert folders and folders.supported and folders.change_notifications
        for _ in range(200):
            status = await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.status"))
            if [f["state"] for f in status["folders"]] == ["ready", "ready"]:
                break
            await asyncio.sleep(0.1)
        assert [f["root"] for f in status["folders"]] == [str(shop.resolve()), str(second.resolve())]
        uri = open_doc(lsp, second / "lib/main.py")
        assert "def scale_seven(value: int)" in await prompt_with(lsp, api, uri, 4, 8, "scale_seven(1)",
                                                                  "def scale_seven")
        lsp.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
            types.WorkspaceFoldersChangeEvent(added=[types.WorkspaceFolder(third.as_uri(), "third")],
                                              removed=[types.WorkspaceFolder(second.as_uri(), "second")])))
        uri3 = open_doc(lsp, third / "lib/main.py")
        assert "def grow_seven(value: int)" in await prompt_with(lsp, api, uri3, 4, 8, "grow_seven(1)",
                                                                  "def grow_seven")
        before = len(api.requests)
        assert await inline(lsp, uri, 4, 8) is None, "a removed folder's files are no longer served"
        assert len(api.requests) == before
    finally:
        await lsp.shutdown_session()



async def test_each_workspace_folder_takes_the_editors_settings_for_it(shop_repo, api, tmp_path):
    """A multi-root workspace whose editor sets a value differently in a folder (VS Code's folder settings, asked
    with workspace/configuration's scopeUri): that folder's requests use it, the others the editor's own, a folder
    added later its own too; a section the client sends applies to every folder."""
    from .conftest import make_git_repo

    def repo(name: str) -> Path:
        src = tmp_path / f"src-{name}"
        (src / "lib").mkdir(parents=True)
        (src / "lib" / "__init__.py").write_text("")
        (src / "lib" / "scale.py").write_text("def scale_seven(value: int) -> int:\n    return value * 7\n")
        (src / "lib" / "main.py").write_text("from lib.scale import scale_seven\n\n\ndef run():\n    x = \n")
        make_git_repo(src, tmp_path / name)
        return (tmp_path / name).resolve()

    shop, second, third = Path(shop_repo.working_tree_dir).resolve(), repo("second"), repo("third")
    lsp, _ = await start_server(shop, api.base_url, tmp_path / "home", "vscode", more_folders=(second,),
                                configuration={"": {"completion": {"maxTokens": 11, "debounceMs": 0}},
                                               second.as_uri(): {"completion": {"maxTokens": 29, "debounceMs": 0}},
                                               third.as_uri(): {"completion": {"maxTokens": 37, "debounceMs": 0}}})

    async def max_tokens(uri: str, line: int, character: int) -> int:
        api.replies.append("scale_seven(1)")
        assert await inline(lsp, uri, line, character) is not None
        return api.requests[-1][1]["max_tokens"]

    try:
        for _ in range(200):
            status = await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.status"))
            if [f["state"] for f in status["folders"]] == ["ready", "ready"]:
                break
            await asyncio.sleep(0.1)
        in_shop = open_doc(lsp, shop / "shop/checkout.py", typing_checkout(shop))
        in_second = open_doc(lsp, second / "lib/main.py")
        assert (await max_tokens(in_shop, 11, 10), await max_tokens(in_second, 4, 8)) == (11, 29)
        lsp.workspace_did_change_workspace_folders(types.DidChangeWorkspaceFoldersParams(
            types.WorkspaceFoldersChangeEvent(added=[types.WorkspaceFolder(third.as_uri(), "third")], removed=[])))
        in_third = open_doc(lsp, third / "lib/main.py")
        for _ in range(100):  # the folder is added on its notification: poll (bounded)
            if len((await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.status")))
                   ["folders"]) == 3:
                break
            await asyncio.sleep(0.1)
        assert await max_tokens(in_third, 4, 8) == 37
        lsp.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"ragls": {"completion": {"maxTokens": 43, "debounceMs": 0}}}))
        for _ in range(100):
            if await max_tokens(in_shop, 11, 10) == 43:
                break
            await asyncio.sleep(0.1)
        assert [await max_tokens(uri, *at) for uri, at in ((in_shop, (11, 10)), (in_second, (4, 8)),
                                                             (in_third, (4, 8)))] == [43, 43, 43]
    finally:
        await lsp.shutdown_session()


async def test_a_projects_settings_file_applies_but_may_not_choose_the_endpoint(shop_repo, api, tmp_path):
    """.ragls.toml at the folder's root sets completion.maxTokens; its model.baseUrl is refused with a warning, as
    a wrongly-typed value is, each shown once; a change of the file applies, and the editor's settings win."""
    root = Path(shop_repo.working_tree_dir)
    project = root / ".ragls.toml"
    project.write_text('[model]\nbaseUrl = "http://127.0.0.1:9/v1"\n\n[completion]\nmaxTokens = 17\nbudget = "big"\n')
    client, _ = await start_server(root, api.base_url, tmp_path / "home", "vscode")
    try:
        await wait_indexed(client)
        warnings = [m.message for m in client.messages if m.type == types.MessageType.Warning]
        assert warnings == [f"ragls: {project}: model.baseUrl is ignored: a project's settings may not choose where "
                            f"code is sent, which secret is read or where ragls writes (set it in "
                            f"{os.environ['XDG_CONFIG_HOME']}/ragls/config.toml, the environment, a flag or the "
                            "editor)",
                            f"ragls: {project}: completion.budget: expected a whole number, got a string; ignored"]
        uri = open_doc(client, root / "shop/checkout.py", typing_checkout(root))

        async def max_tokens(expected: int) -> None:
            for _ in range(100):  # a change of settings applies on its notification: poll (bounded)
                api.replies.append("apply_discount(cart.total(), discount)")
                await inline(client, uri, 11, 10)
                if api.requests[-1][1]["max_tokens"] == expected:
                    return
                await asyncio.sleep(0.1)
            raise AssertionError(f"max_tokens stayed {api.requests[-1][1]['max_tokens']}, not {expected}")

        await max_tokens(17)  # and the request reached the editor's endpoint, not the project's
        project.write_text("[completion]\nmaxTokens = 23\n")
        client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
            uri=project.as_uri(), type=types.FileChangeType.Changed)]))
        await max_tokens(23)
        client.workspace_did_change_configuration(types.DidChangeConfigurationParams(
            settings={"ragls": {"completion": {"maxTokens": 31, "debounceMs": 0}}}))
        await max_tokens(31)
        assert len([m for m in client.messages if m.type == types.MessageType.Warning]) == 2  # each shown once
    finally:
        await client.shutdown_session()
