"""Fits ragls's fusion weights (indexer/ranking.json) on the training corpus, cross-validated by package.

usage: python bench/train_ranker.py --work DIR [--py-queries DIR] [--trees DIR] [--other-langs test|train]
                                    [--packages a,b,...] [--folds 5] [--measure] [--out indexer/ranking.json]
The shipped indexer/ranking.json came from (its "provenance" holds the exact command, date and figures):
    python bench/train_ranker.py --work W --py-queries W/py --trees BENCHWORK --other-langs train --measure \
        --out indexer/ranking.json
with BENCHWORK holding ts/repos, java/repos and go/repos as the harness's ts/, java/, go/ READMEs extract them.

Only TRAINING.md's material is fitted on (../shared/bench/TRAINING.md): the pinned training packages below
(ranker/corpus.py), whose queries the harness's make_queries.py builds (`--n 200 --seed 0`; built into --py-queries
when missing). Steps: (1) every package is indexed cold and answered by the real `ragls context --batch` with the
hand-set weights, keeping each query's top 50 candidates and their features (`why`); (2) each candidate is labelled
by the harness's hit rule; (3) the weights of each mode are fitted by coordinate search on the harness's metrics, the
engine's ranking, k and token budget simulated on the candidates; (4) leave-packages-out cross-validation: packages
are dealt into --folds folds by name, each fold is fitted on the others and measured on itself, simulated and (with
--measure) by real `ragls context` runs through bench/ranker/engine.py with the fold's weights; (5) the final fit on
all training packages is measured on the development packages (never fitted on) against the hand weights; --out
writes it with its provenance. The TypeScript, Java and Go projects are test projects, or with --other-langs train
training projects (each in one fold, so every one is measured by a fit that left it out); the fit maximises the
macro average over packages, less any language's loss against the hand weights (ranker/fit.py's guarded()). A report
goes to WORK/report.json.
`--corpus FILE` replaces the corpus with a JSON list (ranker/corpus.py's load_corpus_file; used by the tests).
"""
from __future__ import annotations

import argparse
import datetime
import json
import logging
import shlex
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from ranker import corpus, dataset, dump, fit, measure

log = logging.getLogger("train_ranker")
ROOT = Path(__file__).resolve().parent.parent


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", type=Path, required=True, help="work folder (indexes, dumps, runs, report)")
    ap.add_argument("--harness", type=Path, default=ROOT.parent / "shared" / "bench", help="the benchmark harness")
    ap.add_argument("--py-queries", type=Path, help="Python query sets and sdists (default WORK/py)")
    ap.add_argument("--trees", type=Path, help="folder holding ts/repos, java/repos, go/repos (other languages)")
    ap.add_argument("--packages", help="comma-separated training packages to use (default: all pinned ones)")
    ap.add_argument("--corpus", type=Path, help="a corpus JSON instead of the pinned packages")
    ap.add_argument("--other-langs", choices=("test", "train"), default="test",
                    help="the TypeScript, Java and Go projects: only measured (test) or also fitted on, each project "
                         "in one fold (train)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--build", action="store_true", help="build missing Python query sets with make_queries.py")
    ap.add_argument("--measure", action="store_true", help="real `ragls context` runs for every held-out figure")
    ap.add_argument("--passes", type=int, default=3, help="coordinate-search sweeps")
    ap.add_argument("--prior", type=float, default=0.002, help="L1 pull toward the hand weights")
    ap.add_argument("--guard", type=float, default=1.0, help="weight of a group's loss against the hand weights")
    ap.add_argument("--guard-by", choices=("lang", "package"), default="lang", help="the groups --guard protects")
    ap.add_argument("--modes", default="completion,explain", help="the modes to fit (others keep the hand weights)")
    ap.add_argument("--out", type=Path, help="write the final weights here (e.g. indexer/ranking.json)")
    return ap.parse_args(argv)


def load_corpus(args: argparse.Namespace) -> list[corpus.Package]:
    if args.corpus:
        return corpus.load_corpus_file(args.corpus)
    py = args.py_queries or args.work / "py"
    specs = corpus.PY_TRAIN
    if args.packages:
        wanted = set(args.packages.split(","))
        specs = {k: v for k, v in specs.items() if k in wanted}
    pkgs = corpus.python_packages(args.harness, py, specs, "train", args.build)
    pkgs += corpus.python_packages(args.harness, py, corpus.PY_DEV, "test", args.build)
    if args.trees:
        pkgs += [corpus.Package(p.name, p.lang, args.other_langs, p.repo, p.queries)
                 for p in corpus.other_packages(args.harness, args.trees)]
    return pkgs


def candidate_sets(pkgs: list[corpus.Package], work: Path) -> dict[tuple[str, str], dataset.CandSet]:
    """Dump (cached by ragls's code fingerprint) and label every package."""
    from ragls.indexer import retrieve

    fp = dump.ragls_fingerprint()
    sets = {}
    for pkg in pkgs:
        files = dump.dump_package(pkg, work, fp)
        for mode, path in files.items():
            sets[pkg.name, mode] = dataset.cached(pkg, mode, path, retrieve.HAND_WEIGHTS)
    return sets


