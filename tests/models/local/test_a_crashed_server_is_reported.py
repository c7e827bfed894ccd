"""A local model server that dies is reported in one line, with how it died and the fix.

The server is killed with SIGSEGV, as llama.cpp dies when it runs code its CPU lacks (AMX on
a machine without it). The run that was using it exits with code 6 and one line that names
the crash, the signal, the log and the command that fixes it; ``maximus model status`` says
``crashed``; ``/readyz``'s check reports it. Real model, real processes, real signals.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from maximus.config import load_settings
from maximus.models.local.server import REBUILD_HINT, LocalModelServer
from maximus.server.routes.ops import local_model_check
from tests.support.cli import maximus
from tests.support.local import local_settings

pytestmark = [pytest.mark.integration, pytest.mark.local_model]


@pytest.fixture
def data_dir(tmp_path: Path, model_file: Path) -> Iterator[Path]:
    path = tmp_path / "data"
    yield path
    LocalModelServer(local_settings(path, model_file)).stop()


def _env(data_dir: Path, model_file: Path) -> dict[str, str]:
    return {
        "MAXIMUS_DATA_DIR": str(data_dir),
        "MAXIMUS_MODEL": "local",
        "MAXIMUS_LOCAL__MODEL_PATH": str(model_file),
        "MAXIMUS_MEMORY__ENABLED": "false",
    }


def _cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_until_busy(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = _cpu_seconds(pid)
        time.sleep(0.5)
        if _cpu_seconds(pid) - before > 0.2:  # reading a prompt: most of a core or more
            return
    raise AssertionError(f"the model server (pid {pid}) never got the run's request")


def test_a_run_whose_model_server_segfaults_ends_with_one_line_and_the_fix(
    model_file: Path, data_dir: Path
) -> None:
    env = _env(data_dir, model_file)
    started = maximus("model", "serve", env=env)
    assert started.returncode == 0, started.stderr
    server = LocalModelServer(local_settings(data_dir, model_file))
    info = server.status()
    assert info is not None and info.supervisor_pid is not None

    run = subprocess.Popen(
        [sys.executable, "-m", "maximus.cli", "run", "What is 2 + 2? Use the calculator."],
        env={**os.environ, "COLUMNS": "200", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        # The run prints its thread id just before its first model call (the plan); the call
        # is in flight once the server burns CPU on it. Killed then, the run is mid-call.
        assert run.stdout is not None
        first = run.stdout.readline()
        assert first.startswith("thread "), first + (run.stderr.read() if run.stderr else "")
        _wait_until_busy(info.pid, timeout=120)
        os.kill(info.pid, signal.SIGSEGV)
        rest, err = run.communicate(timeout=180)
        out = first + rest
    finally:
        if run.poll() is None:
            run.kill()
    assert run.returncode == 6, (out, err)
    # Before the failure, stderr has the live progress lines (which model, where).
    lines = [line for line in err.splitlines() if "Error" in line]
    assert len(lines) == 1 and err.rstrip().endswith(lines[0]), err
    assert "Traceback" not in out + err
    line = lines[0]
    assert "Fatal Python error: Segmentation fault" in line
    assert line.startswith("ModelServerError: the local model server")
    assert "crashed: killed by SIGSEGV" in line
    assert str(server.log_file) in line
    assert f"Fix: {REBUILD_HINT}" in line

    status = maximus("model", "status", "--json", env=env)
    assert status.returncode == 6, status.stderr
    report = json.loads(status.stdout)
    assert report["state"] == "crashed" and report["running"] is False
    assert report["crash"]["signal"] == "SIGSEGV" and report["crash"]["pid"] == info.pid
    assert report["crash"]["fix"] == REBUILD_HINT
    plain = maximus("model", "status", env=env)
    assert plain.returncode == 6
    assert plain.stdout.startswith("the local model server") and "crashed: killed by SIGSEGV" in (
        plain.stdout
    )

    settings = load_settings(model="local", data_dir=data_dir, local={"model_path": model_file})
    assert local_model_check(settings) == f"crashed: killed by SIGSEGV; fix: {REBUILD_HINT}"

    # The next start clears the record; a clean stop leaves none.
    again = maximus("model", "serve", env=env)
    assert again.returncode == 0, again.stderr
    assert server.crash() is None and local_model_check(settings) == "ok"
    assert maximus("model", "stop", env=env).stdout.strip() == "stopped"
    assert server.crash() is None
    assert maximus("model", "status", env=env).returncode == 1
    assert local_model_check(settings) == "not started"


def test_the_server_is_ready_only_after_a_real_multi_token_request(
    model_file: Path, data_dir: Path
) -> None:
    server = LocalModelServer(local_settings(data_dir, model_file))
    info = server.ensure()
    # The first real request was answered (a chat completion that read the prompt in one
    # batch) before the state file, which makes it ready for everyone, was written.
    assert info.ready_check_s is not None and info.ready_check_s > 0
    assert server.status() == info
    report = json.loads(maximus("model", "status", "--json", env=_env(data_dir, model_file)).stdout)
    assert report["state"] == "running" and report["ready_check_s"] == info.ready_check_s
