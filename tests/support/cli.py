"""Running the ``maximus`` command as a user would, against the local Gemini API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.gemini_server import GeminiServer, agent_responder

MAXIMUS = [sys.executable, "-m", "maximus.cli"]
ROOT = Path(__file__).resolve().parents[2]
"""The checkout under test: first on the command's path, so ``python -m maximus.cli`` runs its
copy of ``maximus`` even where another checkout is installed in the environment (editable)."""


def cli_env(**extra: str) -> dict[str, str]:
    """The environment the command runs in: this process's, with ``ROOT`` first on the path."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "COLUMNS": "200", **extra}


def maximus(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MAXIMUS, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=cli_env(**(env or {})),
        stdin=subprocess.DEVNULL,
    )


def events(proc: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def model_env(server: GeminiServer) -> dict[str, str]:
    return {"GOOGLE_API_KEY": "test-key", "MAXIMUS_BASE_URL": server.url}


def risky_responder(body: dict[str, Any]) -> str:
    """An agent that wants to write a file, and a critic that doubts it."""
    config = body.get("generationConfig", {})
    props = set((config.get("responseJsonSchema") or {}).get("properties", {}))
    if "steps" in props:
        return json.dumps(
            {"steps": [{"description": "save", "expected": "saved", "tool": "write_file"}]}
        )
    if "candidates" in props:
        action = {"tool": "write_file", "args": {"path": "hello.txt", "content": "hi"}}
        return json.dumps({"candidates": [{**action, "rationale": "save it"}]})
    if "scores" in props:
        return json.dumps({"scores": [{"candidate_id": 0, "score": 0.2, "reason": "overwrites"}]})
    if "decision" in props:
        return json.dumps({"success": True, "decision": "finish", "critique": "saved",
                           "lessons": [], "final_answer": "saved hello.txt"})  # fmt: skip
    return agent_responder(body)
