"""The agent's paths end to end, with scripted fake models and real tools.

These scripts play the full pipeline: every step simulated with policy, world model and
critic, and judged by the reflector model (``LEGACY``). The default modes (fused simulation
when needed, steps judged from facts) are tested in ``test_grounded_steps.py`` and
``test_simulation_modes.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.types import Command

from maximus import InvalidInputError, RunOptions, Settings, create_agent
from maximus.memory.lessons import InProcessLessonSink, Priority
from tests.support.scripts import (
    candidates,
    plan,
    predictions,
    roles,
    scores,
    tool_call,
    verdict,
)

CONFIG = {"configurable": {"thread_id": "t1"}}
LEGACY = {"simulation": "full", "simulate_when": "always", "judge": "model"}


def legacy(data_dir: Path | None = None, **agent_settings: Any) -> Settings:
    """Settings for the full pipeline, plus ``agent_settings``."""
    extra: dict[str, Any] = {"data_dir": data_dir} if data_dir is not None else {}
    return Settings(agent={**LEGACY, **agent_settings}, **extra)  # type: ignore[arg-type]


def agent(models: dict[str, Any], settings: Settings | None = None, **kwargs: Any) -> Any:
    return create_agent(
        models=models,  # type: ignore[arg-type]
        checkpointer=InMemorySaver(),
        settings=settings or legacy(),
        **kwargs,
    )


def calc_step(expression: str, tokens: int = 0) -> dict[str, list[Any]]:
    """One simulated calculator step whose first candidate wins."""
    return {
        "policy": [
            candidates(("calculator", {"expression": expression}), (None, {}), tokens=tokens)
        ],
        "world_model": [predictions("the result", "a guess", tokens=tokens)],
        "critic": [scores(0.9, 0.3, tokens=tokens)],
    }


def merge(*parts: dict[str, list[Any]]) -> dict[str, list[Any]]:
    merged: dict[str, list[Any]] = {}
    for part in parts:
        for role, replies in part.items():
            merged.setdefault(role, []).extend(replies)
    return merged


async def test_success_path_runs_real_tools_and_records_the_simulation() -> None:
    script = merge(
        {"planner": [plan(("multiply", "391", "calculator"), ("add 9", "400", "calculator"))]},
        calc_step("17*23"),
        {"reflector": [verdict("continue")]},
        calc_step("391+9"),
        {"reflector": [verdict("finish", answer="400")]},
    )
    models = roles(**script)
    sink = InProcessLessonSink()
    result = await agent(models, lesson_sink=sink).ainvoke({"goal": "17*23+9?"}, CONFIG)

    assert result["status"] == "done"
    assert result["final_answer"] == "400"
    assert [o["content"] for o in result["observations"]] == ["391", "400"]
    assert [s["status"] for s in result["plan"]] == ["done", "done"]
    assert [s["simulated"] for s in result["simulations"]] == [True, True]
    first = result["simulations"][0]
    assert [c["tool"] for c in first["candidates"]] == ["calculator", None]
    assert [s["score"] for s in first["scores"]] == [0.9, 0.3]
    assert first["chosen_id"] == 0 and first["outcome"] == "execute"
    # plan + 2 x (policy, world model, critic) + 2 reflections; the answer needed no call
    assert result["counters"] == {
        "steps": 2, "model_calls": 9, "tokens": 0, "prompt_tokens": 0, "cached_prompt_tokens": 0,
        "replans": 0, "tool_errors": 0, "invalid_actions": 0,
    }  # fmt: skip
    await sink.flush()
    assert {lesson.kind for lesson in sink.lessons} == {"procedural", "episodic"}
    assert all(lesson.thread_id == "t1" for lesson in sink.lessons)


async def test_failing_tool_is_reflected_on_replanned_and_then_succeeds() -> None:
    script = merge(
        {"planner": [plan(("divide", "a number", "calculator"))]},
        calc_step("1/0"),
        {"reflector": [verdict("replan", success=False)]},
        {"planner": [plan(("divide by one", "1", "calculator"))]},
        calc_step("1/1"),
        {"reflector": [verdict("finish", answer="1.0")]},
    )
    sink = InProcessLessonSink()
    result = await agent(roles(**script), lesson_sink=sink).ainvoke({"goal": "divide"}, CONFIG)

    assert result["status"] == "done" and result["final_answer"] == "1.0"
    failed, succeeded = result["observations"]
    assert not failed["ok"] and "division by zero" in failed["content"]
    assert succeeded["ok"] and succeeded["content"] == "1.0"
    errors = [m for m in result["messages"] if isinstance(m, ToolMessage) and m.status == "error"]
    assert len(errors) == 1  # the model saw the error as a tool message
    assert [r["decision"] for r in result["reflections"]] == ["replan", "finish"]
    assert result["counters"]["replans"] == 1 and result["counters"]["tool_errors"] == 1
    await sink.flush()
    assert any(not lesson.success and lesson.priority is Priority.HIGH for lesson in sink.lessons)


def risky_write(score: float) -> dict[str, list[Any]]:
    return {
        "policy": [candidates(("write_file", {"path": "out.txt", "content": "hello"}))],
        "world_model": [predictions("out.txt overwritten")],
        "critic": [scores(score)],
    }


async def test_simulation_rejects_a_low_scoring_side_effecting_action(tmp_path: Path) -> None:
    settings = legacy(tmp_path / "data")
    script = merge(
        {"planner": [plan(("save the greeting", "file saved", "write_file"))]},
        risky_write(0.2),
        {"planner": [plan(("compute instead", "2", "calculator"))]},
        calc_step("1+1"),
        {"reflector": [verdict("finish", answer="2")]},
    )
    result = await agent(roles(**script), settings).ainvoke({"goal": "greet"}, CONFIG)

    rejected = result["simulations"][0]
    assert rejected["outcome"] == "replan"
    assert rejected["candidates"][0]["side_effecting"] is True
    assert "risk threshold 0.5" in result["critique"]  # what the planner re-planned from
    assert result["reflections"][0]["step_id"] == 1  # only the re-planned step was reflected
    assert not (settings.workspace_dir / "out.txt").exists()
    assert not any(
        isinstance(m, ToolMessage) and m.name == "write_file" for m in result["messages"]
    )
    assert result["counters"]["replans"] == 1
    assert result["status"] == "done" and result["final_answer"] == "2"


async def test_replan_critique_names_the_rejected_action(tmp_path: Path) -> None:
    script = merge(
        {"planner": [plan(("save", "saved", "write_file"))]},
        risky_write(0.1),
        # a different plan: an identical re-plan is refused (test_replanning.py)
        {"planner": [plan(("save under another name", "saved", "write_file"))]},
        risky_write(0.1),
    )
    settings = legacy(tmp_path / "data", max_replans=1)
    result = await agent(roles(**script), settings).ainvoke({"goal": "save"}, CONFIG)

    assert result["status"] == "failed"
    assert "re-plan budget spent" in result["error"]
    assert "write_file" in result["error"] and "risk threshold 0.5" in result["error"]
    assert result["final_answer"].startswith("Run failed")


@pytest.mark.parametrize("approved", [True, False])
async def test_human_approval_interrupts_and_resumes(tmp_path: Path, approved: bool) -> None:
    settings = legacy(tmp_path / "data", on_risk="human")
    script = merge(
        {"planner": [plan(("save the greeting", "file saved", "write_file"))]},
        risky_write(0.2),
        {"reflector": [verdict("finish", answer="saved")]} if approved else {},
        {"planner": [plan(("say it", "said", None))]} if not approved else {},
        {"policy": [candidates((None, {}))], "world_model": [predictions("said")],
         "critic": [scores(0.9)], "reflector": [verdict("finish", answer="said")]}
        if not approved else {},
    )  # fmt: skip
    graph = agent(roles(**script), settings)

    paused = await graph.ainvoke({"goal": "greet"}, CONFIG)
    request = paused["__interrupt__"][0].value
    assert request["type"] == "approval" and request["action"]["tool"] == "write_file"
    assert request["score"]["score"] == 0.2
    assert (await graph.aget_state(CONFIG)).next == ("approve",)

    result = await graph.ainvoke(Command(resume={"approved": approved, "note": "ok"}), CONFIG)
    assert result["approvals"][0]["approved"] is approved
    written = settings.workspace_dir / "out.txt"
    assert written.exists() is approved
    assert result["status"] == "done"
    assert result["final_answer"] == ("saved" if approved else "said")


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ({"max_steps": 1}, "step budget spent"),
        ({"max_tokens": 50}, "token budget spent"),
        ({"max_seconds": 1e-6}, "time budget spent"),
        ({"recursion_limit": 10}, "recursion budget spent"),
    ],
)
async def test_budgets_end_the_run_cleanly_as_exhausted(
    limits: dict[str, Any], message: str
) -> None:
    steps = [(f"step {i}", "ok", "calculator") for i in range(5)]
    script = merge(
        {"planner": [plan(*steps, tokens=30)]},
        *[merge(calc_step(f"{i}+1", tokens=10), {"reflector": [verdict("continue")]})
          for i in range(5)],
    )  # fmt: skip
    settings = legacy(**limits)
    result = await agent(roles(**script), settings).ainvoke({"goal": "count"}, CONFIG)

    assert result["status"] == "exhausted"
    assert message in result["error"]
    assert result["final_answer"].startswith("Run exhausted")


async def test_malformed_model_output_is_retried_then_fails_cleanly() -> None:
    bad = plan()  # a Plan call with broken arguments
    bad.tool_calls[0]["args"] = {"steps": "not a list"}
    models = roles(planner=[bad, bad, bad])
    result = await agent(models).ainvoke({"goal": "anything"}, CONFIG)

    assert models["planner"].calls == 3
    assert result["status"] == "failed"
    assert "did not return a valid Plan" in result["error"]


async def test_malformed_output_then_valid_output_recovers() -> None:
    bad = plan()
    bad.tool_calls[0]["args"] = {"steps": [{"description": 1}]}
    script = merge(
        {"planner": [bad, plan(("add", "2", "calculator"))]},
        calc_step("1+1"),
        {"reflector": [verdict("finish", answer="2")]},
    )
    models = roles(**script)
    result = await agent(models).ainvoke({"goal": "1+1"}, CONFIG)
    assert models["planner"].calls == 2
    assert result["status"] == "done" and result["final_answer"] == "2"


async def test_simulation_off_and_on_are_both_recorded_in_state() -> None:
    off_script = {
        "planner": [plan(("multiply", "391", "calculator"))],
        "executor": [tool_call("calculator", expression="17*23")],
        "reflector": [verdict("finish", answer="391")],
    }
    on_script = merge(
        {"planner": [plan(("multiply", "391", "calculator"))]},
        calc_step("17*23"),
        {"reflector": [verdict("finish", answer="391")]},
    )
    off = await agent(roles(**off_script)).ainvoke(
        {"goal": "17*23"}, CONFIG, context=RunOptions(simulate=False)
    )
    on = await agent(roles(**on_script)).ainvoke(
        {"goal": "17*23"}, CONFIG, context=RunOptions(simulate=True)
    )

    assert off["final_answer"] == on["final_answer"] == "391"
    (off_sim,) = off["simulations"]
    (on_sim,) = on["simulations"]
    assert off_sim["simulated"] is False and off_sim["predictions"] == off_sim["scores"] == []
    assert on_sim["simulated"] is True and len(on_sim["scores"]) == len(on_sim["candidates"]) == 2
    assert off["counters"]["model_calls"] == 3 and on["counters"]["model_calls"] == 5


def test_sync_invoke_runs_the_async_nodes() -> None:
    script = merge(
        {"planner": [plan(("multiply", "391", "calculator"))]},
        calc_step("17*23"),
        {"reflector": [verdict("finish", answer="391")]},
    )
    result = agent(roles(**script)).invoke({"goal": "17*23"}, CONFIG)
    assert result["status"] == "done" and result["observations"][0]["content"] == "391"


async def test_a_new_goal_on_the_same_thread_starts_a_new_run() -> None:
    one = lambda answer: merge(  # noqa: E731
        {"planner": [plan(("add", answer, "calculator"))]},
        calc_step("1+1"),
        {"reflector": [verdict("finish", answer=answer)]},
    )
    graph = agent(roles(**merge(one("2"), one("2 again"))))
    await graph.ainvoke({"goal": "1+1"}, CONFIG)
    second = await graph.ainvoke({"goal": "1+1 again"}, CONFIG)

    assert second["run"] == 2 and second["goal"] == "1+1 again"
    assert len(second["observations"]) == 1 and second["counters"]["steps"] == 1
    assert [m.type for m in second["messages"]].count("human") == 2


async def test_chat_style_input_uses_the_last_human_message_as_goal() -> None:
    script = merge(
        {"planner": [plan(("add", "2", "calculator"))]},
        calc_step("1+1"),
        {"reflector": [verdict("finish", answer="2")]},
    )
    result = await agent(roles(**script)).ainvoke(
        {"messages": [{"role": "user", "content": "what is 1+1"}]}, CONFIG
    )
    assert result["goal"] == "what is 1+1" and result["final_answer"] == "2"


async def test_missing_goal_is_a_clear_input_error() -> None:
    with pytest.raises(InvalidInputError, match="no goal"):
        await agent(roles()).ainvoke({"goal": "  "}, CONFIG)


async def test_bad_run_options_are_a_clear_input_error() -> None:
    with pytest.raises(InvalidInputError, match="num_candidates"):
        await agent(roles()).ainvoke({"goal": "x"}, CONFIG, context=RunOptions(num_candidates=0))
