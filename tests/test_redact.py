"""Secret redaction: each kind found and replaced, ordinary code left alone, and no secret in any prompt that the
CLI, the language server or `ragls review` sends to the model."""
from __future__ import annotations

import base64
import json
import logging
import random
import statistics
import subprocess
import time
from pathlib import Path

import git
import pytest
from lsprotocol import types

from ragls.indexer import tokens
from ragls.indexer import secrets as redact_module
from ragls.indexer.secrets import Redactor, find, redact, set_extra_patterns
from ragls.prompts.render import load, render
from ragls.server.cli import main

from .conftest import commit_all
from .fake_openai import FakeOpenAI
from .lsp_helpers import open_doc, start_server, wait_indexed
from .test_server_cli import ragls

ROOT = Path(__file__).resolve().parents[1]
# Secrets are assembled at run time, so that this file holds none that a scanner (or ragls itself) would find.
BEGIN, END = "-----BEGIN RSA " + "PRIVATE KEY-----", "-----END RSA " + "PRIVATE KEY-----"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def pem(seed: int = 7, size: int = 1190) -> str:
    """An RSA-sized PEM private key block (random bytes: the detector does not parse keys)."""
    body = base64.b64encode(random.Random(seed).randbytes(size)).decode()
    return "\n".join([BEGIN, *(body[i:i + 64] for i in range(0, len(body), 64)), END])


def jwt(subject: str = "shop-service") -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps({"sub": subject, "iat": 1700000000}).encode())
    return f"{header}.{payload}.{_b64url(random.Random(subject).randbytes(32))}"


AWS_KEY = "AKIA" + "Z7Q2M4X8R1T6V3N5"
GH_TOKEN = "ghp" + "_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
DB_PASSWORD = "Sup3r-s3cret" + "-pw"
PEM = pem()
JWT = jwt()
SECRETS = {"aws-access-key": AWS_KEY, "github-token": GH_TOKEN, "url-password": DB_PASSWORD, "jwt": JWT,
           "private-key": PEM}

