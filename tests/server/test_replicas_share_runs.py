"""Three ``maximus serve`` replicas on one Redis: a run made on one is seen, joined, streamed,
resumed and cancelled from the others, and double-texting holds across them."""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import ConflictError

from tests.support.http import KEYS, headers, http_server, server_env
from tests.support.server_graphs import REPLY

pytestmark = pytest.mark.integration


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def replica_env(data: Path, redis_url: str, prefix: str, **more: Any) -> dict[str, str]:
    return server_env(
        data,
        redis_url=redis_url,
        sessions__key_prefix=prefix,
        lesson_queue__prefix=prefix + "q",
        server__run_lease_seconds="1",
        **more,
    )


@pytest.fixture(scope="module")
def replicas(plain_redis_url: str) -> Iterator[list[str]]:
    """Three replicas sharing one Redis and one key prefix."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="maximus-replicas-") as data, ExitStack() as stack:
        urls = [
            stack.enter_context(http_server(replica_env(Path(data), plain_redis_url, prefix)))[
                "url"
            ]
            for _ in range(3)
        ]
        yield urls


def clients(urls: list[str], user: str = "alice") -> list[Any]:
    return [get_client(url=u, api_key=KEYS[user]) for u in urls]


async def test_a_background_run_is_seen_and_joined_on_every_replica(replicas: list[str]) -> None:
    a, b, c = clients(replicas)
    tid = (await a.threads.create())["thread_id"]
    run = await a.runs.create(tid, "chat", input=said("sleep:3 hi"))
    assert (await b.runs.get(tid, run["run_id"]))["status"] in ("pending", "running")
    joined = await c.runs.join(tid, run["run_id"])
    assert joined["messages"][-1]["content"] == REPLY
    assert (await b.runs.get(tid, run["run_id"]))["status"] == "success"
    assert [r["run_id"] for r in await c.runs.list(tid)] == [run["run_id"]]
    events = [p.event async for p in b.runs.join_stream(tid, run["run_id"])]
    assert events[0] == "metadata" and "values" in events
    # Another user's view of the run is a 404, on every replica.
    bob = get_client(url=replicas[2], api_key=KEYS["bob"])
    with pytest.raises(httpx.HTTPStatusError) as err:
        await bob.runs.get(tid, run["run_id"])
    assert err.value.response.status_code == 404


async def test_reject_holds_across_replicas(replicas: list[str]) -> None:
    a, b, c = clients(replicas)
    tid = (await a.threads.create())["thread_id"]
    first = await a.runs.create(tid, "chat", input=said("sleep:1 first"))
    assert (await c.threads.get(tid))["status"] == "busy"
    with pytest.raises(ConflictError):
        await b.runs.create(tid, "chat", input=said("second"), multitask_strategy="reject")
    await b.runs.join(tid, first["run_id"])
    assert (await c.threads.get(tid))["status"] == "idle"
    # Once the first run is done, the thread takes a new one anywhere.
    values = await b.runs.wait(tid, "chat", input=said("third"), multitask_strategy="reject")
    assert [m["content"] for m in values["messages"] if m["type"] == "human"] == [
        "sleep:1 first",
        "third",
    ]


async def test_enqueue_runs_in_arrival_order_across_replicas(replicas: list[str]) -> None:
    a, b, c = clients(replicas)
    tid = (await a.threads.create())["thread_id"]
    runs = []
    for i, client in enumerate((a, b, c)):
        runs.append(
            await client.runs.create(
                tid, "chat", input=said(f"sleep:0.3 n{i}"), multitask_strategy="enqueue"
            )
        )
    await c.runs.join(tid, runs[-1]["run_id"])
    state = await b.threads.get_state(tid)
    humans = [m["content"] for m in state["values"]["messages"] if m["type"] == "human"]
    assert humans == ["sleep:0.3 n0", "sleep:0.3 n1", "sleep:0.3 n2"]
    statuses = {r["run_id"]: r["status"] for r in await a.runs.list(tid)}
    assert set(statuses.values()) == {"success"}


@pytest.mark.parametrize("strategy", ["interrupt", "rollback"])
async def test_interrupt_and_rollback_cancel_the_other_replicas_run(
    replicas: list[str], strategy: str
) -> None:
    a, b, _ = clients(replicas)
    tid = (await a.threads.create())["thread_id"]
    first = await a.runs.create(tid, "chat", input=said("sleep:5 first"))
    await _until_status(b, tid, first["run_id"], "running")
    await asyncio.sleep(0.3)  # the input is checkpointed
    second = await b.runs.create(tid, "chat", input=said("second"), multitask_strategy=strategy)
    values = await a.runs.join(tid, second["run_id"])
    assert (await a.runs.get(tid, first["run_id"]))["status"] == "interrupted"
    humans = [m["content"] for m in values["messages"] if m["type"] == "human"]
    # ``rollback`` deleted the first run's checkpoints; ``interrupt`` kept its input.
    assert humans == (["second"] if strategy == "rollback" else ["sleep:5 first", "second"])
    history = await b.threads.get_history(tid, limit=100)
    run_ids = {h["metadata"].get("run_id") for h in history}
    assert (first["run_id"] in run_ids) == (strategy == "interrupt")


async def test_cancel_from_another_replica_stops_the_run(replicas: list[str]) -> None:
    a, b, _ = clients(replicas)
    tid = (await a.threads.create())["thread_id"]
    parts: list[str] = []

    async def stream() -> None:
        # Streamed on A: the run executes on A.
        async for part in a.runs.stream(
            tid, "chat", input=said("tick:200:50"), stream_mode=["values", "custom"]
        ):
            parts.append(part.event)

    streaming = asyncio.create_task(stream())
    runs: list[dict[str, Any]] = []
    while not runs:
        await asyncio.sleep(0.1)
        runs = await b.runs.list(tid)
    await _until_status(b, tid, runs[0]["run_id"], "running")
    started = time.monotonic()
    await b.runs.cancel(tid, runs[0]["run_id"], wait=True)
    await asyncio.wait_for(streaming, 10)
    assert time.monotonic() - started < 5  # far less than the run's 10 s of ticks
    assert (await a.runs.get(tid, runs[0]["run_id"]))["status"] == "interrupted"
    assert "custom" in parts


async def test_last_event_id_resumes_on_another_replica(replicas: list[str]) -> None:
    a, b, _ = clients(replicas)
    tid = (await a.threads.create())["thread_id"]
    seen: list[tuple[str, str]] = []
    async with httpx.AsyncClient(timeout=30) as http:
        body = {"assistant_id": "chat", "input": said("tick:6:100"), "stream_mode": ["custom"]}
        async with http.stream(
            "POST", f"{replicas[0]}/threads/{tid}/runs/stream", json=body, headers=headers("alice")
        ) as response:
            location = response.headers["Content-Location"]
            async for line in response.aiter_lines():
                if line.startswith("id:"):
                    seen.append(("id", line[3:].strip()))
                if len([s for s in seen if s[0] == "id"]) == 3:
                    break
        last = [v for k, v in seen if k == "id"][-1]
        ids: list[int] = []
        events: list[str] = []
        async with http.stream(
            "GET",
            f"{replicas[1]}{location}/stream",
            headers={**headers("alice"), "Last-Event-ID": last},
        ) as response:
            async for line in response.aiter_lines():
                if line.startswith("id:"):
                    ids.append(int(line[3:].strip()))
                if line.startswith("event:"):
                    events.append(line[6:].strip())
    assert ids and ids[0] == int(last) + 1
    assert ids == list(range(ids[0], ids[0] + len(ids)))  # every event after it, once
    assert events.count("custom") >= 4 and "metadata" not in events
    assert (await b.threads.get_state(tid))["values"]["messages"][-1]["content"] == REPLY


async def _until_status(client: Any, tid: str, run_id: str, status: str) -> None:
    deadline = time.monotonic() + 15
    while (await client.runs.get(tid, run_id))["status"] != status:
        assert time.monotonic() < deadline, f"run {run_id} never became {status}"
        await asyncio.sleep(0.05)
