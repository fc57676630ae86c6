"""The VS Code extension: its settings agree with the server's, it builds, lints, packages, passes its unit tests,
and drives the real server over stdio as its language client does (against the tests' local model server)."""
from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tomllib
import types
import typing
import zipfile
from pathlib import Path

import pytest

from ragls.server.settings import Settings, keys

from .conftest import FIXTURES, make_git_repo
from .fake_openai import FakeOpenAI, next_edit_rewriter

CLIENT = Path(__file__).resolve().parent.parent / "vscode-client"
MANIFEST = json.loads((CLIENT / "package.json").read_text())
PROPERTIES = MANIFEST["contributes"]["configuration"]["properties"]
EXTENSION_ONLY = {"ragls.server.command", "ragls.server.args", "ragls.server.pythonPath", "ragls.server.env",
                  "ragls.trace.server"}
NODE = shutil.which("node")
NPM = shutil.which("npm")
needs_node = pytest.mark.skipif(not (NODE and NPM and (CLIENT / "node_modules").is_dir()),
                                reason="needs node, npm and vscode-client/node_modules (cd vscode-client && npm ci)")


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _server_settings(cls: type = Settings, prefix: str = "ragls") -> dict[str, tuple[object, object]]:
    """Every leaf of the server's settings dataclasses: `ragls.<camelCase path>` -> (type, default)."""
    out: dict[str, tuple[object, object]] = {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key, hint = f"{prefix}.{_camel(f.name)}", hints[f.name]
        if dataclasses.is_dataclass(hint):
            out.update(_server_settings(hint, key))
        else:
            out[key] = (hint, f.default)
    return out


JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


def test_contributed_settings_agree_with_the_server():
    server = _server_settings()
    contributed = set(PROPERTIES)
    assert contributed - set(server) == EXTENSION_ONLY, "contributed but unknown to the server (or not allow-listed)"
    assert set(server) - contributed == set(), "server settings the extension does not contribute"
    for key, (hint, default) in server.items():
        spec = PROPERTIES[key]
        args = set(typing.get_args(hint)) if isinstance(hint, types.UnionType) else {hint}
        optional = type(None) in args
        (base,) = args - {type(None)}
        assert spec["type"] == JSON_TYPES[base], key
        if optional:  # unset on the server: an empty string in VS Code, sent as null
            assert default is None and spec["default"] == "", key
        else:
            assert spec["default"] == default, key
            assert type(spec["default"]) in ({float, int} if base is float else {base}), key
        assert spec.get("markdownDescription") or spec.get("description"), f"{key} has no description"
    assert not any("apikey" in k.lower() and not k.lower().endswith("apikeyenv") for k in PROPERTIES), \
        "the key is never a setting (only the variable holding it)"
    assert PROPERTIES["ragls.trace.server"]["enum"] == ["off", "messages", "verbose"]


def test_fim_template_choices_are_the_servers():
    families = tomllib.loads((CLIENT.parent / "prompts" / "fim.toml").read_text())
    assert PROPERTIES["ragls.model.fimTemplate"]["enum"] == ["", *families]


def test_manifest_can_be_packaged_and_restricts_untrusted_workspaces():
    for field in ("name", "publisher", "version", "license", "engines", "main"):
        assert MANIFEST.get(field), field
    assert (CLIENT / "LICENSE").is_file() and (CLIENT / "README.md").is_file()
    restricted = set(MANIFEST["capabilities"]["untrustedWorkspaces"]["restrictedConfigurations"])
    assert {"ragls.server.command", "ragls.server.pythonPath", "ragls.server.env", "ragls.model.baseUrl"} <= restricted
    # what a project's .ragls.toml may not set, a workspace's .vscode/settings.json may not either until trusted
    assert {f"ragls.{k.name}" for k in keys().values() if k.user_only} <= restricted
    lock = json.loads((CLIENT / "package-lock.json").read_text())
    assert lock["packages"][""]["dependencies"] == MANIFEST["dependencies"]


def _npm(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    proc = subprocess.run([NPM or "npm", *args], cwd=CLIENT, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"npm {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc


@pytest.fixture(scope="module")
def compiled() -> Path:
    """Type-checks and builds the extension and its tests once (tsc, then the esbuild bundle)."""
    _npm("run", "compile")
    return CLIENT / "out"


@needs_node
def test_lints_clean(compiled):
    _npm("run", "lint")


@needs_node
def test_unit_tests_pass(compiled):
    proc = _npm("test")
    assert all(s in proc.stdout for s in ("# fail 0", "# cancelled 0", "# pass ")), proc.stdout[-3000:]


@needs_node
def test_packages_a_vsix_with_the_language_client_bundled(compiled, tmp_path):
    vsix = tmp_path / "ragls.vsix"
    _npm("run", "package", "--", "--out", str(vsix))
    with zipfile.ZipFile(vsix) as zf:
        names = set(zf.namelist())
        bundle = zf.read("extension/dist/extension.js").decode()
        packaged = json.loads(zf.read("extension/package.json"))
    assert {"extension/package.json", "extension/LICENSE.txt", "extension/readme.md",
            "extension/dist/extension.js"} <= names
    assert not any(n.startswith(("extension/node_modules/", "extension/src/", "extension/out/", "extension/test/"))
                   for n in names)
    assert "textDocument/inlineCompletion" in bundle  # vscode-languageclient is in the bundle
    assert packaged["contributes"]["configuration"]["properties"] == PROPERTIES


@needs_node
def test_drives_the_real_server_as_the_extension_does(compiled, tmp_path):
    root = Path(make_git_repo(FIXTURES / "pyrepo", tmp_path / "shop-repo").working_tree_dir)
    report = tmp_path / "report.json"
    with FakeOpenAI() as api:
        api.fail_next.append(500)  # the first model call (an explain) fails: a clear message, once
        api.responder = next_edit_rewriter("apply_discount", "discounted")  # the next edit of a rename
        # the fix asks for the definition around the diagnostic: the checkout function (lines 8-14) as the client
        # has it (line 12 being typed), corrected
        definition = "\n".join((root / "shop/checkout.py").read_text().split("\n")[7:14])
        definition = definition.replace("    net = apply_discount(cart.total(), discount)", "    net = ").replace(
            "    tax = TaxPolicy(country).tax_for(net)", "    tax = TaxPolicy(country).tax_for(max(net, 0.0))")
        api.replies.extend([
            "apply_discount(cart.total(), discount)",  # inline completion
            f"```python\n{definition}\n```",  # fix
            "It totals the cart, applies the discount and adds tax.",  # explain
            "Taxes are computed by TaxPolicy.tax_for.",  # ask
        ])
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAGLS_"))
               or k in ("RAGLS_HOME", "RAGLS_MODELS", "RAGLS_LOG_LEVEL")}
        env.update({"RAGLS_E2E_WORKSPACE": str(root), "RAGLS_E2E_BASE_URL": api.base_url,
                    "RAGLS_E2E_API_KEY": "sk-from-secret-storage", "RAGLS_E2E_REPORT": str(report),
                    "RAGLS_PYTHON": sys.executable, "RAGLS_HOME": str(tmp_path / "home")})
        proc = subprocess.run([NODE or "node", "--test", "--test-reporter=spec", "out/test/e2e/server.e2e.js"],
                              cwd=CLIENT, env=env, capture_output=True, text=True, timeout=420)
        requests = list(api.requests)
        headers = list(api.headers)
    assert proc.returncode == 0, f"{proc.stdout[-8000:]}\n{proc.stderr[-8000:]}"
    assert "ℹ fail 0" in proc.stdout and "ℹ skipped 0" in proc.stdout, proc.stdout[-3000:]
    seen = json.loads(report.read_text())
    assert seen["results"]["exitCode"] == 0  # shut down cleanly
    chats = [json.dumps(body) for path, body in requests if path.endswith("/chat/completions")]
    # failed explain, completion, fix, explain, ask, next edit; the cancelled completion never reached the model
    assert len(chats) == 6, chats
    completion, fix = chats[1], chats[2]
    assert "def apply_discount(amount: float, percent: float)" in completion and "shop/pricing.py" in completion
    assert "--- README.md:1-3" in completion and "A tiny package used by ragls's retrieval tests." in completion
    assert "class TaxPolicy" in fix and "tax_for expects a positive amount" in fix
    assert all(b["model"] == "test-chat" for p, b in requests if p.endswith("/chat/completions"))  # from settings
    assert all(h.get("authorization") == "Bearer sk-from-secret-storage" for h in headers)
    assert "500" in seen["results"]["failure"]["request"]
    # the forwarded diagnostics reached the next edit's prompt; ragls's own were not sent back
    next_edit = chats[5]
    assert "Region of shop/checkout.py" in next_edit and "-def apply_discount" in next_edit
    assert "is unknown import symbol [Pylance reportAttributeAccessIssue]" in next_edit
    assert "a finding of ragls itself" not in next_edit
