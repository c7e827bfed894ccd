"""The execute node: LangGraph's ``ToolNode`` over the tool registry.

The chosen action arrives as the last AI message's tool call. A tool that raises becomes an
error ``ToolMessage`` (``handle_tool_errors=True``), which reflection then judges: the run
never crashes on a tool error. The ``ToolNode`` is rebuilt only when the registry changes, so
tools registered or removed mid-session are seen by the next step.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import ToolMessage
from langchain_core.runnables import RunnableConfig

from maximus.graphs.context import AgentDeps
from maximus.graphs.state import AgentState, Observation
from maximus.nodes._common import counted


def make_execute_node(deps: AgentDeps) -> Any:
    """Build the execute node over ``deps.tools``."""

    async def execute(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        result = await deps.tools.tool_node().ainvoke(state, config)
        messages = [m for m in result.get("messages", []) if isinstance(m, ToolMessage)]
        action: dict[str, Any] = dict(state.get("chosen_action") or {})
        step_id = state["plan"][state.get("current_step", 0)]["id"]
        errors = sum(m.status == "error" for m in messages)
        observation: Observation = {
            "run": state.get("run", 0),
            "step_id": step_id,
            "tool": action.get("tool"),
            "args": action.get("args", {}),
            "content": "\n".join(m.text for m in messages),
            "ok": errors == 0,
        }
        return {
            "messages": messages,
            "observations": [observation],
            "counters": counted(state, steps=1, tool_errors=errors),
        }

    return execute


__all__ = ["make_execute_node"]
