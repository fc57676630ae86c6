"""`ragls complete|fix|explain|ask` from the command line, against the tests' local model server."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .fake_openai import FakeOpenAI


def ragls(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAGLS_MODEL", "RAGLS_FIM"))}
    return subprocess.run([sys.executable, "-m", "ragls.server.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env={**base, **(env or {})}, timeout=120)


def test_show_prompt_needs_no_model(shop_repo):
    root = Path(shop_repo.working_tree_dir)
    out = ragls("complete", "shop/checkout.py:12:10", "--show-prompt", "--json", cwd=root)
    assert out.returncode == 0, out.stderr
    prompt = json.loads(out.stdout)
    assert prompt["tokens"] > 0 and any("apply_discount" in c["symbols"] for c in prompt["context"])
    assert "def apply_discount" in json.dumps(prompt["messages"])


def test_lines_outside_the_file_are_one_clear_error(shop_repo):
    root = Path(shop_repo.working_tree_dir)  # shop/checkout.py has 21 lines (its last one empty)
    for command, where, why in (("fix", "shop/checkout.py:0", "lines 1-21; got 0"),
                                ("explain", "shop/checkout.py:9-3", "got 9-3"),
                                ("fix", "shop/checkout.py:400", "got 400"),
                                ("complete", "shop/checkout.py:12:99", "COL must be 0-")):
        out = ragls(command, where, "--show-prompt", cwd=root)
        assert out.returncode == 2 and why in out.stderr and "Traceback" not in out.stderr, out.stderr
    tail = ragls("explain", "shop/checkout.py:17-999", "--show-prompt", "--json", cwd=root)
    assert tail.returncode == 0, "an end past the last line means the end of the file"


def test_without_a_model_the_message_says_how_to_configure_one(shop_repo):
    out = ragls("explain", "shop/checkout.py:8-14", cwd=Path(shop_repo.working_tree_dir))
    assert out.returncode == 2 and "OPENAI_BASE_URL" in out.stderr and "RAGLS_MODEL" in out.stderr


def test_explain_fix_and_ask_call_the_model(shop_repo):
    root = Path(shop_repo.working_tree_dir)
    with FakeOpenAI() as api:
        env = {"OPENAI_BASE_URL": api.base_url, "OPENAI_API_KEY": "sk-test", "RAGLS_MODEL": "m"}
        api.replies.append("Totals the cart.")
        out = ragls("explain", "shop/checkout.py:8-14", cwd=root, env=env)
        assert out.returncode == 0 and "Totals the cart." in out.stdout
        cited = next(line for line in out.stdout.splitlines() if "(shop/pricing.py:" in line)
        assert "`apply_discount`" in cited and "`TaxPolicy`" in cited  # one snippet of pricing.py shows both
        api.replies.append("```python\n    tax = TaxPolicy(country).tax_for(max(net, 0))\n```")
        out = ragls("fix", "shop/checkout.py:13", "--diagnostic", "negative amount", "--json", cwd=root, env=env)
        assert json.loads(out.stdout)["replacement"] == "    tax = TaxPolicy(country).tax_for(max(net, 0))"
        assert "negative amount" in json.dumps(api.requests[-1][1])
        api.fail_next.extend([500, 500, 500])
        out = ragls("ask", "where is tax computed?", cwd=root, env=env)
        assert out.returncode == 1 and "ragls:" in out.stderr and "Traceback" not in out.stderr


def test_fim_completion_uses_the_configured_family(shop_repo):
    root = Path(shop_repo.working_tree_dir)
    text = (root / "shop/checkout.py").read_text().replace("    net = apply_discount(cart.total(), discount)",
                                                           "    net = ")
    (root / "shop/checkout.py").write_text(text)
    with FakeOpenAI() as api:
        api.replies.append("apply_discount(cart.total(), discount)\n    tax = 1<|endoftext|>")
        env = {"OPENAI_BASE_URL": api.base_url, "OPENAI_API_KEY": "sk-test", "RAGLS_MODEL": "m",
               "RAGLS_FIM_TEMPLATE": "starcoder"}
        out = ragls("complete", "shop/checkout.py:12:10", "--json", cwd=root, env=env)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["text"].startswith("apply_discount(cart.total(), discount)")
        path, body = api.requests[-1]
        assert path.endswith("/completions") and not path.endswith("/chat/completions")
        assert body["prompt"].startswith("<fim_prefix>") and "def apply_discount" in body["prompt"]
        assert "<|endoftext|>" in body["stop"]
