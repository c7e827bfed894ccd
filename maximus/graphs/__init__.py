"""The agent graph, its state and its run options."""

from maximus.graphs.agent import AgentGraph, build_graph, create_agent
from maximus.graphs.context import AgentDeps, RunOptions
from maximus.graphs.state import AgentInput, AgentState

__all__ = [
    "AgentDeps",
    "AgentGraph",
    "AgentInput",
    "AgentState",
    "RunOptions",
    "build_graph",
    "create_agent",
]
