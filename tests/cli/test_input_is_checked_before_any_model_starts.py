"""Bad input to ``run`` and ``resume`` is refused (exit 2, one line) before any model server
starts or any model is contacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import maximus, model_env
from tests.support.gemini_server import GeminiServer

pytestmark = pytest.mark.integration


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr and 'File "' not in stderr


@pytest.mark.parametrize("goal", ["", "   ", "\n\t"])
def test_an_empty_goal_starts_no_local_model_server(goal: str, isolated_env: Path) -> None:
    # The local model is asked for both ways, so a run that got further would start it
    # (or fail with a ConfigError, exit 3, where the maximus[local] extra is missing).
    env = {"MAXIMUS_MODEL": "local", "MAXIMUS_LOCAL__AUTO": "true"}
    proc = maximus("run", goal, env=env)
    assert proc.returncode == 2, proc.stderr
    assert "InvalidInputError" in proc.stderr and "the goal is empty" in proc.stderr
    _no_traceback(proc.stderr)
    model_dir = isolated_env / "data" / "local-model"
    assert not model_dir.exists(), sorted(p.name for p in model_dir.iterdir())
    assert not list((isolated_env / "data").rglob("server.json"))


def test_an_empty_goal_contacts_no_model(gemini: GeminiServer) -> None:
    proc = maximus("run", " ", "--json", env=model_env(gemini))
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert gemini.requests == []


def test_resume_of_an_unknown_thread_contacts_no_model(
    gemini: GeminiServer, isolated_env: Path
) -> None:
    env = {**model_env(gemini), "MAXIMUS_LOCAL__AUTO": "true"}
    proc = maximus("resume", "no-such-thread", "--approve", env=env)
    assert proc.returncode == 2, proc.stderr
    assert "ThreadNotFoundError" in proc.stderr
    assert "no such thread 'no-such-thread'" in proc.stderr
    _no_traceback(proc.stderr)
    assert gemini.requests == []
    assert not (isolated_env / "data" / "local-model").exists()


def test_resume_of_an_unknown_thread_starts_no_local_model_server(isolated_env: Path) -> None:
    proc = maximus("resume", "ghost", "--reject", env={"MAXIMUS_MODEL": "local"})
    assert proc.returncode == 2, proc.stderr
    assert "no such thread 'ghost'" in proc.stderr
    assert not (isolated_env / "data" / "local-model").exists()


def test_resume_of_a_finished_thread_says_nothing_waits(gemini: GeminiServer) -> None:
    done = maximus("run", "What is 17*23?", "--json", "--thread", "t1", env=model_env(gemini))
    assert done.returncode == 0, done.stderr
    asked = len(gemini.requests)
    proc = maximus("resume", "t1", "--approve", env=model_env(gemini))
    assert proc.returncode == 2, proc.stderr
    assert "thread 't1' has no run waiting for approval" in proc.stderr
    assert len(gemini.requests) == asked


@pytest.mark.parametrize("thread", ["no-such-thread", "t2"])
def test_resume_needs_approve_or_reject(gemini: GeminiServer, thread: str) -> None:
    proc = maximus("resume", thread, env=model_env(gemini))
    assert proc.returncode == 2, proc.stderr
    assert "InvalidInputError" in proc.stderr
    assert "--approve or --reject" in proc.stderr
    _no_traceback(proc.stderr)
    assert gemini.requests == []
