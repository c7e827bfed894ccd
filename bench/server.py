"""The HTTP server against ``langgraph dev``, then 1,000 concurrent SSE streams against ours.

Both servers serve the same graph (``tests/support/server_graphs.py``: one node calling the
fake chat model) on free ports other than 2024, started by ``scripts/http_servers.py``:
ours as ``maximus serve`` with sessions in Redis (``scripts/redis_servers.py``), and the
LangGraph API server as ``langgraph dev`` (``langgraph-cli[inmem]``, offline).

- **Sequential**: ``POST /runs/wait`` one after another, the two servers interleaved, after a
  warm-up; the p50 of each and their ratio (``speedup``).
- **Load**: ``STREAMS`` SSE streams against ours from one client process, opened over
  ``RAMP_S`` seconds and each kept open for ``TICKS`` custom events ``TICK_MS`` apart (then
  the model's tokens and the final values), so all of them are open at once at the peak. The
  client is a minimal HTTP/1.1 reader on asyncio streams, so that the client's own cost
  stays small on this shared machine. Per stream: time to the first event, the gaps between
  events, and errors (a non-200 answer, an ``error`` event, a dropped connection, or a
  stream without its final ``values``).

- **Replicas** (``bench/_replicas.py``): ``/runs/wait`` p50 and SSE first-event p99 through
  the shared (Redis) run path against the in-process path, one replica each, and through
  three replicas on one Redis, requests round-robin.

Run from the repository root with ``python -m bench.server``. The last line printed is one
JSON object: ``maximus_wait_p50_ms``, ``langgraph_api_wait_p50_ms``, ``speedup``,
``streams``, ``errors``, ``first_event_p99_ms``, ``event_gap_p99_ms``,
``redis_path_wait_p50_ms``, ``inprocess_wait_p50_ms``, ``replicas3_wait_p50_ms``,
``replicas3_errors`` (and more).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench._replicas import compare
from bench._servers import http_server, redis_server
from maximus.server.auth import hash_key

ROOT = Path(__file__).resolve().parent.parent
GRAPH_FILE = ROOT / "tests" / "support" / "server_graphs.py"
KEY = "bench-key"
WARMUP = 5
SEQUENTIAL = int(os.environ.get("BENCH_SEQUENTIAL", "40"))
STREAMS = int(os.environ.get("BENCH_STREAMS", "1000"))
RAMP_S = float(os.environ.get("BENCH_RAMP_S", "5.0"))
TICKS = int(os.environ.get("BENCH_TICKS", "5"))
TICK_MS = int(os.environ.get("BENCH_TICK_MS", "1000"))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def wait_body() -> dict[str, Any]:
    return {
        "assistant_id": "simple",
        "input": {"messages": [{"role": "user", "content": "hi"}]},
    }


def sequential(ours: str, theirs: str) -> tuple[list[float], list[float]]:
    """``/runs/wait`` latencies (ms) on both servers, interleaved."""
    with (
        httpx.Client(base_url=ours, headers={"x-api-key": KEY}, timeout=60) as a,
        httpx.Client(base_url=theirs, timeout=60) as b,
    ):
        for _ in range(WARMUP):
            a.post("/runs/wait", json=wait_body()).raise_for_status()
            b.post("/runs/wait", json=wait_body()).raise_for_status()
        mine: list[float] = []
        peer: list[float] = []
        for _ in range(SEQUENTIAL):
            for client, into in ((a, mine), (b, peer)):
                started = time.perf_counter()
                response = client.post("/runs/wait", json=wait_body())
                into.append((time.perf_counter() - started) * 1000)
                response.raise_for_status()
                assert response.json()["messages"][-1]["type"] == "ai"
    return mine, peer


async def one_stream(host: str, port: int, delay: float) -> dict[str, Any]:
    """One SSE stream over a raw HTTP/1.1 connection; event arrival times in ms."""
    await asyncio.sleep(delay)
    body = json.dumps(
        {
            "assistant_id": "chat",
            "input": {"messages": [{"role": "user", "content": f"tick:{TICKS}:{TICK_MS}"}]},
            "stream_mode": ["custom", "messages-tuple", "values"],
        }
    ).encode()
    request = (
        f"POST /runs/stream HTTP/1.1\r\nHost: {host}:{port}\r\nx-api-key: {KEY}\r\n"
        f"Content-Type: application/json\r\nAccept: text/event-stream\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    started = time.perf_counter()
    times: list[float] = []
    names: list[str] = []
    try:
        reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
        writer.write(request)
        status = (await reader.readline()).decode()
        if " 200 " not in status:
            return {"error": status.strip(), "times": times}
        while (await reader.readline()) not in (b"\r\n", b""):
            pass  # headers
        buffer = b""
        while True:
            size_line = await reader.readline()
            if not size_line:
                break
            size = int(size_line.strip() or b"0", 16)
            if size == 0:
                break
            buffer += await reader.readexactly(size)
            await reader.readexactly(2)
            *lines, buffer = buffer.split(b"\n")
            now = (time.perf_counter() - started) * 1000
            for line in lines:
                if line.startswith(b"event: "):
                    times.append(now)
                    names.append(line[7:].decode().strip())
        writer.close()
    except (OSError, asyncio.IncompleteReadError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}", "times": times}
    if "error" in names:
        return {"error": "error event", "times": times}
    if not names or names[-1] != "values":
        return {"error": f"incomplete stream ({len(names)} events)", "times": times}
    return {"error": None, "times": times}


async def load(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    for _ in range(WARMUP):  # the first streams of a process pay one-off imports
        await one_stream(host, port, 0.0)
    started = time.perf_counter()
    results = await asyncio.gather(
        *[one_stream(host, port, RAMP_S * i / STREAMS) for i in range(STREAMS)]
    )
    wall = time.perf_counter() - started
    first = [r["times"][0] for r in results if r["times"]]
    gaps = [b - a for r in results for a, b in zip(r["times"], r["times"][1:], strict=False)]
    errors = [r["error"] for r in results if r["error"]]
    events = sum(len(r["times"]) for r in results)
    return {
        "streams": STREAMS,
        "errors": len(errors),
        "error_kinds": sorted(set(errors))[:5],
        "first_event_p50_ms": round(pct(first, 0.5), 1),
        "first_event_p99_ms": round(pct(first, 0.99), 1),
        "event_gap_p50_ms": round(pct(gaps, 0.5), 1),
        "event_gap_p99_ms": round(pct(gaps, 0.99), 1),
        "events": events,
        "load_wall_s": round(wall, 2),
    }


def main() -> None:
    graphs = {
        "simple": "tests.support.server_graphs:simple",
        "chat": "tests.support.server_graphs:chat",
    }
    with redis_server("plain") as redis_url:
        env = {
            "MAXIMUS_REDIS_URL": redis_url,
            "MAXIMUS_SERVER__API_KEYS": json.dumps({hash_key(KEY): "bench"}),
            "MAXIMUS_SERVER__GRAPHS": json.dumps(graphs),
            "MAXIMUS_SERVER__RATE_LIMIT_PER_MINUTE": "0",
            "MAXIMUS_SERVER__LOG_LEVEL": "WARNING",
            "MAXIMUS_LESSON_QUEUE__ENABLED": "false",
        }
        with (
            http_server("maximus", env) as ours,
            http_server("langgraph-dev", graphs={"simple": f"{GRAPH_FILE}:graph"}) as theirs,
        ):
            print(
                f"maximus at {ours['url']} (ready in {ours['startup_s']}s), "
                f"langgraph dev at {theirs['url']} (ready in {theirs['startup_s']}s)"
            )
            mine, peer = sequential(ours["url"], theirs["url"])
            p50_mine, p50_peer = statistics.median(mine), statistics.median(peer)
            print(
                f"runs/wait p50: maximus {p50_mine:.2f} ms, langgraph dev {p50_peer:.2f} ms "
                f"({SEQUENTIAL} runs each, interleaved)"
            )
            cpu_before = cpu_seconds(ours["pid"])
            loaded = asyncio.run(load(ours["url"]))
            loaded["server_cpu_s"] = round(cpu_seconds(ours["pid"]) - cpu_before, 2)
            print(f"load: {loaded}")
        # The shared run path against the in-process one, and three replicas.
        shared = compare(redis_url, env, KEY, wait_body(), one_stream, RAMP_S)
    result = {
        "maximus_wait_p50_ms": round(p50_mine, 2),
        "langgraph_api_wait_p50_ms": round(p50_peer, 2),
        "speedup": round(p50_peer / p50_mine, 1),
        "maximus_wait_p99_ms": round(pct(mine, 0.99), 2),
        "langgraph_api_wait_p99_ms": round(pct(peer, 0.99), 2),
        "streams": loaded["streams"],
        "errors": loaded["errors"],
        "first_event_p99_ms": loaded["first_event_p99_ms"],
        "event_gap_p99_ms": loaded["event_gap_p99_ms"],
        "first_event_p50_ms": loaded["first_event_p50_ms"],
        "event_gap_p50_ms": loaded["event_gap_p50_ms"],
        "load_ramp_s": RAMP_S,
        "ticks": TICKS,
        "tick_ms": TICK_MS,
        "server_cpu_s": loaded["server_cpu_s"],
        **shared,
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
