"""Team index figures: two clones of Django 5.2.8 indexed into one `chroma run` (time, embedded, copies, disk).

usage: python bench/team.py [--work bench/work]
Downloads the Django 5.2.8 sdist from PyPI once (as bench/django.py does); the server runs in a temporary folder."""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.django import django_folder  # noqa: E402
from tests.helpers_repo import ChromaServer  # noqa: E402


def git(*args: str, cwd: Path) -> None:
    subprocess.run(["git", "-c", "user.name=bench", "-c", "user.email=bench@ragls.invalid", "-c",
                    "commit.gpgsign=false", *args], cwd=cwd, check=True, capture_output=True)


def origin_repo(work: Path) -> Path:
    """Django's sources in a git repository of one commit (made once)."""
    repo = work / "team-origin"
    if not (repo / ".git").is_dir():
        shutil.rmtree(repo, ignore_errors=True)
        shutil.copytree(django_folder(work).parent, repo)
        git("init", "-q", "-b", "main", cwd=repo)
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", "django 5.2.8", cwd=repo)
    return repo


def index(clone: Path, data: Path, url: str) -> tuple[float, dict]:
    t0 = time.perf_counter()
    done = subprocess.run(["ragls", "index", str(clone), "--data-dir", str(data), "--store", url, "--json", "-q"],
                          capture_output=True, text=True, env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    if done.returncode != 0:
        sys.exit(f"ragls index failed ({done.returncode}): {done.stderr}")
    return time.perf_counter() - t0, json.loads(done.stdout)


def disk(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="bench/work")
    a = ap.parse_args()
    work = Path(a.work).resolve()
    origin = origin_repo(work)
    with tempfile.TemporaryDirectory(prefix="ragls-team-") as tmp:
        t = Path(tmp)
        for name in ("alice", "bob"):
            git("clone", "-q", str(origin), str(t / name), cwd=t)
        server = ChromaServer(t / "chroma")
        try:
            rows = []
            for name in ("alice", "bob"):
                seconds, s = index(t / name, t / f"data-{name}", server.url)
                rows.append((name, seconds, s))
                print(f"clone {name}: {seconds:.1f} s wall ({s['seconds']:.1f} s in ragls), {s['files']} files, "
                      f"{s['chunks']} chunks, {s['embedded']} embedded ({100 * s['embedded'] / s['chunks']:.2f} %)")
            # a branch that changes one file
            bob = t / "bob"
            git("checkout", "-q", "-b", "feature", cwd=bob)
            target = bob / "django" / "utils" / "text.py"
            target.write_text(target.read_text() + "\n\ndef shout(text):\n    return text.upper() + '!'\n")
            git("commit", "-q", "-am", "one change", cwd=bob)
            seconds, s = index(bob, t / "data-bob", server.url)
            print(f"bob, a branch changing one file: {seconds:.1f} s wall, {s['changed']} changed, "
                  f"{s['embedded']} embedded")
            client = server.client()
            sizes = {c.name: client.get_collection(c.name).count() for c in client.list_collections()}
            print(f"server collections: {sizes}; chunks per clone {rows[0][2]['chunks']}")
            server.kill()
            print(f"server disk (--path folder): {disk(t / 'chroma') / 1e6:.1f} MB; each laptop's data folder: "
                  f"{disk(t / 'data-alice') / 1e6:.1f} MB (catalog, lexical index, graph, embedding cache)")
        finally:
            server.kill()


if __name__ == "__main__":
    main()
