"""``maximus run`` with memory on: lessons land in memory, and the next run's planner sees
them (the Gemini API served locally answers as a scripted agent)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.support.cli import maximus, model_env
from tests.support.gemini_server import GeminiServer

pytestmark = pytest.mark.integration


@pytest.fixture
def gemini() -> Iterator[GeminiServer]:
    server = GeminiServer()
    yield server
    server.close()


def test_run_stores_lessons_and_recalls_them_next_time(gemini: GeminiServer) -> None:
    env = model_env(gemini)
    first = maximus("run", "What is 17*23?", "--json", env=env)
    assert first.returncode == 0, first.stderr
    listed = maximus("memory", "list", "--type", "procedural", "--json", env=env)
    assert listed.returncode == 0, listed.stderr
    lessons = [json.loads(line) for line in listed.stdout.splitlines()]
    assert "use the calculator for arithmetic" in {r["description"] for r in lessons}
    assert all("lesson" in r["tags"] for r in lessons)
    episodes = maximus("memory", "list", "--type", "episodic", "--json", env=env)
    assert any(json.loads(x)["event_type"] == "reflection" for x in episodes.stdout.splitlines())
    asked = len(gemini.requests)
    second = maximus("run", "What is 17*23?", "--json", env=env)
    assert second.returncode == 0, second.stderr
    planner_prompt = json.dumps(gemini.requests[asked])
    assert "Relevant long-term memory" in planner_prompt
    assert "use the calculator for arithmetic" in planner_prompt
