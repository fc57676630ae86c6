"""Emacs with eglot end to end: a headless Emacs, the real server over stdio and the local model server."""
from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from .fake_openai import FakeOpenAI
from .headless import run_headless

SCRIPT = Path(__file__).parent / "emacs" / "e2e.el"
EMACS = shutil.which("emacs")
RAGLS = Path(sys.executable).with_name("ragls")
TIMEOUT_S = 120

COMPLETION = "apply_discount(cart.total(), discount)"
FIXED = "    tax = TaxPolicy(country).tax_for(max(net, 0.0))"
EXPLANATION = "It totals the cart, applies the discount and adds tax."


def run_emacs(params: dict, env: dict[str, str], tmp_path: Path) -> dict:
    """Run tests/emacs/e2e.el in `emacs --batch -Q`; its process group is killed if it outlives TIMEOUT_S. Skips the
    test when the script says eglot cannot be loaded."""
    (tmp_path / "params.json").write_text(json.dumps(params))
    assert EMACS is not None
    status, out = run_headless([EMACS, "--batch", "-Q", "-l", str(SCRIPT)],
                               {**env, "RAGLS_EMACS_TEST": str(tmp_path / "params.json")}, params["root"], TIMEOUT_S)
    where = f"emacs exited {status}\n{out}"
    result = Path(params["result"])
    assert result.exists(), where
    data = json.loads(result.read_text())
    if "skip" in data:
        pytest.skip(data["skip"])
    assert status == 0 and data.get("ok"), f"{data.get('error')}\n{data}\n{where}"
    return data


@pytest.mark.skipif(EMACS is None, reason="emacs not found (apt-get install emacs-nox elpa-eglot)")
def test_eglot_attaches_completes_fixes_and_explains(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    with FakeOpenAI() as api:
        api.replies += [COMPLETION, f"```python\n{FIXED}\n```", EXPLANATION]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAGLS_", "XDG_", "EMACS"))}
        env.update({"OPENAI_API_KEY": "sk-test-secret", "RAGLS_HOME": str(tmp_path / "home"), "HOME": str(tmp_path),
                    "ANONYMIZED_TELEMETRY": "False",
                    **{f"XDG_{d}_HOME": str(tmp_path / d.lower()) for d in ("CONFIG", "DATA", "STATE", "CACHE")}})
        # the model comes only from initializationOptions (and workspace/configuration): none in the environment
        settings = {"model": {"baseUrl": api.base_url, "chatModel": "test-chat", "timeoutS": 10, "maxRetries": 0},
                    "completion": {"debounceMs": 0}, "index": {"debounceMs": 50}, "nextEdit": {"enabled": False}}
        params = {"root": str(root), "ragls": str(RAGLS), "settings": settings,
                  "result": str(tmp_path / "result.json"), "timeout_s": TIMEOUT_S - 20}
        data = run_emacs(params, env, tmp_path)
        prompts = [json.dumps(body) for path, body in api.requests if path.endswith("/chat/completions")]

    steps = data["steps"]
    assert steps["attached"] == {"root": f"{root}/", "managed": True, "server": "ragls"}
    assert steps["model_base_url"] == api.base_url
    assert "indexed" in steps["indexed"]

    # eglot has no inline completion: the server offers textDocument/completion to it, and its commands
    caps = steps["capabilities"]
    assert caps["completion"] is True and caps["inline_completion"] is False and caps["code_action"] is True
    assert {"ragls.fix", "ragls.explain", "ragls.ask"} <= set(caps["commands"])

    # completion-at-point: the model's suggestion is the one candidate, and completing inserts it
    assert steps["candidates"] == [COMPLETION]
    assert steps["completion_ok"] is True and steps["completion"] == f"    net = {COMPLETION}"
    assert "def apply_discount(amount: float, percent: float)" in prompts[0]  # a cross-file definition

    # the fix: offered with the explanation for a selection; applied by eglot (workspace/applyEdit), line 13 only
    assert steps["actions"] == ["ragls: fix the selection", "ragls: explain the selection"]
    fix = steps["fix"]
    assert fix["line13"] == FIXED
    assert fix["line12"] == f"    net = {COMPLETION}" and fix["line14"] == "    return format_money(net + tax)"
    assert fix["lines_after"] == fix["lines_before"]

    # explain: the model's Markdown, then the definitions used, cited as path:line
    assert steps["explain"].startswith(f"{EXPLANATION}\n\n**Context used**\n")
    assert "(shop/pricing.py:" in steps["explain"]
    assert len(prompts) == 3  # one model call each for the completion, the fix and the explanation
    assert "sk-test-secret" not in json.dumps(data)
