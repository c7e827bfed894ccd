"""Throwaway Redis-protocol servers for the benchmarks, started by ``scripts/redis_servers.py``.

The project starts its servers only through that script. Each bench server gets a unique name
and its own records directory (``MAXIMUS_SERVERS_DIR``), so it never collides with the servers
of a test run, and it is stopped on the way out even when the benchmark fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "redis_servers.py"


@contextmanager
def redis_server(kind: str = "redis8") -> Iterator[str]:
    """Start a server of ``kind`` on a free loopback port; yield its URL, stop it on exit.

    Args:
        kind: a kind known to ``scripts/redis_servers.py`` (``redis8`` has RediSearch and
            RedisJSON loaded).
    """
    name = f"bench-{uuid.uuid4().hex[:12]}"
    with tempfile.TemporaryDirectory(prefix="maximus-bench-servers-") as records:
        env = {**os.environ, "MAXIMUS_SERVERS_DIR": records}

        def script(*args: str) -> str:
            # stderr passes through, so a server that fails to start says why.
            done = subprocess.run(
                [sys.executable, str(SCRIPT), *args],
                env=env,
                check=True,
                stdout=subprocess.PIPE,
                text=True,
            )
            return done.stdout

        try:
            record = json.loads(script("start", kind, "--json", "--name", name))
            yield str(record["url"])
        finally:
            script("stop", name)  # a no-op when the start failed before recording


HTTP_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "http_servers.py"


@contextmanager
def http_server(
    kind: str, env: dict[str, str] | None = None, graphs: dict[str, str] | None = None
) -> Iterator[dict[str, Any]]:
    """Start ``maximus`` (``maximus serve``) or ``langgraph-dev`` through
    ``scripts/http_servers.py`` on a free port (never 2024); yield its record, stop it on exit.
    """
    name = f"bench-{kind}-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="maximus-bench-http-") as records:
        run_env = {**os.environ, "MAXIMUS_SERVERS_DIR": records}
        args = [sys.executable, str(HTTP_SCRIPT), "start", kind, "--json", "--name", name]
        for key, value in (env or {}).items():
            args += ["--env", f"{key}={value}"]
        for graph_id, spec in (graphs or {}).items():
            args += ["--graph", f"{graph_id}={spec}"]
        try:
            done = subprocess.run(args, env=run_env, check=True, stdout=subprocess.PIPE, text=True)
            yield json.loads(done.stdout)
        finally:
            subprocess.run(
                [sys.executable, str(HTTP_SCRIPT), "stop", name], env=run_env, check=False
            )
