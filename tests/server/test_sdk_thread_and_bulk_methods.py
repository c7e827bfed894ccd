"""SDK methods beyond the basics (threads.update, copy, prune, join_stream; runs.create_batch,
cancel_many), on one process with SQLite and on three replicas behind a round-robin."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.support.server_graphs import REPLY

pytestmark = pytest.mark.integration


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


async def _missing_for(client: Any, call: Any) -> None:
    with pytest.raises(httpx.HTTPStatusError) as err:
        await call
    assert err.value.response.status_code == 404


async def test_update_merges_metadata(deployment: dict[str, Any]) -> None:
    alice, bob = deployment["alice"], deployment["bob"]
    tid = (await alice.threads.create(metadata={"a": 1, "b": 1}))["thread_id"]
    await alice.runs.wait(tid, "chat", input=said("hi"))
    updated = await alice.threads.update(tid, metadata={"b": 2, "c": 3})
    assert updated["metadata"]["a"] == 1 and updated["metadata"]["b"] == 2
    got = await alice.threads.get(tid)
    assert {k: got["metadata"][k] for k in "abc"} == {"a": 1, "b": 2, "c": 3}
    assert got["values"]["messages"][-1]["content"] == REPLY  # the state is unchanged
    await _missing_for(bob, bob.threads.update(tid, metadata={"x": 1}))
    # A run after the update keeps the metadata.
    await alice.runs.wait(tid, "chat", input=said("again"))
    assert (await alice.threads.get(tid))["metadata"]["c"] == 3


async def test_copy_forks_the_thread(deployment: dict[str, Any]) -> None:
    alice, bob = deployment["alice"], deployment["bob"]
    tid = (await alice.threads.create(metadata={"k": "v"}))["thread_id"]
    await alice.runs.wait(tid, "chat", input=said("one"))
    copied = await alice.threads.copy(tid)
    new = copied["thread_id"]
    assert new != tid and copied["metadata"]["k"] == "v"
    await alice.runs.wait(new, "chat", input=said("two"))
    original = await alice.threads.get_state(tid)
    fork = await alice.threads.get_state(new)
    assert len(original["values"]["messages"]) == 2
    assert [m["content"] for m in fork["values"]["messages"]][::2] == ["one", "two"]
    await _missing_for(bob, bob.threads.copy(tid))


async def test_prune_deletes_or_keeps_the_latest(deployment: dict[str, Any]) -> None:
    alice, bob = deployment["alice"], deployment["bob"]
    gone = (await alice.threads.create())["thread_id"]
    kept = (await alice.threads.create())["thread_id"]
    for tid in (gone, kept):
        await alice.runs.wait(tid, "chat", input=said("hi"))
    assert (await bob.threads.prune([gone, kept]))["pruned_count"] == 0  # not bob's
    assert (await alice.threads.prune([gone]))["pruned_count"] == 1
    await _missing_for(alice, alice.threads.get(gone))
    assert len(await alice.threads.get_history(kept, limit=50)) > 1
    pruned = await alice.threads.prune([kept], strategy="keep_latest")
    assert pruned["pruned_count"] == 1
    history = await alice.threads.get_history(kept, limit=50)
    assert len(history) == 1
    assert history[0]["values"]["messages"][-1]["content"] == REPLY
    values = await alice.runs.wait(kept, "chat", input=said("more"))
    assert len(values["messages"]) == 4


async def test_thread_join_stream_follows_its_run(deployment: dict[str, Any]) -> None:
    alice = deployment["alice"]
    tid = (await alice.threads.create())["thread_id"]
    await alice.runs.create(tid, "chat", input=said("tick:5:100"), stream_mode=["values", "custom"])
    events = [p.event async for p in await alice.threads.join_stream(tid)]
    assert events[0] == "metadata" and events.count("custom") >= 5
    assert events[-1] == "values"


async def test_create_batch_runs_each(deployment: dict[str, Any]) -> None:
    alice = deployment["alice"]
    made = await alice.runs.create_batch(
        [{"assistant_id": "chat", "input": said(f"n{i}")} for i in range(3)]
    )
    assert len({r["run_id"] for r in made}) == 3
    for run in made:
        values = await alice.runs.join(run["thread_id"], run["run_id"])
        assert values["messages"][-1]["content"] == REPLY


async def test_cancel_many_cancels_a_threads_runs(deployment: dict[str, Any]) -> None:
    alice, bob = deployment["alice"], deployment["bob"]
    tid = (await alice.threads.create())["thread_id"]
    first = await alice.runs.create(tid, "chat", input=said("sleep:20 a"))
    second = await alice.runs.create(
        tid, "chat", input=said("sleep:20 b"), multitask_strategy="enqueue"
    )
    await _missing_for(bob, bob.runs.cancel_many(thread_id=tid, run_ids=[first["run_id"]]))
    await asyncio.sleep(0.2)
    assert (await alice.runs.get(tid, first["run_id"]))["status"] in ("pending", "running")
    await alice.runs.cancel_many(thread_id=tid, run_ids=[first["run_id"], second["run_id"]])
    for run in (first, second):
        await asyncio.wait_for(alice.runs.join(tid, run["run_id"]), 15)
        assert (await alice.runs.get(tid, run["run_id"]))["status"] == "interrupted"


async def test_stream_mode_events(deployment: dict[str, Any]) -> None:
    alice = deployment["alice"]
    tid = (await alice.threads.create())["thread_id"]
    parts = [
        p
        async for p in alice.runs.stream(
            tid, "chat", input=said("hi"), stream_mode=["events", "values"]
        )
    ]
    kinds = [p.data["event"] for p in parts if p.event == "events"]
    assert kinds[0] == "on_chain_start" and kinds[-1] == "on_chain_end"
    assert "on_chat_model_stream" in kinds
    values = [p.data for p in parts if p.event == "values"]
    assert values[-1]["messages"][-1]["content"] == REPLY
    assert (await alice.threads.get_state(tid))["values"]["messages"][-1]["content"] == REPLY


async def test_assistants_are_created_versioned_and_owned(deployment: dict[str, Any]) -> None:
    alice, bob = deployment["alice"], deployment["bob"]
    made = await alice.assistants.create(
        "chat", config={"tags": ["mine"]}, metadata={"team": "a"}, name="helper"
    )
    aid = made["assistant_id"]
    assert made["graph_id"] == "chat" and made["version"] == 1 and made["name"] == "helper"
    assert (await alice.assistants.get(aid))["metadata"] == {"team": "a"}
    await _missing_for(bob, bob.assistants.get(aid))
    mine = await alice.assistants.search(metadata={"team": "a"}, limit=100)
    assert aid in {a["assistant_id"] for a in mine}
    assert aid not in {a["assistant_id"] for a in await bob.assistants.search(limit=100)}
    assert await alice.assistants.count(graph_id="chat") >= 2  # the served one and this
    # A run on the assistant runs its graph.
    values = await alice.runs.wait(None, aid, input=said("hi"))
    assert values["messages"][-1]["content"] == REPLY
    updated = await alice.assistants.update(aid, metadata={"team": "b"})
    assert updated["version"] == 2 and updated["metadata"] == {"team": "b"}
    versions = await alice.assistants.get_versions(aid)
    assert [v["version"] for v in versions] == [2, 1]
    back = await alice.assistants.set_latest(aid, 1)
    assert back["version"] == 1 and back["metadata"] == {"team": "a"}
    await _missing_for(bob, bob.assistants.delete(aid))
    await alice.assistants.delete(aid)
    await _missing_for(alice, alice.assistants.get(aid))


async def test_a_finished_run_can_be_deleted(deployment: dict[str, Any]) -> None:
    alice, bob = deployment["alice"], deployment["bob"]
    tid = (await alice.threads.create())["thread_id"]
    run = await alice.runs.create(tid, "chat", input=said("hi"))
    await alice.runs.join(tid, run["run_id"])
    await _missing_for(bob, bob.runs.delete(tid, run["run_id"]))
    await alice.runs.delete(tid, run["run_id"])
    await _missing_for(alice, alice.runs.get(tid, run["run_id"]))
    assert await alice.runs.list(tid) == []


@pytest.fixture
def receiver() -> Any:
    """A loopback HTTP server that keeps the JSON bodies POSTed to it."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    bodies: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
            size = int(self.headers["Content-Length"])
            bodies.append(json.loads(self.rfile.read(size)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}/hook", "bodies": bodies}
    server.shutdown()


async def test_webhook_gets_the_finished_run_once(
    deployment: dict[str, Any], receiver: dict[str, Any]
) -> None:
    alice = deployment["alice"]
    tid = (await alice.threads.create())["thread_id"]
    run = await alice.runs.create(tid, "chat", input=said("hi"), webhook=receiver["url"])
    await alice.runs.join(tid, run["run_id"])
    for _ in range(100):
        if receiver["bodies"]:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.3)  # no second call
    (body,) = receiver["bodies"]
    assert body["run_id"] == run["run_id"] and body["status"] == "success"
    assert body["values"]["messages"][-1]["content"] == REPLY


@pytest.mark.parametrize("hook", ["http://10.1.2.3/hook", "ftp://127.0.0.1/hook"])
async def test_webhook_to_a_private_address_is_refused(
    deployment: dict[str, Any], hook: str
) -> None:
    alice = deployment["alice"]
    tid = (await alice.threads.create())["thread_id"]
    with pytest.raises(httpx.HTTPStatusError) as err:
        await alice.runs.create(tid, "chat", input=said("hi"), webhook=hook)
    assert err.value.response.status_code == 422
    assert "webhook" in err.value.response.text
