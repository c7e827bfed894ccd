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
# Memory (issue 4): the sentence-transformers embedding option is tested against the ONNX
# default, so it needs torch. Pin the CPU build first: unpinned, pip would pull GBs of CUDA.
.venv/bin/python -m pip install --quiet torch==2.13.0
.venv/bin/python -m pip install --quiet -e '.[dev,memory-torch]'
.venv/bin/ruff check maximus tests bench scripts examples
.venv/bin/ruff format --check maximus tests bench scripts examples
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
