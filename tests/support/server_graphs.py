"""Graphs the server tests and ``bench.server`` serve, with the fake chat model.

``chat`` answers with a scripted reply (streamed token by token), emits a custom event, and
can be steered by the last human message:

- ``approve ...``: the ``review`` node interrupts and waits for ``Command(resume=...)``;
- ``sleep:<seconds> ...``: the ``chat`` node sleeps first (for cancel and double-texting);
- ``boom``: the ``chat`` node raises;
- ``spam:<n>``: the ``chat`` node first emits ``n`` custom events of 2 kB each;
- ``tick:<n>:<ms>``: the ``chat`` node first emits ``n`` custom events, one every ``ms``.

``graph`` is the same graph compiled without a checkpointer, for ``langgraph dev``.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from typing import Any

from langchain_core.messages import AIMessage
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.types import interrupt

from maximus.testing import ScriptedChatModel

REPLY = "hello from the fake model"
USAGE = {"input_tokens": 3, "output_tokens": 5, "total_tokens": 8}


def _model() -> ScriptedChatModel:
    # A fresh message per call: LangChain stamps an id on the reply it returns, and a shared
    # object would make later replies replace the first one in the thread.
    return ScriptedChatModel(
        messages=(AIMessage(content=REPLY, usage_metadata=USAGE) for _ in itertools.count())
    )


def _last_human(state: MessagesState) -> str:
    for message in reversed(state["messages"]):
        if message.type == "human":
            return str(message.content)
    return ""


def build(model: ScriptedChatModel | None = None) -> StateGraph[Any, Any, Any, Any]:
    model = model or _model()

    async def chat(state: MessagesState) -> dict[str, Any]:
        text = _last_human(state)
        if match := re.search(r"sleep:([\d.]+)", text):
            await asyncio.sleep(float(match.group(1)))
        if "boom" in text:
            raise ValueError("the chat node was told to fail")
        writer = get_stream_writer()
        if match := re.search(r"tick:(\d+):(\d+)", text):
            for i in range(int(match.group(1))):
                await asyncio.sleep(int(match.group(2)) / 1000)
                writer({"tick": i})
        if match := re.search(r"spam:(\d+)", text):
            for i in range(int(match.group(1))):
                writer({"i": i, "pad": "x" * 2048})
                await asyncio.sleep(0)
        writer({"progress": "calling the model"})
        reply = await model.ainvoke(state["messages"])
        return {"messages": [reply]}

    async def review(state: MessagesState) -> dict[str, Any]:
        if not _last_human(state).startswith("approve"):
            return {}
        answer = interrupt({"question": "approve the reply?"})
        return {"messages": [AIMessage(content=f"reviewed: {answer}")]}

    builder = StateGraph(MessagesState)
    builder.add_node("chat", chat)
    builder.add_node("review", review)
    builder.add_edge(START, "chat")
    builder.add_edge("chat", "review")
    builder.add_edge("review", END)
    return builder


def chat(deps: Any) -> Any:
    """Server graph factory: the chat graph over the server's checkpointer."""
    return build().compile(checkpointer=deps.checkpointer, name="chat")


def simple(deps: Any) -> Any:
    """Server graph factory: a one-node graph that calls the fake model (the bench graph)."""
    return build_simple().compile(checkpointer=deps.checkpointer, name="simple")


def build_simple() -> StateGraph[Any, Any, Any, Any]:
    model = _model()

    async def call_model(state: MessagesState) -> dict[str, Any]:
        return {"messages": [await model.ainvoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("call_model", call_model)
    builder.add_edge(START, "call_model")
    builder.add_edge("call_model", END)
    return builder


graph = build_simple().compile(name="simple")
"""The bench graph without a checkpointer, for ``langgraph dev``."""


def agent(deps: Any) -> Any:
    """Server graph factory: the Maximus agent with scripted per-role models that answer
    ``17*23+9`` in two calculator steps (each script loops, so runs can repeat)."""
    from maximus.graphs.agent import create_agent
    from maximus.testing import scripted
    from tests.support.scripts import answer, assessments, candidates, plan

    # The defaults: the candidates disagree (a tool or an answer), so one fused call scores
    # them; steps are judged from the tool's status, and the reflector writes the answer.
    step = [candidates(("calculator", {"expression": e}), (None, {})) for e in ("17*23", "391+9")]
    script = {
        "planner": [plan(("multiply", "391", "calculator"), ("add 9", "400", "calculator"))],
        "policy": step,
        "critic": [assessments(0.9, 0.3)] * 2,
        "reflector": [answer("400")],
    }
    models = {role: scripted(replies, loop=True) for role, replies in script.items()}
    models["executor"] = scripted([], loop=False)
    models["world_model"] = scripted([], loop=False)
    return create_agent(
        models=models,  # type: ignore[arg-type]
        checkpointer=deps.checkpointer,
        settings=deps.settings,
        lesson_sink=deps.lesson_sink,
    )


VAULT_ID = "api-key-1"
"""The vault entry the ``vault_agent`` graph uses (the test stores it with this id)."""


def vault_agent(deps: Any) -> Any:
    """Server graph factory: the Maximus agent with the server's memory and a ``call_api``
    tool that needs a vault secret. Scripted: get the reference with ``reveal_secret``, then
    call ``call_api`` with it. ``call_api`` writes the SHA-256 of the token it received to
    ``<data_dir>/received.txt`` and echoes the token in its result."""
    import hashlib

    from langchain_core.tools import tool

    from maximus.graphs.agent import create_agent
    from maximus.testing import scripted
    from tests.support.scripts import candidates, plan, predictions, scores, verdict

    received = deps.settings.data_dir / "received.txt"

    @tool
    def call_api(url: str, token: str) -> str:
        """Call an API with a bearer token."""
        with received.open("a") as out:
            out.write(hashlib.sha256(token.encode()).hexdigest() + "\n")
        return f"GET {url} with Authorization: Bearer {token} -> 200 OK"

    ref = "{{vault:" + VAULT_ID + "}}"
    script = {
        "planner": [
            plan(("get the key", "a reference", "reveal_secret"), ("call", "200", "call_api"))
        ],
        "policy": [
            candidates(("reveal_secret", {"memory_id": VAULT_ID}), (None, {})),
            candidates(("call_api", {"url": "https://api.example", "token": ref}), (None, {})),
        ],
        "world_model": [predictions("done", "a guess")] * 2,
        "critic": [scores(0.9, 0.3)] * 2,
        "reflector": [verdict("continue"), verdict("finish", answer="the API answered 200")],
    }
    models = {role: scripted(replies, loop=True) for role, replies in script.items()}
    models["executor"] = scripted([], loop=False)
    # The scripts follow the full pipeline (policy, world model, critic, reflector on every
    # step); the secret's path through the tools is what this graph is for.
    agent = deps.settings.agent.model_copy(
        update={"simulation": "full", "simulate_when": "always", "judge": "model"}
    )
    return create_agent(
        models=models,  # type: ignore[arg-type]
        tools=[call_api],
        checkpointer=deps.checkpointer,
        settings=deps.settings.model_copy(update={"agent": agent}),
        lesson_sink=deps.lesson_sink,
        memory=deps.memory.get(),
    )
