"""`ragls mcp` as agents run it: a subprocess on a git repository the test makes, driven by the MCP SDK's own client
over stdio (and once over streamable HTTP): tools and schemas, answers, tool errors, the index's lock, review."""
from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client

from ragls.indexer.lock import WriteLock

from .conftest import FIXTURES, make_git_repo
from .fake_openai import FakeOpenAI
from .helpers_repo import free_port

T = TypeVar("T")
AWS_KEY = "AKIA" + "Z7Q2M4X8R1T6V3N5"  # split: no scanner takes the test's own source for a leak
ENV_SECRET = "PAYMENT_API_KEY=sk-live-do-not-send"
BUG = "    return round_money(amount * (1 - percent / 10))"
TIMEOUT_S = 120


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """The shop fixture as a git repository, with a .env, an ignored folder, a link out of the repository and a key
    inside a source file."""
    root = tmp_path / "shop"
    make_git_repo(FIXTURES / "pyrepo", root)
    (root / ".env").write_text(ENV_SECRET + "\n")
    (root / ".gitignore").write_text("build/\n")
    (root / "build").mkdir()
    (root / "build" / "generated.py").write_text("def generated():\n    return 1\n")
    (tmp_path / "outside.py").write_text("OUTSIDE = 'not the repository'\n")
    (root / "shop" / "escape.py").symlink_to(tmp_path / "outside.py")
    (root / "shop" / "gateway.py").write_text(
        '"""The payment gateway."""\n\n\ndef gateway_key() -> str:\n'
        f'    """The key the gateway is called with."""\n    return "{AWS_KEY}"\n')
    return root


def _command(*args: str) -> tuple[str, list[str]]:
    """The `ragls` console script beside this interpreter (as an agent's configuration names it), else the module."""
    script = Path(sys.executable).with_name("ragls")
    if script.is_file():
        return str(script), list(args)
    return sys.executable, ["-m", "ragls.server.cli", *args]


def _argv(*args: str) -> list[str]:
    command, argv = _command(*args)
    return [command, *argv]


def _env(**extra: str) -> dict[str, str]:
    """The isolated index home of this test; the stdio client passes only these beside PATH, HOME and the like."""
    keep = ("RAGLS_HOME", "RAGLS_MODELS", "ANONYMIZED_TELEMETRY")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, **extra}


@asynccontextmanager
async def stdio_session(root: Path, log: Path, *args: str, **env: str) -> AsyncIterator[Client]:
    command, argv = _command("mcp", "--repo", str(root), *args)
    params = StdioServerParameters(command=command, args=argv, env=_env(**env), cwd=str(root))
    with log.open("w") as errlog:
        async with Client(stdio_client(params, errlog=errlog), read_timeout_seconds=TIMEOUT_S) as client:
            yield client


def run(scenario: Callable[[], Awaitable[T]]) -> T:
    return asyncio.run(asyncio.wait_for(scenario(), 4 * TIMEOUT_S))


async def call(client: Client, tool: str, **arguments: Any) -> tuple[bool, str]:
    """(is_error, text) of one tool call."""
    result = await client.call_tool(tool, arguments)
    return bool(result.is_error), "\n".join(c.text for c in result.content if c.type == "text")


def headers(text: str) -> list[str]:
    """The `path:start-end name (kind)` lines of an answer."""
    return re.findall(r"^\S+:\d+-\d+ .*$", text, re.M)


