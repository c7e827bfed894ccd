"""The real local model: integrity, auto-start/reuse/stop, and a JSON-schema plan (slow)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage, SystemMessage

from maximus import ModelResolver
from maximus.errors import ModelIntegrityError
from maximus.models.local.chat import ChatLlamaCpp
from maximus.models.local.server import LocalModelServer, healthy
from maximus.models.local.weights import MODEL_SHA256, ensure_model, sha256_of, verify
from maximus.nodes.plan import PLAN
from maximus.nodes.schemas import Plan
from tests.support.cli import maximus
from tests.support.local import local_settings

pytestmark = [pytest.mark.integration, pytest.mark.local_model]


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """A data directory whose local model server, if any, is stopped afterwards."""
    path = tmp_path / "data"
    yield path
    LocalModelServer(local_settings(path, path / "unused.gguf")).stop()


def test_a_changed_byte_is_detected_and_the_model_reassembled(
    model_file: Path, tmp_path: Path
) -> None:
    with model_file.open("r+b") as handle:
        handle.seek(50_000_000)
        byte = handle.read(1)
        handle.seek(50_000_000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(ModelIntegrityError, match=MODEL_SHA256):
        verify(model_file)
    events: list[str] = []
    settings = local_settings(tmp_path, model_file)
    assert ensure_model(settings, on_event=events.append) == model_file
    assert "damaged or altered" in events[0] and "assembling it again" in events[0]
    assert sha256_of(model_file) == MODEL_SHA256


def test_auto_start_reuse_and_stop(model_file: Path, data_dir: Path) -> None:
    settings = local_settings(data_dir, model_file)
    model = ModelResolver(settings=settings).get("planner")  # MAXIMUS_MODEL=local starts it
    assert isinstance(model, ChatLlamaCpp)
    info = LocalModelServer(settings).status()
    assert info is not None and model.openai_api_base == info.url
    assert info.host == "127.0.0.1" and info.n_threads >= 1

    # A later run (a new resolver, and a new process) reuses the same server.
    again = ModelResolver(settings=settings).get("critic")
    assert again.openai_api_base == info.url  # type: ignore[attr-defined]
    env = {
        "MAXIMUS_DATA_DIR": str(data_dir),
        "MAXIMUS_LOCAL__MODEL_PATH": str(model_file),
    }
    status = maximus("model", "status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["pid"] == info.pid
    served = maximus("model", "serve", env=env)
    assert served.returncode == 0 and served.stdout.strip() == info.url

    stopped = maximus("model", "stop", env=env)
    assert stopped.stdout.strip() == "stopped"
    assert not healthy(info.url)
    assert not os.path.exists(f"/proc/{info.pid}") or _is_zombie(info.pid)
    assert maximus("model", "status", env=env).returncode == 1


def _is_zombie(pid: int) -> bool:
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] == "Z"


async def test_the_local_model_plans_a_real_goal_as_json_schema(
    model_file: Path, data_dir: Path
) -> None:
    settings = local_settings(data_dir, model_file)
    model = ModelResolver(settings=settings).get("planner")
    plan = await model.with_structured_output(Plan).ainvoke(
        [
            SystemMessage("Tools:\n- calculator: evaluate arithmetic"),
            HumanMessage(f"Goal: What is 17*23? Use the calculator.\n\n{PLAN}"),
        ]
    )
    assert isinstance(plan, Plan)
    assert plan.steps, plan
    assert any(step.tool == "calculator" for step in plan.steps), plan
