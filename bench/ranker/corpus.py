"""The training and test corpus: pinned Python packages (queries built by the harness) and the TypeScript, Java and
Go benchmark projects, as query sets with their repository trees."""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MODES = ("completion", "explain")

# TRAINING.md's training packages, pinned (the newest sdist on PyPI when the corpus was first built); tox,
# virtualenv and hypothesis are left out: the package index this corpus was built from had no sdist of them.
PY_TRAIN = {
    "pytest": "9.2.0", "pluggy": "1.7.0", "packaging": "26.4", "docutils": "0.23", "pygments": "2.21.0",
    "babel": "2.19.0", "jsonschema": "4.26.0", "httpcore": "1.0.9", "anyio": "4.16.0", "trio": "0.35.0",
    "aiohttp": "3.14.5", "fastapi": "0.165.0", "typer": "0.29.2", "djangorestframework": "3.18.3",
    "celery": "5.7.0", "kombu": "5.7.0", "tornado": "6.6.1", "falcon": "4.4.0", "sqlalchemy": "2.1.9",
    "alembic": "1.20.1", "mako": "1.4.3", "networkx": "3.6.1", "pylint": "4.1.4", "astroid": "4.3.4",
    "coverage": "7.17.5", "mkdocs": "1.6.1", "scrapy": "2.19.0",
}
# The development packages of README.md's benchmark: a held-out test set, never fitted on.
PY_DEV = {"requests": "2.34.2", "werkzeug": "3.1.9", "markdown": "3.11.3", "starlette": "1.10.0",
          "marshmallow": "4.4.0"}
# Where each other language's benchmark keeps its query sets, below the harness folder.
OTHER_QUERIES = {"typescript": "ts/queries", "java": "java/results/queries", "go": "go/results/queries"}
OTHER_TREES = {"typescript": "ts/repos", "java": "java/repos", "go": "go/repos"}


@dataclass(frozen=True, slots=True)
class Package:
    """One repository and its query files per mode; `role` is "train" (cross-validated) or "test" (never fitted)."""

    name: str
    lang: str
    role: str
    repo: Path
    queries: dict[str, Path]


def python_packages(harness: Path, work: Path, specs: dict[str, str], role: str, build: bool) -> list[Package]:
    """Pinned PyPI packages with queries from the harness's make_queries.py (built into `work` when missing)."""
    out = []
    for pkg, ver in specs.items():
        name = f"{pkg.lower()}-{ver}"
        files = {m: work / (f"{name}.queries.jsonl" if m == "completion" else f"{name}.explain.queries.jsonl")
                 for m in MODES}
        for mode, path in files.items():
            if build and not (path.exists() and (work / name).is_dir()):
                subprocess.run([sys.executable, "make_queries.py", f"{pkg}=={ver}", "--mode", mode, "--n", "200",
                                "--seed", "0", "--out", str(work)], cwd=harness, check=True,
                               stdout=subprocess.DEVNULL)
        if all(p.exists() and p.stat().st_size for p in files.values()):
            out.append(Package(name, "python", role, work / name, files))
        else:
            print(f"skip {name}: no queries", file=sys.stderr)
    return out


def other_packages(harness: Path, trees: Path) -> list[Package]:
    """The TypeScript, Java and Go projects whose trees have been extracted (each benchmark's README says how)."""
    out = []
    for lang, rel in OTHER_QUERIES.items():
        for q in sorted((harness / rel).glob("*.queries.jsonl")):
            if q.name.endswith(".explain.queries.jsonl"):
                continue
            name = q.name.removesuffix(".queries.jsonl")
            explain = q.with_name(f"{name}.explain.queries.jsonl")
            repo = trees / OTHER_TREES[lang] / name
            if repo.is_dir() and explain.exists():
                out.append(Package(name, lang, "train", repo, {"completion": q, "explain": explain}))
            else:
                print(f"skip {lang} {name}: no tree at {repo}", file=sys.stderr)
    return out


def load_corpus_file(path: Path) -> list[Package]:
    """A corpus given as JSON: [{"name", "lang", "role", "repo", "completion", "explain"}] (paths relative to it)."""
    base = path.parent
    return [Package(e["name"], e["lang"], e.get("role", "train"), (base / e["repo"]).resolve(),
                    {m: (base / e[m]).resolve() for m in MODES}) for e in json.loads(path.read_text())]


def read_queries(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
