"""Memory tools, active retrieval before planning, and reflection lessons landing in memory,
with the agent run end to end on scripted models and a real Qdrant Edge store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import BaseMessage, ToolMessage
from langgraph.checkpoint.memory import InMemorySaver

from maximus import Settings, create_agent
from maximus.memory.lessons import InProcessLessonSink
from maximus.memory.longterm.store import MemoryStore
from maximus.testing import ScriptedChatModel
from maximus.tools.memory import classify, make_recall, memory_lesson_writer, memory_tools
from tests.support.memory import store
from tests.support.scripts import answer, candidates, plan, roles

pytestmark = pytest.mark.integration


@pytest.fixture
def memory(tmp_path: Path) -> Iterator[MemoryStore]:
    with store("qdrant-edge", tmp_path / "edge", vault_reveal_max="low") as opened:
        yield opened


def _tools(memory: MemoryStore) -> dict[str, Any]:
    return {t.name: t for t in memory_tools(memory)}


def test_one_retriever_tool_per_type_plus_write_tools(memory: MemoryStore) -> None:
    names = set(_tools(memory))
    assert names == {
        "search_core_memory", "search_episodic_memory", "search_semantic_memory",
        "search_procedural_memory", "search_resource_memory", "search_vault_memory",
        "remember", "update_core_memory", "forget", "reveal_secret",
    }  # fmt: skip
    # reveal_secret hands out a reference, never the secret: nothing to approve.
    assert not (_tools(memory)["reveal_secret"].metadata or {}).get("side_effecting")


async def test_remember_search_forget_through_the_tools(memory: MemoryStore) -> None:
    tools = _tools(memory)
    said = await tools["remember"].ainvoke({"content": "Ana's cat is called Miso"})
    assert said.startswith("remembered as semantic memory")
    await tools["remember"].ainvoke(
        {"content": "How to reset the router: unplug it; wait ten seconds; plug it in"}
    )
    await tools["remember"].ainvoke(
        {"content": "AWS console password", "memory_type": "vault", "secret": "aws-PLAINTEXT"}
    )
    call = {
        "name": "search_semantic_memory",
        "args": {"query": "pet name"},
        "id": "c1",
        "type": "tool_call",
    }
    message = await tools["search_semantic_memory"].ainvoke(call)
    assert isinstance(message, ToolMessage) and "Miso" in message.content
    assert message.artifact[0].metadata["kind"] == "semantic"
    steps = await tools["search_procedural_memory"].ainvoke({"query": "router keeps failing"})
    assert "unplug it" in steps
    vault = await tools["search_vault_memory"].ainvoke(
        {
            "name": "search_vault_memory",
            "args": {"query": "aws login"},
            "id": "c2",
            "type": "tool_call",
        }
    )
    assert "PLAINTEXT" not in vault.content and "PLAINTEXT" not in str(vault.artifact)
    vault_id = vault.artifact[0].id
    # The medium-sensitivity secret is above the policy (low): the model gets a clear refusal.
    refused = await tools["reveal_secret"].ainvoke(
        {"name": "reveal_secret", "args": {"memory_id": vault_id}, "id": "c3", "type": "tool_call"}
    )
    assert refused.status == "error" and "not allowed" in refused.content
    fact = message.artifact[0].id
    assert (
        await tools["forget"].ainvoke({"memory_type": "semantic", "memory_id": fact})
    ).startswith("forgot")
    assert memory.count("semantic") == 0
    bad = await tools["forget"].ainvoke(
        {
            "name": "forget",
            "args": {"memory_type": "dream", "memory_id": "x"},
            "id": "c4",
            "type": "tool_call",
        }
    )
    assert bad.status == "error" and "unknown memory type" in bad.content


def test_classifier_picks_a_type() -> None:
    assert classify("Steps to deploy: first build, then upload") == "procedural"
    assert classify("see the design document at https://example.com/doc") == "resource"
    assert classify("yesterday we went to the zoo") == "episodic"
    assert classify("Berlin is the capital of Germany") == "semantic"


async def test_core_block_is_summarised_when_over_90_percent(memory: MemoryStore) -> None:
    tools = _tools(memory)
    for i in range(12):
        await tools["update_core_memory"].ainvoke(
            {"block": "human", "content": f"fact number {i}: " + "x" * 150}
        )
    (block,) = memory.core_blocks()
    assert block.label == "human" and len(block.value) <= 0.9 * block.limit
    assert "fact number 11" in block.value and "fact number 0" not in block.value
    replaced = await tools["update_core_memory"].ainvoke(
        {"block": "persona", "content": "I am a careful assistant", "mode": "replace"}
    )
    assert replaced.startswith("core persona block now 24/")


class RecordingModel(ScriptedChatModel):
    seen: list[list[BaseMessage]] = []

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.seen.append(list(messages))
        return super()._generate(messages, *args, **kwargs)


async def test_active_retrieval_and_lessons_into_memory(memory: MemoryStore) -> None:
    memory.add(
        [
            {
                "kind": "semantic",
                "name": "lucky number",
                "summary": "The user's lucky number is 17",
            },
            {
                "kind": "vault",
                "caption": "bank pin for the lucky account",
                "secret": "PIN-PLAINTEXT",
            },
        ]
    )
    memory.update_core("human", "The user is called Ana")
    models = roles(  # the defaults: one action (nothing to simulate), then the answer
        policy=[candidates(("calculator", {"expression": "17*2"}))],
        reflector=[answer("34", "lesson after finish")],
    )
    planner = RecordingModel(messages=iter([plan(("double it", "34", "calculator"))]))
    models["planner"] = planner
    sink = InProcessLessonSink(memory_lesson_writer(memory))
    agent = create_agent(
        models=models,  # type: ignore[arg-type]
        checkpointer=InMemorySaver(),
        settings=Settings(),
        memory=memory,
        lesson_sink=sink,
    )
    result = await agent.ainvoke(
        {"goal": "double my lucky number"}, {"configurable": {"thread_id": "m1"}}
    )
    assert result["status"] == "done" and result["final_answer"] == "34"
    context = planner.seen[0][-1].text  # recalled memory goes with the planner's instruction
    assert "Relevant long-term memory" in context
    assert "human: The user is called Ana" in context and "lucky number is 17" in context
    assert "PIN-PLAINTEXT" not in context
    await sink.flush()
    lessons = memory.search("lesson after finish", types=["procedural"], tags=["lesson"])
    assert lessons and lessons[0].record.description == "lesson after finish"  # type: ignore[attr-defined]
    episodes = memory.list("episodic", tags=["lesson"]).records
    assert episodes and episodes[0].event_type == "reflection"  # type: ignore[attr-defined]


async def test_active_retrieval_survives_an_unreachable_store(tmp_path: Path) -> None:
    from maximus.config import MemorySettings
    from maximus.memory.longterm.backends.qdrant import QdrantBackend
    from tests.support.memory import embeddings

    # A Qdrant server that is not there: a closed port on loopback.
    down = QdrantBackend(384, url="http://127.0.0.1:9")
    recall = make_recall(MemoryStore(down, embeddings(), MemorySettings()))
    assert await recall("anything") is None


async def test_tools_use_the_runs_owner_when_the_run_names_one(memory: MemoryStore) -> None:
    # One compiled agent serves many users over HTTP: the server puts the caller in
    # ``configurable.user_id``, and the tools read and write that user's memory only.
    tools = _tools(memory)
    alice = {"configurable": {"user_id": "alice"}}
    bob = {"configurable": {"user_id": "bob"}}
    await tools["remember"].ainvoke({"content": "Alice's locker code is blue"}, config=alice)
    query = {"query": "locker code"}
    found = await tools["search_semantic_memory"].ainvoke(query, config=alice)
    assert "locker code is blue" in found
    hidden = await tools["search_semantic_memory"].ainvoke(query, config=bob)
    assert "locker code is blue" not in hidden
    unscoped = await tools["search_semantic_memory"].ainvoke(query)  # the store's default user
    assert "locker code is blue" not in unscoped
    assert memory.list("semantic", user_id="alice").records
    assert not memory.list("semantic", user_id="bob").records
    recall = make_recall(memory)
    context = await _in_run(recall, "what is the locker code?", alice)
    assert context is not None and "locker code is blue" in context
    assert await _in_run(recall, "what is the locker code?", bob) is None


async def _in_run(recall: Any, goal: str, config: Any) -> str | None:
    # As the plan node calls it: inside a runnable whose config names the owner.
    from langchain_core.runnables import RunnableLambda

    async def call(_: Any) -> str | None:
        result: str | None = await recall(goal)
        return result

    return await RunnableLambda(call).ainvoke(None, config=config)
