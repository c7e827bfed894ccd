"""The shared (Redis) run path against the in-process one, and three replicas on one Redis.

Part of ``python -m bench.server``. Every server serves the same graphs with sessions in the
same Redis:

- **in-process**: one ``maximus serve`` with ``MAXIMUS_SERVER__SHARED_RUNS=false`` (runs,
  locks and events stay in the process);
- **Redis path**: one ``maximus serve`` with shared runs (records, thread lock, event stream
  and lease in Redis);
- **three replicas**: three ``maximus serve`` with shared runs on one key prefix, each
  request sent to the next replica in turn.

For each: ``/runs/wait`` one after another (the three setups interleaved, after a warm-up),
then ``REPLICA_STREAMS`` SSE streams opened over ``RAMP_S`` seconds, for the first-event p99.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import statistics
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any
from urllib.parse import urlsplit

import httpx

from bench._servers import http_server

REPLICA_WAITS = int(os.environ.get("BENCH_REPLICA_WAITS", "40"))
REPLICA_STREAMS = int(os.environ.get("BENCH_REPLICA_STREAMS", "200"))
WARMUP = 5


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def _waits(
    setups: dict[str, list[str]], key: str, body: dict[str, Any]
) -> tuple[dict[str, list[float]], dict[str, int]]:
    clients = {
        name: [httpx.Client(base_url=u, headers={"x-api-key": key}, timeout=60) for u in urls]
        for name, urls in setups.items()
    }
    turns = {name: itertools.cycle(cs) for name, cs in clients.items()}
    times: dict[str, list[float]] = {name: [] for name in setups}
    errors = dict.fromkeys(setups, 0)
    try:
        for i in range(WARMUP + REPLICA_WAITS):
            for name in setups:
                started = time.perf_counter()
                response = next(turns[name]).post("/runs/wait", json=body)
                elapsed = (time.perf_counter() - started) * 1000
                ok = response.status_code == 200 and (
                    response.json()["messages"][-1]["type"] == "ai"
                )
                if not ok:
                    errors[name] += 1
                elif i >= WARMUP:
                    times[name].append(elapsed)
    finally:
        for cs in clients.values():
            for c in cs:
                c.close()
    return times, errors


async def _streams(urls: list[str], one_stream: Callable[..., Any], ramp_s: float) -> Any:
    targets = [urlsplit(u) for u in urls]
    results = await asyncio.gather(
        *[
            one_stream(
                targets[i % len(targets)].hostname or "127.0.0.1",
                targets[i % len(targets)].port or 80,
                ramp_s * i / REPLICA_STREAMS,
            )
            for i in range(REPLICA_STREAMS)
        ]
    )
    first = [r["times"][0] for r in results if r["times"]]
    return round(_pct(first, 0.99), 1), sum(1 for r in results if r["error"])


def compare(
    redis_url: str,
    env: dict[str, str],
    key: str,
    body: dict[str, Any],
    one_stream: Callable[..., Any],
    ramp_s: float,
) -> dict[str, Any]:
    """Start the three setups, measure them, stop them; the figures for the JSON line."""
    base = {**env, "MAXIMUS_REDIS_URL": redis_url}
    with ExitStack() as stack:

        def start(shared: bool, prefix: str) -> str:
            record = stack.enter_context(
                http_server(
                    "maximus",
                    {
                        **base,
                        "MAXIMUS_SERVER__SHARED_RUNS": "true" if shared else "false",
                        "MAXIMUS_SESSIONS__KEY_PREFIX": prefix,
                    },
                )
            )
            return str(record["url"])

        shared_prefix = f"bench{uuid.uuid4().hex[:8]}"
        setups = {
            "inprocess": [start(False, f"bench{uuid.uuid4().hex[:8]}")],
            "redis_path": [start(True, f"bench{uuid.uuid4().hex[:8]}")],
            "replicas3": [start(True, shared_prefix) for _ in range(3)],
        }
        times, errors = _waits(setups, key, body)
        firsts: dict[str, Any] = {}
        for name, urls in setups.items():
            firsts[name] = asyncio.run(_streams(urls, one_stream, ramp_s))
    p50 = {name: statistics.median(values) for name, values in times.items()}
    for name in setups:
        print(
            f"{name}: runs/wait p50 {p50[name]:.2f} ms, p99 {_pct(times[name], 0.99):.2f} ms, "
            f"{errors[name]} errors; {REPLICA_STREAMS} SSE streams: first event p99 "
            f"{firsts[name][0]} ms, {firsts[name][1]} errors"
        )
    return {
        "redis_path_wait_p50_ms": round(p50["redis_path"], 2),
        "inprocess_wait_p50_ms": round(p50["inprocess"], 2),
        "replicas3_wait_p50_ms": round(p50["replicas3"], 2),
        "redis_path_cost": round(p50["redis_path"] / p50["inprocess"], 2),
        "replicas3_errors": errors["replicas3"] + firsts["replicas3"][1],
        "redis_path_first_event_p99_ms": firsts["redis_path"][0],
        "inprocess_first_event_p99_ms": firsts["inprocess"][0],
        "replicas3_first_event_p99_ms": firsts["replicas3"][0],
        "redis_path_errors": errors["redis_path"] + firsts["redis_path"][1],
    }


__all__ = ["compare"]
