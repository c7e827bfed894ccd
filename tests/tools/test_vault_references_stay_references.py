"""Vault references through the registry's ``ToolNode``, over a real Qdrant Edge store: an
allowed tool receives the plaintext, every echo of it (result, artifact, error) comes back as
the reference, and the policy (tool, sensitivity, owner) refuses with a message the model
reads."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from langchain_core.tools import tool
from langgraph.graph import START, MessagesState, StateGraph

from maximus.memory.longterm.store import MemoryStore
from maximus.tools.memory import memory_tools
from maximus.tools.registry import ToolRegistry
from tests.support.memory import store

pytestmark = pytest.mark.integration

SECRET = "ghp_PLAINTEXT_0123456789abcdef"
REF = "{{vault:gh-token}}"


@pytest.fixture
def memory(tmp_path: Path) -> Iterator[MemoryStore]:
    with store(
        "qdrant-edge", tmp_path / "edge", vault_tools=["use_token", "fail_with_token", "echo"]
    ) as opened:
        entry = {"kind": "vault", "user_id": "ana", "caption": "GitHub token"}
        opened.add({**entry, "id": "gh-token", "secret": SECRET})
        opened.add({**entry, "id": "root-pw", "secret": "root-PLAINTEXT", "sensitivity": "high"})
        yield opened


@pytest.fixture
def registry(memory: MemoryStore) -> tuple[ToolRegistry, list[str]]:
    received: list[str] = []

    @tool
    def use_token(token: str) -> str:
        """Use a token."""
        received.append(token)
        return f"used token {token}"

    @tool(response_format="content_and_artifact")
    def echo(token: str) -> tuple[str, dict[str, Any]]:
        """Echo a token in content and artifact."""
        received.append(token)
        return f"content {token}", {"headers": {"Authorization": f"Bearer {token}"}}

    @tool
    def fail_with_token(token: str) -> str:
        """Fail, quoting the token."""
        raise ValueError(f"the server refused token {token}")

    @tool
    def not_allowed(token: str) -> str:
        """A tool the vault policy does not name."""
        received.append(token)
        return "should not run"

    @tool
    def leak_recent() -> str:
        """Returns a secret handed out earlier (say, read back from a file it wrote)."""
        return f"I remember {SECRET}"

    registry = ToolRegistry([use_token, echo, fail_with_token, not_allowed, leak_recent])
    for memory_tool in memory_tools(memory):
        registry.register(memory_tool)
    return registry, received


def _graph(registry: ToolRegistry) -> Any:
    """The registry's ``ToolNode`` in a graph, as the execute node runs it."""
    builder = StateGraph(MessagesState)
    builder.add_node("tools", registry.tool_node())
    builder.add_edge(START, "tools")
    return builder.compile()


def _state(name: str, args: dict[str, Any]) -> dict[str, Any]:
    call = {"name": name, "args": args, "id": f"call-{name}", "type": "tool_call"}
    return {"messages": [AIMessage(content="", tool_calls=[call])]}


async def _call(
    registry: ToolRegistry, name: str, args: dict[str, Any], user: str = "ana"
) -> ToolMessage:
    config = {"configurable": {"user_id": user}}
    result = await _graph(registry).ainvoke(_state(name, args), config)
    message = result["messages"][-1]
    assert isinstance(message, ToolMessage)
    return message


async def test_allowed_tool_gets_the_plaintext_and_the_model_the_reference(
    registry: tuple[ToolRegistry, list[str]],
) -> None:
    tools, received = registry
    handed = await _call(tools, "reveal_secret", {"memory_id": "gh-token"})
    assert handed.status == "success" and REF in handed.content and SECRET not in handed.content

    used = await _call(tools, "use_token", {"token": f"token {REF}"})
    assert received == [f"token {SECRET}"]
    assert used.content == f"used token token {REF}"

    echoed = await _call(tools, "echo", {"token": REF})
    assert echoed.content == f"content {REF}"
    assert echoed.artifact == {"headers": {"Authorization": f"Bearer {REF}"}}

    failed = await _call(tools, "fail_with_token", {"token": REF})
    assert failed.status == "error" and REF in failed.content and SECRET not in failed.content

    later = await _call(tools, "leak_recent", {})
    assert later.content == f"I remember {REF}"


async def test_policy_refusals_are_errors_the_model_reads(
    registry: tuple[ToolRegistry, list[str]],
) -> None:
    tools, received = registry
    refused = await _call(tools, "not_allowed", {"token": REF})
    assert refused.status == "error"
    assert "may not receive vault secrets" in refused.content and "VAULT_TOOLS" in refused.content

    too_sensitive = await _call(tools, "use_token", {"token": "{{vault:root-pw}}"})
    assert too_sensitive.status == "error" and "not allowed" in too_sensitive.content
    assert (await _call(tools, "reveal_secret", {"memory_id": "root-pw"})).status == "error"

    missing = await _call(tools, "use_token", {"token": "{{vault:nope}}"})
    assert missing.status == "error" and "no vault entry" in missing.content
    assert received == []


async def test_another_users_reference_is_not_found(
    registry: tuple[ToolRegistry, list[str]],
) -> None:
    tools, received = registry
    message = await _call(tools, "use_token", {"token": REF}, user="bob")
    assert message.status == "error" and "no vault entry" in message.content
    assert received == []


def test_sync_calls_substitute_and_redact_too(registry: tuple[ToolRegistry, list[str]]) -> None:
    tools, received = registry
    config = {"configurable": {"user_id": "ana"}}
    result = _graph(tools).invoke(_state("use_token", {"token": REF}), config)
    assert received == [SECRET]
    assert result["messages"][-1].content == f"used token {REF}"
