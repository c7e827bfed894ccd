"""Auth and per-owner isolation: 401 without credentials, 404 for another user's threads,
JWTs, and secrets kept out of responses and logs."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.errors import AuthenticationError, ConflictError, NotFoundError

from tests.support.http import KEYS, headers, http_server, server_env

pytestmark = pytest.mark.integration
SECRET = "a-test-signing-secret-of-32-bytes!"


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def test_no_key_or_a_wrong_key_is_401(url: str) -> None:
    for path, method in [("/threads", "POST"), ("/threads/search", "POST"), ("/plugins", "GET")]:
        bare = httpx.request(method, url + path, json={})
        assert bare.status_code == 401, path
        assert bare.json()["code"] == "unauthenticated"
        wrong = httpx.request(method, url + path, json={}, headers={"x-api-key": "nope"})
        assert wrong.status_code == 401 and wrong.json()["message"] == "invalid API key"
    assert httpx.get(url + "/healthz").status_code == 200  # operations stay open


async def test_another_users_thread_is_404(url: str, alice: Any, bob: Any) -> None:
    tid = (await alice.threads.create(metadata={"owner": "alice"}))["thread_id"]
    run = await alice.runs.create(tid, "chat", input=said("hi"))
    await alice.runs.join(tid, run["run_id"])
    attempts = [
        lambda: bob.threads.get(tid),
        lambda: bob.threads.get_state(tid),
        lambda: bob.threads.get_history(tid),
        lambda: bob.threads.update_state(tid, {"messages": []}),
        lambda: bob.runs.wait(tid, "chat", input=said("mine now")),
        lambda: bob.runs.get(tid, run["run_id"]),
        lambda: bob.runs.join(tid, run["run_id"]),
        lambda: bob.runs.cancel(tid, run["run_id"]),
        lambda: bob.runs.list(tid),
        lambda: bob.threads.delete(tid),
    ]
    for attempt in attempts:
        # ``wait``, ``join`` and ``cancel(wait=True)`` go through the SDK's reconnecting
        # request, which raises httpx's own error; both carry the 404.
        with pytest.raises((NotFoundError, httpx.HTTPStatusError)) as caught:
            await attempt()
        assert caught.value.response.status_code == 404
    # Creating the thread "if it does not exist" cannot take it over either.
    with pytest.raises(ConflictError):
        await bob.runs.create(tid, "chat", input=said("mine now"), if_not_exists="create")
    with pytest.raises(NotFoundError):
        async for _ in bob.runs.stream(tid, "chat", input=said("x")):
            pass
    with pytest.raises(NotFoundError):
        async for _ in bob.runs.join_stream(tid, run["run_id"]):
            pass
    # The answers are the same as for an id that does not exist at all.
    missing = httpx.get(f"{url}/threads/{tid}x", headers=headers("bob"))
    taken = httpx.get(f"{url}/threads/{tid}", headers=headers("bob"))
    assert missing.status_code == taken.status_code == 404
    assert missing.json()["message"].replace("x'", "'") == taken.json()["message"]
    assert tid not in {t["thread_id"] for t in await bob.threads.search(limit=1000)}
    # Alice's thread is untouched.
    assert len((await alice.threads.get(tid))["values"]["messages"]) == 2


async def test_run_metadata_cannot_claim_another_owner(alice: Any, bob: Any) -> None:
    tid = (await bob.threads.create())["thread_id"]
    await bob.runs.wait(
        tid,
        "chat",
        input=said("hi"),
        metadata={"user_id": "alice"},
        config={"configurable": {"user_id": "alice"}},
    )
    with pytest.raises(NotFoundError):
        await alice.threads.get(tid)
    assert (await bob.threads.get(tid))["status"] == "idle"


def test_keys_never_reach_responses_or_logs(server: dict[str, Any], url: str) -> None:
    body = httpx.post(url + "/threads", json={}, headers=headers("alice")).text
    body += httpx.get(url + "/metrics").text
    body += httpx.get(url + "/openapi.json").text
    log = Path(server["log"]).read_text()
    for key in KEYS.values():
        assert key not in body and key not in log
    assert '"request_id"' in log  # and the log is structured


@pytest.fixture(scope="module")
def jwt_server() -> Iterator[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="maximus-jwt-") as data:
        env = server_env(
            Path(data),
            server__auth="jwt",
            server__jwt_secret=SECRET,
            server__jwt_audience="maximus",
            server__rate_limit_per_minute="60",
            server__rate_limit_burst="8",
            server__max_body_bytes="4096",
        )
        with http_server(env) as record:
            yield record


def token(user: str, *, ttl: float = 300, secret: str = SECRET, aud: str = "maximus") -> str:
    claims = {"sub": user, "aud": aud, "exp": int(time.time() + ttl)}
    return jwt.encode(claims, secret, algorithm="HS256")


async def test_bearer_jwt(jwt_server: dict[str, Any]) -> None:
    url = jwt_server["url"]
    carol = get_client(url=url, headers={"Authorization": f"Bearer {token('carol')}"})
    dave = get_client(url=url, headers={"Authorization": f"Bearer {token('dave')}"})
    tid = (await carol.threads.create())["thread_id"]
    assert (await carol.threads.get(tid))["thread_id"] == tid
    with pytest.raises(NotFoundError):
        await dave.threads.get(tid)
    for bad in (
        token("carol", ttl=-10),
        token("carol", secret="another-secret-of-sufficient-length"),
        token("carol", aud="elsewhere"),
    ):
        stranger = get_client(url=url, headers={"Authorization": f"Bearer {bad}"})
        with pytest.raises(AuthenticationError):
            await stranger.threads.get(tid)
    assert httpx.post(url + "/threads", json={}).status_code == 401


def test_rate_limit_and_body_size(jwt_server: dict[str, Any]) -> None:
    url = jwt_server["url"]
    auth = {"Authorization": f"Bearer {token('erin')}"}
    too_big = httpx.post(url + "/threads", json={"metadata": {"x": "y" * 5000}}, headers=auth)
    assert too_big.status_code == 413 and too_big.json()["code"] == "payload_too_large"
    codes = [
        httpx.post(url + "/threads/search", json={}, headers=auth).status_code for _ in range(12)
    ]
    assert codes.count(429) >= 3 and codes[0] == 200
    limited = httpx.post(url + "/threads/search", json={}, headers=auth)
    assert limited.json()["code"] == "rate_limited" and limited.headers["retry-after"]
    # Another user has their own bucket.
    other = {"Authorization": f"Bearer {token('frank')}"}
    assert httpx.post(url + "/threads/search", json={}, headers=other).status_code == 200
    assert "maximus_rate_limited_total" in httpx.get(url + "/metrics").text
