"""Simulation modes (``full``, ``fused``, ``off``) and when to simulate (``always``, ``risky``,
``auto``), with scripted fake models and real tools; the ``Simulation`` record says which mode
ran and why it ran or was skipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langgraph.checkpoint.memory import InMemorySaver

from maximus import RunOptions, Settings, create_agent
from tests.support.scripts import (
    answer,
    assessments,
    calls,
    candidates,
    fused,
    plan,
    predictions,
    roles,
    scores,
    tool_call,
)

CONFIG = {"configurable": {"thread_id": "t1"}}
PRODUCT = plan(("Multiply 17 by 23", "the product", "calculator"))
RIGHT = ("calculator", {"expression": "17*23"})
WRONG = ("calculator", {"expression": "17+23"})


async def run(models: dict[str, Any], tmp_path: Path, **options: Any) -> Any:
    graph = create_agent(
        models=models,  # type: ignore[arg-type]
        checkpointer=InMemorySaver(),
        settings=Settings(data_dir=tmp_path / "data"),
    )
    return await graph.ainvoke({"goal": "17*23"}, CONFIG, context=RunOptions(**options))


async def test_full_runs_policy_world_model_and_critic(tmp_path: Path) -> None:
    models = roles(
        planner=[PRODUCT],
        policy=[candidates(WRONG, RIGHT)],
        world_model=[predictions("40", "391")],
        critic=[scores(0.1, 0.9)],
        reflector=[answer("391")],
    )
    result = await run(models, tmp_path, simulation="full", simulate_when="always")

    (record,) = result["simulations"]
    assert record == {**record, "simulated": True, "mode": "full", "chosen_id": 1,
                      "reason": "simulate_when=always", "skipped": None}  # fmt: skip
    assert [p["next_state"] for p in record["predictions"]] == ["40", "391"]
    assert result["observations"][0]["content"] == "391"
    assert calls(models) == {"planner": 1, "policy": 1, "world_model": 1, "critic": 1,
                             "reflector": 1}  # fmt: skip


async def test_fused_proposes_predicts_and_scores_in_one_call(tmp_path: Path) -> None:
    models = roles(
        planner=[PRODUCT],
        policy=[fused((*WRONG, 0.2), (*RIGHT, 0.8))],
        reflector=[answer("391")],
    )
    result = await run(models, tmp_path, simulation="fused", simulate_when="always")

    (record,) = result["simulations"]
    assert record["simulated"] is True and record["mode"] == "fused"
    assert [s["score"] for s in record["scores"]] == [0.2, 0.8] and record["chosen_id"] == 1
    assert [p["next_state"] for p in record["predictions"]] == ["after calculator"] * 2
    assert result["final_answer"] == "391"
    assert calls(models) == {"planner": 1, "policy": 1, "reflector": 1}


async def test_off_lets_the_executor_act_directly_and_the_old_switch_still_works(
    tmp_path: Path,
) -> None:
    for options in ({"simulation": "off"}, {"simulate": False}):
        models = roles(
            planner=[PRODUCT],
            executor=[tool_call("calculator", expression="17*23")],
            reflector=[answer("391")],
        )
        result = await run(models, tmp_path, **options)

        (record,) = result["simulations"]
        expected = {"simulated": False, "mode": "off", "skipped": "simulation is off"}
        assert record == {**record, **expected, "predictions": [], "scores": []}
        assert result["final_answer"] == "391"
        assert calls(models) == {"planner": 1, "executor": 1, "reflector": 1}


async def test_auto_skips_simulation_when_the_candidates_agree(tmp_path: Path) -> None:
    models = roles(
        planner=[PRODUCT],
        policy=[candidates(RIGHT, ("calculator", {"expression": "17 * 23"}))],
        reflector=[answer("391")],
    )
    result = await run(models, tmp_path)  # the defaults: fused, auto

    (record,) = result["simulations"]
    assert record["simulated"] is False and record["mode"] == "fused"
    assert record["skipped"] == "the candidates agree and none is side-effecting"
    assert calls(models) == {"planner": 1, "policy": 1, "reflector": 1}


async def test_auto_simulates_when_the_candidates_disagree(tmp_path: Path) -> None:
    fused_models = roles(
        planner=[PRODUCT],
        policy=[candidates(WRONG, RIGHT)],
        critic=[assessments(0.1, 0.9)],  # fused: world model and critic in one call
        reflector=[answer("391")],
    )
    result = await run(fused_models, tmp_path)

    (record,) = result["simulations"]
    assert record["simulated"] is True and record["reason"] == "the candidates disagree"
    assert record["chosen_id"] == 1 and result["observations"][0]["content"] == "391"
    assert calls(fused_models) == {"planner": 1, "policy": 1, "critic": 1, "reflector": 1}

    full_models = roles(
        planner=[PRODUCT],
        policy=[candidates(WRONG, RIGHT)],
        world_model=[predictions("40", "391")],
        critic=[scores(0.1, 0.9)],
        reflector=[answer("391")],
    )
    result = await run(full_models, tmp_path, simulation="full")
    assert result["simulations"][0]["reason"] == "the candidates disagree"
    assert calls(full_models) == {"planner": 1, "policy": 1, "world_model": 1, "critic": 1,
                                  "reflector": 1}  # fmt: skip


async def test_auto_simulates_a_side_effecting_step_before_proposing(tmp_path: Path) -> None:
    write = ("write_file", {"path": "out.txt", "content": "hi"})
    models = roles(
        planner=[plan(("Save the greeting", "saved", "write_file"))],
        policy=[fused((*write, 0.9))],
        reflector=[answer("saved out.txt")],
    )
    result = await run(models, tmp_path)

    (record,) = result["simulations"]
    assert record["simulated"] is True
    assert record["reason"] == "the planned tool write_file is side-effecting"
    assert (tmp_path / "data" / "workspace" / "out.txt").read_text() == "hi"
    assert calls(models) == {"planner": 1, "policy": 1, "reflector": 1}


async def test_risky_acts_directly_unless_the_action_is_side_effecting(tmp_path: Path) -> None:
    read_only = roles(
        planner=[PRODUCT],
        executor=[tool_call("calculator", expression="17*23")],
        reflector=[answer("391")],
    )
    result = await run(read_only, tmp_path, simulate_when="risky")
    assert result["simulations"][0]["skipped"] == "no side-effecting action"
    assert calls(read_only) == {"planner": 1, "executor": 1, "reflector": 1}

    surprising = roles(
        # the plan names no tool; the re-plan gives up with no steps
        planner=[plan(("Note the greeting", "noted", None)), plan()],
        # the executor's answer is composed by respond after the empty re-plan
        executor=[tool_call("write_file", path="note.txt", content="hi"), "left it unwritten"],
        critic=[assessments(0.2)],  # under the risk threshold: re-plan
    )
    result = await run(surprising, tmp_path, simulate_when="risky")
    record = result["simulations"][0]
    assert record["reason"] == "the action write_file is side-effecting"
    assert record["outcome"] == "replan"
    assert not (tmp_path / "data" / "workspace" / "note.txt").exists()
    assert result["final_answer"] == "left it unwritten"
