"""``RemoteGraph`` (LangGraph's own remote client) against ``maximus serve``, unchanged."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from langgraph.pregel.remote import RemoteGraph
from langgraph.types import Command

from tests.support.http import KEYS
from tests.support.server_graphs import REPLY

pytestmark = pytest.mark.integration


def remote(url: str) -> RemoteGraph:
    return RemoteGraph("chat", url=url, api_key=KEYS["alice"])


def test_remote_graph_sync(url: str) -> None:
    graph = remote(url)
    config: Any = {"configurable": {"thread_id": str(uuid.uuid4())}}
    out = graph.invoke({"messages": [{"role": "user", "content": "hi"}]}, config)
    assert out["messages"][-1]["content"] == REPLY
    chunks = list(
        graph.stream(
            {"messages": [{"role": "user", "content": "approve?"}]},
            config,
            stream_mode=["updates", "custom"],
        )
    )
    modes = {chunk[0] for chunk in chunks}
    assert modes == {"updates", "custom"}
    state = graph.get_state(config)
    assert state.next == ("review",) and state.interrupts[0].value["question"]
    resumed = graph.invoke(Command(resume="fine"), config)
    assert resumed["messages"][-1]["content"] == "reviewed: fine"
    history = list(graph.get_state_history(config))
    assert len(history) >= 6 and history[0].config["configurable"]["checkpoint_id"]
    assert {n for n in graph.get_graph().nodes} >= {"chat", "review"}


async def test_remote_graph_async(url: str) -> None:
    graph = remote(url)
    config: Any = {"configurable": {"thread_id": str(uuid.uuid4())}}
    tokens = [
        chunk
        async for chunk in graph.astream(
            {"messages": [{"role": "user", "content": "hi"}]}, config, stream_mode="messages"
        )
    ]
    assert "".join(message["content"] for message, _ in tokens) == REPLY
    state = await graph.aget_state(config)
    assert state.values["messages"][-1]["content"] == REPLY
    await graph.aupdate_state(config, {"messages": [{"role": "ai", "content": "edit"}]})
    assert (await graph.aget_state(config)).values["messages"][-1]["content"] == "edit"
    out = await graph.ainvoke({"messages": [{"role": "user", "content": "again"}]}, config)
    assert [m["type"] for m in out["messages"]].count("human") == 2