def test_tools_answers_and_errors_over_stdio(shop: Path, tmp_path: Path) -> None:
    async def scenario() -> None:
        async with stdio_session(shop, tmp_path / "server.log") as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            assert set(tools) == {"context", "search", "definition", "review"}
            for t in tools.values():
                assert t.description and "\n" not in t.description and len(t.description) < 200
                assert t.input_schema["type"] == "object"
            context = tools["context"].input_schema
            assert context["required"] == ["path", "line"]
            assert {"path", "line", "col", "end_line", "budget"} <= set(context["properties"])
            assert context["properties"]["line"]["minimum"] == 1
            assert tools["search"].input_schema["required"] == ["query"]
            assert tools["definition"].input_schema["required"] == ["symbol"]
            assert not tools["review"].input_schema.get("required")
            assert tools["context"].annotations.read_only_hint

            # a cursor after `apply_discount(` in checkout(): the definitions it calls, with their code
            err, text = await call(client, "context", path="shop/checkout.py", line=12, col=26)
            assert not err, text
            assert any(h.startswith("shop/pricing.py:") and "apply_discount" in h for h in headers(text)), text
            assert "def apply_discount(amount: float, percent: float) -> float:" in text
            # a selection: the whole of checkout() uses TaxPolicy and its method too
            err, text = await call(client, "context", path="shop/checkout.py", line=8, end_line=14, budget=3000)
            assert not err and "class TaxPolicy" in text and "def tax_for" in text, text

            err, text = await call(client, "search", query="value-added tax by country")
            assert not err and headers(text)[0].startswith("shop/pricing.py:12-"), text

            err, text = await call(client, "definition", symbol="TaxPolicy.tax_for")
            assert not err and headers(text) == ["shop/pricing.py:20-22 TaxPolicy.tax_for (method)"], text
            assert 'return round_money(amount * self.RATES.get(self.country, 0.0))' in text
            err, text = await call(client, "definition", symbol="shop.pricing.apply_discount")
            assert not err and headers(text) == ["shop/pricing.py:5-9 apply_discount (function)"], text
            err, text = await call(client, "definition", symbol="taxpolicy")
            assert not err and "No definition of 'taxpolicy'" in text and "TaxPolicy" in text, text

            # a key inside an ordinary file is redacted from every answer
            err, text = await call(client, "definition", symbol="gateway_key")
            assert not err and "<redacted:aws-access-key>" in text and AWS_KEY not in text, text
            err, text = await call(client, "search", query="gateway key")
            assert not err and AWS_KEY not in text and "gateway_key" in text, text

            # bad arguments and refused files: tool errors that say why, never a crash
            bad = [
                ("context", {"line": 3}, "path"),
                ("context", {"path": "shop/pricing.py", "line": 0}, "line"),
                ("context", {"path": "shop/pricing.py", "line": 99}, "line 99 is outside shop/pricing.py"),
                ("context", {"path": "shop/pricing.py", "line": 2, "col": 500}, "col 500 is outside line 2"),
                ("context", {"path": "shop/pricing.py", "line": 9, "end_line": 5}, "end_line 5"),
                ("context", {"path": "../outside.py", "line": 1}, "outside the repository"),
                ("context", {"path": "/etc/passwd", "line": 1}, "outside the repository"),
                ("context", {"path": "shop/escape.py", "line": 1}, "a symbolic link out of the workspace"),
                ("context", {"path": ".env", "line": 1}, "may hold secrets"),
                ("context", {"path": str(shop / ".env"), "line": 1}, "may hold secrets"),
                ("context", {"path": "build/generated.py", "line": 1}, "ignored"),
                ("context", {"path": "shop/missing.py", "line": 1}, "no such file"),
                ("context", {"path": "shop", "line": 1}, "shop"),
                ("search", {"query": "   "}, "query is empty"),
                ("definition", {"symbol": "::"}, "symbol is empty"),
                ("review", {}, "needs a model"),
            ]
            for tool, arguments, said in bad:
                err, text = await call(client, tool, **arguments)
                assert err and said in text, (tool, arguments, text)
                assert "PAYMENT_API_KEY" not in text and "sk-live" not in text and "not the repository" not in text
            # and the server answers on
            err, text = await call(client, "definition", symbol="apply_discount")
            assert not err and "def apply_discount" in text, text
        assert "Traceback" not in (tmp_path / "server.log").read_text()

    run(scenario)


