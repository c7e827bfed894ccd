"""The execute node: LangGraph's ``ToolNode`` over the tool registry.

The chosen action arrives as the last AI message's tool call. An action that is not possible
now (an unknown tool, or a value outside what the tool allows at this moment, see
``tools.choices``) is refused before any tool runs, as an error ``ToolMessage`` the model sees,
and counts as an invalid action. A tool that raises becomes an error ``ToolMessage``
(``handle_tool_errors=True``): the run never crashes on a tool error. Signals a tool returns
as its artifact (``tools.signals``) go into the observation for reflection to judge from. The
``ToolNode`` is rebuilt only when the registry changes, so tools registered or removed
mid-session are seen by the next step.
"""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage, ToolCall, ToolMessage
from langchain_core.runnables import RunnableConfig

from maximus.graphs.context import AgentDeps
from maximus.graphs.state import AgentState, Observation
from maximus.nodes._common import counted, last_ai_message
from maximus.tools.choices import refusal
from maximus.tools.signals import ToolSignals, signals_of


def make_execute_node(deps: AgentDeps) -> Any:
    """Build the execute node over ``deps.tools``."""

    def refused(call: ToolCall) -> ToolMessage | None:
        name = call["name"]
        if name not in deps.tools:
            known = ", ".join(deps.tools.names())
            why = f"Invalid action: {name} is not a valid tool; the tools are: {known}."
        else:
            found = refusal(deps.tools.get(name), call["args"])
            if found is None:
                return None
            why = found
        return ToolMessage(why, name=name, tool_call_id=call["id"] or "", status="error")

    async def execute(state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        request = last_ai_message(state.get("messages", []))
        calls = request.tool_calls if isinstance(request, AIMessage) else []
        refusals = [m for m in (refused(c) for c in calls) if m is not None]
        messages: list[ToolMessage] = list(refusals)
        if not refusals:
            result = await deps.tools.tool_node().ainvoke(state, config)
            messages = [m for m in result.get("messages", []) if isinstance(m, ToolMessage)]
        action: dict[str, Any] = dict(state.get("chosen_action") or {})
        step_id = state["plan"][state.get("current_step", 0)]["id"]
        signals: ToolSignals = {}
        for message in messages:
            signals.update(signals_of(message))
        errors = sum(m.status == "error" for m in messages)
        invalid = bool(refusals) or signals.get("valid") is False
        observation: Observation = {
            "run": state.get("run", 0),
            "step_id": step_id,
            "tool": action.get("tool"),
            "args": action.get("args", {}),
            "content": "\n".join(m.text for m in messages),
            "ok": errors == 0 and not invalid,
            "signals": signals,
            "invalid": invalid,
        }
        return {
            "messages": messages,
            "observations": [observation],
            "counters": counted(
                state,
                steps=1,
                tool_errors=errors - len(refusals),
                invalid_actions=int(invalid),
            ),
        }

    return execute


__all__ = ["make_execute_node"]
