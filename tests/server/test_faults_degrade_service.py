"""Faults: Redis stopped mid-stream, and a slow client among fast ones."""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from tests.support.http import KEYS, headers, http_server, server_env
from tests.support.redis import kill_server, start_server, stop_server
from tests.support.server_graphs import REPLY

pytestmark = pytest.mark.integration


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


@pytest.fixture(scope="module")
def redis_backed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A server whose sessions live in a Redis (AOF on) that the tests may kill and restart."""
    aof = tmp_path_factory.mktemp("redis-aof")
    name = f"srv-redis-{uuid.uuid4().hex[:8]}"
    redis = start_server("plain", name=name, aof=True, dir=aof)
    with tempfile.TemporaryDirectory(prefix="maximus-faults-") as data:
        env = server_env(
            Path(data),
            redis_url=redis["url"],
            sessions__key_prefix=f"t{uuid.uuid4().hex[:8]}",
            lesson_queue__prefix=f"t{uuid.uuid4().hex[:8]}",
            server__stream_buffer_events="64",
        )
        try:
            with http_server(env) as record:
                yield {**record, "redis": redis, "aof": aof}
        finally:
            stop_server(name)


def _ready(url: str) -> int:
    return httpx.get(url + "/readyz", timeout=10).status_code


async def test_redis_stopped_mid_stream(redis_backed: dict[str, Any]) -> None:
    url, redis = redis_backed["url"], redis_backed["redis"]
    client = get_client(url=url, api_key=KEYS["alice"])
    tid = (await client.threads.create())["thread_id"]
    parts = []
    async for part in client.runs.stream(tid, "chat", input=said("sleep:1.5 hi")):
        parts.append(part)
        if part.event == "values":  # the input is checkpointed; now Redis goes away
            await asyncio.sleep(0.2)
            kill_server(redis["name"])
    assert parts[-1].event == "error"
    assert parts[-1].data["error"] == "StoreUnavailableError"
    assert _ready(url) == 503
    body = httpx.get(url + "/readyz", timeout=10).json()
    assert body["checks"]["checkpointer"].startswith("unavailable")
    # Requests that need the store fail cleanly, with JSON, while it is down.
    down = httpx.get(f"{url}/threads/{tid}", headers=headers("alice"), timeout=30)
    assert down.status_code == 503 and down.json()["code"] == "store_unavailable"

    start_server(
        "plain", name=redis["name"], aof=True, dir=redis_backed["aof"], port=redis["ports"][0]
    )
    deadline = time.monotonic() + 20
    while _ready(url) != 200 and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    assert _ready(url) == 200
    state = await client.threads.get_state(tid)
    assert state["next"] == ["chat"]  # the input's checkpoint survived
    # The failed run's end is recorded once Redis is back (retried with backoff, at most 1 s
    # apart); until then its thread is still busy.
    deadline = time.monotonic() + 20
    while (await client.threads.get(tid))["status"] == "busy" and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    resumed = await client.runs.wait(tid, "chat", input=None)
    assert resumed["messages"][-1]["content"] == REPLY
    assert [m["type"] for m in resumed["messages"]] == ["human", "ai"]


async def test_slow_client_neither_buffers_nor_stalls_others(
    redis_backed: dict[str, Any],
) -> None:
    url = redis_backed["url"]
    client = get_client(url=url, api_key=KEYS["alice"])
    body = {"assistant_id": "chat", "input": said("spam:20000"), "stream_mode": ["custom"]}
    async with httpx.AsyncClient(timeout=60, headers=headers("alice")) as http:
        async with http.stream("POST", url + "/runs/stream", json=body) as slow:
            run_path = slow.headers["content-location"]
            lines = slow.aiter_lines()
            assert await anext(lines) == "id: 1"
            # The slow client stops reading. Other streams go on at full speed...
            started = time.monotonic()
            others = await asyncio.gather(
                *[client.runs.wait(None, "chat", input=said(f"hi {i}")) for i in range(10)]
            )
            assert all(o["messages"][-1]["content"] == REPLY for o in others)
            assert time.monotonic() - started < 10
            # ...and the slow client's own run finishes without waiting for it.
            deadline = time.monotonic() + 30
            status = None
            while time.monotonic() < deadline:
                status = (await http.get(url + run_path)).json()["status"]
                if status == "success":
                    break
                await asyncio.sleep(0.2)
            assert status == "success"
            # When it reads again it gets what the sockets held, then an error event:
            # the server kept only its bounded ring (64 events), not 40 MB for it.
            events = []
            async for line in lines:
                if line.startswith("event: "):
                    events.append(line[7:])
                elif line.startswith("data: ") and events[-1] == "error":
                    assert json.loads(line[6:])["error"] == "StreamLagged"
            assert events[-1] == "error"
            assert events.count("custom") < 20000