def test_review_of_the_working_tree_with_the_configured_model(shop: Path, tmp_path: Path) -> None:
    pricing = shop / "shop" / "pricing.py"
    pricing.write_text(pricing.read_text().replace("    return round_money(amount * (1 - percent / 100))", BUG))

    def respond(path: str, body: dict) -> str | None:
        system = body["messages"][0]["content"]
        if system.startswith("You merge"):
            return json.dumps({"keep": list(range(json.dumps(body).count('\\"id\\"')))})
        if "specialised in correctness" in system:
            return json.dumps({"findings": [{
                "path": "shop/pricing.py", "line": 9, "severity": "error", "rule": "wrong-divisor",
                "title": "Discount divides by 10, not 100", "message": "percent is 0-100."}]})
        return json.dumps({"findings": []})

    async def scenario(api: FakeOpenAI) -> tuple[bool, str]:
        model = {"OPENAI_BASE_URL": api.base_url, "OPENAI_API_KEY": "sk-test", "RAGLS_MODEL": "test-review"}
        async with stdio_session(shop, tmp_path / "server.log", **model) as client:
            return await call(client, "review")

    with FakeOpenAI() as api:
        api.responder = respond
        err, text = run(lambda: scenario(api))
    assert not err, text
    assert "`shop/pricing.py:9`" in text and "Discount divides by 10, not 100" in text and "wrong-divisor" in text
    prompts = [json.dumps(body) for path, body in api.requests if path.endswith("/chat/completions")]
    assert len(prompts) == 4, "the four specialists; one finding needs no merge pass"
    assert any("percent / 10))" in p for p in prompts)
    assert not any("sk-live-do-not-send" in p or AWS_KEY in p for p in prompts), "secrets never reach the model"


def test_refreshes_only_when_it_can_take_the_index_lock(shop: Path, tmp_path: Path) -> None:
    """Another ragls writing the index (here: its lock held): the server answers from the index as it is; once the
    lock is free, its next call refreshes it."""
    data = tmp_path / "data"
    subprocess.run(_argv("index", str(shop), "--data-dir", str(data), "-q"), check=True, capture_output=True,
                   env={**os.environ, "ANONYMIZED_TELEMETRY": "False"}, timeout=TIMEOUT_S)
    (shop / "shop" / "refunds.py").write_text("def refund_order(order_id: str) -> None:\n    pass\n")
    lock = WriteLock(data / "write.lock")
    lock.acquire()

    async def scenario() -> tuple[str, str]:
        async with stdio_session(shop, tmp_path / "server.log", "--data-dir", str(data)) as client:
            err, stale = await call(client, "definition", symbol="apply_discount")
            assert not err and "def apply_discount" in stale, stale
            err, stale = await call(client, "definition", symbol="refund_order")
            assert not err and stale.startswith("No definition"), "the new file is not indexed yet"
            lock.release()
            deadline = time.monotonic() + 30
            while True:  # calls within FRESH_S of the last refresh use the index as it is
                err, fresh = await call(client, "definition", symbol="refund_order")
                if not fresh.startswith("No definition") or time.monotonic() > deadline:
                    return stale, fresh
                await asyncio.sleep(0.2)

    try:
        _, fresh = run(scenario)
    finally:
        lock.release()
    assert headers(fresh) == ["shop/refunds.py:1-2 refund_order (function)"], fresh
    assert "it is used as it is" in (tmp_path / "server.log").read_text()


def test_streamable_http(shop: Path, tmp_path: Path) -> None:
    port = free_port()
    with (tmp_path / "server.log").open("w") as errlog:
        proc = subprocess.Popen(_argv("mcp", "--repo", str(shop), "--http", f"127.0.0.1:{port}"),
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errlog,
                                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not listen"
                time.sleep(0.1)

        async def scenario() -> tuple[set[str], tuple[bool, str]]:
            # the handshake today's agents make (initialize), not the 2026 protocol's discovery
            async with Client(f"http://127.0.0.1:{port}/mcp", mode="legacy", read_timeout_seconds=TIMEOUT_S) as client:
                names = {t.name for t in (await client.list_tools()).tools}
                return names, await call(client, "definition", symbol="TaxPolicy")

        names, (err, text) = run(scenario)
        assert names == {"context", "search", "definition", "review"}
        assert not err and headers(text)[0].startswith("shop/pricing.py:12-22 TaxPolicy (class)"), text
    finally:
        proc.terminate()
        proc.wait(30)
        assert proc.stdout is not None
        assert proc.stdout.read() == b"", "nothing on stdout"
        proc.stdout.close()
    assert f"serving {shop} at http://127.0.0.1:{port}/mcp" in (tmp_path / "server.log").read_text()


def test_usage_errors() -> None:
    for args, said in [(("--http", "localhost"), "--http wants HOST:PORT"),
                       (("--repo", "/nonexistent/folder"), "is not a directory")]:
        done = subprocess.run(_argv("mcp", *args), capture_output=True, text=True, timeout=TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
        assert done.returncode == 2 and said in done.stderr and done.stdout == "", done
