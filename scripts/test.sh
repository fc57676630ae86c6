#!/usr/bin/env bash
# Set up (a .venv with ragls and its test dependencies), lint (ruff), type-check (mypy) and run every test. Works on
# a fresh machine. Any finding of ruff or mypy fails the run, as a failing test does.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/python -m ruff check .  # configured in pyproject.toml
.venv/bin/python -m mypy  # the packages and settings in pyproject.toml
if command -v npm >/dev/null 2>&1; then  # the VS Code extension (its tests skip on a machine without node)
    (cd vscode-client && npm ci --no-audit --no-fund && npm run compile)
fi
exec .venv/bin/python -m pytest "$@"
