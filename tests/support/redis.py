"""Real Redis-protocol servers for the tests, started by ``scripts/redis_servers.py``.

Each pytest process uses its own server names and state directory, so parallel
sessions (or a benchmark running beside the tests) never stop each other's
servers. Tests isolate their data with a key prefix, never ``FLUSHALL``.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "redis_servers.py"
SERVERS_DIR = Path(tempfile.gettempdir()) / f"maximus-test-servers-{os.getpid()}"
atexit.register(shutil.rmtree, SERVERS_DIR, True)  # the records only; servers stop first


def _script(*args: str) -> str:
    env = {**os.environ, "MAXIMUS_SERVERS_DIR": str(SERVERS_DIR)}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"redis_servers.py {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout.strip()


def start_server(kind: str, *, name: str | None = None, **options: Any) -> dict[str, Any]:
    """Start a server through the project's script; returns its record (``url``, ``pids``...)."""
    args = ["start", kind, "--json", "--name", name or f"{kind}-{uuid.uuid4().hex[:8]}"]
    if options.get("aof"):
        args.append("--aof")
    if options.get("dir"):
        args += ["--dir", str(options["dir"])]
    if options.get("port"):
        args += ["--port", str(options["port"])]
    record: dict[str, Any] = json.loads(_script(*args))
    return record


def kill_server(name: str) -> None:
    """SIGKILL a server, keeping its data directory (for crash tests)."""
    _script("kill", name)


def stop_server(name: str) -> None:
    _script("stop", name)


def key_prefix() -> str:
    """A fresh key prefix, so tests share servers without seeing each other's keys."""
    return f"t{uuid.uuid4().hex[:10]}"
