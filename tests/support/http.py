"""HTTP servers for the tests, started and stopped by ``scripts/http_servers.py``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from maximus.server.auth import hash_key
from tests.support.redis import SERVERS_DIR

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "http_servers.py"

KEYS = {"alice": "alice-secret-key-0001", "bob": "bob-secret-key-0002"}
"""API keys of the two test users (the server is given only their digests)."""
GRAPHS = {
    "chat": "tests.support.server_graphs:chat",
    "simple": "tests.support.server_graphs:simple",
    "agent": "tests.support.server_graphs:agent",
}


def _script(*args: str) -> str:
    env = {**os.environ, "MAXIMUS_SERVERS_DIR": str(SERVERS_DIR)}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise RuntimeError(f"http_servers.py {' '.join(args)} failed:\n{done.stderr}{done.stdout}")
    return done.stdout.strip()


def server_env(data_dir: Path, **settings: Any) -> dict[str, str]:
    """``MAXIMUS_*`` variables for a test server: API keys for alice and bob, the test graphs."""
    env = {
        "MAXIMUS_DATA_DIR": str(data_dir),
        "MAXIMUS_SERVER__AUTH": "api_key",
        "MAXIMUS_SERVER__API_KEYS": json.dumps({hash_key(k): u for u, k in KEYS.items()}),
        "MAXIMUS_SERVER__GRAPHS": json.dumps(GRAPHS),
        "MAXIMUS_SERVER__ADMINS": json.dumps(["alice"]),
        "MAXIMUS_SERVER__SHUTDOWN_GRACE_SECONDS": "5",
        # Run webhooks may call the tests' receivers on loopback (other private space is not).
        "MAXIMUS_SERVER__WEBHOOK_ALLOW_PRIVATE": json.dumps(["127.0.0.1/32"]),
    }
    for key, value in settings.items():
        env[f"MAXIMUS_{key.upper()}"] = value if isinstance(value, str) else json.dumps(value)
    return env


def start_http(
    kind: str = "maximus", env: dict[str, str] | None = None, **opts: Any
) -> dict[str, Any]:
    name = f"{kind}-{uuid.uuid4().hex[:8]}"
    args = ["start", kind, "--json", "--name", name]
    for key, value in (env or {}).items():
        args += ["--env", f"{key}={value}"]
    for graph in opts.get("graphs", ()):
        args += ["--graph", graph]
    if opts.get("config"):
        args += ["--config", str(opts["config"])]
    record: dict[str, Any] = json.loads(_script(*args))
    return record


def stop_http(name: str) -> None:
    _script("stop", name)


@contextmanager
def http_server(env: dict[str, str]) -> Iterator[dict[str, Any]]:
    """A ``maximus serve`` process for the block; its record has ``url``, ``pid``, ``log``."""
    record = start_http("maximus", env)
    try:
        yield record
    finally:
        stop_http(record["name"])


def headers(user: str) -> dict[str, str]:
    return {"x-api-key": KEYS[user]}
