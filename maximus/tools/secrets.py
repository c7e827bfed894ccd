"""Vault secrets as references: the model, state, checkpoints and streams never hold one.

The model names a secret by an opaque reference, ``{{vault:<id>}}`` (``reveal_secret`` hands
it one, and search results show it). :class:`SecretsGuard` sits around every tool call of a
:class:`~maximus.tools.registry.ToolRegistry`'s ``ToolNode`` (LangGraph's ``wrap_tool_call``
hooks). For a call whose arguments hold references it:

1. asks the registry's :class:`SecretSource` for each plaintext, which checks the vault's
   policy (``MAXIMUS_MEMORY__VAULT_TOOLS`` for the tool, ``VAULT_REVEAL_MAX`` for the
   sensitivity) and the run's owner; a refusal is an error the model reads;
2. runs the tool with the plaintext in its arguments, with callbacks and tracing off for that
   one call (tool-level callbacks would otherwise record the plaintext input);
3. replaces every secret it has handed out (this call's and recent ones) by its reference in
   what comes back, content, artifact and error message alike, before it enters state.

A secret that a tool transforms (encodes, splits) before echoing it is not recognised: only
the plaintext itself is redacted.
"""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

from langchain_core.documents import Document
from langchain_core.messages import BaseMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langgraph.prebuilt.tool_node import ToolCallRequest
from langgraph.types import Command
from pydantic import Field

from maximus.errors import MaximusError
from maximus.memory.longterm.vault import REFERENCE, reference

_RECENT = 256
"""How many handed-out secrets are remembered, to redact their echoes in later calls too."""


class SecretSource(Protocol):
    """Where references are resolved: the vault, behind its policy."""

    def resolve(self, record_id: str, *, tool: str, user_id: str | None) -> str:
        """The plaintext of vault entry ``record_id`` for a call of ``tool`` by ``user_id``.

        Raises:
            MaximusError: the policy refuses it, or there is no such entry.
        """
        ...


class VaultSecrets:
    """A :class:`SecretSource` over a memory store: the tool and sensitivity policy, then
    :meth:`~maximus.memory.longterm.store.MemoryStore.reveal` for the run's owner."""

    def __init__(self, store: Any, *, user_id: str | None = None) -> None:
        self.store = store
        self.user_id = user_id

    def resolve(self, record_id: str, *, tool: str, user_id: str | None) -> str:
        """See :class:`SecretSource`; ``user_id`` ``None`` is the default user."""
        from maximus.memory.longterm.vault import check_tool

        check_tool(tool, self.store.settings.vault_tools)
        secret: str = self.store.reveal(record_id, user_id=user_id or self.user_id)
        return secret

    def __repr__(self) -> str:
        return "VaultSecrets(<store>)"


class SecretsTool(StructuredTool):
    """A tool that brings its :class:`SecretSource` (``reveal_secret``): registering it in a
    registry lets that registry's tool calls resolve references."""

    secrets: Any = Field(default=None, exclude=True, repr=False)


