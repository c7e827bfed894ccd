"""Actions constrained to what is possible now: the schema the policy answers with names only
the allowed values, and an impossible action is refused before the tool runs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.messages import ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from maximus import RunOptions, Settings, create_agent
from maximus.errors import ToolRegistryError
from maximus.tools import calculator, choices_of, constrain, signals_of
from tests.support.rooms import Room, room_tool
from tests.support.scripts import calls, candidates, fused, plan, roles, tool_call

CONFIG = {"configurable": {"thread_id": "t1"}}


def agent(models: dict[str, Any], room: Room | None) -> Any:
    return create_agent(
        models=models,  # type: ignore[arg-type]
        tools=[room_tool(room)] if room is not None else [],
        checkpointer=InMemorySaver(),
        settings=Settings(),
    )


def enums(schema: Any) -> list[list[str]]:
    """Every ``enum`` in a Pydantic class's JSON schema."""
    found: list[list[str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "enum" in node:
                found.append(node["enum"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema.model_json_schema())
    return found


async def test_an_impossible_action_is_refused_before_the_tool_runs() -> None:
    room = Room()
    take = ("act", {"command": "take coin"})
    models = roles(
        planner=[
            plan(("Take the coin", "you have it", "act")),
            plan(("Open the box", "it opens", "act"), ("Take the coin", "you win", "act")),
        ],
        policy=[
            candidates(take, take),  # the box is still closed
            fused(("act", {"command": "open box"}, 0.9)),  # after a failure: simulated
            candidates(take),
        ],
    )
    result = await agent(models, room).ainvoke({"goal": "get the coin"}, CONFIG)

    assert room.commands == ["open box", "take coin"]  # the refused action never ran
    refused = result["observations"][0]
    assert refused["invalid"] is True and refused["ok"] is False
    assert "Invalid action: act command='take coin' is not possible now" in refused["content"]
    assert "'look', 'open box'" in refused["content"]
    message = next(m for m in result["messages"] if isinstance(m, ToolMessage))
    assert message.status == "error" and message.text == refused["content"]  # the model sees it
    assert result["counters"]["invalid_actions"] == 1
    assert result["counters"]["tool_errors"] == 0
    assert result["reflections"][0]["decision"] == "replan"
    assert result["status"] == "done" and room.won

    # the policy's schema held the values allowed at each moment
    policy_enums = [enums(schema) for schema in models["policy"].bound]
    assert ["look", "open box"] in policy_enums[0]
    assert ["look", "take coin"] in policy_enums[-1]
    # and the planner's tool field named only the registry's tools
    assert any("act" in e and "calculator" in e for e in enums(models["planner"].bound[0]))


async def test_an_unknown_tool_is_an_invalid_action() -> None:
    models = roles(  # a native tool call (no tool is constrained, so no structured action)
        planner=[plan(("Leave", "outside", None)), plan()],
        executor=[tool_call("teleport", to="outside"), "stayed in the room"],
    )
    result = await agent(models, None).ainvoke(
        {"goal": "leave"}, CONFIG, context=RunOptions(simulation="off")
    )

    (observation,) = result["observations"]
    assert observation["invalid"] and "teleport is not a valid tool" in observation["content"]
    assert result["counters"]["invalid_actions"] == 1
    assert result["final_answer"] == "stayed in the room"
    assert calls(models) == {"planner": 2, "executor": 2}


def test_constrain_checks_the_argument_and_reads_values_at_call_time() -> None:
    values = ["a"]
    tool = constrain(room_tool(Room(), constrained=False), "command", lambda: values)
    assert choices_of(tool) == {"command": ["a"]}
    values.append("b")
    assert choices_of(tool) == {"command": ["a", "b"]}
    with pytest.raises(ToolRegistryError, match="no argument 'colour'"):
        constrain(calculator, "colour", ["red"])


def test_signals_come_from_a_dict_artifact_and_never_from_an_error() -> None:
    def message(artifact: Any, status: str = "success") -> ToolMessage:
        return ToolMessage("x", tool_call_id="c1", artifact=artifact, status=status)  # type: ignore[arg-type]

    good = {"valid": True, "done": False, "score": 2, "max_score": 5, "other": 1}
    assert signals_of(message(good)) == {"valid": True, "done": False, "score": 2.0,
                                         "max_score": 5.0}  # fmt: skip
    assert signals_of(message({"won": "yes", "score": True})) == {}  # wrong types are ignored
    assert signals_of(message(["valid"])) == {}
    assert signals_of(message(good, status="error")) == {}
    assert json.dumps(signals_of(message(None))) == "{}"
