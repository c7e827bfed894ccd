"""A vault secret used by a tool never enters agent state: a real ``maximus serve`` runs the
agent (scripted models) with Redis or SQLite sessions; the agent gets a reference from
``reveal_secret`` and passes it to ``call_api``, which needs the secret and echoes it. The tool
receives the plaintext; the raw checkpoint store, the SSE stream, ``/state``, ``/history``
and the server log hold only the reference."""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from tests.support.http import headers, http_server, server_env
from tests.support.memory import KEY
from tests.support.server_graphs import VAULT_ID

pytestmark = pytest.mark.integration

GRAPHS = {"vault_agent": "tests.support.server_graphs:vault_agent"}
REFERENCE = "{{vault:" + VAULT_ID + "}}"


def _redis_bytes(url: str, prefix: str) -> bytes:
    """Every value under ``prefix``, read raw, whatever its type."""
    client = redis.Redis.from_url(url)
    chunks: list[bytes] = []
    for key in client.scan_iter(match=f"{prefix}*", count=500):
        kind = client.type(key).decode()
        chunks.append(key)
        if kind == "string":
            chunks.append(client.get(key) or b"")
        elif kind == "hash":
            for field, value in client.hgetall(key).items():
                chunks += [field, value]
        elif kind == "list":
            chunks += client.lrange(key, 0, -1)
        elif kind == "set":
            chunks += list(client.smembers(key))
        elif kind == "zset":
            chunks += [m for m, _ in client.zrange(key, 0, -1, withscores=True)]
        elif kind == "stream":
            for entry_id, fields in client.xrange(key):  # the shared runs' event streams
                chunks.append(entry_id)
                for field, value in fields.items():
                    chunks += [field, value]
        else:
            chunks.append(json.dumps(client.execute_command("JSON.GET", key)).encode())
    client.close()
    return b"\n".join(chunks)


def _sqlite_bytes(path: Path) -> bytes:
    """The database file and its WAL, byte for byte, plus every cell decoded."""
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    with sqlite3.connect(path) as db:
        tables = [r[0] for r in db.execute("select name from sqlite_master where type='table'")]
        for table in tables:
            for row in db.execute(f'select * from "{table}"'):  # noqa: S608 - our own names
                for cell in row:
                    raw += cell if isinstance(cell, bytes) else str(cell).encode()
    return raw


@pytest.fixture(params=["redis", "sqlite"])
def served(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, dict[str, Any], str]]:
    sessions: dict[str, Any] = {}
    if request.param == "redis":
        url = request.getfixturevalue("plain_redis_url")
        prefix = f"test-secrets-{uuid.uuid4().hex[:8]}"
        sessions = {"redis_url": url, "sessions__key_prefix": prefix}
    data = tmp_path / "server"
    env = server_env(
        data,
        memory__vault_key=KEY,
        memory__vault_tools=["call_api"],
        memory__vault_reveal_max="high",
        server__graphs=GRAPHS,
        **sessions,
    )
    with http_server(env) as record:
        record["data"] = data
        record["sessions"] = sessions
        yield request.param, record, str(record["url"])


def _stream(url: str, thread: str, goal: str) -> str:
    body = {
        "assistant_id": "vault_agent",
        "input": {"goal": goal},
        "stream_mode": ["values", "updates", "debug", "custom"],
    }
    with httpx.stream(
        "POST",
        f"{url}/threads/{thread}/runs/stream",
        json=body,
        headers=headers("alice"),
        timeout=120,
    ) as response:
        assert response.status_code == 200, response.read()
        return "".join(response.iter_text())


def _ready(url: str) -> None:
    deadline = time.monotonic() + 90
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = httpx.get(f"{url}/readyz")
        body = response.json()
        if response.status_code == 200 and body["checks"].get("memory") == "ok":
            return
        time.sleep(0.2)
    raise AssertionError(f"the server never became ready: {body}")


def test_the_tool_gets_the_secret_and_nothing_else_does(
    served: tuple[str, dict[str, Any], str],
) -> None:
    kind, record, url = served
    secret = "sk-live-" + secrets.token_hex(16)
    alice = headers("alice")
    _ready(url)
    entry = {"id": VAULT_ID, "caption": "example API key", "secret": secret, "sensitivity": "high"}
    created = httpx.post(f"{url}/memory/vault", json=entry, headers=alice, timeout=60)
    assert created.status_code == 201, created.text
    assert secret not in created.text

    thread = httpx.post(f"{url}/threads", json={}, headers=alice).json()["thread_id"]
    stream = _stream(url, thread, "call the example API with my key")

    # The tool received the real value.
    received = (record["data"] / "received.txt").read_text().split()
    assert received == [hashlib.sha256(secret.encode()).hexdigest()]

    # The stream carried the echo, redacted to the reference.
    assert f"Bearer {REFERENCE} -> 200 OK" in stream
    assert secret not in stream

    state = httpx.get(f"{url}/threads/{thread}/state", headers=alice).text
    history = httpx.get(f"{url}/threads/{thread}/history", headers=alice).text
    for text in (state, history):
        assert f"Bearer {REFERENCE}" in text  # the echo is there, as the reference
        assert secret not in text
    assert '"answer"' in state or "200" in state

    if kind == "redis":
        prefix = record["sessions"]["sessions__key_prefix"]
        raw = _redis_bytes(record["sessions"]["redis_url"], prefix)
    else:
        raw = _sqlite_bytes(record["data"] / "sessions.sqlite")
    assert REFERENCE.encode() in raw  # the scan sees the checkpointed messages
    assert secret.encode() not in raw

    time.sleep(0.5)  # let the log flush
    log = Path(record["log"]).read_text()
    assert "vault_agent" in log or "run" in log
    assert secret not in log
