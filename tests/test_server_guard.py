"""The real server on hostile input: secret, ignored and special files never reach the model, a megabyte line never
freezes it, broken text never keeps a document out of the index."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types

from .fake_openai import FakeOpenAI
from .lsp_helpers import change_doc, open_doc, start_server, wait_indexed
from .test_server_lsp import inline, prompts, typing_checkout

pytestmark = pytest.mark.asyncio(loop_scope="function")
FIXTURES = Path(__file__).parent / "fixtures"


@pytest_asyncio.fixture
async def lsp(shop_repo, api, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    (root / ".gitignore").write_text("scratch/\n")
    client, _ = await start_server(root, api.base_url, tmp_path / "home")
    client.root = root
    await wait_indexed(client)
    yield client
    await client.shutdown_session()


async def explain(lsp, uri: str, line: int = 0) -> str:
    rng = {"start": {"line": line, "character": 0}, "end": {"line": line + 1, "character": 0}}
    return await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.explain", [uri, rng]))


async def status(lsp) -> dict:
    return await asyncio.wait_for(lsp.workspace_execute_command_async(
        types.ExecuteCommandParams("ragls.status", [])), 5)


def sent(api: FakeOpenAI) -> str:
    return "\n".join(json.dumps(body) for _, body in api.requests)


async def test_nothing_of_a_refused_document_reaches_the_model(lsp, api):
    root = lsp.root
    (root / "scratch").mkdir()
    (root / ".ssh").mkdir()
    files = [".env", ".env.production", "id_rsa", "credentials.json", "scratch/notes.py", ".git/config",
             ".ssh/config", "deploy.pem"]
    for n, rel in enumerate(files):
        path = root / rel
        if not path.exists():
            path.write_text(f"VALUE = 'SECRET_VALUE_{n}'\n")
        text = path.read_text() + f"\nTOKEN = 'SECRET_VALUE_{n}'\nx = \n"
        uri = open_doc(lsp, path, text)
        api.replies.append("completion that must not be asked for")
        assert await inline(lsp, uri, text.count("\n") - 1, 4) is None, rel
        with pytest.raises(Exception, match="sends nothing of it to a model"):
            await explain(lsp, uri)
        actions = await lsp.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri),
            range=types.Range(types.Position(0, 0), types.Position(1, 0)),
            context=types.CodeActionContext(diagnostics=[])))
        assert not actions, rel
    assert "SECRET_VALUE" not in sent(api)
    assert not [p for p, _ in api.requests if p.endswith("/completions")]
    # an ordinary file of the same workspace still gets its completion
    api.replies[:] = ["apply_discount(cart.total(), discount)"]
    uri = open_doc(lsp, root / "shop/checkout.py", typing_checkout(root))
    assert (await inline(lsp, uri, 11, 10)).items[0].insert_text.startswith("apply_discount")


async def test_a_file_newly_ignored_leaves_the_index_and_its_prompts(lsp, api):
    root = lsp.root
    (root / "shop" / "vault.py").write_text("def vault_token():\n    return 'SECRET_VALUE_VAULT'\n")
    await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.reindex", []))
    checkout = typing_checkout(root).replace("    net = ", "    net = vault_token()\n    net = ")
    uri = open_doc(lsp, root / "shop/checkout.py", checkout)
    api.replies.append("1")
    await inline(lsp, uri, 12, 10)
    assert "def vault_token" in prompts(api)[-1]  # found by name while it is indexed
    gitignore = root / ".gitignore"
    gitignore.write_text(gitignore.read_text() + "shop/vault.py\n")
    g_uri = open_doc(lsp, gitignore)
    lsp.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(g_uri)))
    for _ in range(100):
        api.replies.append("2")
        await inline(lsp, uri, 12, 11 if _ % 2 else 10)
        if "def vault_token" not in prompts(api)[-1]:
            break
        await asyncio.sleep(0.1)
    assert "SECRET_VALUE_VAULT" not in prompts(api)[-1]


async def test_a_symbolic_link_out_of_the_workspace_is_outside_it(lsp, api, tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("OUTSIDE = 'SECRET_VALUE_OUT'\n")
    (lsp.root / "shop" / "linked.py").symlink_to(outside)
    uri = open_doc(lsp, lsp.root / "shop" / "linked.py", outside.read_text() + "x = ")
    assert await inline(lsp, uri, 1, 4) is None
    with pytest.raises(Exception, match="outside the workspace"):
        await explain(lsp, uri)
    assert "SECRET_VALUE" not in sent(api)


async def test_a_fifo_never_opened_by_the_client_does_not_freeze_the_server(lsp, api):
    fifo = lsp.root / "shop" / "pipe.py"
    os.mkfifo(fifo)
    assert await asyncio.wait_for(inline(lsp, fifo.as_uri(), 0, 0), 10) is None
    with pytest.raises(Exception, match="not a regular file"):
        await asyncio.wait_for(explain(lsp, fifo.as_uri()), 10)
    assert (await status(lsp))["state"] == "ready"
    # opened (the client sends the text) and closed: the index reads the disk again, and must not open the FIFO
    uri = open_doc(lsp, fifo, "X = 1\n")
    lsp.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
    await asyncio.sleep(0.3)  # past the index debounce (50 ms in these tests)
    assert (await status(lsp))["state"] == "ready"
    await asyncio.wait_for(lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.reindex", [])), 30)


async def test_status_answers_while_a_megabyte_line_is_completed(lsp, api):
    big = lsp.root / "shop" / "icons.py"
    line = "ICON = '" + "A" * 1_000_000
    uri = open_doc(lsp, big, "from .pricing import apply_discount\n" + line)
    api.replies.append("'\n")
    api.delay_s = 0.5
    task = asyncio.ensure_future(inline(lsp, uri, 1, len(line)))
    answered = [await status(lsp) for _ in range(5)]
    assert all(s["state"] in ("ready", "indexing") for s in answered)
    result = await asyncio.wait_for(task, 30)
    assert result is not None and result.items[0].insert_text.startswith("'")
    prompt = prompts(api)[-1]
    assert len(prompt) < 40_000  # the prompt holds a window of the line, not the megabyte
    # typing on at the end of the line keeps the server responsive too
    for n in range(3):
        change_doc(lsp, uri, "from .pricing import apply_discount\n" + line + "B" * (n + 1), n + 2)
        await status(lsp)


async def test_lone_surrogates_do_not_keep_a_document_out_of_the_index(lsp, api):
    pricing = lsp.root / "shop/pricing.py"
    text = pricing.read_text() + ("\n\ndef surrogate_bonus(points: int) -> float:\n"
                                  "    \"\"\"Bonus \ud800 of a broken client.\"\"\"\n    return points / 7\n")
    open_doc(lsp, pricing, text)
    checkout = (lsp.root / "shop/checkout.py").read_text().replace(
        "from .pricing import TaxPolicy, apply_discount",
        "from .pricing import TaxPolicy, apply_discount, surrogate_bonus")
    checkout = checkout.replace("    return format_money(net + tax)",
                                "    bonus = \n    return format_money(net + tax)")
    c_uri = open_doc(lsp, lsp.root / "shop/checkout.py", checkout)
    for _ in range(100):
        api.replies.append("surrogate_bonus(3)")
        await inline(lsp, c_uri, 13, 12)
        if "def surrogate_bonus" in prompts(api)[-1]:
            break
        await asyncio.sleep(0.1)
    assert "def surrogate_bonus(points: int)" in prompts(api)[-1]


async def test_an_ignored_file_of_a_plain_folder_is_never_indexed(api, tmp_path):
    root = tmp_path / "plain"
    shutil.copytree(FIXTURES / "pyrepo", root)
    (root / ".gitignore").write_text("private/\n")
    (root / "private").mkdir()
    lsp, _ = await start_server(root, api.base_url, tmp_path / "home")
    try:
        await wait_indexed(lsp)
        private = root / "private" / "keys.py"
        private.write_text("def leak_helper():\n    return 'SECRET_VALUE_PRIVATE'\n")
        open_doc(lsp, private)
        checkout = typing_checkout(root).replace("    net = ", "    net = leak_helper()\n    net = ")
        uri = open_doc(lsp, root / "shop/checkout.py", checkout)
        await asyncio.sleep(0.5)  # past the index debounce: an indexed buffer would be retrievable now
        api.replies.append("1")
        await inline(lsp, uri, 12, 10)
        assert prompts(api) and "leak_helper()" in prompts(api)[-1]  # the line being typed is the user's own
        assert "SECRET_VALUE_PRIVATE" not in sent(api)
    finally:
        await lsp.shutdown_session()