class SecretsGuard:
    """Substitutes references in tool arguments and redacts secrets in tool results."""

    def __init__(self) -> None:
        self.source: SecretSource | None = None
        self._recent: collections.OrderedDict[str, str] = collections.OrderedDict()
        self._lock = threading.Lock()

    # --- pure parts -----------------------------------------------------------------------

    def substitute(
        self, args: Any, *, tool: str, user_id: str | None
    ) -> tuple[Any, dict[str, str]]:
        """``args`` with every reference replaced by its plaintext, and the plaintexts used
        (plaintext -> reference).

        Raises:
            ToolException: a reference the policy refuses, or that names no entry (the
                model reads why).
        """
        used: dict[str, str] = {}
        if self.source is None or not _has_reference(args):
            return args, used
        source = self.source

        def plain(match: Any) -> str:
            record_id = match.group(1)
            try:
                secret = source.resolve(record_id, tool=tool, user_id=user_id)
            except MaximusError as exc:
                raise ToolException(f"vault reference {match.group(0)}: {exc.message}") from None
            if secret:
                used[secret] = reference(record_id)
            return secret

        def walk(value: Any) -> Any:
            if isinstance(value, str):
                return REFERENCE.sub(plain, value)
            if isinstance(value, Mapping):
                return {k: walk(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return type(value)(walk(v) for v in value)
            return value

        substituted = walk(args)
        with self._lock:
            for secret, ref in used.items():
                self._recent[secret] = ref
                self._recent.move_to_end(secret)
            while len(self._recent) > _RECENT:
                self._recent.popitem(last=False)
        return substituted, used

    def known(self) -> dict[str, str]:
        """Every recently handed-out secret (plaintext -> reference)."""
        with self._lock:
            return dict(self._recent)

    def redact(self, value: Any, secrets: Mapping[str, str] | None = None) -> Any:
        """``value`` with each secret replaced by its reference: strings, lists, dicts,
        messages (content and artifact) and commands' updates."""
        table = self.known() if secrets is None else dict(secrets)
        if not table:
            return value
        ordered = sorted(table.items(), key=lambda item: -len(item[0]))  # longest first

        def text(s: str) -> str:
            for secret, ref in ordered:
                if secret in s:
                    s = s.replace(secret, ref)
            return s

        def walk(item: Any) -> Any:
            if isinstance(item, str):
                return text(item)
            if isinstance(item, BaseMessage):
                update: dict[str, Any] = {"content": walk(item.content)}
                if isinstance(item, ToolMessage) and item.artifact is not None:
                    update["artifact"] = walk(item.artifact)
                return item.model_copy(update=update)
            if isinstance(item, Command):
                return Command(
                    graph=item.graph,
                    update=walk(item.update),
                    resume=item.resume,
                    goto=item.goto,
                )
            if isinstance(item, Mapping):
                return {k: walk(v) for k, v in item.items()}
            if isinstance(item, list | tuple):
                return type(item)(walk(v) for v in item)
            if isinstance(item, Document):
                update = {"page_content": text(item.page_content), "metadata": walk(item.metadata)}
                return item.model_copy(update=update)
            return item

        return walk(value)

    # --- the ToolNode hooks ---------------------------------------------------------------

    def _prepare(self, request: ToolCallRequest) -> tuple[ToolCallRequest, dict[str, str]]:
        call = request.tool_call
        user = _user(request)
        args, used = self.substitute(call["args"], tool=call["name"], user_id=user)
        if not used:
            return request, used
        request = request.override(tool_call={**call, "args": args})
        if request.tool is not None:
            request = request.override(tool=_Untraced.around(request.tool))
        return request, used

    async def awrap(
        self,
        request: ToolCallRequest,
        execute: Callable[[ToolCallRequest], Awaitable[Any]],
    ) -> Any:
        """``awrap_tool_call`` for LangGraph's ``ToolNode``."""
        try:
            if self.source is not None and _has_reference(request.tool_call["args"]):
                request, _ = await asyncio.to_thread(self._prepare, request)
        except ToolException as exc:
            return _error(request, str(exc))
        return self.redact(await execute(request))

    def wrap(self, request: ToolCallRequest, execute: Callable[[ToolCallRequest], Any]) -> Any:
        """``wrap_tool_call`` for LangGraph's ``ToolNode``."""
        try:
            request, _ = self._prepare(request)
        except ToolException as exc:
            return _error(request, str(exc))
        return self.redact(execute(request))


class _Untraced(BaseTool):
    """Runs a tool without callbacks or tracing: its input holds a plaintext secret."""

    inner: BaseTool

    @classmethod
    def around(cls, tool: BaseTool) -> _Untraced:
        return cls(
            name=tool.name,
            description=tool.description,
            args_schema=tool.args_schema,
            response_format=tool.response_format,
            inner=tool,
        )

    def _run(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - never called
        raise NotImplementedError("_Untraced forwards invoke and ainvoke")

    def invoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        from langsmith.run_helpers import tracing_context

        with tracing_context(enabled=False):
            return self.inner.invoke(input, _quiet(config), **kwargs)

    async def ainvoke(self, input: Any, config: RunnableConfig | None = None, **kwargs: Any) -> Any:
        from langsmith.run_helpers import tracing_context

        with tracing_context(enabled=False):
            return await self.inner.ainvoke(input, _quiet(config), **kwargs)


def _quiet(config: RunnableConfig | None) -> RunnableConfig:
    quiet: dict[str, Any] = {**(config or {}), "callbacks": []}
    return quiet  # type: ignore[return-value]


def _has_reference(value: Any) -> bool:
    if isinstance(value, str):
        return REFERENCE.search(value) is not None
    if isinstance(value, Mapping):
        return any(_has_reference(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(_has_reference(v) for v in value)
    return False


def _user(request: ToolCallRequest) -> str | None:
    runtime = request.runtime
    config = getattr(runtime, "config", None) or {}
    owner = (config.get("configurable") or {}).get("user_id")
    return str(owner) if owner else None


def _error(request: ToolCallRequest, text: str) -> ToolMessage:
    call = request.tool_call
    return ToolMessage(content=text, name=call["name"], tool_call_id=call["id"], status="error")


__all__ = ["SecretSource", "SecretsGuard", "SecretsTool", "VaultSecrets"]
