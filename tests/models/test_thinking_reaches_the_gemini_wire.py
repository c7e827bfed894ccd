"""Thinking modes reach the wire: the real Gemini client against a local Gemini API server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_google_genai import ChatGoogleGenerativeAI
from langgraph.checkpoint.memory import InMemorySaver

from maximus import RunOptions, Settings, create_agent
from maximus.models.thinking import with_thinking
from maximus.nodes.schemas import Plan
from tests.support.gemini_server import GeminiServer

pytestmark = pytest.mark.integration


@pytest.fixture
def gemini() -> Iterator[GeminiServer]:
    server = GeminiServer()
    yield server
    server.close()


def thinking_config(request: dict[str, Any]) -> dict[str, Any]:
    """The request's thinking config, with keys normalised to snake_case."""
    config = request["generationConfig"].get("thinkingConfig") or {}
    rename = {"thinkingBudget": "thinking_budget", "thinkingLevel": "thinking_level"}
    return {rename.get(k, k): (v.lower() if isinstance(v, str) else v) for k, v in config.items()}


@pytest.mark.parametrize(
    ("model", "mode", "expected"),
    [
        ("gemini-2.5-flash", "fast", {"thinking_budget": 0}),
        ("gemini-2.5-flash", "normal", {"thinking_budget": -1}),
        ("gemini-2.5-flash", "deep", {"thinking_budget": 24576}),
        ("gemini-2.5-pro", "fast", {"thinking_budget": 128}),
        ("gemini-2.5-pro", "deep", {"thinking_budget": 32768}),
        ("gemini-3-flash-preview", "fast", {"thinking_level": "minimal"}),
        ("gemini-3-flash-preview", "normal", {"thinking_level": "medium"}),
        ("gemini-3-flash-preview", "deep", {"thinking_level": "high"}),
        ("gemini-3-pro-preview", "fast", {"thinking_level": "low"}),
        ("gemini-3-pro-preview", "normal", {"thinking_level": "high"}),
    ],
)
def test_each_fixed_mode_sets_the_thinking_config_in_the_request(
    gemini: GeminiServer, model: str, mode: Any, expected: dict[str, Any]
) -> None:
    client = ChatGoogleGenerativeAI(model=model, api_key="test-key", base_url=gemini.url)
    out = with_thinking(client, mode).with_structured_output(Plan, include_raw=True).invoke("plan")

    assert isinstance(out["parsed"], Plan)  # the structured output round-tripped
    (request,) = gemini.requests
    assert request["model"] == model and request["method"] == "generateContent"
    assert thinking_config(request) == expected
    assert request["generationConfig"]["responseMimeType"] == "application/json"


@pytest.mark.parametrize("mode", ["fast", "normal", "deep", "adaptive"])
async def test_the_agent_sends_each_mode_through_every_role(
    gemini: GeminiServer, mode: Any, tmp_path: Any
) -> None:
    settings = Settings(
        model="google_genai:gemini-2.5-flash",
        google_api_key="test-key",  # type: ignore[arg-type]
        base_url=gemini.url,
        data_dir=tmp_path / "data",
        # Every role is called once: the full pipeline, always simulated, judged by the model.
        agent={"simulation": "full", "simulate_when": "always", "judge": "model"},  # type: ignore[arg-type]
    )
    graph = create_agent(settings=settings, checkpointer=InMemorySaver())
    result = await graph.ainvoke(
        {"goal": "What is 17*23?"},
        {"configurable": {"thread_id": mode}},
        context=RunOptions(mode=mode),
    )
    assert result["status"] == "done" and result["final_answer"] == "17 * 23 = 391"
    assert result["observations"][0]["content"] == "391"
    assert result["counters"]["tokens"] == 20 * len(gemini.requests)

    roles = ["planner", "policy", "world_model", "critic", "reflector"]
    budgets = [thinking_config(r)["thinking_budget"] for r in gemini.requests]
    assert len(budgets) == len(roles)
    fixed = {"fast": 0, "normal": -1, "deep": 24576}
    if mode in fixed:
        assert budgets == [fixed[mode]] * len(roles)
    else:
        # Adaptive, documented rule: a 4-word goal and a 1-step plan score 0 points, so
        # policy and reflector think fast; the planner and critic (judgement roles) score 1,
        # normal; the world model scores 0 (no side effect at stake), fast.
        assert budgets == [-1, 0, 0, -1, 0]
