"""Operations: health, readiness, metrics, JSON logs with request and run ids, offline docs,
errors as JSON, and graceful shutdown on SIGTERM."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client

from tests.support.http import KEYS, headers, http_server, server_env, start_http, stop_http
from tests.support.server_graphs import REPLY

pytestmark = pytest.mark.integration


def said(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def test_health_and_readiness(url: str) -> None:
    assert httpx.get(url + "/healthz").json() == {"status": "ok", "checks": {}}
    ready = httpx.get(url + "/readyz")
    assert ready.status_code == 200
    checks = ready.json()["checks"]
    # Memory opens after start-up; while it does, readiness holds.
    assert checks["checkpointer"] == "ok" and checks["memory"] in ("starting", "ok")


async def test_metrics_count_runs_latency_and_tokens(url: str, alice: Any) -> None:
    await alice.runs.wait(None, "chat", input=said("hi"))
    text = httpx.get(url + "/metrics").text
    samples = {
        line.split(" ")[0]: float(line.split(" ")[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }
    assert samples['maximus_runs_total{status="success"}'] >= 1
    assert samples['maximus_run_seconds_count{graph_id="chat"}'] >= 1
    assert samples["maximus_model_calls_total"] >= 1
    assert 'maximus_http_request_seconds_bucket{le="0.005",method="POST",route="/runs/wait"}' in (
        text
    )
    assert "maximus_runs_active" in samples and "maximus_runs_queued" in samples
    assert samples['maximus_tokens_total{kind="output"}'] >= 5


async def test_json_logs_carry_request_and_run_ids(server: dict[str, Any], alice: Any) -> None:
    tid = (await alice.threads.create())["thread_id"]
    await alice.runs.wait(tid, "chat", input=said("boom"), raise_error=False)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        lines = [json.loads(x) for x in Path(server["log"]).read_text().splitlines() if x]
        runs = [x for x in lines if x.get("logger") == "maximus.server.runs" and "run_id" in x]
        if any(x["level"] == "error" for x in runs):
            break
        time.sleep(0.1)
    failed = [x for x in runs if x["level"] == "error"]
    assert failed and failed[-1]["message"].startswith("run failed")
    assert "ValueError" in failed[-1]["exc"]  # the trace stays in the server log
    access = [x for x in lines if x.get("logger") == "maximus.server.access"]
    assert access and all(len(x["request_id"]) == 32 for x in access)


def test_errors_are_json_without_traces(url: str) -> None:
    auth = headers("alice")
    bad = httpx.post(url + "/threads/search", content=b"{not json", headers=auth)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"
    typed = httpx.post(url + "/threads/search", json={"limit": "many"}, headers=auth)
    assert typed.status_code == 422 and typed.json()["message"].startswith("body.limit")
    missing = httpx.get(url + "/nowhere", headers=auth)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    wrong = httpx.post(
        url + "/runs/wait", json={"assistant_id": "chat", "stream_mode": "telepathy"}, headers=auth
    )
    assert wrong.status_code == 422 and "stream_mode" in wrong.json()["message"]
    for response in (bad, typed, missing, wrong):
        assert "Traceback" not in response.text and response.headers["x-request-id"]


def test_docs_work_offline(url: str) -> None:
    page = httpx.get(url + "/docs").text
    assert "swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    assert httpx.get(url + "/static-offline-docs/swagger-ui-bundle.js").status_code == 200
    schema = httpx.get(url + "/openapi.json").json()
    assert {"/threads", "/threads/{thread_id}/runs/stream", "/plugins"} <= set(schema["paths"])


def test_plugins_endpoints(url: str) -> None:
    listed = httpx.get(url + "/plugins", headers=headers("bob")).json()
    names = {p["name"] for p in listed}
    assert "calculator" in names
    one = httpx.get(url + "/plugins/calculator", headers=headers("bob")).json()
    assert one["state"] == "loaded" and one["tools"]
    forbidden = httpx.post(url + "/plugins/calculator/disable", headers=headers("bob"))
    assert forbidden.status_code == 403
    off = httpx.post(url + "/plugins/calculator/disable", headers=headers("alice")).json()
    assert off["state"] == "disabled" and off["tools"] == []
    on = httpx.post(url + "/plugins/calculator/enable", headers=headers("alice")).json()
    assert on["state"] == "loaded" and on["tools"]
    nope = httpx.post(url + "/plugins/no-such/enable", headers=headers("alice"))
    assert nope.status_code == 404


async def test_sigterm_lets_runs_finish_and_keeps_the_rest_resumable() -> None:
    with tempfile.TemporaryDirectory(prefix="maximus-sigterm-") as data:
        env = server_env(Path(data), server__shutdown_grace_seconds="1.5")
        record = start_http("maximus", env)
        client = get_client(url=record["url"], api_key=KEYS["alice"])
        short = (await client.threads.create())["thread_id"]
        long = (await client.threads.create())["thread_id"]
        await client.runs.create(short, "chat", input=said("sleep:0.5 short"))
        await client.runs.create(long, "chat", input=said("sleep:4 long"))
        time.sleep(0.2)
        stop_http(record["name"])  # SIGTERM, then waits for the process to exit
        log = Path(record["log"]).read_text()
        assert "1 runs were still going at shutdown" in log
        with http_server(env) as again:
            client = get_client(url=again["url"], api_key=KEYS["alice"])
            finished = await client.threads.get_state(short)
            assert finished["next"] == [] and finished["values"]["messages"][-1]["content"] == REPLY
            paused = await client.threads.get_state(long)
            assert paused["next"] == ["chat"]
            resumed = await client.runs.wait(long, "chat", input=None)
            assert resumed["messages"][-1]["content"] == REPLY
