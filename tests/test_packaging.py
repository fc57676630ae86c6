"""The wheel's package list: every package folder of the source tree is shipped (an editable install finds the
folders anyway, so a missing entry only breaks a regular install)."""
from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_a_listed_package():
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {folder: name for name, folder in setup["package-dir"].items()}
    found = set()
    for top in ("indexer", "server", "prompts"):
        for init in (ROOT / top).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT).as_posix()
            base = max((f for f in folders if rel == f or rel.startswith(f + "/")), key=len)
            found.add(folders[base] + rel[len(base):].replace("/", "."))
    assert found <= set(setup["packages"]), found - set(setup["packages"])
