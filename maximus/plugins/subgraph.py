"""A compiled graph that a plugin contributes, called by the agent as a tool.

A leaf module: the hook specs name it without importing the plugin base classes.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from langchain_core.tools import BaseTool, StructuredTool


class SubGraph(NamedTuple):
    """A compiled graph a plugin contributes; the agent calls it as a tool named ``name``."""

    name: str
    description: str
    graph: Any
    """A compiled LangGraph graph (any Runnable taking and returning a dict works)."""
    output_key: str | None = None
    """The state key whose value is the tool's result; ``None`` returns the whole state."""

    def as_tool(self) -> BaseTool:
        """A tool whose arguments are the graph's input and whose result is its output."""
        graph, key = self.graph, self.output_key
        getter = getattr(graph, "get_input_jsonschema", None)
        schema = getter() if getter is not None else {"type": "object", "properties": {}}

        def pick(state: Any) -> Any:
            value = state.get(key) if key is not None and isinstance(state, dict) else state
            return value if isinstance(value, str) else json.dumps(value, default=str)

        def run(**kwargs: Any) -> Any:
            return pick(graph.invoke(kwargs))

        async def arun(**kwargs: Any) -> Any:
            return pick(await graph.ainvoke(kwargs))

        return StructuredTool(
            name=self.name,
            description=self.description,
            args_schema=schema,
            func=run,
            coroutine=arun,
            metadata={"subgraph": True},
        )


__all__ = ["SubGraph"]
