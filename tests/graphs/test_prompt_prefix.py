"""Prompts shaped for the KV cache: every call of a step starts with one shared system message
(tools, goal, plan, compact history) and ends with the role's own instruction."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import BaseMessage, SystemMessage
from langgraph.checkpoint.memory import InMemorySaver

from maximus import Settings, create_agent
from maximus.graphs.state import Observation
from maximus.nodes._prompt import RECENT, history
from tests.support.scripts import (
    answer,
    candidates,
    plan,
    predictions,
    roles,
    scores,
    verdict,
)

CONFIG = {"configurable": {"thread_id": "t1"}}


def step(expression: str, decision: str, result: str | None = None) -> dict[str, list[Any]]:
    return {
        "policy": [candidates(("calculator", {"expression": expression}), (None, {}))],
        "world_model": [predictions("a number", "a guess")],
        "critic": [scores(0.9, 0.2)],
        "reflector": [verdict(decision, answer=result)],
    }


async def test_every_call_of_a_step_shares_one_prefix_and_ends_with_its_role() -> None:
    one, two = step("17*23", "continue"), step("391+9", "finish", "400")
    models = roles(
        planner=[plan(("Multiply", "a product", "calculator"), ("Add 9", "a sum", "calculator"))],
        **{role: one[role] + two[role] for role in one},
    )
    settings = Settings(agent={"simulation": "full", "simulate_when": "always",  # type: ignore[arg-type]
                               "judge": "model"})  # fmt: skip
    graph = create_agent(
        models=models,  # type: ignore[arg-type]
        checkpointer=InMemorySaver(),
        settings=settings,
    )
    result = await graph.ainvoke({"goal": "17*23+9"}, CONFIG)
    assert result["final_answer"] == "400"

    in_step = ("policy", "world_model", "critic", "reflector")
    for index in (0, 1):
        prompts: list[list[BaseMessage]] = [models[role].prompts[index] for role in in_step]
        heads = {p[0].text for p in prompts}
        assert len(heads) == 1  # one prefix for the whole step
        assert all(isinstance(p[0], SystemMessage) and len(p) == 2 for p in prompts)
        for role, prompt in zip(in_step, prompts, strict=True):
            name = role.replace("_", " ")
            assert f"You are the {name}" in prompt[-1].text  # the role comes last
            assert "You are the " + name not in prompt[0].text
    first, second = (models["policy"].prompts[i][0].text for i in (0, 1))
    assert first != second
    assert "Current step 1: Multiply" in first and "Current step 2: Add 9" in second
    assert "- calculator(" in first and "Goal: 17*23+9" in first
    assert '- step 1 calculator({"expression": "17*23"}) [ok]: 391' in second
    # the reflector sees its step's own observation after the prefix, not inside it
    assert "391" in models["reflector"].prompts[0][-1].text
    assert "391" not in models["reflector"].prompts[0][0].text


async def test_the_final_answer_shares_the_last_steps_prefix() -> None:
    models = roles(
        planner=[plan(("Multiply", "a product", "calculator"))],
        policy=[candidates(("calculator", {"expression": "6*7"}))],
        reflector=[answer("42")],
    )
    graph = create_agent(
        models=models,  # type: ignore[arg-type]
        checkpointer=InMemorySaver(),
        settings=Settings(),
    )
    await graph.ainvoke({"goal": "6*7"}, CONFIG)
    assert models["policy"].prompts[0][0].text == models["reflector"].prompts[0][0].text


async def test_prompt_tokens_and_cached_prompt_tokens_are_counted() -> None:
    def served(reply: Any, prompt: int, cached: int | None) -> Any:
        details = {"cache_read": cached} if cached is not None else {}
        total = prompt + 5
        usage = {"input_tokens": prompt, "output_tokens": 5, "total_tokens": total}
        reply.usage_metadata = {**usage, "input_token_details": details}
        return reply

    models = roles(
        planner=[served(plan(("Multiply", "a product", "calculator")), 100, None)],
        policy=[served(candidates(("calculator", {"expression": "6*7"})), 120, 90)],
        reflector=[served(answer("42"), 130, 110)],
    )
    graph = create_agent(
        models=models,  # type: ignore[arg-type]
        checkpointer=InMemorySaver(),
        settings=Settings(),
    )
    result = await graph.ainvoke({"goal": "6*7"}, CONFIG)
    counters = result["counters"]
    assert counters["prompt_tokens"] == 350 and counters["cached_prompt_tokens"] == 200
    assert counters["tokens"] == 365 and counters["model_calls"] == 3


def test_history_keeps_recent_steps_in_full_and_summarises_older_ones() -> None:
    long = "line one\n" + "x" * 400
    seen: list[Observation] = [
        {"run": 1, "step_id": i, "tool": "calculator", "args": {}, "content": long, "ok": True}
        for i in range(1, RECENT + 3)
    ]
    lines = history(seen).splitlines()
    older = [line for line in lines if line.startswith("- step") and line.endswith("…")]
    assert len(older) == 2 and all("x" * 10 not in line for line in older)
    assert history(seen).count("x" * 400) == RECENT
