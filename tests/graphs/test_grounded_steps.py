"""Steps judged from facts (tool status and signals), with the default settings: the
reflector model is called only when the facts are silent, and to compose the final answer."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from maximus import Settings, create_agent
from maximus.memory.lessons import InProcessLessonSink, Priority
from tests.support.rooms import Room, room_tool
from tests.support.scripts import answer, calls, candidates, fused, plan, roles, verdict

CONFIG = {"configurable": {"thread_id": "t1"}}


def agent(models: dict[str, Any], **kwargs: Any) -> Any:
    return create_agent(
        models=models,  # type: ignore[arg-type]
        checkpointer=InMemorySaver(),
        settings=Settings(),
        **kwargs,
    )


def same(tool: str, **args: Any) -> Any:
    """Policy candidates that agree (one action, spacing aside): no simulation needed."""
    spaced = {k: f" {v} " for k, v in args.items()}
    return candidates((tool, args), (tool, spaced))


async def test_the_readme_goal_takes_three_model_calls_and_answers_391() -> None:
    models = roles(
        planner=[plan(("Multiply 17 by 23", "the product", "calculator"))],
        policy=[same("calculator", expression="17 * 23")],
        reflector=[answer("17 * 23 = 391", "use the calculator for arithmetic")],
    )
    result = await agent(models).ainvoke(
        {"goal": "Use the calculator to work out 17 * 23."}, CONFIG
    )

    assert result["status"] == "done" and result["final_answer"] == "17 * 23 = 391"
    assert result["observations"][0]["content"] == "391"
    assert result["counters"]["model_calls"] == 3
    assert calls(models) == {"planner": 1, "policy": 1, "reflector": 1}
    (simulation,) = result["simulations"]
    assert simulation["simulated"] is False and simulation["mode"] == "fused"
    assert simulation["skipped"] == "the candidates agree and none is side-effecting"
    (reflection,) = result["reflections"]
    assert reflection["judged_by"] == "signals" and reflection["decision"] == "finish"
    assert reflection["lessons"] == ["use the calculator for arithmetic"]


async def test_a_final_answer_that_changes_the_tools_value_is_replaced_by_it() -> None:
    models = roles(
        planner=[
            plan(("Multiply", "the product", "calculator"), ("Add 9", "the sum", "calculator"))
        ],
        policy=[same("calculator", expression="17*23"), same("calculator", expression="391+9")],
        reflector=[answer("The result is 408.")],  # the model misread the calculator's 400
    )
    result = await agent(models).ainvoke({"goal": "What is 17 * 23, plus 9?"}, CONFIG)

    assert [o["content"] for o in result["observations"]] == ["391", "400"]
    assert result["final_answer"] == "400"
    assert calls(models) == {"planner": 1, "policy": 2, "reflector": 1}


async def test_steps_are_judged_from_tool_status_without_the_reflector() -> None:
    sink = InProcessLessonSink()
    models = roles(
        planner=[
            plan(("Divide", "a number", "calculator"), ("Double it", "twice", "calculator")),
            plan(("Divide by one", "1", "calculator")),
        ],
        # the failed step makes the next one simulated ("the last step failed"): fused, 1 call
        policy=[
            same("calculator", expression="1/0"),
            fused(("calculator", {"expression": "1/1"}, 0.9)),
        ],
        reflector=[answer("1.0")],
    )
    result = await agent(models, lesson_sink=sink).ainvoke({"goal": "divide"}, CONFIG)

    failed, succeeded = result["observations"]
    assert not failed["ok"] and "division by zero" in failed["content"]
    first = result["reflections"][0]
    assert first == {**first, "judged_by": "signals", "decision": "replan", "success": False}
    assert "calculator" in first["critique"] and "division by zero" in first["critique"]
    assert result["simulations"][1]["reason"] == "the last step failed"
    assert result["status"] == "done" and result["final_answer"] == "1.0"
    # reflector: only the final answer; the failure was judged from the tool's error status
    assert calls(models) == {"planner": 2, "policy": 2, "reflector": 1}
    assert result["counters"]["tool_errors"] == 1 and result["counters"]["replans"] == 1
    errors = [m for m in result["messages"] if isinstance(m, ToolMessage) and m.status == "error"]
    assert len(errors) == 1
    await sink.flush()
    assert any(not lesson.success and lesson.priority is Priority.HIGH for lesson in sink.lessons)


async def test_an_environment_signal_decides_success_and_the_win() -> None:
    room = Room()
    models = roles(
        planner=[plan(("Open the box", "it opens", "act"), ("Take the coin", "you win", "act"))],
        policy=[same("act", command="open box"), same("act", command="take coin")],
    )
    result = await agent(models, tools=[room_tool(room)]).ainvoke({"goal": "get the coin"}, CONFIG)

    assert room.commands == ["open box", "take coin"]
    assert result["status"] == "done"
    won = "The task ended won (score 1 of 1). You take the coin. You win!"
    assert result["final_answer"] == won
    assert [o["signals"]["won"] for o in result["observations"]] == [False, True]
    assert [r["judged_by"] for r in result["reflections"]] == ["signals", "signals"]
    assert calls(models) == {"planner": 1, "policy": 2}  # no reflector call at all


async def test_a_plan_that_ends_before_the_environment_is_done_is_replanned() -> None:
    room = Room()
    models = roles(
        planner=[
            plan(("Open the box", "the coin is yours", "act")),  # the planner hoped so
            plan(("Take the coin", "you win", "act")),
        ],
        policy=[same("act", command="open box"), same("act", command="take coin")],
    )
    result = await agent(models, tools=[room_tool(room)]).ainvoke({"goal": "get the coin"}, CONFIG)

    first = result["reflections"][0]
    assert first["decision"] == "replan" and first["success"] is True
    assert "not done yet" in first["critique"]
    assert result["status"] == "done" and room.won
    assert result["counters"]["replans"] == 1 and "reflector" not in calls(models)


async def test_the_reflector_is_called_only_when_the_signals_are_silent() -> None:
    models = roles(
        planner=[plan(("Say hello", "a greeting", None), ("Multiply", "a product", "calculator"))],
        policy=[candidates((None, {})), same("calculator", expression="6*7")],
        reflector=[verdict("continue"), answer("42")],
    )
    result = await agent(models).ainvoke({"goal": "greet, then 6*7"}, CONFIG)

    assert [r["judged_by"] for r in result["reflections"]] == ["model", "signals"]
    assert result["observations"][0]["tool"] is None  # answered without a tool: no facts
    assert calls(models)["reflector"] == 2  # the silent step, then the final answer
    assert result["final_answer"] == "42"


async def test_judge_model_asks_the_reflector_for_every_step() -> None:
    models = roles(
        planner=[plan(("Multiply", "a product", "calculator"))],
        policy=[same("calculator", expression="6*7")],
        reflector=[verdict("finish", answer="6 * 7 = 42")],
    )
    settings = Settings(agent={"judge": "model"})  # type: ignore[arg-type]
    result = await create_agent(
        models=models,  # type: ignore[arg-type]
        checkpointer=InMemorySaver(),
        settings=settings,
    ).ainvoke({"goal": "6*7"}, CONFIG)

    assert result["reflections"][0]["judged_by"] == "model"
    assert result["final_answer"] == "6 * 7 = 42"
    assert calls(models) == {"planner": 1, "policy": 1, "reflector": 1}
