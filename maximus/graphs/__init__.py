"""The agent graph, its state and its run options.

Names load on first use, as in :mod:`maximus`: the nodes import ``graphs.context`` and
``graphs.state``, and must not pull in ``graphs.agent`` (which imports the nodes) with them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from maximus._lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "AgentDeps": "maximus.graphs.context",
    "AgentGraph": "maximus.graphs.agent",
    "AgentInput": "maximus.graphs.state",
    "AgentState": "maximus.graphs.state",
    "RunOptions": "maximus.graphs.context",
    "build_graph": "maximus.graphs.agent",
    "create_agent": "maximus.graphs.agent",
}

if TYPE_CHECKING:
    from maximus.graphs.agent import AgentGraph, build_graph, create_agent
    from maximus.graphs.context import AgentDeps, RunOptions
    from maximus.graphs.state import AgentInput, AgentState


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "AgentDeps",
    "AgentGraph",
    "AgentInput",
    "AgentState",
    "RunOptions",
    "build_graph",
    "create_agent",
]
