"""Re-planning on evidence: a failed step re-plans, and the same plan is never accepted twice."""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from maximus import Settings, create_agent
from tests.support.scripts import answer, calls, candidates, fused, plan, roles

CONFIG = {"configurable": {"thread_id": "t1"}}
DIVIDE = ("Divide 1 by 0", "a number", "calculator")


def agent(models: dict[str, Any]) -> Any:
    return create_agent(
        models=models,  # type: ignore[arg-type]
        checkpointer=InMemorySaver(),
        settings=Settings(),
    )


async def test_an_identical_replan_is_refused_and_a_different_one_accepted() -> None:
    models = roles(
        planner=[
            plan(DIVIDE),
            plan(("divide  1 BY 0", "the quotient", "calculator")),  # the same plan again
            plan(("Divide 1 by 1", "a number", "calculator")),
        ],
        policy=[
            candidates(("calculator", {"expression": "1/0"})),
            fused(("calculator", {"expression": "1/1"}, 0.9)),
        ],
        reflector=[answer("1.0")],
    )
    result = await agent(models).ainvoke({"goal": "divide"}, CONFIG)

    assert result["status"] == "done" and result["final_answer"] == "1.0"
    assert [s["description"] for s in result["plan"]] == ["Divide 1 by 1"]
    assert len(result["tried_plans"]) == 2
    assert result["counters"]["replans"] == 1
    retried = models["planner"].prompts[2][-1].text
    assert "repeated a plan that was already tried" in retried
    assert "Critique:" in retried and "division by zero" in retried
    assert calls(models) == {"planner": 3, "policy": 2, "reflector": 1}


async def test_a_planner_that_can_only_repeat_itself_ends_the_run_cleanly() -> None:
    models = roles(
        planner=[plan(DIVIDE)] * 4,
        policy=[candidates(("calculator", {"expression": "1/0"}))],
    )
    result = await agent(models).ainvoke({"goal": "divide"}, CONFIG)

    assert result["status"] == "failed"
    assert "already tried" in result["error"] and "Divide 1 by 0" in result["error"]
    assert result["final_answer"].startswith("Run failed")
    assert models["planner"].calls == 4  # the plan, then the re-plan's three attempts