# kind -> (text holding the secret, the secret)
KINDS = {
    "aws-access-key": (f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"\n', AWS_KEY),
    "aws-secret-key": ('aws_secret_access_key = "' + "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + 'EXAMPLEKEY"\n',
                       "wJalrXUtnFEMI/K7MDENG/bPxRfiCY" + "EXAMPLEKEY"),
    "azure-storage-key": ("conn = 'DefaultEndpointsProtocol=https;AccountName=shop;AccountKey="
                          + base64.b64encode(random.Random(1).randbytes(64)).decode()
                          + ";EndpointSuffix=core.windows.net'\n",
                          base64.b64encode(random.Random(1).randbytes(64)).decode()),
    "github-token": (f"TOKEN = '{GH_TOKEN}'\n", GH_TOKEN),
    "gitlab-token": ("token: glpat" + "-Xy7Qm2Rt9Lp4Kz8Nw3Vb\n", "glpat" + "-Xy7Qm2Rt9Lp4Kz8Nw3Vb"),
    "slack-token": ("SLACK = 'xoxb" + "-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx'\n",
                    "xoxb" + "-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
    "stripe-key": ("stripe.api_key = 'sk_live" + "_51HqLyjWDarjtT1zdp7dcXt2pZ9Qk8Rm3Lw5Vn7Bx2Yc4'\n",
                   "sk_live" + "_51HqLyjWDarjtT1zdp7dcXt2pZ9Qk8Rm3Lw5Vn7Bx2Yc4"),
    "npm-token": ("//registry.npmjs.org/:_authToken=npm" + "_a8Kd93LmQ2xZ7vN4pR6tY1wE5uI0oPs3FgH2\n",
                  "npm" + "_a8Kd93LmQ2xZ7vN4pR6tY1wE5uI0oPs3FgH2"),
    "pypi-token": ("password = pypi" + "-AgEIcHlwaS5vcmc" + "A" * 8 + "x7Kq2Lm9" * 9 + "\n",
                   "pypi" + "-AgEIcHlwaS5vcmc" + "A" * 8 + "x7Kq2Lm9" * 9),
    "openai-key": ("OPENAI_API_KEY = 'sk-proj" + "-Ab3De5Gh7Jk9Mn1Pq3St" + "T3BlbkFJ" + "Uv5Wx7Yz9Bc1Df3Gh5Jk'\n",
                   "sk-proj" + "-Ab3De5Gh7Jk9Mn1Pq3St" + "T3BlbkFJ" + "Uv5Wx7Yz9Bc1Df3Gh5Jk"),
    "api-key": ("client = Anthropic(api_key='sk-ant" + "-api03-Zq8Rt2Lm6Vx1Nb4Kp7Wc9Yd3Hf5Gj0Ss2Aa8Qe')\n",
                "sk-ant" + "-api03-Zq8Rt2Lm6Vx1Nb4Kp7Wc9Yd3Hf5Gj0Ss2Aa8Qe"),
    "twilio-key": ("TWILIO_KEY_SID = 'SK" + "0f9e8d7c6b5a49382716f5e4d3c2b1a0'\n",
                   "SK" + "0f9e8d7c6b5a49382716f5e4d3c2b1a0"),
    "sendgrid-key": ("SENDGRID = 'SG" + ".Ab3De5Gh7Jk9Mn1Pq3St5V.Wx7Yz9Bc1Df3Gh5Jk7Lm9Np1Qr3St5Vw7Xz9Ab1Cd3Ef'\n",
                     "SG" + ".Ab3De5Gh7Jk9Mn1Pq3St5V.Wx7Yz9Bc1Df3Gh5Jk7Lm9Np1Qr3St5Vw7Xz9Ab1Cd3Ef"),
    "gcp-api-key": ("MAPS_KEY = 'AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q'\n",
                    "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"),
    "jwt": (f'headers = {{"Authorization": "Bearer {JWT}"}}\n', JWT),
    "url-password": (f'DATABASE_URL = "postgres://shop:{DB_PASSWORD}@db.internal:5432/shop"\n', DB_PASSWORD),
    "private-key": (f'SIGNING_KEY = """{PEM}\n"""\n', PEM),
}


def test_each_kind_is_replaced_by_its_placeholder():
    for kind, (text, secret) in KINDS.items():
        out, counts = redact(text)
        assert secret not in out, kind
        assert counts == {kind: 1} and f"<redacted:{kind}>" in out, (kind, out)
        assert out.count("\n") == text.count("\n"), "line count kept"
    assert redact(KINDS["url-password"][0])[0] == \
        'DATABASE_URL = "postgres://shop:<redacted:url-password>@db.internal:5432/shop"\n'  # the rest stays readable


def test_basic_auth_in_urls_and_service_account_keys():
    out, counts = redact("r = requests.get('https://deploy:" + "hunter2horse@ci.example.com/api')\n")
    assert "hunter2horse" not in out and counts == {"url-password": 1}
    body = PEM.replace(BEGIN, "-----BEGIN " + "PRIVATE KEY-----").replace(END, "-----END " + "PRIVATE KEY-----")
    account = json.dumps({"type": "service_account", "project_id": "shop", "private_key": body + "\n",
                          "client_email": "ci@shop.iam.gserviceaccount.com"})
    out, counts = redact(account)
    assert counts == {"private-key": 1} and "MII" not in out and json.loads(out)["client_email"].startswith("ci@")


ORDINARY = '''
import base64, hashlib, os, uuid

COMMIT = "9fe84ac1b2c3d4e5f60718293a4b5c6d7e8f9012"  # a git SHA
RUN_ID = uuid.UUID("123e4567-e89b-12d3-a456-426614174000")
DIGEST = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
VECTORS = [(b"hello", "aGVsbG8="), (b"The quick brown fox", "VGhlIHF1aWNrIGJyb3duIGZveA=="),
           (b"", ""), (bytes(range(48)), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v")]
password = os.environ["DB_PASSWORD"]
token = get_token()
api_key: str = settings.api_key
DSN = f"postgres://{user}:{password}@{host}/shop"
REDIS = "redis://:${REDIS_PASSWORD}@redis:6379/0"
LEGACY = "mysql://%(user)s:%(password)s@%(host)s/db"
DOCS = "https://user:password@example.com/ and http://localhost:8080/path?q=a:b@c"
STYLE = "task-queue-worker-configuration-name-and-more"
PREFIX = "sk-" + os.environ["SUFFIX"]
TWILIO_SID_FORMAT = "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
DNA = "GATTACAACCAGTTCGATCGATCGGATCCAGTACGATCAGTCA"


def is_private_key(line: str) -> bool:
    return line.strip() in ("-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----")


CERT = """-----BEGIN CERTIFICATE-----
MIICpzCCAhCgAwIBAgIJAP+qStv1cIGNMA0GCSqGSIb3DQEBBQUAMIGJMQswCQYD
VQQGEwJVUzERMA8GA1UECBMIRGVsYXdhcmUxEzARBgNVBAcTCldpbG1pbmd0b24x
-----END CERTIFICATE-----"""
'''


def test_no_false_positives_on_ordinary_code():
    assert find(ORDINARY) == ()
    assert redact(ORDINARY) == (ORDINARY, {})


def test_no_false_positives_in_ragls_own_sources():
    files = subprocess.run(["git", "ls-files", "prompts", "server", "indexer", "bench", "tests/test_redact.py"],
                           cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    found = {}
    for name in files:
        path = ROOT / name
        if path.suffix in (".py", ".md", ".toml", ".lua", ".scm", ".ts") and path.is_file() and \
                (hits := find(path.read_text("utf-8", errors="replace"))):
            found[name] = [h.kind for h in hits]
    assert found == {}


def test_a_private_key_cut_by_a_window_is_still_redacted():
    lines = f'KEY = """{PEM}\n"""\nOTHER = 1\n'.split("\n")
    body = PEM.split("\n")[1:-1]
    begin_only = "\n".join(lines[:9])  # BEGIN and some body, no END: redacted to the window's end
    end_only = "\n".join(lines[12:])  # body, END and the code after it: redacted from the window's start
    inside = "\n".join(lines[5:15])  # only body lines
    for window in (begin_only, end_only, inside):
        out, counts = redact(window)
        assert counts == {"private-key": 1}, window
        assert not any(line in out for line in body) and out.count("\n") == window.count("\n")
    assert redact(end_only)[0].endswith('"""\nOTHER = 1\n'), "code after the END is kept"


def test_placeholders_name_values_consistently_within_a_prompt():
    other = "ghp" + "_Z9y8X7w6V5u4T3s2R1q0P9o8N7m6L5k4J3i2"
    r = Redactor()
    first = r(f"a = '{GH_TOKEN}'\nb = '{other}'\n")
    second = r(f"c = '{GH_TOKEN}'\n")
    assert first == "a = '<redacted:github-token>'\nb = '<redacted:github-token:2>'\n"
    assert second == "c = '<redacted:github-token>'\n"
    assert dict(r.counts) == {"github-token": 3}
    assert r.restore("use <redacted:github-token:2> here") == f"use {other} here"


def test_a_secret_across_the_cursor_is_redacted_whole():
    r = Redactor()
    before, after = r.pair(f'KEY = "{AWS_KEY[:9]}', f'{AWS_KEY[9:]}"\nx = 1\n')
    assert (before, after) == ('KEY = "<redacted:aws-access-key>', '"\nx = 1\n')
    text = f'KEY = """{PEM}\n"""\n'
    cut = text.index(PEM) + 700
    before, after = Redactor().pair(text[:cut], text[cut:])
    assert before.startswith('KEY = """<redacted:private-key>') and after.strip('\n') == '"""'
    assert (before + after).count("\n") == text.count("\n")


def test_extra_patterns_from_the_environment(monkeypatch, caplog):
    text = 'ACME_KEY = "acme-0123456789"\nINTERNAL = "corp-tok-42"\n'
    assert find(text) == ()
    monkeypatch.setenv(redact_module.ENV, 'ACME_KEY\\s*=\\s*"(?P<acme_key>[^"]+)"\ncorp-tok-\\d+\n(unclosed')
    try:
        with caplog.at_level(logging.WARNING, logger="ragls.indexer.secrets"):
            redact_module._load_env()
        assert "pattern 3 is not a valid regular expression" in caplog.text
        out, counts = redact(text)
        assert out == 'ACME_KEY = "<redacted:acme-key>"\nINTERNAL = "<redacted:custom>"\n'
        assert counts == {"acme-key": 1, "custom": 1}
    finally:
        set_extra_patterns([])
    assert find(text) == ()


def test_redaction_is_cheap_on_code_without_secrets():
    code = (ROOT / "prompts/render.py").read_text()[:8000]
    times = []
    for n in range(30):
        text = code + f"\n# {n}\n"  # a new text each time: no cache hit
        t = time.perf_counter()
        redact(text)
        times.append(time.perf_counter() - t)
    assert statistics.median(times) < 0.005, "bench/redact.py measures it: about 0.1-0.4 ms for a whole prompt"


# -- render: every template, before the budget ------------------------------------------------------------------

ITEM = {"path": "config.py", "start_line": 1, "end_line": 4, "symbol": "",
        "text": KINDS["aws-access-key"][0] + KINDS["github-token"][0] + KINDS["url-password"][0]}
SAMPLES = {
    "complete_chat": {"language": "python", "path": "app.py", "context": [ITEM], "edits": f"+TOKEN = '{GH_TOKEN}'",
                      "prefix": f'JWT = "{JWT}"\nKEY = """{PEM[:900]}', "suffix": f'{PEM[900:]}\n"""\n'},
    "complete_fim": {"language": "python", "path": "app.py", "context": [ITEM], "edits": f"+TOKEN = '{GH_TOKEN}'",
                     "prefix": f'JWT = "{JWT}"\nKEY = """{PEM[:900]}', "suffix": f'{PEM[900:]}\n"""\n'},
    "fix": {"language": "python", "path": "config.py", "start_line": 1, "end_line": 3, "scope": "the selected lines",
            "diagnostics": f"hard-coded credential {AWS_KEY}", "selection": ITEM["text"], "context": [ITEM],
            "edits": f"+TOKEN = '{GH_TOKEN}'"},
    "explain": {"language": "python", "path": "config.py", "start_line": 10, "end_line": 40,
                "selection": KINDS["private-key"][0] + "x = 1\n", "context": [ITEM], "edits": f"-KEY = '{AWS_KEY}'"},
    "next_edit": {"language": "python", "path": "config.py", "start_line": 1, "end_line": 3,
                  "edits": f"+TOKEN = '{GH_TOKEN}'", "diagnostics": f"hard-coded {AWS_KEY}", "region": ITEM["text"]},
    "ask": {"question": "What is the database password?", "context": [ITEM]},
    "review": {"focus": "security", "guidance": "Look for secrets.", "changes": KINDS["jwt"][0],
               "definitions": [ITEM], "callers": [ITEM]},
    "review_merge": {"findings": json.dumps([{"id": 0, "message": f"{GH_TOKEN} is hard-coded"}]),
                     "changes": ITEM["text"]},
}


def sent(rendered) -> str:
    return rendered.text if rendered.text is not None else json.dumps(rendered.messages)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_template_sends_placeholders_and_logs_only_counts(name, caplog):
    with caplog.at_level(logging.INFO, logger="ragls.prompts.render"):
        out = render(load(name), SAMPLES[name], 4000, fim_family="starcoder")
    text = sent(out)
    assert not leaked(text) and "<redacted:" in text and out.redactions == sum(out.redacted.values()) > 0
    assert f"prompt {name}: {out.redactions} secrets redacted" in caplog.text
    assert not leaked(caplog.text) and not leaked(repr(out)), "never the value"


def test_the_question_is_sent_as_asked_with_a_warning(caplog):
    question = f"Why is {AWS_KEY} rejected?"
    with caplog.at_level(logging.WARNING, logger="ragls.prompts.render"):
        out = render(load("ask"), {"question": question, "context": [ITEM]}, 4000)
    assert question in out.messages[1]["content"]  # the user's own words, as typed
    assert "question holds what looks like a secret (aws-access-key); sent as given" in caplog.text
    assert AWS_KEY not in caplog.text


def test_redaction_comes_before_the_budget_and_keeps_line_numbers():
    keys = "\n".join(f'KEY_{n} = """{pem(n, 2400)}\n"""' for n in range(3))  # ~10,000 characters of keys
    values = {"language": "python", "path": "keys.py", "start_line": 1, "end_line": 200,
              "selection": keys + "\nx = compute()\n", "context": [], "edits": "(none)"}
    size = render(load("explain"), values, 100_000).tokens
    assert size < tokens.count(keys) / 2, "the budget counts placeholders, not the keys"
    out = render(load("explain"), values, size)
    assert out.trimmed == {} and out.tokens == size
    lines = keys.count("\n") + 2
    assert f"{lines:>4} | x = compute()" in out.messages[1]["content"], "the line after the keys keeps its number"
    assert out.restore("KEY_0 = <redacted:private-key>") == f"KEY_0 = {pem(0, 2400)}"


# -- end to end: the CLI, the language server and `ragls review` against the local model server -------------------

CONFIG = f'''"""Settings of the shop service, with its credentials written in."""
import os

AWS_ACCESS_KEY_ID = "{AWS_KEY}"
GITHUB_TOKEN = "{GH_TOKEN}"
DATABASE_URL = "postgres://shop:{DB_PASSWORD}@db.internal:5432/shop"
SERVICE_JWT = "{JWT}"
SIGNING_KEY = """{PEM}
"""
REGION = os.environ.get("AWS_REGION", "eu-west-1")


def auth_headers(extra=None):
    """HTTP headers that authenticate to GitHub and to the billing service."""
    headers = {{"Authorization": f"token {{GITHUB_TOKEN}}", "X-Service-Token": SERVICE_JWT}}
    headers.update(extra or {{}})
    return headers


def database_url():
    """The database to connect to: DATABASE_URL."""
    return DATABASE_URL
'''
APP = '''"""The shop service: talks to the database and to the billing API."""
from config import AWS_ACCESS_KEY_ID, DATABASE_URL, SIGNING_KEY, auth_headers, database_url


def connect(driver):
    """A connection to the shop's database."""
    return driver.connect(database_url())


def billing_request(session, path):
    """A signed request to the billing API."""
    headers = auth_headers({"X-Key-Id": AWS_ACCESS_KEY_ID})
    return session.get("https://billing.internal" + path, headers=headers, key=SIGNING_KEY)
'''
PEM_LINES = (CONFIG.split("\n").index(f'SIGNING_KEY = """{BEGIN}') + 1, CONFIG.split("\n").index('"""') + 1)


def leaked(text: str) -> list[str]:
    """The secrets (or a line of the key) found in `text`, raw or JSON-escaped."""
    text = text.replace("\\n", "\n")
    out = [kind for kind, value in SECRETS.items() if kind != "private-key" and value in text]
    return out + (["private-key"] if any(line in text for line in PEM.split("\n")[1:-1]) else [])


@pytest.fixture
def secret_repo(tmp_path) -> Path:
    root = tmp_path / "shop"
    root.mkdir()
    (root / "config.py").write_text(CONFIG)
    (root / "app.py").write_text(APP)
    commit_all(root)
    return root


def test_cli_prompts_carry_placeholders_never_secrets(secret_repo):
    with FakeOpenAI() as api:
        env = {"OPENAI_BASE_URL": api.base_url, "OPENAI_API_KEY": "sk-test", "RAGLS_MODEL": "m"}
        api.replies += ["It configures the service.", "```python\nx = 1\n```", "From DATABASE_URL.", "b"]
        runs = {"explain": ragls("explain", "config.py:1-12", "-v", cwd=secret_repo, env=env),
                "fix": ragls("fix", "app.py:11-13", "--diagnostic", "key leaks", "-v", cwd=secret_repo, env=env),
                "ask": ragls("ask", "how does the service authenticate?", "-v", cwd=secret_repo, env=env),
                "complete": ragls("complete", "app.py:12:30", "-v", cwd=secret_repo, env=env)}
        bodies = [json.dumps(body) for _, body in api.requests]
    for name, out in runs.items():
        assert out.returncode == 0, (name, out.stderr)
        assert not leaked(out.stderr), name
        assert "secrets redacted (" in out.stderr, name
    assert len(bodies) == 4 and not any(leaked(b) for b in bodies)
    for kind in SECRETS:  # the explain of config.py's own lines, and the context from config.py elsewhere
        assert f"<redacted:{kind}>" in bodies[0], kind
    assert all("<redacted:" in b for b in bodies)
    shown = ragls("explain", f"config.py:{PEM_LINES[0] + 3}-{PEM_LINES[1] - 3}", "--show-prompt", cwd=secret_repo)
    assert shown.returncode == 0 and "<redacted:private-key>" in shown.stdout and not leaked(shown.stdout)


def test_a_fix_puts_the_real_values_back(secret_repo):
    """The model sees placeholders and answers with them; the edit written to the user's file holds the secrets."""
    with FakeOpenAI() as api:
        env = {"OPENAI_BASE_URL": api.base_url, "OPENAI_API_KEY": "sk-test", "RAGLS_MODEL": "m"}
        api.responder = lambda path, body: "```python\n" + next(
            line for line in body["messages"][1]["content"].split("\n") if "AWS_ACCESS_KEY_ID = " in line
        ).split("| ", 1)[1].replace('"', "'") + "\n```"
        out = ragls("fix", "config.py:4-4", "--diagnostic", "use single quotes", "--json", cwd=secret_repo, env=env)
        sent = json.dumps(api.requests[-1][1])
    assert out.returncode == 0, out.stderr
    assert AWS_KEY not in sent and "<redacted:aws-access-key>" in sent
    assert json.loads(out.stdout)["replacement"] == f"AWS_ACCESS_KEY_ID = '{AWS_KEY}'"


@pytest.mark.asyncio(loop_scope="function")
async def test_language_server_sends_no_secret(secret_repo, api, tmp_path):
    lsp, _ = await start_server(secret_repo, api.base_url, tmp_path / "home")
    try:
        await wait_indexed(lsp)
        typing = APP.replace('    headers = auth_headers({"X-Key-Id": AWS_ACCESS_KEY_ID})',
                             "    headers = auth_headers(")
        uri = open_doc(lsp, secret_repo / "app.py", typing)
        api.replies.append('{"X-Key-Id": AWS_ACCESS_KEY_ID})')
        await lsp.text_document_inline_completion_async(types.InlineCompletionParams(
            text_document=types.TextDocumentIdentifier(uri), position=types.Position(11, 27),
            context=types.InlineCompletionContext(trigger_kind=types.InlineCompletionTriggerKind.Invoked)))
        config = open_doc(lsp, secret_repo / "config.py")
        api.replies.append("Credentials.")
        rng = {"start": {"line": 0, "character": 0}, "end": {"line": PEM_LINES[1], "character": 0}}
        await lsp.workspace_execute_command_async(types.ExecuteCommandParams("ragls.explain", [config, rng]))
    finally:
        await lsp.shutdown_session()
    bodies = [json.dumps(body) for path, body in api.requests if path.endswith("completions")]
    assert len(bodies) == 2 and not any(leaked(b) for b in bodies)
    assert "<redacted:aws-access-key>" in bodies[0], "config.py's constants were retrieved, redacted"
    assert all(f"<redacted:{kind}>" in bodies[1] for kind in SECRETS)


def test_review_sends_no_secret(secret_repo, monkeypatch, tmp_path):
    repo = git.Repo(secret_repo)
    repo.git.checkout("-b", "feature")
    (secret_repo / "deploy.py").write_text(
        f'"""Deployment."""\n\n\ndef upload(client):\n    """Upload with the deploy key."""\n'
        f'    return client.put(key_id="{AWS_KEY}", url="https://deploy:{DB_PASSWORD}@ci.internal/up")\n')
    repo.git.add(A=True)
    repo.index.commit("deploy")
    with FakeOpenAI() as api:
        api.responder = lambda path, body: '{"findings": []}'
        monkeypatch.setenv("OPENAI_BASE_URL", api.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("RAGLS_MODEL", "test-review")
        out = tmp_path / "review.json"
        code = main(["review", "--repo", str(secret_repo), "--base", "main", "--format", "json",
                     "--output", str(out)])
    assert code == 0
    assert json.loads(out.read_text())["reviewed"][0]["path"] == "deploy.py"
    prompts = [json.dumps(body) for path, body in api.requests if path.endswith("/chat/completions")]
    assert len(prompts) == 4 and not any(leaked(p) for p in prompts)
    assert all("<redacted:aws-access-key>" in p and "<redacted:url-password>" in p for p in prompts)
