"""The real ``langgraph-sdk`` client (async and sync) against a real ``maximus serve``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from langgraph_sdk.errors import ConflictError

from tests.support.server_graphs import REPLY

pytestmark = pytest.mark.integration


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def last_text(values: dict[str, Any]) -> str:
    return str(values["messages"][-1]["content"])


async def test_assistants_list_the_served_graphs(alice: Any) -> None:
    found = {a["graph_id"]: a for a in await alice.assistants.search(limit=50)}
    assert {"maximus", "chat", "simple"} <= set(found)
    one = await alice.assistants.get(found["chat"]["assistant_id"])
    assert one["graph_id"] == "chat"
    assert (await alice.assistants.get("chat"))["assistant_id"] == found["chat"]["assistant_id"]
    drawn = await alice.assistants.get_graph("chat")
    assert {n["id"] for n in drawn["nodes"]} >= {"chat", "review"}


async def test_create_thread_then_wait(alice: Any) -> None:
    thread = await alice.threads.create(metadata={"topic": "greeting"})
    assert thread["status"] == "idle" and thread["metadata"]["topic"] == "greeting"
    values = await alice.runs.wait(thread["thread_id"], "chat", input=said("hi"))
    assert [m["type"] for m in values["messages"]] == ["human", "ai"]
    assert last_text(values) == REPLY
    got = await alice.threads.get(thread["thread_id"])
    assert last_text(got["values"]) == REPLY and got["status"] == "idle"
    assert got["metadata"]["topic"] == "greeting"
    found = await alice.threads.search(metadata={"topic": "greeting"}, limit=100)
    assert thread["thread_id"] in {t["thread_id"] for t in found}


@pytest.mark.parametrize(
    ("mode", "events"),
    [
        ("values", {"values"}),
        ("updates", {"updates"}),
        ("messages-tuple", {"messages"}),
        ("messages", {"messages/metadata", "messages/partial"}),
        ("custom", {"custom"}),
        ("debug", {"debug"}),
    ],
)
async def test_stream_each_mode(alice: Any, mode: str, events: set[str]) -> None:
    thread = await alice.threads.create()
    parts = [
        p
        async for p in alice.runs.stream(
            thread["thread_id"], "chat", input=said("hi"), stream_mode=mode
        )
    ]
    assert parts[0].event == "metadata" and parts[0].data["run_id"]
    names = {p.event for p in parts[1:]}
    assert names == events or (mode == "messages" and events <= names)
    ids = [int(p.id) for p in parts]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)  # resumable ids, in order
    if mode == "values":
        assert last_text(parts[-1].data) == REPLY
    if mode == "messages-tuple":
        text = "".join(p.data[0]["content"] for p in parts[1:])
        assert text == REPLY
        assert parts[1].data[1]["langgraph_node"] == "chat"
    if mode == "custom":
        assert parts[1].data == {"progress": "calling the model"}


async def test_stream_several_modes_at_once(alice: Any) -> None:
    thread = await alice.threads.create()
    parts = [
        p
        async for p in alice.runs.stream(
            thread["thread_id"],
            "chat",
            input=said("hi"),
            stream_mode=["values", "updates", "messages-tuple", "custom"],
        )
    ]
    names = [p.event for p in parts]
    assert {"metadata", "values", "updates", "messages", "custom"} == set(names)
    assert names.index("custom") < names.index("messages") < names.index("updates")


async def test_stateless_stream_and_wait(alice: Any) -> None:
    values = await alice.runs.wait(None, "chat", input=said("hi"))
    assert last_text(values) == REPLY
    parts = [p async for p in alice.runs.stream(None, "simple", input=said("x"))]
    assert parts[-1].event == "values" and last_text(parts[-1].data) == REPLY


async def test_interrupt_then_resume(alice: Any) -> None:
    thread = await alice.threads.create()
    tid = thread["thread_id"]
    paused = await alice.runs.wait(tid, "chat", input=said("approve this"))
    assert paused["__interrupt__"][0]["value"] == {"question": "approve the reply?"}
    state = await alice.threads.get_state(tid)
    assert state["next"] == ["review"]
    assert state["interrupts"][0]["value"]["question"] == "approve the reply?"
    assert (await alice.threads.get(tid))["status"] == "interrupted"
    done = await alice.runs.wait(tid, "chat", command={"resume": "yes"})
    assert last_text(done) == "reviewed: yes"
    assert (await alice.threads.get_state(tid))["next"] == []


async def test_state_history_and_human_edit(alice: Any) -> None:
    thread = await alice.threads.create()
    tid = thread["thread_id"]
    await alice.runs.wait(tid, "chat", input=said("hi"))
    history = await alice.threads.get_history(tid, limit=20)
    assert len(history) >= 4
    assert (
        history[0]["checkpoint"]["checkpoint_id"]
        == (await alice.threads.get_state(tid))["checkpoint"]["checkpoint_id"]
    )
    steps = [h["metadata"]["step"] for h in history]
    assert steps == sorted(steps, reverse=True)
    earlier = history[-2]["checkpoint"]["checkpoint_id"]
    past = await alice.threads.get_state(tid, checkpoint_id=earlier)
    assert past["checkpoint"]["checkpoint_id"] == earlier
    edited = await alice.threads.update_state(
        tid, {"messages": [{"role": "ai", "content": "edited by a human"}]}, as_node="review"
    )
    assert edited["checkpoint"]["checkpoint_id"]
    state = await alice.threads.get_state(tid)
    assert last_text(state["values"]) == "edited by a human"


async def test_background_run_join_and_cancel(alice: Any) -> None:
    thread = await alice.threads.create()
    tid = thread["thread_id"]
    run = await alice.runs.create(tid, "chat", input=said("hi"))
    assert run["status"] in ("pending", "running")
    joined = await alice.runs.join(tid, run["run_id"])
    assert last_text(joined) == REPLY
    assert (await alice.runs.get(tid, run["run_id"]))["status"] == "success"

    slow = await alice.runs.create(tid, "chat", input=said("sleep:30 please"))
    await asyncio.sleep(0.3)
    await alice.runs.cancel(tid, slow["run_id"], wait=True)
    assert (await alice.runs.get(tid, slow["run_id"]))["status"] == "interrupted"
    listed = await alice.runs.list(tid)
    assert [r["run_id"] for r in listed][:2] == [slow["run_id"], run["run_id"]]
    # The cancelled run stopped at its checkpoint: the thread still holds its input.
    state = await alice.threads.get_state(tid)
    assert state["next"] == ["chat"] and last_text(state["values"]) == "sleep:30 please"


async def test_multitask_reject(alice: Any) -> None:
    tid = (await alice.threads.create())["thread_id"]
    first = await alice.runs.create(tid, "chat", input=said("sleep:1"))
    with pytest.raises(ConflictError):
        await alice.runs.create(tid, "chat", input=said("again"), multitask_strategy="reject")
    await alice.runs.join(tid, first["run_id"])


async def test_multitask_enqueue(alice: Any) -> None:
    tid = (await alice.threads.create())["thread_id"]
    first = await alice.runs.create(tid, "chat", input=said("sleep:0.5 one"))
    second = await alice.runs.create(tid, "chat", input=said("two"), multitask_strategy="enqueue")
    assert second["status"] == "pending"
    final = await alice.runs.join(tid, second["run_id"])
    assert (await alice.runs.get(tid, first["run_id"]))["status"] == "success"
    humans = [m["content"] for m in final["messages"] if m["type"] == "human"]
    assert humans == ["sleep:0.5 one", "two"]


async def test_multitask_interrupt(alice: Any) -> None:
    tid = (await alice.threads.create())["thread_id"]
    first = await alice.runs.create(tid, "chat", input=said("sleep:30 one"))
    await asyncio.sleep(0.3)
    second = await alice.runs.create(tid, "chat", input=said("two"), multitask_strategy="interrupt")
    final = await alice.runs.join(tid, second["run_id"])
    assert (await alice.runs.get(tid, first["run_id"]))["status"] == "interrupted"
    assert last_text(final) == REPLY
    humans = [m["content"] for m in final["messages"] if m["type"] == "human"]
    assert humans == ["sleep:30 one", "two"]


async def test_resume_a_dropped_stream(alice: Any) -> None:
    tid = (await alice.threads.create())["thread_id"]
    stream = alice.runs.stream(
        tid,
        "chat",
        input=said("sleep:0.5 hi"),
        stream_mode=["values", "messages-tuple"],
        stream_resumable=True,
        on_disconnect="continue",
    )
    seen = []
    async for part in stream:
        seen.append(part)
        if len(seen) == 2:
            break  # the client drops the connection mid-run
    await stream.aclose()
    run_id = seen[0].data["run_id"]
    rest = [p async for p in alice.runs.join_stream(tid, run_id, last_event_id=seen[-1].id)]
    ids = [int(p.id) for p in seen + rest]
    assert ids == list(range(1, len(ids) + 1))  # nothing lost, nothing repeated
    assert rest[-1].event == "values" and last_text(rest[-1].data) == REPLY
    replay = [p async for p in alice.runs.join_stream(tid, run_id)]
    assert [p.id for p in replay] == [p.id for p in seen + rest]
    for mode, event in (("values", "values"), ("messages-tuple", "messages")):
        only = {p.event async for p in alice.runs.join_stream(tid, run_id, stream_mode=mode)}
        assert only == {"metadata", event}


async def test_errors_reach_the_client(alice: Any) -> None:
    tid = (await alice.threads.create())["thread_id"]
    parts = [p async for p in alice.runs.stream(tid, "chat", input=said("boom"))]
    assert parts[-1].event == "error"
    assert parts[-1].data == {"error": "ValueError", "message": "the chat node was told to fail"}
    with pytest.raises(Exception, match="ValueError"):
        await alice.runs.wait(tid, "chat", input=said("boom"))


def test_sync_client(alice_sync: Any) -> None:
    thread = alice_sync.threads.create()
    tid = thread["thread_id"]
    parts = list(alice_sync.runs.stream(tid, "chat", input=said("approve?"), stream_mode="updates"))
    assert parts[-1].event == "updates" and "__interrupt__" in parts[-1].data
    done = alice_sync.runs.wait(tid, "chat", command={"resume": "ok"})
    assert last_text(done) == "reviewed: ok"
    run = alice_sync.runs.create(tid, "chat", input=said("again"))
    assert last_text(alice_sync.runs.join(tid, run["run_id"])) == REPLY
    assert len(alice_sync.threads.get_history(tid, limit=50)) > 5
    alice_sync.threads.delete(tid)
    assert tid not in {t["thread_id"] for t in alice_sync.threads.search(limit=1000)}


async def test_on_disconnect_cancel_or_continue(alice: Any) -> None:
    runs = {}
    for mode in ("cancel", "continue"):
        tid = (await alice.threads.create())["thread_id"]
        stream = alice.runs.stream(
            tid, "chat", input=said("sleep:1 hi"), on_disconnect=mode, stream_mode="values"
        )
        async for part in stream:
            runs[mode] = (tid, part.data["run_id"])
            break  # the client goes away after the first event
        await stream.aclose()
    await asyncio.sleep(1.5)
    tid, run_id = runs["cancel"]
    assert (await alice.runs.get(tid, run_id))["status"] == "interrupted"
    tid, run_id = runs["continue"]
    assert last_text(await alice.runs.join(tid, run_id)) == REPLY


async def test_the_maximus_agent_over_http(alice: Any) -> None:
    tid = (await alice.threads.create())["thread_id"]
    nodes = [
        next(iter(p.data))
        async for p in alice.runs.stream(
            tid, "agent", input={"goal": "17*23+9?"}, stream_mode="updates"
        )
        if p.event == "updates"
    ]
    assert nodes[0] == "plan" and nodes[-1] == "respond"
    assert {"simulate", "execute", "reflect"} <= set(nodes)
    state = (await alice.threads.get_state(tid))["values"]
    assert state["status"] == "done" and state["final_answer"] == "400"
    assert [o["content"] for o in state["observations"]] == ["391", "400"]
    assert [s["scores"][0]["score"] for s in state["simulations"]] == [0.9, 0.9]


async def test_counts_and_schemas(alice: Any) -> None:
    assert await alice.assistants.count(graph_id="chat") == 1
    schemas = await alice.assistants.get_schemas("chat")
    assert "messages" in schemas["input_schema"]["properties"]
    marker = f"m-{id(alice)}"
    for _ in range(2):
        await alice.threads.create(metadata={"marker": marker})
    assert await alice.threads.count(metadata={"marker": marker}) == 2
