"""The settings from the command line: `ragls config`, problems as stderr lines, the user's file and the project's
driving `ragls ask` and `ragls index`, and --timeout reaching the model client."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .fake_openai import FakeOpenAI


def ragls(*args: str, cwd: Path, config: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`ragls ARGS` with no model variables of the caller's, XDG_CONFIG_HOME at `config`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAGLS_MODEL", "RAGLS_FIM",
                                                                       "RAGLS_EMBED", "RAGLS_COMPLETION"))}
    return subprocess.run([sys.executable, "-m", "ragls.server.cli", *args], capture_output=True, text=True,
                          cwd=cwd, env={**base, "XDG_CONFIG_HOME": str(config), **(env or {})}, timeout=180)


def user_config(tmp_path: Path, text: str) -> Path:
    """XDG_CONFIG_HOME with ragls/config.toml holding `text`."""
    (tmp_path / "xdg" / "ragls").mkdir(parents=True)
    (tmp_path / "xdg" / "ragls" / "config.toml").write_text(text)
    return tmp_path / "xdg"


def test_config_json_names_every_source_and_never_the_key(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    config = user_config(tmp_path, '[model]\nbaseUrl = "http://localhost:11434/v1"\nchatModel = "user-model"\n'
                                   'timeoutS = 45\n\n[completion]\nbudget = 1000\n')
    (root / ".ragls.toml").write_text('[model]\nbaseUrl = "https://attacker.example/v1"\napiKeyEnv = "GITHUB_TOKEN"\n'
                                      '[completion]\nbudget = 1500\nmaxTokens = 99\n')
    env = {"OPENAI_API_KEY": "sk-live-secret-1234", "GITHUB_TOKEN": "ghp_secret", "RAGLS_MODEL": "env-model"}
    out = ragls("config", "--json", "--timeout", "12", "--set", "chat.hover=true", cwd=root, config=config, env=env)
    assert out.returncode == 0, out.stderr
    assert "sk-live-secret-1234" not in out.stdout + out.stderr and "ghp_secret" not in out.stdout + out.stderr
    shown = json.loads(out.stdout)
    s = shown["settings"]
    user, project = str(config / "ragls" / "config.toml"), str(root / ".ragls.toml")
    assert shown["userFile"] == user and shown["projectFile"] == project
    assert s["model.baseUrl"] == {"value": "http://localhost:11434/v1", "source": "user", "from": user}
    assert s["model.apiKeyEnv"] == {"value": "OPENAI_API_KEY", "source": "default", "variableSet": True}
    assert s["model.chatModel"] == {"value": "env-model", "source": "env", "from": "RAGLS_MODEL"}
    assert s["model.timeoutS"] == {"value": 12.0, "source": "flag", "from": "--timeout"}
    assert s["chat.hover"] == {"value": True, "source": "flag", "from": "--set chat.hover"}
    assert s["completion.budget"] == {"value": 1500, "source": "project", "from": project}
    assert s["completion.maxTokens"]["value"] == 99 and s["chat.budget"] == {"value": 6000, "source": "default"}
    # the project's file chose an endpoint and a secret: refused, one line each naming the key and the file
    lines = out.stderr.splitlines()
    assert [line.split(" is ignored")[0] for line in lines] == [f"ragls: {project}: model.baseUrl",
                                                                 f"ragls: {project}: model.apiKeyEnv"]
    assert shown["problems"] == [line.removeprefix("ragls: ") for line in lines]
    text = ragls("config", cwd=root, config=config, env=env)
    assert text.returncode == 0 and "sk-live-secret-1234" not in text.stdout
    row = next(line for line in text.stdout.splitlines() if line.startswith("model.apiKeyEnv"))
    assert row.split() == ['model.apiKeyEnv', '"OPENAI_API_KEY"', 'default;', '$OPENAI_API_KEY', 'is', 'set']
    assert "| `model.timeoutS` | `30.0` |" in ragls("config", "--reference", cwd=root, config=config).stdout


def test_bad_settings_are_one_stderr_line_each_and_the_command_goes_on(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    config = user_config(tmp_path, "[model\nchatModel = 'x'\n")
    (root / "pyproject.toml").write_text('[tool.ragls.completion]\nbudget = "lots"\nmaxTokens = 77\nbugdet = 1\n')
    out = ragls("complete", "shop/checkout.py:12:10", "--show-prompt", "--json", "--set", "nextEdit.budget=many",
                cwd=root, config=config)
    assert out.returncode == 0, out.stderr
    problems = [line for line in out.stderr.splitlines() if line.startswith("ragls: ")]
    where = f"{root / 'pyproject.toml'} [tool.ragls]"
    assert problems[0].startswith(f"ragls: {config / 'ragls' / 'config.toml'}: not valid TOML (")
    assert problems[1:] == [f"ragls: {where}: completion.budget: expected a whole number, got a string; ignored",
                            f"ragls: {where}: unknown setting completion.bugdet (did you mean completion.budget?); "
                            "ignored",
                            "ragls: --set: nextEdit.budget: expected a whole number, got a string; ignored"]
    assert json.loads(out.stdout)["tokens"] > 0  # the prompt was built with the valid rest
    shown = json.loads(ragls("config", "--json", cwd=root, config=config).stdout)
    assert shown["settings"]["completion.maxTokens"]["value"] == 77 and len(shown["problems"]) == 3
    nowhere = ragls("config", "--repo", str(tmp_path / "no-such-project"), cwd=root, config=config)
    assert nowhere.returncode == 2 and "is not a directory" in nowhere.stderr


def test_the_users_file_and_the_projects_drive_a_model_command(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    with FakeOpenAI() as api:
        config = user_config(tmp_path, f'[model]\nbaseUrl = "{api.base_url}"\nchatModel = "from-user-file"\n')
        (root / ".ragls.toml").write_text("[chat]\nmaxTokens = 321\n")
        api.replies.append("Totals the cart.")
        out = ragls("explain", "shop/checkout.py:8-14", cwd=root, config=config, env={"OPENAI_API_KEY": "sk-test"})
        assert out.returncode == 0 and "Totals the cart." in out.stdout, out.stderr
        path, body = api.requests[-1]
        assert body["model"] == "from-user-file" and body["max_tokens"] == 321
        # flags over both
        api.replies.append("Totals it.")
        out = ragls("explain", "shop/checkout.py:8-14", "--model", "from-flag", "--set", "chat.maxTokens=50",
                    cwd=root, config=config, env={"OPENAI_API_KEY": "sk-test"})
        assert out.returncode == 0, out.stderr
        assert api.requests[-1][1]["model"] == "from-flag" and api.requests[-1][1]["max_tokens"] == 50


def test_timeout_flag_reaches_the_model_client(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    with FakeOpenAI() as api:
        api.delay_s = 3
        env = {"OPENAI_BASE_URL": api.base_url, "OPENAI_API_KEY": "sk-test", "RAGLS_MODEL": "m"}
        out = ragls("ask", "where is tax computed?", "--timeout", "0.5", "--set", "model.maxRetries=0", cwd=root,
                    config=tmp_path / "none", env=env)
        assert out.returncode == 1 and "within 0.5s" in out.stderr and "--timeout" in out.stderr, out.stderr
        assert "Traceback" not in out.stderr


def test_embedder_settings_from_the_users_file_and_the_environment(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    with FakeOpenAI() as api:
        config = user_config(tmp_path, f'[index]\nembedder = "openai:test-embed"\nembedBaseUrl = "{api.base_url}"\n')
        out = ragls("index", ".", "--json", "-q", cwd=root, config=config, env={"RAGLS_EMBED_API_KEY": "sk-embed"})
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["embedded"] > 0
        assert {p for p, _ in api.requests} == {"/v1/embeddings"}
        assert api.headers[-1]["authorization"] == "Bearer sk-embed"
        assert all(body["model"] == "test-embed" for _, body in api.requests)
    with FakeOpenAI() as api:  # the documented variables are the environment layer
        env = {"RAGLS_EMBEDDER": "openai:env-embed", "RAGLS_EMBED_BASE_URL": api.base_url,
               "OPENAI_API_KEY": "sk-model"}
        out = ragls("index", ".", "--json", "-q", "--data-dir", str(tmp_path / "data2"), cwd=root,
                    config=tmp_path / "none", env=env)
        assert out.returncode == 0, out.stderr
        assert api.requests and all(body["model"] == "env-embed" for _, body in api.requests)
        assert api.headers[-1]["authorization"] == "Bearer sk-model"  # RAGLS_EMBED_API_KEY unset: the model's key
