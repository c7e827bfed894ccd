"""The local model's parts that need no model: assembly, hashing, the missing extra, requests."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage

from maximus import ConfigError, ModelResolver, Settings
from maximus.errors import ModelIntegrityError
from maximus.models import LOCAL_SPEC, main_model_spec
from maximus.models.local.chat import MAX_STRING, ChatLlamaCpp
from maximus.models.local.weights import assemble, missing_packages, verify
from maximus.nodes.schemas import Plan
from tests.support.cli import maximus


def _parts(tmp_path: Path) -> tuple[list[Path], str]:
    chunks = [bytes([n]) * (1000 + n) for n in range(3)]
    paths = []
    for n, chunk in enumerate(chunks):
        path = tmp_path / f"part{n:02d}.bin"
        path.write_bytes(chunk)
        paths.append(path)
    return paths, hashlib.sha256(b"".join(chunks)).hexdigest()


def test_assemble_concatenates_in_order_and_verifies(tmp_path: Path) -> None:
    parts, sha = _parts(tmp_path)
    seen: list[tuple[int, int]] = []
    dest = assemble(
        parts, tmp_path / "out" / "model.gguf", sha, progress=lambda d, t: seen.append((d, t))
    )
    assert dest.read_bytes() == b"".join(p.read_bytes() for p in parts)
    assert seen[-1] == (3003, 3003)
    verify(dest, sha)


def test_assembly_with_a_wrong_hash_fails_and_leaves_nothing(tmp_path: Path) -> None:
    parts, _ = _parts(tmp_path)
    dest = tmp_path / "out" / "model.gguf"
    with pytest.raises(ModelIntegrityError, match="expected 0000"):
        assemble(parts, dest, "0" * 64)
    assert list(dest.parent.iterdir()) == []


def test_verify_detects_one_changed_byte(tmp_path: Path) -> None:
    parts, sha = _parts(tmp_path)
    dest = assemble(parts, tmp_path / "model.gguf", sha)
    data = bytearray(dest.read_bytes())
    data[1500] ^= 0x01
    dest.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match="damaged or altered"):
        verify(dest, sha)


def test_missing_extra_is_a_config_error_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if llama-cpp-python were absent
    assert "llama_cpp" in missing_packages()
    with pytest.raises(ConfigError, match=r"maximus\[local\]") as caught:
        ModelResolver(settings=Settings(model="local")).get("planner")
    assert "pip install 'maximus[local]'" in str(caught.value)
    # Nothing configured and no extra: the usual error, which now also names the extra.
    with pytest.raises(ConfigError, match=r"maximus\[local\]"):
        main_model_spec(Settings(local={"auto": True}))


def test_local_is_the_default_only_when_the_extra_is_installed_and_nothing_else_is_set() -> None:
    assert missing_packages() == []  # scripts/test.sh installs maximus[local]
    assert main_model_spec(Settings(local={"auto": True})) == LOCAL_SPEC
    assert main_model_spec(Settings(local={"auto": True}, model="openai:x")) == "openai:x"
    assert main_model_spec(Settings(local={"auto": True}, google_api_key="k")).startswith("google")
    with pytest.raises(ConfigError):
        main_model_spec(Settings(local={"auto": False}))


def test_structured_calls_send_the_schema_as_a_grammar_and_the_token_limit() -> None:
    model = ChatLlamaCpp(base_url="http://127.0.0.1:9/v1", model="m", api_key="x", max_tokens=64)
    chain = model.with_structured_output(Plan)
    binding, parser = chain.steps  # type: ignore[attr-defined]
    payload = model._get_request_payload([HumanMessage("hi")], **binding.kwargs)
    sent = payload["extra_body"]["response_format"]
    assert sent["type"] == "json_object"
    assert set(sent["schema"]["properties"]) == set(Plan.model_json_schema()["properties"])
    step = sent["schema"]["$defs"]["PlannedStep"]["properties"]
    assert step["description"] == {
        "description": "What to do in this step.",
        "title": "Description",
        "type": "string",
        "maxLength": MAX_STRING,  # every reply ends
    }
    assert payload["max_tokens"] == 64 and "max_completion_tokens" not in payload
    assert "response_format" not in payload  # keeps ChatOpenAI off OpenAI's .parse path
    plan = parser.parse('{"steps": [{"description": "d", "expected": "e", "tool": null}]}')
    assert isinstance(plan, Plan) and plan.steps[0].description == "d"


def test_model_status_without_a_server_says_so() -> None:
    proc = maximus("model", "status", "--json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["running"] is False and report["extra_installed"] is True
    assert maximus("model", "stop").stdout.strip() == "not running"
