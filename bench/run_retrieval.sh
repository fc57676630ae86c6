#!/usr/bin/env bash
# Retrieval benchmark: ragls next to the harness's baselines, in one run, with the harness in ../shared/bench.
# usage: [PKGS="name==ver ..."] [HARNESS=../shared/bench] bash bench/run_retrieval.sh
# Needs ragls installed (pip install -e .) and the harness's requirements (installed here if missing).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
HARNESS=$(cd "${HARNESS:-$ROOT/../shared/bench}" && pwd)
PY=${PYTHON:-python3}
PKGS="${PKGS:-requests==2.34.2 werkzeug==3.1.9 markdown==3.11.3 starlette==1.10.0 marshmallow==4.4.0}"
WORK=$ROOT/bench/work
RUNS=$WORK/runs
mkdir -p "$RUNS" "$ROOT/bench/results"
$PY -c "import bm25s" 2>/dev/null || $PY -m pip install -q -r "$HARNESS/requirements.txt"
# RAGLS_MODELS outside RAGLS_HOME: the static model's cut vocabulary is derived once, as on a user's machine
export RAGLS_HOME=$WORK/ragls-home RAGLS_MODELS=$WORK/models ANONYMIZED_TELEMETRY=False
RAGLS="$PY -m ragls.indexer.cli"
NAMES=""
for spec in $PKGS; do
  name=$(echo "${spec/==/-}" | tr 'A-Z' 'a-z')
  for mode in completion explain; do
    stem=$name; [ $mode = completion ] || stem=$name.$mode
    [ -s "$WORK/$stem.queries.jsonl" ] || (cd "$HARNESS" && $PY make_queries.py "$spec" --mode $mode --n 200 --seed 0 \
      --out "$WORK" 2>&1 | grep -v '^WARNING' | tail -1 | cut -c1-120)
  done
  [ -s "$WORK/$name.queries.jsonl" ] || { echo "skip $spec"; continue; }
  NAMES="$NAMES $name"
  for stem in $name $name.explain; do
    for r in bm25 jaccard imports imports_bm25; do
      (cd "$HARNESS" && $PY evaluate.py --queries "$WORK/$stem.queries.jsonl" --repo "$WORK/$name" --retriever $r \
        --out "$RUNS/$stem.$r.json" | tail -1)
    done
    rm -rf "$RAGLS_HOME"  # a cold index for every run: index_s is the full build
    (cd "$HARNESS" && $PY evaluate.py --queries "$WORK/$stem.queries.jsonl" --repo "$WORK/$name" --retriever cmd \
      --name ragls --index-cmd "$RAGLS index {repo} -q" \
      --cmd "$RAGLS context --repo {repo} --batch {queries} --k 10 --json" --out "$RUNS/$stem.ragls.json" | tail -2)
  done
done
$PY bench/summarize.py --runs "$RUNS" --out bench/results/retrieval.md $NAMES
