"""A PyPI sdist as a folder for the benchmarks: downloaded and unpacked once into a work folder (the benchmark,
not ragls, needs the network)."""
from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path


def sdist_folder(work: Path, name: str, version: str) -> Path:
    """`work/<name>-<version>`: the sdist `pip download --no-deps --no-binary :all: name==version` gets, unpacked."""
    root = work / f"{name}-{version}"
    if not root.is_dir():
        work.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", f"{name}=={version}", "--no-deps",
                        "--no-binary", ":all:", "-d", str(work)], check=True)
        archive = next(p for p in work.glob("*.tar.gz") if p.name.lower() == f"{name}-{version}.tar.gz".lower())
        with tarfile.open(archive) as t:
            t.extractall(work, filter="data")
        if not root.is_dir():  # an archive whose folder is spelled otherwise (Django-5.2.8)
            root = next(p for p in work.iterdir() if p.is_dir() and p.name.lower() == root.name.lower())
    return root
