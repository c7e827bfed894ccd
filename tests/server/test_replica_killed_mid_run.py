"""A replica SIGKILLed mid-run: its run is taken over by another process and finishes there
exactly once, resumed from its last checkpoint; a queued run waits for a worker."""

from __future__ import annotations

import asyncio
import os
import signal
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langgraph_sdk import get_client

from tests.support.http import KEYS, server_env, start_http, stop_http
from tests.support.server_graphs import REPLY

pytestmark = pytest.mark.integration


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


@pytest.fixture
def cluster(plain_redis_url: str) -> Iterator[dict[str, Any]]:
    """Start processes on one Redis and key prefix; stops whatever is left at the end."""
    prefix = f"t{uuid.uuid4().hex[:8]}"
    started: list[str] = []
    with tempfile.TemporaryDirectory(prefix="maximus-kill-") as data:

        def start(kind: str = "maximus", **settings: Any) -> dict[str, Any]:
            env = server_env(
                Path(data),
                redis_url=plain_redis_url,
                sessions__key_prefix=prefix,
                lesson_queue__prefix=prefix + "q",
                server__run_lease_seconds="1",
                **settings,
            )
            record = start_http(kind, env)
            started.append(record["name"])
            return record

        try:
            yield {"start": start}
        finally:
            for name in started:
                stop_http(name)


def sigkill(record: dict[str, Any]) -> None:
    os.killpg(int(record["pid"]), signal.SIGKILL)


def client(record: dict[str, Any]) -> Any:
    return get_client(url=record["url"], api_key=KEYS["alice"])


def _once(values: dict[str, Any], text: str) -> None:
    kinds = [(m["type"], m["content"]) for m in values["messages"]]
    assert kinds == [("human", text), ("ai", REPLY)]


async def test_streamed_run_finishes_on_another_replica(cluster: dict[str, Any]) -> None:
    a, b = cluster["start"](), cluster["start"]()
    ca, cb = client(a), client(b)
    tid = (await ca.threads.create())["thread_id"]
    run_id = None
    async for part in ca.runs.stream(tid, "chat", input=said("sleep:2 hi")):
        if part.event == "metadata":
            run_id = part.data["run_id"]
        if part.event == "values":  # the input is checkpointed; the chat node sleeps
            await asyncio.sleep(0.5)
            sigkill(a)
            break
    assert run_id is not None
    values = await asyncio.wait_for(cb.runs.join(tid, run_id), 30)
    _once(values, "sleep:2 hi")
    run = await cb.runs.get(tid, run_id)
    assert run["status"] == "success"
    events = [(p.event, p.data) async for p in cb.runs.join_stream(tid, run_id)]
    attempts = [d["attempt"] for e, d in events if e == "metadata"]
    assert attempts == [1, 2]  # the first attempt's events, then the taker's
    # One checkpoint per step (the thread, the input, chat, review, the end): no step ran
    # twice, and the taker did not send the input again.
    history = await cb.threads.get_history(tid, limit=50)
    steps = [(h["metadata"]["step"], h["next"]) for h in history]
    assert steps == [(3, []), (2, ["review"]), (1, ["chat"]), (0, ["__start__"]), (-1, [])]


async def test_background_run_survives_its_worker(cluster: dict[str, Any]) -> None:
    # B serves the API only; A runs the background runs until it is killed.
    b = cluster["start"](server__run_workers="0")
    a = cluster["start"]()
    cb = client(b)
    tid = (await cb.threads.create())["thread_id"]
    run = await cb.runs.create(tid, "chat", input=said("sleep:2 bg"))
    deadline = time.monotonic() + 15
    while (await cb.runs.get(tid, run["run_id"]))["status"] != "running":
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    sigkill(a)
    # Nobody else runs workers: the run waits, and is not lost.
    await asyncio.sleep(2.5)
    assert (await cb.runs.get(tid, run["run_id"]))["status"] == "running"
    cluster["start"]("maximus-worker")
    values = await asyncio.wait_for(cb.runs.join(tid, run["run_id"]), 30)
    _once(values, "sleep:2 bg")
    assert (await cb.runs.get(tid, run["run_id"]))["status"] == "success"


async def test_queued_run_waits_for_a_worker(cluster: dict[str, Any]) -> None:
    b = cluster["start"](server__run_workers="0")
    cb = client(b)
    tid = (await cb.threads.create())["thread_id"]
    run = await cb.runs.create(tid, "chat", input=said("queued"))
    await asyncio.sleep(1.0)
    assert (await cb.runs.get(tid, run["run_id"]))["status"] == "pending"
    cluster["start"]("maximus-worker")
    values = await asyncio.wait_for(cb.runs.join(tid, run["run_id"]), 30)
    _once(values, "queued")
