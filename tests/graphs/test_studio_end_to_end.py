"""Studio end to end: ``langgraph dev`` serves ``langgraph.json`` offline, and the real
``langgraph-sdk`` client checks what Studio uses: the assistant, its graph and schemas, a
streamed run, and an interrupt resumed with ``Command(resume=...)``.

The server runs as a user runs it (``langgraph dev`` on the project's ``langgraph.json``),
started by ``scripts/http_servers.py``; the model is the real
``langchain-google-genai`` client talking to a local server that speaks the Gemini API.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from langgraph_sdk import get_client, get_sync_client

from tests.support.cli import risky_responder
from tests.support.gemini_server import GeminiServer, agent_responder
from tests.support.http import start_http, stop_http

pytestmark = pytest.mark.integration

AGENT_NODES = {"plan", "simulate", "execute", "reflect"}


def _studio_responder(body: dict[str, Any]) -> str:
    # Goals that mention a file play the risky agent (a doubted write); the rest compute. The
    # goal is in the shared system prefix (the system instruction), not in the contents.
    if "hello.txt" in json.dumps(body):
        return risky_responder(body)
    return agent_responder(body)


@pytest.fixture(scope="module")
def studio_model() -> Iterator[GeminiServer]:
    server = GeminiServer(_studio_responder)
    yield server
    server.close()


@pytest.fixture(scope="module")
def studio(
    studio_model: GeminiServer, plain_redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """``langgraph dev`` on a free port, keeping threads in Maximus's Redis checkpointer."""
    prefix = f"studio-{uuid.uuid4().hex[:8]}"
    env = {
        "GOOGLE_API_KEY": "test-key",
        "MAXIMUS_BASE_URL": studio_model.url,
        "MAXIMUS_REDIS_URL": plain_redis_url,
        "MAXIMUS_SESSIONS__KEY_PREFIX": prefix,
        "MAXIMUS_AGENT__ON_RISK": "human",
        "MAXIMUS_DATA_DIR": str(tmp_path_factory.mktemp("studio-data")),
    }
    record = start_http("langgraph-dev", env)
    record["prefix"] = prefix
    yield record
    stop_http(record["name"])


def _assistant_id(url: str) -> str:
    client = get_sync_client(url=url)
    found = client.assistants.search(graph_id="maximus")
    assert len(found) == 1
    return str(found[0]["assistant_id"])


def test_assistant_graph_and_schemas_are_what_studio_draws(studio: dict[str, Any]) -> None:
    client = get_sync_client(url=studio["url"])
    found = client.assistants.search()
    assert [a["graph_id"] for a in found] == ["maximus"]
    assistant_id = str(found[0]["assistant_id"])

    graph = client.assistants.get_graph(assistant_id)
    assert AGENT_NODES <= {node["id"] for node in graph["nodes"]}
    edges = {(edge["source"], edge["target"]) for edge in graph["edges"]}
    assert ("__start__", "plan") in edges

    schemas = client.assistants.get_schemas(assistant_id)
    assert {"goal", "messages"} <= set(schemas["input_schema"]["properties"])
    assert {"plan", "simulations", "status"} <= set(schemas["state_schema"]["properties"])
    assert {"mode", "simulate"} <= set(schemas["context_schema"]["properties"])


async def test_streamed_run_is_checkpointed_in_redis(
    studio: dict[str, Any], plain_redis_url: str
) -> None:
    client = get_client(url=studio["url"])
    assistant_id = _assistant_id(studio["url"])
    thread = await client.threads.create()
    seen: list[str] = []
    nodes: list[str] = []
    async for part in client.runs.stream(
        thread["thread_id"],
        assistant_id,
        input={"goal": "compute 17*23"},
        stream_mode=["updates", "values"],
    ):
        seen.append(part.event)
        if part.event == "updates":
            nodes.extend(part.data)
    assert seen[0] == "metadata" and "values" in seen
    assert AGENT_NODES <= set(nodes)

    state = await client.threads.get_state(thread["thread_id"])
    assert state["values"]["status"] == "done"
    assert state["values"]["final_answer"] == "17 * 23 = 391"

    # The checkpoints are ours: in Redis, under the configured prefix, one index per thread.
    keys = redis.Redis.from_url(plain_redis_url).keys(f"{studio['prefix']}:*")
    index = [k.decode() for k in keys if k.endswith(b":idx")]
    assert any(thread["thread_id"] in key for key in index), index
    history = await client.threads.get_history(thread["thread_id"], limit=100)
    assert len(history) >= 5


async def test_interrupt_then_resume(studio: dict[str, Any]) -> None:
    client = get_client(url=studio["url"])
    assistant_id = _assistant_id(studio["url"])
    thread = await client.threads.create()
    goal = {"goal": "save 'hi' to hello.txt"}
    interrupts: list[Any] = []
    async for part in client.runs.stream(
        thread["thread_id"], assistant_id, input=goal, stream_mode="updates"
    ):
        if part.event == "updates" and "__interrupt__" in part.data:
            interrupts.extend(part.data["__interrupt__"])
    assert interrupts, "the doubted write should wait for a human"
    pending = await client.threads.get_state(thread["thread_id"])
    assert pending["next"] == ["approve"]
    assert pending["interrupts"]
    assert pending["interrupts"][0]["value"]["action"]["tool"] == "write_file"

    final = await client.runs.wait(
        thread["thread_id"],
        assistant_id,
        command={"resume": {"approved": True, "note": "go ahead"}},
    )
    assert isinstance(final, dict)
    assert final["status"] == "done"
    assert final["final_answer"] == "saved hello.txt"
    state = await client.threads.get_state(thread["thread_id"])
    assert state["next"] == []
    assert not state["interrupts"]
    assert [a["approved"] for a in state["values"]["approvals"]] == [True]


def test_without_redis_the_server_keeps_its_default_checkpointer(
    studio_model: GeminiServer, tmp_path: Path
) -> None:
    env = {
        "GOOGLE_API_KEY": "test-key",
        "MAXIMUS_BASE_URL": studio_model.url,
        "MAXIMUS_REDIS_URL": "",
        "MAXIMUS_DATA_DIR": str(tmp_path),
    }
    record = start_http("langgraph-dev", env)
    try:
        client = get_sync_client(url=record["url"])
        assistant_id = _assistant_id(record["url"])
        thread = client.threads.create()
        final = client.runs.wait(thread["thread_id"], assistant_id, input={"goal": "compute 17*23"})
        assert isinstance(final, dict) and final["final_answer"] == "17 * 23 = 391"
        assert client.threads.get_state(thread["thread_id"])["values"]["status"] == "done"
        history = client.threads.get_history(thread["thread_id"], limit=100)
        assert len(history) >= 5
    finally:
        stop_http(record["name"])
