"""Cold start: from process start to ready, and to the first completed run.

Knative scales Maximus to zero, so the first request after idle pays the server's start-up.
This measures, over ``--runs`` fresh processes each (default 5), for ``maximus serve`` and for
``langgraph dev`` (LangGraph's API server, ``langgraph-cli[inmem]``) serving the same graph
from ``langgraph.json`` with the same fake Gemini model and the same Redis checkpointer:

- **ready**: process spawn → the first successful readiness probe (``/readyz`` for Maximus,
  ``/ok`` for LangGraph's server, which has no readiness endpoint of its own);
- **first run**: process spawn → the first ``POST /runs/wait`` (a stateless run of the agent)
  that returns the final state.

The probe polls every 5 ms. Both servers run with their own defaults, in a fresh working
directory per process. Figures are medians over the runs; the JSON line adds the ratios.

    python -m bench.coldstart [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench._servers import redis_server

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from http_servers import command, free_port  # noqa: E402

from tests.support.gemini_server import GeminiServer  # noqa: E402

GOAL = {"goal": "compute 17*23"}
TIMEOUT_S = 180.0


SERVER_ENV = {
    "maximus": {"MAXIMUS_SERVER__AUTH": "none"},  # local bench: no keys to manage
    "langgraph-dev": {},
}


def _wait_ready(client: httpx.Client, url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before it was ready")
        try:
            if client.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.005)
    raise RuntimeError(f"{url} was not ready within {TIMEOUT_S} s")


def _first_run(client: httpx.Client, base: str) -> dict[str, Any]:
    response = client.post(
        f"{base}/runs/wait",
        json={"assistant_id": "maximus", "input": GOAL},
        timeout=TIMEOUT_S,
    )
    response.raise_for_status()
    state: dict[str, Any] = response.json()
    if state.get("final_answer") != "17 * 23 = 391":
        raise RuntimeError(f"unexpected final state: {json.dumps(state)[:300]}")
    return state


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def measure(kind: str, env: dict[str, str]) -> tuple[float, float]:
    """One fresh ``kind`` process: seconds to ready and to the first completed run."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    workdir = Path(tempfile.mkdtemp(prefix="maximus-coldstart-"))
    argv, probe, extra = command(kind, port, workdir)
    log = (workdir / "server.log").open("wb")
    with httpx.Client() as client:
        started = time.monotonic()
        proc = subprocess.Popen(
            argv,
            cwd=workdir,
            env={
                **os.environ,
                **env,
                **extra,
                **SERVER_ENV[kind],
                "MAXIMUS_DATA_DIR": str(workdir / "data"),
            },
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            _wait_ready(client, base + probe, proc)
            ready = time.monotonic() - started
            _first_run(client, base)
            first_run = time.monotonic() - started
        except Exception:
            log.flush()
            sys.stderr.write((workdir / "server.log").read_text(errors="replace")[-3000:])
            raise
        finally:
            _stop(proc)
            log.close()
            shutil.rmtree(workdir, ignore_errors=True)
    return ready, first_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)

    servers = {"maximus": "maximus", "langgraph_dev": "langgraph-dev"}
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
    model = GeminiServer()
    try:
        with redis_server("plain") as redis_url:
            env = {
                "GOOGLE_API_KEY": "bench-key",
                "MAXIMUS_BASE_URL": model.url,
                "MAXIMUS_REDIS_URL": redis_url,
                "MAXIMUS_SESSIONS__KEY_PREFIX": "bench-coldstart",
            }
            for run in range(args.runs):
                for name, kind in servers.items():  # interleaved: both see the same load
                    ready, first = measure(kind, env)
                    samples[name].append((ready, first))
                    print(f"run {run + 1} {name:14s} ready {ready:.3f} s, first run {first:.3f} s")
    finally:
        model.close()

    def median(name: str, index: int) -> float:
        return round(statistics.median(s[index] for s in samples[name]), 3)

    print()
    print(f"{'server':14s} {'ready p50 s':>12s} {'first run p50 s':>16s} {'min ready':>10s}")
    for name in servers:
        low = min(s[0] for s in samples[name])
        print(f"{name:14s} {median(name, 0):12.3f} {median(name, 1):16.3f} {low:10.3f}")
    result = {
        "runs": args.runs,
        "maximus_ready_s": median("maximus", 0),
        "maximus_first_run_s": median("maximus", 1),
        "langgraph_dev_ready_s": median("langgraph_dev", 0),
        "langgraph_dev_first_run_s": median("langgraph_dev", 1),
        "ready_speedup": round(median("langgraph_dev", 0) / median("maximus", 0), 2),
        "load_1m": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
