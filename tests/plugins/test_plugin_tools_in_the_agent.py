"""Plugins in the agent, end to end with scripted fake models: a plugin's tool is called,
a sub-graph runs as a tool, and hot load/unload change the tools later runs see."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from langchain_core.messages import BaseMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver
from pydantic import Field

from maximus import RunOptions, Settings, create_agent
from maximus.plugins import PluginManager
from maximus.testing import ScriptedChatModel, structured
from tests.support.plugins import manager, plugin_code, write_plugin
from tests.support.scripts import answer as final
from tests.support.scripts import candidates, plan, roles, tool_call


class RecordingModel(ScriptedChatModel):
    """A scripted model that keeps the system prompt of every call."""

    prompts: list[str] = Field(default_factory=list)

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.prompts.append(messages[0].text)
        return super()._generate(messages, *args, **kwargs)


def step(
    tool: str, args: dict[str, Any], answer: str, *, fails: bool = False
) -> dict[str, list[Any]]:
    """A one-step run with the defaults: plan, one action (no simulation: the policy's
    candidates agree), then the final answer; a failing tool re-plans to an answer instead."""
    script: dict[str, list[Any]] = {
        "planner": [plan((f"use {tool}", answer, tool))],
        "policy": [candidates((tool, args))],
        "reflector": [final(answer)],
    }
    if fails:
        script["planner"].append(structured("Plan", steps=[], answer=answer))
        script["reflector"] = []
    return script


def agent(pm: PluginManager, tmp_path: Path, *runs: dict[str, list[Any]]) -> Any:
    script: dict[str, list[Any]] = {}
    for run in runs:
        for role, replies in run.items():
            script.setdefault(role, []).extend(replies)
    models: dict[str, Any] = roles(**script)
    models["planner"] = RecordingModel(messages=iter(script["planner"]))
    graph = create_agent(
        models=models,  # type: ignore[arg-type]
        checkpointer=InMemorySaver(),
        settings=Settings(data_dir=tmp_path / "data"),
        plugins=pm,
    )
    return graph, models["planner"]


def config(thread: str) -> Any:
    return {"configurable": {"thread_id": thread}}


async def test_the_agent_calls_a_plugin_tool(tmp_path: Path) -> None:
    pm = manager(tmp_path)
    pm.load_plugin(
        write_plugin(tmp_path / "p", "greeter", plugin_code("greet", "return 'hi ' + text"))
    )
    graph, planner = agent(pm, tmp_path, step("greet", {"text": "Ada"}, "hi Ada"))
    result = await graph.ainvoke({"goal": "greet Ada"}, config("t1"))

    assert result["status"] == "done" and result["final_answer"] == "hi Ada"
    (observation,) = result["observations"]
    assert (
        observation["tool"] == "greet" and observation["ok"] and observation["content"] == "hi Ada"
    )
    (message,) = [m for m in result["messages"] if isinstance(m, ToolMessage)]
    assert message.name == "greet" and message.status == "success"
    assert "- greet(" in planner.prompts[0]  # the planner saw it in the tool catalog
    assert "- calculator(" in planner.prompts[0]  # beside the built-ins


async def test_a_failing_plugin_tool_is_a_tool_message_not_a_crash(tmp_path: Path) -> None:
    pm = manager(tmp_path)
    code = plugin_code("explode", "raise RuntimeError('kaboom')")
    pm.load_plugin(write_plugin(tmp_path / "p", "fragile", code))
    graph, _ = agent(pm, tmp_path, step("explode", {}, "n/a", fails=True))
    result = await graph.ainvoke({"goal": "try it"}, config("t1"))

    (observation,) = result["observations"]
    assert not observation["ok"]
    assert (
        "tool 'explode' of plugin 'fragile' failed: RuntimeError: kaboom" in observation["content"]
    )
    assert result["counters"]["tool_errors"] == 1 and result["counters"]["replans"] == 1
    assert result["status"] == "done" and result["final_answer"] == "n/a"


async def test_a_plugin_sub_graph_runs_as_a_tool(tmp_path: Path) -> None:
    pm = PluginManager(data_dir=tmp_path / "data", entry_point_group=None)
    pm.discover()
    text = "Plugins extend agents. Agents call tools!"
    graph, planner = agent(pm, tmp_path, step("text_report", {"text": text}, "a report"))
    result = await graph.ainvoke({"goal": "report on the text"}, config("t1"))

    (observation,) = result["observations"]
    assert observation["ok"] and observation["content"].startswith("6 words in 2 sentences;")
    assert "keywords: agents (2)" in observation["content"]
    assert "- text_report(" in planner.prompts[0]
    pm.close()


async def test_hot_load_and_unload_change_what_later_runs_see(tmp_path: Path) -> None:
    pm = manager(tmp_path)
    root = write_plugin(tmp_path / "p", "greeter", plugin_code("greet", "return 'hi ' + text"))
    unplugged = {  # the unknown tool is an invalid action; the re-plan gives up
        "planner": [plan(("greet", "hi", "greet")), structured("Plan", steps=[], answer="none")],
        "executor": [tool_call("greet", text="Bob")],
    }
    graph, planner = agent(
        pm, tmp_path, unplugged, step("greet", {"text": "Ada"}, "hi Ada"), unplugged
    )
    direct = RunOptions(simulate=False)

    before = await graph.ainvoke({"goal": "greet Bob"}, config("a"), context=direct)
    pm.load_plugin(root)  # no restart, no new graph
    during = await graph.ainvoke({"goal": "greet Ada"}, config("b"))
    pm.unload_plugin("greeter")
    after = await graph.ainvoke({"goal": "greet Bob"}, config("c"), context=direct)

    assert ["- greet(" in p for p in planner.prompts] == [False, False, True, False, False]
    assert during["observations"][0] == {**during["observations"][0], "ok": True,
                                         "content": "hi Ada"}  # fmt: skip
    for result in (before, after):
        (observation,) = result["observations"]
        assert not observation["ok"]
        assert "greet is not a valid tool" in observation["content"]
        assert result["counters"]["invalid_actions"] == 1 and result["final_answer"] == "none"


def test_agents_hold_the_manager_weakly_and_share_it(tmp_path: Path) -> None:
    pm = manager(tmp_path)
    pm.load_plugin(write_plugin(tmp_path / "p", "greeter", plugin_code("greet")))
    graphs = [agent(pm, tmp_path, {"planner": []})[0] for _ in range(2)]
    assert len(pm._attached) == 2
    pm.unload_plugin("greeter")
    del graphs
    import gc

    gc.collect()
    assert len(pm._attached) == 0
    assert pm.tools() == []
