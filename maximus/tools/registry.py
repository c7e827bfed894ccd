"""The tool registry: every tool the executor can call, built-in, memory or plugin.

A tool declares itself side-effecting with ``metadata={"side_effecting": True}`` (or through
:func:`side_effecting`); simulation holds such tools to the risk threshold. The registry is
versioned, so the execute node rebuilds its ``ToolNode`` only when tools change, and a change
is seen by the next step of any run without a restart.

Every call through :meth:`ToolRegistry.tool_node` passes the registry's
:class:`~maximus.tools.secrets.SecretsGuard`: vault references in the arguments become the
plaintext inside the call only, and secrets echoed in the result become references again.
Registering ``reveal_secret`` (a :class:`~maximus.tools.secrets.SecretsTool`) gives the guard
its vault.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable
from typing import Any

from langchain_core.tools import BaseTool
from langchain_core.tools import tool as as_tool
from langgraph.prebuilt import ToolNode

from maximus.errors import ToolRegistryError
from maximus.tools.choices import has_choices
from maximus.tools.secrets import SecretsGuard, SecretsTool

SIDE_EFFECTING = "side_effecting"

ToolLike = BaseTool | Callable[..., Any]


def side_effecting(tool: ToolLike) -> BaseTool:
    """Mark a tool as changing the world (writes, sends, deletes)."""
    base = tool if isinstance(tool, BaseTool) else as_tool(tool)
    base.metadata = {**(base.metadata or {}), SIDE_EFFECTING: True}
    return base


def is_side_effecting(tool: BaseTool) -> bool:
    """Whether ``tool`` declared itself side-effecting."""
    return bool((tool.metadata or {}).get(SIDE_EFFECTING, False))


class ToolRegistry:
    """A named, versioned set of LangChain tools."""

    def __init__(self, tools: Iterable[ToolLike] = ()) -> None:
        self._tools: dict[str, BaseTool] = {}
        self._version = 0
        self._lock = threading.Lock()
        self._node: tuple[int, ToolNode] | None = None
        self._catalog: tuple[int, str] | None = None
        self.secrets = SecretsGuard()
        """Resolves vault references in calls and redacts secrets in results."""
        for item in tools:
            self.register(item)

    @property
    def version(self) -> int:
        """Increases on every change."""
        return self._version

    def register(self, tool: ToolLike, *, replace: bool = False) -> BaseTool:
        """Add a tool (a ``BaseTool`` or a plain function, which ``@tool`` wraps).

        Raises:
            ToolRegistryError: a tool of that name exists and ``replace`` is false.
        """
        base = tool if isinstance(tool, BaseTool) else as_tool(tool)
        with self._lock:
            if base.name in self._tools and not replace:
                raise ToolRegistryError(f"a tool named {base.name!r} is already registered")
            self._tools[base.name] = base
            if isinstance(base, SecretsTool) and base.secrets is not None:
                self.secrets.source = base.secrets
            self._version += 1
        return base

    def unregister(self, name: str) -> None:
        """Remove a tool by name."""
        with self._lock:
            removed = self._tools.pop(name, None)
            if removed is None:
                raise ToolRegistryError(f"no tool named {name!r} is registered")
            if isinstance(removed, SecretsTool) and removed.secrets is self.secrets.source:
                self.secrets.source = None
            self._version += 1

    def get(self, name: str) -> BaseTool:
        """The tool called ``name``."""
        try:
            return self._tools[name]
        except KeyError:
            raise ToolRegistryError(
                f"no tool named {name!r}; registered: {sorted(self._tools)}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        """The tools' names, in registration order."""
        return list(self._tools)

    def tools(self) -> list[BaseTool]:
        """All tools, in registration order."""
        return list(self._tools.values())

    def is_side_effecting(self, name: str) -> bool:
        """Whether the named tool is side-effecting (unknown tools are not)."""
        found = self._tools.get(name)
        return found is not None and is_side_effecting(found)

    def constrained(self) -> bool:
        """Whether any tool declares the values an argument may take (see ``tools.choices``)."""
        return any(has_choices(item) for item in self._tools.values())

    def tool_node(self) -> ToolNode:
        """A ``ToolNode`` over the current tools, rebuilt only when the registry changed; its
        calls go through :attr:`secrets`."""
        node = self._node
        if node is None or node[0] != self._version:
            tool_node = ToolNode(
                self.tools(),
                handle_tool_errors=True,
                wrap_tool_call=self.secrets.wrap,
                awrap_tool_call=self.secrets.awrap,
            )
            node = (self._version, tool_node)
            self._node = node
        return node[1]

    def catalog(self) -> str:
        """A compact description of every tool, for prompts (rebuilt only on change)."""
        cached = self._catalog
        if cached is None or cached[0] != self._version:
            cached = (self._version, self._describe())
            self._catalog = cached
        return cached[1]

    def _describe(self) -> str:
        lines = []
        for item in self._tools.values():
            schema = item.tool_call_schema
            if isinstance(schema, dict):
                params = schema.get("properties", {})
            else:
                params = schema.model_json_schema().get("properties", {})  # type: ignore[union-attr]
            args = {k: v.get("type", "any") for k, v in params.items()}
            flag = " [side-effecting]" if is_side_effecting(item) else ""
            lines.append(f"- {item.name}({json.dumps(args)}){flag}: {item.description}")
        return "\n".join(lines) or "(no tools)"


__all__ = ["SIDE_EFFECTING", "ToolLike", "ToolRegistry", "is_side_effecting", "side_effecting"]
