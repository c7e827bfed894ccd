"""Start and stop HTTP servers on free loopback ports: ours (``maximus serve``) and
``langgraph dev`` (the LangGraph API server, in-memory), for tests and benchmarks.

Usage::

    python scripts/http_servers.py start maximus [--name N] [--env K=V ...] [--json]
    python scripts/http_servers.py start maximus-worker [--name N] [--env K=V ...] [--json]
    python scripts/http_servers.py start langgraph-dev [--config FILE | --graph ID=module:attr]
                                         [--env K=V ...] [--json]
    python scripts/http_servers.py stop NAME|--all

``start`` waits until the server is ready (``/readyz`` for ours, ``/ok`` for
``langgraph dev``) and prints its URL (``--json``: the whole record). A server never
binds port 2024. Records and logs live in ``$MAXIMUS_SERVERS_DIR`` (default ``.run/servers``).
``maximus`` servers run ``python -m maximus.cli serve`` with the given ``MAXIMUS_*``
variables; ``langgraph dev`` runs offline (no analytics, no version check, no tracing) and
serves the project's ``langgraph.json`` unless told otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from redis_servers import free_port, state_dir  # noqa: E402  (one records dir, one port picker)

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 60.0


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _wait_ready(proc: subprocess.Popen[bytes], url: str, log: Path) -> float:
    started = time.monotonic()
    while time.monotonic() - started < READY_TIMEOUT_S:
        if proc.poll() is not None:
            raise SystemExit(
                f"server exited with {proc.returncode}; log:\n{log.read_text()[-4000:]}"
            )
        if _ready(url):
            return time.monotonic() - started
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"server not ready after {READY_TIMEOUT_S}s; log:\n{log.read_text()[-4000:]}")


OFFLINE_ENV = {
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "BG_JOB_ISOLATED_LOOPS": "false",
}
"""``langgraph dev`` offline: no analytics, no version check, no tracing."""


def command(
    kind: str, port: int, workdir: Path, *, config: Path | None = None, graphs: list[str] = ()
) -> tuple[list[str], str, dict[str, str]]:
    """``(argv, readiness path, extra env)`` of a server of ``kind`` on ``port``.

    ``langgraph-dev`` serves ``config`` (default: the project's ``langgraph.json``), or, given
    ``graphs`` (``ID=module:attr``), a config written into ``workdir`` that serves just those.
    """
    if kind == "maximus":
        argv = [sys.executable, "-m", "maximus.cli", "serve", "--host", "127.0.0.1"]
        return [*argv, "--port", str(port)], "/readyz", {}
    if kind == "maximus-worker":
        argv = [sys.executable, "-m", "maximus.cli", "worker", "--host", "127.0.0.1"]
        return [*argv, "--port", str(port)], "/readyz", {}
    if kind == "langgraph-dev":
        if graphs:
            spec = dict(g.split("=", 1) for g in graphs)
            generated = {"dependencies": ["."], "graphs": spec, "python_version": "3.11"}
            config = workdir / "langgraph.json"
            config.write_text(json.dumps(generated))
        config = (config or ROOT / "langgraph.json").resolve()
        langgraph = Path(sys.executable).parent / "langgraph"
        argv = [
            str(langgraph), "dev", "--port", str(port), "--host", "127.0.0.1",
            "--no-browser", "--no-reload", "--allow-blocking", "--config", str(config),
        ]  # fmt: skip
        return argv, "/ok", dict(OFFLINE_ENV)
    raise SystemExit(f"unknown kind {kind!r}; use maximus or langgraph-dev")


def start(
    kind: str, name: str, env_pairs: list[str], graphs: list[str], config: Path | None = None
) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    workdir = Path(tempfile.mkdtemp(prefix=f"{kind}-{name}-", dir=state_dir()))
    argv, ready_path, extra = command(kind, port, workdir, config=config, graphs=graphs)
    env.update(extra)
    for pair in env_pairs:
        key, _, value = pair.partition("=")
        env[key] = value
    log = state_dir() / f"{name}.log"
    ready = f"http://127.0.0.1:{port}{ready_path}"
    # ``maximus`` runs from the project root (as a user would); ``langgraph dev`` from its own
    # directory, where its in-memory runtime persists.
    cwd = workdir if kind == "langgraph-dev" else ROOT
    cmd = argv
    with log.open("wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    startup = _wait_ready(proc, ready, log)
    record = {
        "name": name,
        "kind": kind,
        "pid": proc.pid,
        "port": port,
        "url": f"http://127.0.0.1:{port}",
        "log": str(log),
        "startup_s": round(startup, 3),
        "dir": str(workdir),
    }
    (state_dir() / f"{name}.json").write_text(json.dumps(record))
    return record


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def stop(name: str, timeout: float = 30.0) -> None:
    """SIGTERM the server's process group, wait (graceful shutdown), then SIGKILL."""
    path = state_dir() / f"{name}.json"
    if not path.exists():
        return
    record = json.loads(path.read_text())
    pid = int(record["pid"])
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.05)
    if _alive(pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    path.unlink(missing_ok=True)
    shutil.rmtree(record.get("dir", ""), ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_start = sub.add_parser("start")
    p_start.add_argument("kind", choices=("maximus", "maximus-worker", "langgraph-dev"))
    p_start.add_argument("--name")
    p_start.add_argument("--env", action="append", default=[], help="K=V for the server")
    p_start.add_argument("--graph", action="append", default=[], help="ID=module:attr")
    p_start.add_argument("--config", type=Path, help="langgraph-dev: the langgraph.json to serve")
    p_start.add_argument("--json", action="store_true")
    p_stop = sub.add_parser("stop")
    p_stop.add_argument("name", nargs="?")
    p_stop.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "start":
        name = args.name or f"{args.kind}-{os.getpid()}"
        record = start(args.kind, name, args.env, args.graph, args.config)
        print(json.dumps(record) if args.json else record["url"])
    elif args.all:
        for path in state_dir().glob("*.json"):
            kind = json.loads(path.read_text()).get("kind")
            if kind in ("maximus", "maximus-worker", "langgraph-dev"):
                stop(path.stem)
    elif args.name:
        stop(args.name)
    else:
        parser.error("stop needs a NAME or --all")


if __name__ == "__main__":
    main()
