"""Start and stop LangGraph's development API server (``langgraph dev``) on a free port.

The Studio tests and the benchmarks start ``langgraph dev`` through this script, offline:
no analytics, no version check, no LangSmith tracing, no browser and no reloader. Each
instance runs in its own working directory (the in-memory runtime persists there), and its
record lives in ``$MAXIMUS_SERVERS_DIR`` (default ``.run/servers``) like the Redis servers'.

Usage::

    python scripts/langgraph_dev.py start [--name NAME] [--port P] [--config FILE]
                                          [--env KEY=VALUE ...] [--json]
    python scripts/langgraph_dev.py stop NAME|--all

``start`` prints the base URL (``--json`` prints the whole record) once ``/ok`` answers.
Needs only the standard library and ``langgraph-cli[inmem]``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from redis_servers import free_port, state_dir  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
READY_TIMEOUT_S = 120.0
OFFLINE_ENV = {
    "LANGGRAPH_CLI_NO_ANALYTICS": "1",
    "LANGGRAPH_NO_VERSION_CHECK": "true",
    "LANGSMITH_TRACING": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGSMITH_API_KEY": "",
    "PYTHONUNBUFFERED": "1",
}


def _binary() -> str:
    found = shutil.which("langgraph", path=str(Path(sys.executable).parent)) or shutil.which(
        "langgraph"
    )
    if found is None:
        raise SystemExit(
            "langgraph_dev.py: `langgraph` is not installed; run `pip install -e '.[dev]'`"
        )
    return found


def dev_command(config: Path, port: int) -> list[str]:
    """The ``langgraph dev`` command line: offline, no browser, no reloader."""
    return [
        _binary(),
        "dev",
        "--config",
        str(config.resolve()),
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        "--no-browser",
        "--no-reload",
        "--allow-blocking",
    ]


def _record_path(name: str) -> Path:
    return state_dir() / f"{name}.json"


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/ok", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start(name: str, *, port: int | None, config: Path, env: dict[str, str]) -> dict[str, object]:
    """Start ``langgraph dev`` and wait until it answers; returns its record."""
    if _record_path(name).exists():
        raise SystemExit(f"langgraph_dev.py: a server named {name!r} is already running")
    port = port or free_port()
    if port == 2024:
        raise SystemExit("langgraph_dev.py: port 2024 is taken on these machines; pick another")
    workdir = state_dir() / f"{name}.d"
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "server.log"
    command = dev_command(config, port)
    with log.open("wb") as out:
        proc = subprocess.Popen(
            command,
            cwd=workdir,
            env={**os.environ, **OFFLINE_ENV, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not _ready(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            _terminate(proc.pid)
            tail = log.read_text(errors="replace")[-4000:]
            raise SystemExit(f"langgraph_dev.py: the server did not start:\n{tail}")
        time.sleep(0.2)
    record: dict[str, object] = {
        "name": name,
        "kind": "langgraph-dev",
        "url": url,
        "port": port,
        "pids": [proc.pid],
        "dir": str(workdir),
        "log": str(log),
    }
    _record_path(name).write_text(json.dumps(record))
    return record


def _terminate(pid: int, grace_s: float = 10.0) -> None:
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop(name: str) -> None:
    path = _record_path(name)
    if not path.exists():
        return
    record = json.loads(path.read_text())
    for pid in record["pids"]:
        _terminate(int(pid))
    shutil.rmtree(record["dir"], ignore_errors=True)
    path.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    start_p = sub.add_parser("start")
    start_p.add_argument("--name", default="langgraph-dev")
    start_p.add_argument("--port", type=int)
    start_p.add_argument("--config", type=Path, default=ROOT / "langgraph.json")
    start_p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    start_p.add_argument("--json", action="store_true")
    stop_p = sub.add_parser("stop")
    stop_p.add_argument("name", nargs="?")
    stop_p.add_argument("--all", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "start":
        env = dict(item.split("=", 1) for item in args.env)
        record = start(args.name, port=args.port, config=args.config, env=env)
        print(json.dumps(record) if args.json else record["url"])
        return 0
    names = [p.stem for p in state_dir().glob("*.json") if _is_ours(p)] if args.all else [args.name]
    for name in names:
        if name:
            stop(name)
    return 0


def _is_ours(path: Path) -> bool:
    try:
        return bool(json.loads(path.read_text()).get("kind") == "langgraph-dev")
    except (OSError, ValueError):
        return False


if __name__ == "__main__":
    raise SystemExit(main())
