"""Builds the next-edit ranker's training queries: other commits of the next-edit benchmark's repositories, mined and
built by the benchmark's own tools (run, not copied), with every commit of the benchmark's queries left out.

usage: python bench/nextedit_trainset.py --bench ../shared/bench/nextedit --mirrors GIT_MIRRORS --out TWORK
                                         [--seed 7] [--n requests=500,werkzeug=500,ky=200,trpc=300,apollo-client=300]
Writes TWORK/recipes/NAME.train.jsonl and, through the benchmark's build.py, TWORK/queries/NAME.train.queries.jsonl
and TWORK/states/: what `python bench/train_nextedit.py --train-work TWORK --train-repos
requests.train,werkzeug.train,ky.train,trpc.train,apollo-client.train` reads. GIT_MIRRORS holds OWNER+NAME/repo bare
git copies (the `fetch` tool's folder). The mined set is deterministic for a seed and the pinned heads.

Besides the benchmark's repositories, the TypeScript projects of the retrieval benchmark (../shared/bench/ts, which
../shared/bench/TRAINING.md lists as training material) give queries of their own history at the heads pinned in
EXTRA: the benchmark has one TypeScript repository (ky, 57 eligible commits, 50 of them the benchmark's), too few to
learn how a TypeScript change moves between files.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

EXTRA = [  # more TypeScript history (see above): name, repository, language, pinned head
    {"name": "trpc", "repo": "trpc/trpc", "lang": "typescript", "head": "340811ba5320637fbaf48fccf3dbfdd258bd34db"},
    {"name": "apollo-client", "repo": "apollographql/apollo-client", "lang": "typescript",
     "head": "54084bc22e92651cf153d03d0370b8dff3d1163f"},
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", type=Path, required=True, help="the next-edit benchmark's folder")
    ap.add_argument("--mirrors", type=Path, required=True, help="folder of OWNER+NAME/repo bare git copies")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--n", default="requests=500,werkzeug=500,ky=200", help="queries mined per repository")
    a = ap.parse_args()
    bench = a.bench.resolve()
    wanted = dict(item.split("=") for item in a.n.split(","))
    (a.out / "recipes").mkdir(parents=True, exist_ok=True)
    for repo in [*json.loads((bench / "repos.json").read_text()), *EXTRA]:
        name = repo["name"]
        if name not in wanted:
            continue
        gitdir = a.mirrors / repo["repo"].replace("/", "+") / "repo"
        lang = repo.get("lang", "python")
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run([sys.executable, str(bench / "mine.py"), "--git-dir", str(gitdir), "--name", name,
                            "--repo", repo["repo"], "--lang", lang, "--head", repo["head"], "--n", wanted[name],
                            "--seed", str(a.seed), "--exclude", *repo.get("exclude", []), "--out", tmp],
                           check=True, cwd=bench, stdout=subprocess.DEVNULL)
            mined = [json.loads(line) for line in Path(tmp, "recipes", f"{name}.jsonl").read_text().splitlines()]
        held_at = bench / "recipes" / f"{name}.jsonl"
        held = {json.loads(line)["commit"] for line in held_at.read_text().splitlines()} if held_at.exists() else set()
        kept = [r for r in mined if r["commit"] not in held]
        recipes = a.out / "recipes" / f"{name}.train.jsonl"
        recipes.write_text("".join(json.dumps(r) + "\n" for r in kept))
        print(f"{name}: {len(mined)} mined, {len(kept)} kept (the benchmark's commits left out)", flush=True)
        subprocess.run([sys.executable, str(bench / "build.py"), "--recipes", str(recipes.resolve()),
                        "--git-dir", str(gitdir), "--work", str(a.out.resolve())], check=True, cwd=bench)


if __name__ == "__main__":
    main()