def fit_all(sets: list[dataset.CandSet], hand: fit.Weights, args: argparse.Namespace) -> fit.Weights:
    """The modes' fits, merged (each mode's weight sets from its own fit)."""
    w = {ws: dict(v) for ws, v in hand.items()}
    cfg = fit.FitConfig(passes=args.passes, prior=args.prior, guard=args.guard, guard_by=args.guard_by)
    for mode in args.modes.split(","):
        part = fit.fit([cs for cs in sets if cs.mode == mode], hand, mode, cfg)
        for ws in fit.FITTED_SETS[mode]:
            w[ws] = {f: round(v, 3) for f, v in part[ws].items()}
    return w


def write_weights(w: fit.Weights, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"weights": w}, indent=1) + "\n")
    return path


def evaluate(pkgs: list[corpus.Package], sets: dict, w: fit.Weights, hand: fit.Weights, wfile: Path | None,
             args: argparse.Namespace, label: str) -> dict:
    """Per package and mode: simulated figures (fitted and hand) and, with --measure, real ones."""
    out = {}
    for pkg in pkgs:
        for mode in corpus.MODES:
            cs = sets[pkg.name, mode]
            row = {"lang": pkg.lang, "n": len(cs.wset), "sim_fit": fit.metrics(cs, w),
                   "sim_hand": fit.metrics(cs, hand)}
            if args.measure:
                row["real_fit"] = measure.run(pkg, mode, wfile, args.work, args.harness, label)
                row["real_hand"] = measure.run(pkg, mode, None, args.work, args.harness, "hand")
            out[f"{pkg.name}/{mode}"] = row
    return out


def summary(rows: dict, title: str) -> list[str]:
    """Macro averages per mode and kind of figure, one line each."""
    lines = []
    for mode in corpus.MODES:
        sel = [r for k, r in rows.items() if k.endswith("/" + mode)]
        for kind in ("sim_hand", "sim_fit", "real_hand", "real_fit"):
            if sel and kind in sel[0]:
                keys = measure.KEYS[mode]
                vals = "  ".join(f"{k}={np.mean([r[kind][k] for r in sel]):.3f}" for k in keys)
                lines.append(f"{title} {mode} {kind:9s} ({len(sel)} pkgs): {vals}")
    return lines


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    args = parse_args(argv)
    from ragls.indexer import retrieve

    hand = retrieve.HAND_WEIGHTS
    pkgs = load_corpus(args)
    train = sorted((p for p in pkgs if p.role == "train"), key=lambda p: (p.lang, p.name))  # dealt into folds
    test = [p for p in pkgs if p.role != "train"]
    sets = candidate_sets(pkgs, args.work)
    report: dict = {"date": datetime.date.today().isoformat(), "command": shlex.join(["python", *sys.argv]),
                    "fingerprint": dump.ragls_fingerprint(), "folds": [], "train": [p.name for p in train],
                    "test": [p.name for p in test]}
    lines: list[str] = []
    if args.folds > 1 and len(train) >= args.folds:
        held_all: dict = {}
        for i in range(args.folds):
            held = [p for j, p in enumerate(train) if j % args.folds == i]
            fitted = fit_all([sets[p.name, m] for p in train if p not in held for m in corpus.MODES], hand, args)
            wfile = write_weights(fitted, args.work / "folds" / f"fold{i}.json")
            rows = evaluate(held, sets, fitted, hand, wfile, args, f"fold{i}")
            report["folds"].append({"held_out": [p.name for p in held], "weights": fitted, "rows": rows})
            lines += summary(rows, f"fold {i}")
            held_all.update(rows)
        for lang in sorted({p.lang for p in train}):
            lines += summary({k: r for k, r in held_all.items() if r["lang"] == lang}, f"CV held-out {lang}")
        report["cv"] = held_all
    final = fit_all([sets[p.name, m] for p in train for m in corpus.MODES], hand, args)
    wfile = write_weights(final, args.work / "final.json")
    report["weights"] = final
    if test:
        report["test_rows"] = evaluate(test, sets, final, hand, wfile, args, "final")
        for lang in sorted({p.lang for p in test}):
            lines += summary({k: r for k, r in report["test_rows"].items() if r["lang"] == lang}, f"test {lang}")
    report["summary"] = lines
    (args.work / "report.json").write_text(json.dumps(report, indent=1))
    print("\n".join(lines))
    if args.out:
        prov = {k: report[k] for k in ("date", "command", "fingerprint", "train")}
        prov["folds"] = [f["held_out"] for f in report["folds"]]
        prov["figures"] = lines
        args.out.write_text(json.dumps({"weights": final, "provenance": prov}, indent=1) + "\n")
        log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
