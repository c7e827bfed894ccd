#!/usr/bin/env bash
# Set up (once) and run the checks and the test suite: ruff, mypy, pytest.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
.venv/bin/ruff check maximus tests bench scripts examples
.venv/bin/ruff format --check maximus tests bench scripts examples
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
