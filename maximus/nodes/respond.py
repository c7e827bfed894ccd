"""The respond node: write the final answer, whatever way the run ended."""

from __future__ import annotations

from typing import Any

from langchain_core.messages import AIMessage
from langgraph.runtime import Runtime

from maximus.graphs.context import AgentDeps, RunOptions
from maximus.graphs.state import AgentState
from maximus.models.thinking import TaskSignals, with_thinking
from maximus.nodes._common import counted, usage_of
from maximus.nodes._prompt import messages, prefix, run_observations
from maximus.nodes.reflect import exact

INSTRUCTION = """Answer the goal in a few sentences from the tools' results above, using their \
values exactly as returned."""


def summary(state: AgentState) -> str:
    """A model-free account of a run that ended without an answer."""
    run = state.get("run", 0)
    done = [s["description"] for s in state.get("plan", []) if s["status"] == "done"]
    last = [o["content"] for o in state.get("observations", []) if o["run"] == run][-1:]
    parts = [f"Run {state.get('status')}: {state.get('error') or 'no reason recorded'}."]
    if done:
        parts.append("Completed: " + "; ".join(done) + ".")
    if last:
        parts.append(f"Last observation: {last[0][:500]}")
    return " ".join(parts)


def make_respond_node(deps: AgentDeps) -> Any:
    """Build the respond node."""

    async def respond(state: AgentState, runtime: Runtime[RunOptions]) -> dict[str, Any]:
        status = state.get("status")
        if status in ("failed", "exhausted"):
            text = summary(state)
            return {"final_answer": text, "messages": [AIMessage(text)]}
        answer = state.get("final_answer")
        update: dict[str, Any] = {"status": "done"}
        if not answer:
            options = deps.options(runtime.context)
            model = with_thinking(
                deps.models.get("executor"), options.mode, TaskSignals(role="executor")
            )
            reply = await model.ainvoke(messages(prefix(deps.tools, state), INSTRUCTION))
            answer = reply.text if hasattr(reply, "text") else str(reply.content)
            answer = exact(answer, run_observations(state))
            update["counters"] = counted(state, calls=1, usage=usage_of(reply))
        return update | {"final_answer": answer, "messages": [AIMessage(answer)]}

    return respond


__all__ = ["make_respond_node", "summary"]
