"""``/memory`` over a real ``maximus serve``: each user's records are their own (404 for the
others'), vault secrets never leave the server, bad input is a typed 4xx, and readiness
covers memory once it is open.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.support.http import headers, http_server, server_env

pytestmark = pytest.mark.integration
SECRET = "tok-7Hq2-very-secret-value"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data = tmp_path_factory.mktemp("memory-api")
    env = server_env(data, memory__vault_key=Fernet.generate_key().decode())
    with http_server(env) as record:
        record["data"] = data
        yield record


@pytest.fixture(scope="module")
def url(server: dict[str, Any]) -> str:
    return str(server["url"])


def _ready_with_memory(url: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        response = httpx.get(f"{url}/readyz")
        body = response.json()
        if response.status_code == 200 and body["checks"].get("memory") == "ok":
            return body
        time.sleep(0.2)
    raise AssertionError(f"memory never became ready: {body}")


def test_readiness_covers_memory_once_open(url: str) -> None:
    body = _ready_with_memory(url)
    assert body["checks"] == {"checkpointer": "ok", "memory": "ok"}


def test_records_belong_to_their_owner(url: str) -> None:
    alice, bob = headers("alice"), headers("bob")
    fact = {"name": "deploy day", "summary": "Releases go out on Thursdays", "tags": ["ops"]}
    created = httpx.post(f"{url}/memory/semantic", json=fact, headers=alice)
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["user_id"] == "alice" and record["kind"] == "semantic"
    rid = record["id"]

    got = httpx.get(f"{url}/memory/semantic/{rid}", headers=alice)
    assert got.status_code == 200 and got.json()["summary"] == fact["summary"]
    listed = httpx.get(f"{url}/memory/semantic", headers=alice, params={"tags": ["ops"]}).json()
    assert rid in [r["id"] for r in listed["records"]]
    hits = httpx.post(
        f"{url}/memory/search", json={"query": "when do releases ship?", "k": 3}, headers=alice
    ).json()
    assert hits and hits[0]["record"]["id"] == rid and hits[0]["score"] > 0

    # Bob sees nothing of it, and cannot tell it exists.
    for response in (
        httpx.get(f"{url}/memory/semantic/{rid}", headers=bob),
        httpx.delete(f"{url}/memory/semantic/{rid}", headers=bob),
        httpx.post(f"{url}/memory/semantic", json={**fact, "id": rid}, headers=bob),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["code"] == "not_found"
    assert httpx.get(f"{url}/memory/semantic", headers=bob).json()["records"] == []
    bob_hits = httpx.post(
        f"{url}/memory/search", json={"query": "when do releases ship?"}, headers=bob
    ).json()
    assert bob_hits == []
    # Alice's record is untouched by Bob's attempts.
    assert httpx.get(f"{url}/memory/semantic/{rid}", headers=alice).json()["name"] == "deploy day"

    assert httpx.delete(f"{url}/memory/semantic/{rid}", headers=alice).status_code == 204
    assert httpx.get(f"{url}/memory/semantic/{rid}", headers=alice).status_code == 404


def test_vault_secrets_never_leave_the_server(url: str, server: dict[str, Any]) -> None:
    alice = headers("alice")
    entry = {"caption": "staging database password", "secret": SECRET, "sensitivity": "high"}
    created = httpx.post(f"{url}/memory/vault", json=entry, headers=alice)
    assert created.status_code == 201, created.text
    rid = created.json()["id"]
    responses = [
        created,
        httpx.get(f"{url}/memory/vault/{rid}", headers=alice),
        httpx.get(f"{url}/memory/vault", headers=alice),
        httpx.post(f"{url}/memory/search", json={"query": "database password"}, headers=alice),
    ]
    for response in responses:
        assert response.status_code in (200, 201)
        assert SECRET not in response.text
    assert responses[1].json()["caption"] == "staging database password"
    assert any(h["record"]["id"] == rid for h in responses[3].json())
    assert SECRET not in Path(server["log"]).read_text()


def test_bad_input_is_a_typed_4xx(url: str) -> None:
    alice = headers("alice")
    unknown = httpx.post(f"{url}/memory/dreams", json={"name": "x"}, headers=alice)
    assert unknown.status_code == 422
    missing = httpx.post(f"{url}/memory/semantic", json={"summary": "no name"}, headers=alice)
    assert missing.status_code in (400, 422) and "name" in missing.json()["message"]
    huge = httpx.post(
        f"{url}/memory/resource", json={"title": "big", "content": "x" * 40_000}, headers=alice
    )
    assert huge.status_code in (400, 413, 422), huge.text
    bad_k = httpx.post(f"{url}/memory/search", json={"query": "x", "k": 0}, headers=alice)
    assert bad_k.status_code == 422
    assert httpx.get(f"{url}/memory/semantic").status_code == 401
