"""Prompts shaped for the KV cache: one shared prefix per step, the role's instruction last.

Every model call within a step (policy, world model, critic, executor, reflector) starts with
the same system message: the tools, the goal, the plan, the current step and a compact
history. A server that caches prompt prefixes (llama.cpp keeps the last prompt's KV cache)
then only processes each call's last message: its data and its role instruction. History is
compact so that a small model's context stays short: the last :data:`RECENT` observations in
full, older ones in one line each.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from maximus.graphs.state import AgentState, Observation, PlanStep
from maximus.tools.registry import ToolRegistry

RECENT = 3
"""Observations shown in full; older ones are summarised in one line each."""
FULL_CHARS = 1500
"""Longest observation shown in full."""
SUMMARY_CHARS = 100
"""Longest summary of an older observation."""

HEADER = """You are one part of an agent that achieves a goal with tools, one step at a time. \
Tool results are facts: trust them over any value the plan guessed."""


def action_text(tool: str | None, args: object) -> str:
    """``tool({"arg": ...})``, or ``answer`` for a step answered without a tool."""
    return f"{tool}({json.dumps(args, default=str)})" if tool else "answer"


def observation_line(obs: Observation, *, full: bool) -> str:
    """One observation for a prompt: in full, or summarised."""
    status = "ok" if obs["ok"] else ("invalid" if obs.get("invalid") else "error")
    content = obs["content"].strip()
    if full:
        content = content[:FULL_CHARS]
    else:
        first = content.splitlines()[0] if content else ""
        content = first[:SUMMARY_CHARS] + ("…" if len(content) > len(first[:SUMMARY_CHARS]) else "")
    signals = obs.get("signals") or {}
    facts = f" {json.dumps(signals)}" if signals and full else ""
    action = action_text(obs["tool"], obs["args"])
    return f"- step {obs['step_id']} {action} [{status}]{facts}: {content}"


def history(observations: Sequence[Observation]) -> str:
    """The run's observations: older ones summarised, the last :data:`RECENT` in full."""
    if not observations:
        return "(nothing yet)"
    older, recent = observations[:-RECENT], observations[-RECENT:]
    lines = [observation_line(o, full=False) for o in older]
    lines += [observation_line(o, full=True) for o in recent]
    return "\n".join(lines)


def plan_text(plan: Sequence[PlanStep]) -> str:
    """The plan with each step's status and planned tool."""
    if not plan:
        return "(none yet)"
    return "\n".join(
        f"{s['id']}. [{s['status']}] {s['description']}"
        + (f" (tool: {s['tool']})" if s.get("tool") else "")
        for s in plan
    )


def run_observations(state: AgentState) -> list[Observation]:
    """This run's observations, in order."""
    run = state.get("run", 0)
    return [o for o in state.get("observations", []) if o["run"] == run]


def prefix(
    tools: ToolRegistry,
    state: AgentState,
    step: PlanStep | None = None,
    *,
    drop_last: int = 0,
) -> SystemMessage:
    """The system message every call of a step starts with.

    Args:
        tools: the registry, for the tool catalog.
        state: the run's state (goal, plan, observations).
        step: the step being worked on (``None`` for the planner).
        drop_last: observations at the end to leave out: the ones this step produced, which
            the caller puts in its last message so that the prefix stays the step's own.
    """
    seen = run_observations(state)
    if drop_last:
        seen = seen[:-drop_last]
    parts = [
        HEADER,
        f"Tools:\n{tools.catalog()}",
        f"Goal: {state.get('goal', '')}",
        f"Plan:\n{plan_text(state.get('plan', []))}",
    ]
    if step is not None:
        parts.append(
            f"Current step {step['id']}: {step['description']}\n"
            f"Expected (a hint, not a value to reproduce): {step['expected']}"
        )
    parts.append(f"History:\n{history(seen)}")
    return SystemMessage("\n\n".join(parts))


def messages(head: SystemMessage, instruction: str, body: str = "") -> list[BaseMessage]:
    """The shared prefix, then one message with the call's own data and, last, its instruction."""
    text = f"{body.strip()}\n\n{instruction}" if body.strip() else instruction
    return [head, HumanMessage(text)]


__all__ = [
    "HEADER",
    "RECENT",
    "action_text",
    "history",
    "messages",
    "observation_line",
    "plan_text",
    "prefix",
    "run_observations",
]
