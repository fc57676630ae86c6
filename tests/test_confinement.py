"""The confinement rule and the indexer on hostile repositories: secrets, ignored files, links out of the workspace,
special files, invalid ignore patterns and file names that are not UTF-8."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ragls.indexer.files import discover, refusal

FIXTURES = Path(__file__).parent / "fixtures"


def _tree(root: Path) -> Path:
    """A workspace with every kind of file the rule must refuse, beside ordinary source."""
    (root / "src").mkdir(parents=True)
    (root / "build" / "gen").mkdir(parents=True)
    (root / "src" / "app.py").write_text("def main():\n    return 1\n")
    (root / "src" / "debug.log.py").write_text("SECRET_LOG = 1\n")
    (root / "build" / "gen" / "out.py").write_text("GENERATED = 1\n")
    (root / ".gitignore").write_text("build/\n*.log.py\n")
    (root / ".env").write_text("API_KEY=abc\n")
    (root / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    (root / "credentials.json").write_text("{}\n")
    (root / "notes.md").symlink_to("/etc/passwd")
    (root / "env_link.py").symlink_to(".env")
    os.mkfifo(root / "src" / "pipe.py")
    return root


@pytest.mark.parametrize("kind", ["git", "plain"])
def test_the_one_rule(tmp_path, kind):
    root = _tree(tmp_path / "ws")
    if kind == "git":
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        os.makedirs(root / ".git", exist_ok=True)
    ignored = "ignored by git" if kind == "git" else "ignored by .gitignore"
    assert refusal(root, "src/app.py") is None
    assert refusal(root, root / "src" / "app.py") is None
    assert refusal(root, "src/new_unsaved.py") is None  # an editor buffer not on disk yet
    assert refusal(root, "src/debug.log.py") == ignored
    assert refusal(root, "build/gen/out.py") == ignored  # inside an ignored folder
    for secret in (".env", "id_rsa", "credentials.json", "env_link.py"):
        assert refusal(root, secret) == "a file that may hold secrets", secret
    if kind == "git":
        assert refusal(root, ".git/config") == "a file that may hold secrets"
    assert refusal(root, "notes.md") == "a symbolic link out of the workspace"
    assert refusal(root, "src/pipe.py") == "not a regular file"
    assert refusal(root, "/etc/passwd") == "outside the workspace"
    assert refusal(root, "../outside.py") == "outside the workspace"


def test_users_add_secret_patterns_and_projects_ignore_more(tmp_path, monkeypatch):
    root = _tree(tmp_path / "ws")
    (root / "src" / "settings_prod.py").write_text("DB = 'x'\n")
    (root / "src" / "vendor.py").write_text("X = 1\n")
    assert refusal(root, "src/settings_prod.py") is None
    monkeypatch.setenv("RAGLS_SECRET_FILES", "settings_prod.py, *.vault")
    assert refusal(root, "src/settings_prod.py") == "a file that may hold secrets"
    (root / ".raglsignore").write_text("src/vendor.py\n")
    assert refusal(root, "src/vendor.py") == "ignored by .raglsignore"
    assert "src/vendor.py" not in discover(root).files


@pytest.mark.parametrize("kind", ["git", "plain"])
def test_a_bad_repository_is_indexed_all_the_same(tmp_path, kind):
    """A lone "!" in a nested .gitignore, a file name that is not UTF-8, a FIFO, a socket and links: each is
    skipped with its reason, and everything else is indexed."""
    root = tmp_path / "ws"
    (root / "pkg" / "testdata").mkdir(parents=True)
    (root / "pkg" / "mod.py").write_text("def f():\n    return 2\n")
    (root / "pkg" / "testdata" / ".gitignore").write_text("!\n\\\n*.tmp\n[z-a]\n")
    (root / "pkg" / "testdata" / "case.py").write_text("CASE = 1\n")
    (root / "pkg" / "testdata" / "junk.tmp").write_text("x\n")
    with open(os.fsencode(root / "pkg") + b"/bad\xff\xfename.py", "wb") as f:
        f.write(b"X = 1\n")
    os.mkfifo(root / "pkg" / "fifo.py")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "pkg" / "sock.py"))
    (root / "pkg" / "up.py").symlink_to("/etc/hostname")
    if kind == "git":
        subprocess.run(["git", "init", "-q", str(root)], check=True)
    home = tmp_path / "home"
    out = subprocess.run([sys.executable, "-m", "ragls.server.cli", "index", str(root), "--json", "-q"],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "RAGLS_HOME": str(home)})
    sock.close()
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr
    summary = __import__("json").loads(out.stdout)
    assert summary["files"] == 2  # pkg/mod.py and pkg/testdata/case.py
    assert summary["skipped"].get("file name not valid UTF-8") == 1
    if kind == "plain":  # git lists neither FIFOs nor sockets; a walk finds and skips them
        assert summary["skipped"]["not a regular file"] == 2
    assert summary["skipped"]["symbolic link"] == 1
    if kind == "plain":  # git reads its own ignore files (and skips what it cannot understand, silently)
        assert "ignoring an invalid pattern '!'" in out.stderr


def test_discover_skips_special_files_of_a_plain_folder(tmp_path):
    os.mkfifo(tmp_path / "a.py")
    (tmp_path / "b.py").write_text("B = 1\n")
    (tmp_path / "dir_link").symlink_to("/etc", target_is_directory=True)
    found = discover(tmp_path)
    assert found.files == ["b.py"]
    assert found.skipped == {"a.py": "not a regular file", "dir_link": "symbolic link"}


def test_the_cli_refuses_secret_ignored_linked_and_special_files(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    (root / ".env").write_text("TOKEN=abc\n")
    (root / ".gitignore").write_text("scratch.py\n")
    (root / "scratch.py").write_text("x = 1\n")
    (root / "notes.md").symlink_to("/etc/passwd")
    (root / "link.py").symlink_to(".env")
    os.mkfifo(root / "pipe.py")
    env = {**os.environ, "RAGLS_HOME": str(tmp_path / "home"), "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
           "RAGLS_MODEL": "m"}
    cases = {".env:1": "may hold secrets", "scratch.py:1": "ignored by git", "link.py:1": "may hold secrets",
             "pipe.py:1": "not a regular file", "notes.md:1": "outside the repository"}
    for spec, why in cases.items():
        out = subprocess.run([sys.executable, "-m", "ragls.server.cli", "explain", spec, "--show-prompt"], cwd=root,
                             capture_output=True, text=True, timeout=120, env=env)
        assert out.returncode != 0, spec
        assert why in out.stderr and "Traceback" not in out.stderr, (spec, out.stderr)
        assert "root:" not in out.stdout and "TOKEN" not in out.stdout


def test_a_file_outside_git_and_the_current_folder_needs_repo(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "a.py").write_text("A = 1\n")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    out = subprocess.run([sys.executable, "-m", "ragls.server.cli", "explain", str(elsewhere / "a.py") + ":1",
                          "--show-prompt"], cwd=cwd, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "RAGLS_HOME": str(tmp_path / "home")})
    assert out.returncode != 0 and "pass --repo DIR" in out.stderr


def test_a_selection_too_large_for_a_fix_prompt_is_a_clear_error(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    (root / "big.py").write_text("".join(f"VALUE_{i} = {i} * {i} + {i}  # some words to count\n"
                                         for i in range(3000)))
    out = subprocess.run([sys.executable, "-m", "ragls.server.cli", "fix", "big.py:1-3000", "--show-prompt"],
                         cwd=root, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "RAGLS_HOME": str(tmp_path / "home")})
    assert out.returncode == 2
    assert "does not fit its budget" in out.stderr and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines() == [out.stderr.strip()] and out.stderr.startswith("ragls: the prompt")
    assert "ragls: ragls:" not in out.stderr


def test_index_never_opens_a_fifo_named_like_source(tmp_path):
    root = tmp_path / "plain"
    shutil.copytree(FIXTURES / "pyrepo", root)
    os.mkfifo(root / "shop" / "stuck.py")
    out = subprocess.run([sys.executable, "-m", "ragls.server.cli", "index", str(root), "-q"], capture_output=True,
                         text=True, timeout=120, env={**os.environ, "RAGLS_HOME": str(tmp_path / "home")})
    assert out.returncode == 0 and "1 not a regular file" in out.stdout


def test_review_never_reads_an_untracked_links_target(shop_repo, tmp_path):
    root = Path(shop_repo.working_tree_dir)
    (root / "notes.md").symlink_to("/etc/passwd")
    os.mkfifo(root / "shop" / "pipe.py")
    (root / "shop" / "extra.py").write_text("def extra():\n    return 3\n")
    out = subprocess.run([sys.executable, "-m", "ragls.server.cli", "review", "--worktree", "--dry-run",
                          "--format", "json"], cwd=root, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "RAGLS_HOME": str(tmp_path / "home")})
    assert out.returncode == 0, out.stderr
    plan = __import__("json").loads(out.stdout)
    left_out = {s["path"]: s["reason"] for s in plan["not_reviewed"]}
    assert left_out["notes.md"] == "symbolic link"  # git does not list the FIFO: it is neither read nor reviewed
    assert [u["path"] for batch in plan["prompts"] for u in batch] == ["shop/extra.py"]


def test_an_ignored_folder_of_a_work_tree_is_a_workspace_of_its_own(tmp_path):
    """A benchmark's or a vendored checkout inside a repository that ignores it: its own files may be sent, by its
    own .gitignore rules, as `discover` indexes them."""
    outer = tmp_path / "outer"
    inner = outer / "work" / "pkg-1.0"
    (inner / "src").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(outer)], check=True)
    (outer / ".gitignore").write_text("/work/\n")
    (inner / ".gitignore").write_text("*.tmp.py\n")
    (inner / "src" / "api.py").write_text("def get():\n    return 1\n")
    (inner / "src" / "x.tmp.py").write_text("X = 1\n")
    assert refusal(inner, "src/api.py") is None
    assert refusal(inner, "src/x.tmp.py") == "ignored by .gitignore"
    assert discover(inner).files == ["src/api.py"]
    assert refusal(outer, "work/pkg-1.0/src/api.py") == "ignored by git"


@pytest.mark.parametrize("extra", ["", "custom.cfg,*.token,conf/", "*.key,!public.key"])
def test_the_secret_patterns_match_as_one_expression_as_they_do_one_by_one(extra: str) -> None:
    """The combined expression answers as pathspec does pattern by pattern (a negated pattern keeps pathspec's)."""
    import itertools
    import random

    from ragls.indexer.files import _secret_matcher, _secret_spec

    parts = ["src", "main.py", ".env", "a.env", ".env.local", "env", "id_rsa", "id_rsa.pub", "key.pem", "public.key",
             ".aws", ".ssh", "config", "config.json", ".docker", ".kube", "credentials", "credentials.txt", ".git",
             "HEAD", "secrets.yaml", "x.tfstate.bak", ".npmrc", "custom.cfg", "conf", "a.token", "README.md"]
    rng = random.Random(5)
    paths = {"/".join(p) for n in (1, 2) for p in itertools.product(parts, repeat=n)}
    paths |= {"/".join(rng.choice(parts) for _ in range(rng.randint(3, 5))) for _ in range(5_000)}
    spec, combined = _secret_spec(extra), _secret_matcher(extra)
    assert [p for p in sorted(paths) if spec.match_file(p) != combined(p)] == []
    assert any(combined(p) for p in paths) and not all(combined(p) for p in paths)
