"""``maximus run --json`` with a vault secret: the agent (a local Gemini API answering as a
script) passes the reference to ``call_api``, a directory plugin in a worker process that
needs the secret. The plugin receives the plaintext; the JSON events, stderr and the SQLite
sessions hold only the reference. ``maximus memory reveal`` still shows it to the owner."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import events, maximus, model_env
from tests.support.gemini_server import GeminiServer
from tests.support.memory import KEY
from tests.support.plugins import write_plugin

pytestmark = pytest.mark.integration

REFERENCE = "{{vault:api-key-1}}"
CALL_API = '''
import hashlib
from langchain_core.tools import tool
from maximus.plugins import BasePlugin

class Plugin(BasePlugin):
    def tools(self):
        data = self.context.data_dir

        @tool
        def call_api(url: str, token: str) -> str:
            """Call an API with a bearer token."""
            with open(data / "received.txt", "a") as out:
                out.write(hashlib.sha256(token.encode()).hexdigest() + "\\n")
            return f"GET {url} with Authorization: Bearer {token} -> 200 OK"

        return [call_api]
'''


def _texts(body: dict[str, Any]) -> str:
    # The system instruction (the shared prefix: goal, plan, current step, history) and the turns.
    items = [body.get("systemInstruction") or {}, *body.get("contents", [])]
    return "\n".join(part.get("text", "") for item in items for part in item.get("parts", []))


def vault_responder(body: dict[str, Any]) -> str:
    """Plan: get the reference, then call the API with it."""
    config = body.get("generationConfig", {})
    schema = config.get("responseJsonSchema") or config.get("responseSchema") or {}
    props = set(schema.get("properties", {}))
    text = _texts(body)
    steps = re.findall(r"Current step [^:]*: (.*)", text)
    # Once the reference has come back from reveal_secret, the next action calls the API.
    calling = (bool(steps) and "call the example API" in steps[-1]) or (
        REFERENCE in text and "200 OK" not in text
    )
    if "steps" in props:
        return json.dumps({"steps": [
            {"description": "get the key's reference", "expected": "a reference",
             "tool": "reveal_secret"},
            {"description": "call the example API", "expected": "200", "tool": "call_api"},
        ]})  # fmt: skip
    if "candidates" in props:
        action = (
            {"tool": "call_api", "args": {"url": "https://api.example", "token": REFERENCE}}
            if calling
            else {"tool": "reveal_secret", "args": {"memory_id": "api-key-1"}}
        )
        return json.dumps({"candidates": [{**action, "rationale": "needed"}]})
    if "predictions" in props:
        return json.dumps({"predictions": [{"candidate_id": 0, "next_state": "done"}]})
    if "scores" in props:
        return json.dumps({"scores": [{"candidate_id": 0, "score": 0.9, "reason": "fine"}]})
    if "decision" in props:
        done = "200 OK" in text
        return json.dumps({
            "success": True, "decision": "finish" if done else "continue", "critique": "ok",
            "lessons": [], "final_answer": "the API answered 200" if done else None,
        })  # fmt: skip
    return "done"


def test_json_events_hold_the_reference_and_the_plugin_the_secret(
    gemini: GeminiServer, isolated_env: Path
) -> None:
    gemini.responder = vault_responder
    secret = "sk-live-" + secrets.token_hex(16)
    data = isolated_env / "data"
    write_plugin(isolated_env / "plugins", "call_api", CALL_API, permissions={"filesystem": True})
    env = {
        **model_env(gemini),
        "MAXIMUS_MEMORY__VAULT_KEY": KEY,
        "MAXIMUS_MEMORY__VAULT_TOOLS": '["call_api"]',
        "MAXIMUS_MEMORY__ACTIVE_RETRIEVAL": "false",
        # The responder follows the full pipeline; the secret's path is what this checks.
        "MAXIMUS_AGENT__SIMULATION": "full",
        "MAXIMUS_AGENT__SIMULATE_WHEN": "always",
        "MAXIMUS_AGENT__JUDGE": "model",
    }
    entry = {"kind": "vault", "id": "api-key-1", "caption": "example API key", "secret": secret}
    added = maximus("memory", "add", json.dumps(entry), env=env)
    assert added.returncode == 0, added.stderr

    run = maximus("run", "call the example API with my key", "--json", env=env)
    assert run.returncode == 0, run.stderr
    stream = events(run)
    executed = [e for e in stream if e["event"] == "execute"]
    assert len(executed) == 2
    echo = executed[1]["update"]["observations"][0]["content"]
    assert echo == f"GET https://api.example with Authorization: Bearer {REFERENCE} -> 200 OK"
    assert stream[-1]["status"] == "done"
    assert secret not in run.stdout and secret not in run.stderr

    received = (data / "plugin-data" / "call_api" / "received.txt").read_text().split()
    assert received == [hashlib.sha256(secret.encode()).hexdigest()]
    sessions = b"".join(p.read_bytes() for p in data.glob("sessions.sqlite*"))
    assert REFERENCE.encode() in sessions and secret.encode() not in sessions

    shown = maximus("memory", "reveal", "api-key-1", env=env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == secret
    assert "revealed" in shown.stderr and secret not in shown.stderr
