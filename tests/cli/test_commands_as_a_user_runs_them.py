"""The ``maximus`` command, run as a user would: a subprocess, against a local Gemini API."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import events, maximus, model_env, risky_responder
from tests.support.gemini_server import GeminiServer

pytestmark = pytest.mark.integration


def test_run_without_a_model_prints_a_clear_config_error() -> None:
    proc = maximus("run", "What is 17*23?")
    assert proc.returncode == 3
    assert "ConfigError" in proc.stderr
    for setting in ("GOOGLE_API_KEY", "MAXIMUS_MODEL", "MAXIMUS_BASE_URL"):
        assert setting in proc.stderr


def test_invalid_settings_are_a_config_error() -> None:
    proc = maximus("run", "x", env={"MAXIMUS_AGENT__NUM_CANDIDATES": "lots"})
    assert proc.returncode == 3
    assert "MAXIMUS_AGENT__NUM_CANDIDATES" in proc.stderr


def test_run_streams_json_events_and_succeeds(gemini: GeminiServer) -> None:
    proc = maximus("run", "What is 17*23?", "--json", "--mode", "fast", env=model_env(gemini))
    assert proc.returncode == 0, proc.stderr
    stream = events(proc)
    kinds = [e["event"] for e in stream]
    assert kinds == ["plan", "simulate", "execute", "reflect", "respond", "result"]
    simulated = stream[1]["update"]["simulations"][0]
    assert [s["score"] for s in simulated["scores"]] == [0.9, 0.1]
    assert stream[2]["update"]["observations"][0]["content"] == "391"
    assert stream[-1]["status"] == "done" and stream[-1]["final_answer"] == "17 * 23 = 391"
    assert {
        r["generationConfig"]["thinkingConfig"]["thinking_budget"] for r in gemini.requests
    } == {0}


def test_live_view_shows_plan_candidates_tools_and_reflections(gemini: GeminiServer) -> None:
    proc = maximus("run", "What is 17*23?", env=model_env(gemini))
    assert proc.returncode == 0, proc.stderr
    for shown in ("Multiply 17 by 23", "calculator", "0.90", "tool calculator", "391",
                  "reflect step 1: finish", "17 * 23 = 391"):  # fmt: skip
        assert shown in proc.stdout


def test_thread_sessions_survive_between_processes(gemini: GeminiServer) -> None:
    first = maximus("run", "What is 17*23?", "--json", "--thread", "s1", env=model_env(gemini))
    second = maximus("run", "And again?", "--json", "--thread", "s1", env=model_env(gemini))
    assert first.returncode == second.returncode == 0
    assert events(first)[-1]["run"] == 1 and events(second)[-1]["run"] == 2


def test_no_simulate_records_an_unsimulated_step(gemini: GeminiServer) -> None:
    proc = maximus("run", "What is 17*23?", "--json", "--no-simulate", env=model_env(gemini))
    assert proc.returncode == 0, proc.stderr
    (simulated,) = [e for e in events(proc) if e["event"] == "simulate"]
    assert simulated["update"]["simulations"][0]["simulated"] is False


def test_approval_interrupts_then_resumes_in_a_new_process(
    gemini: GeminiServer, isolated_env: Path
) -> None:
    gemini.responder = risky_responder
    env = {**model_env(gemini), "MAXIMUS_AGENT__ON_RISK": "human"}
    paused = maximus("run", "Save a greeting", "--json", "--thread", "a1", env=env)
    assert paused.returncode == 5, paused.stderr
    (request,) = [e for e in events(paused) if e["event"] == "approval"]
    assert request["action"]["tool"] == "write_file" and request["score"]["score"] == 0.2
    assert "maximus resume a1" in paused.stderr
    written = isolated_env / "data" / "workspace" / "hello.txt"
    assert not written.exists()
    calls_before = len(gemini.requests)

    resumed = maximus("resume", "a1", "--approve", "--json", env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert events(resumed)[-1]["final_answer"] == "saved hello.txt"
    assert written.read_text() == "hi"
    assert len(gemini.requests) == calls_before + 1  # only the reflector: no re-simulation


def test_resume_of_a_thread_never_run_is_a_usage_error(gemini: GeminiServer) -> None:
    proc = maximus("resume", "nothing-here", "--approve", env=model_env(gemini))
    assert proc.returncode == 2
    assert "no such thread 'nothing-here'" in proc.stderr


def test_graph_and_version_commands() -> None:
    graph = maximus("graph")
    assert graph.returncode == 0
    for node in ("plan", "simulate", "execute", "reflect", "respond"):
        assert f"\t{node}({node})" in graph.stdout
    version = maximus("version")
    assert version.returncode == 0 and version.stdout.startswith("maximus ")
