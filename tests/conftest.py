"""Shared fixtures: isolated index homes, real git repositories made from fixture folders, a local model server."""
from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import git
import pytest
import pytest_asyncio

from .fake_openai import FakeOpenAI

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes ~/.cache/ragls or reads ~/.config/ragls, and chroma never phones home."""
    monkeypatch.setenv("RAGLS_HOME", str(tmp_path_factory.mktemp("ragls-home")))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
    monkeypatch.setenv("RAGLS_MODELS", str(tmp_path_factory.getbasetemp() / "models"))  # derived once a session
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")


def make_git_repo(src: Path, dest: Path) -> git.Repo:
    """Copy a fixture folder and commit it as the first commit of a new repository."""
    shutil.copytree(src, dest)
    return commit_all(dest)


def commit_all(dest: Path) -> git.Repo:
    """Make the folder a new repository whose first commit holds all its files."""
    repo = git.Repo.init(dest, initial_branch="main")
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "ragls tests")
        cw.set_value("user", "email", "tests@ragls.invalid")
    repo.git.add(A=True)
    repo.index.commit("initial")
    return repo


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write files (relative path -> text) under root and commit them as a new repository."""
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    commit_all(root)
    return root


def index_of(root: Path, data: Path):
    """A fresh index of the repository at root, its data under data."""
    from ragls.indexer.index import Index

    index = Index.open(root, data_dir=data)
    index.refresh(progress=False)
    return index


@pytest.fixture
def shop_repo(tmp_path: Path) -> git.Repo:
    return make_git_repo(FIXTURES / "pyrepo", tmp_path / "shop-repo")


@pytest.fixture
def shop_index(shop_repo: git.Repo, tmp_path: Path):
    from ragls.indexer.index import Index

    index = Index.open(shop_repo.working_tree_dir, data_dir=tmp_path / "data")
    index.refresh(progress=False)
    return index


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeOpenAI]:
    """A local OpenAI-compatible server for one test: it records the prompts and serves canned replies."""
    with FakeOpenAI() as server:
        yield server
