"""The plan node: turn the goal into ordered steps, or re-plan from the evidence.

A re-plan that repeats a plan already tried in this run is refused (the node retries with a
note saying so, then ends the run as ``failed``): the same plan twice only spends the budget.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AnyMessage, HumanMessage
from langgraph.runtime import Runtime
from langgraph.types import Overwrite

from maximus.errors import InvalidInputError, ModelOutputError
from maximus.graphs.context import AgentDeps, Options, RunOptions
from maximus.graphs.state import AgentState, Budgets, PlanStep, new_counters
from maximus.models.thinking import TaskSignals
from maximus.nodes._common import ask, counted, exhausted_reason, failed, is_last_attempt
from maximus.nodes._prompt import messages, prefix
from maximus.nodes.schemas import Plan, PlannedStep, plan_constrained

PLAN = """You are the planner. Break the goal into the fewest concrete steps that achieve \
it. Each step says what to do, the observable result that shows it worked (describe it; do not \
work out values a tool will compute), and the tool to use, if one is needed, from the tools \
above. Copy numbers, brackets and names from the goal exactly. Do only what the goal asks: \
no extra steps to save, write, check or report a result unless the goal asks for that. If the \
goal needs no action, return no steps and put the answer in `answer`."""

REPLAN = """You are the planner. The plan above did not work: make a new plan for what is \
left of the goal, from what the history shows, that avoids the problem. A plan that was \
already tried will be refused."""

REPEATED = """Your last proposal was refused: it repeated a plan that was already tried, or \
did not fit the schema. Propose a different one."""


def goal_of(state: AgentState) -> tuple[str, list[AnyMessage]]:
    """The goal of a new run, and the messages to add for it.

    The last message, if it is a human message, is the goal (chat-style input). Otherwise the
    ``goal`` key is, and it is added to the conversation as a human message.

    Raises:
        InvalidInputError: neither gives a goal.
    """
    messages = state.get("messages") or []
    if messages and isinstance(messages[-1], HumanMessage):
        text = messages[-1].text.strip()
        if text:
            return text, []
    goal = (state.get("goal") or "").strip()
    if not goal:
        raise InvalidInputError("no goal: pass {'goal': '...'} or end 'messages' with a human one")
    return goal, [HumanMessage(goal)]


def fingerprint(steps: Sequence[PlannedStep] | Sequence[PlanStep]) -> str:
    """What makes two plans the same: their steps' descriptions (case and spacing aside) and
    tools."""
    pairs = []
    for step in steps:
        description = step["description"] if isinstance(step, dict) else step.description
        tool = step["tool"] if isinstance(step, dict) else step.tool
        pairs.append((" ".join(description.lower().split()), tool))
    return json.dumps(pairs)


def _start_run(state: AgentState, options: Options) -> dict[str, Any]:
    goal, added = goal_of(state)
    agent = options.agent
    budgets: Budgets = {
        "max_steps": agent.max_steps,
        "max_replans": agent.max_replans,
        "max_tokens": agent.max_tokens,
        "max_seconds": agent.max_seconds,
        "started_at": time.time(),
    }
    return {
        "goal": goal,
        "messages": added,
        "run": state.get("run", 0) + 1,
        "budgets": budgets,
        "counters": new_counters(),
        "simulations": Overwrite([]),
        "observations": Overwrite([]),
        "reflections": Overwrite([]),
        "approvals": Overwrite([]),
        "critique": None,
        "tried_plans": [],
        "final_answer": None,
        "error": None,
        "plan": [],
    }


def make_plan_node(deps: AgentDeps) -> Any:
    """Build the plan node over ``deps``."""

    async def plan(state: AgentState, runtime: Runtime[RunOptions]) -> dict[str, Any]:
        options = deps.options(runtime.context)
        replanning = state.get("status") == "replanning"
        update = {} if replanning else _start_run(state, options)
        fresh = {k: v.value if isinstance(v, Overwrite) else v for k, v in update.items()}
        view: AgentState = {**state, **fresh}  # type: ignore[typeddict-item]
        goal = view["goal"]
        body: list[str] = []
        if deps.recall is not None and not replanning:
            remembered = await deps.recall(goal)
            if remembered:
                body.append(remembered)
        if replanning:
            body.append(f"Critique: {view.get('critique')}")
            info = runtime.execution_info
            if info is not None and info.node_attempt > 1:
                body.append(REPEATED)
        prompt = messages(
            prefix(deps.tools, view), REPLAN if replanning else PLAN, "\n\n".join(body)
        )
        signals = TaskSignals(
            role="planner",
            goal=goal,
            plan_steps=len(view.get("plan", [])),
            replans=view.get("counters", new_counters())["replans"],
        )
        try:
            result, usage = await ask(deps, "planner", _schema(), prompt, options, signals)
            tried = list(view.get("tried_plans") or [])
            mark = fingerprint(result.steps)
            if replanning and result.steps and mark in tried:
                raise ModelOutputError(
                    "the planner proposed a plan that was already tried: "
                    + "; ".join(step.description for step in result.steps)
                )
        except ModelOutputError as exc:
            if not is_last_attempt(runtime, options):
                raise
            return {**update, **failed(view, exc, calls=1)}
        steps: list[PlanStep] = [
            {
                "id": index,
                "description": step.description,
                "expected": step.expected,
                "tool": step.tool,
                "status": "pending",
            }
            for index, step in enumerate(result.steps, start=1)
        ]
        counters = counted(view, calls=1, usage=usage)
        update |= {
            "plan": steps,
            "current_step": 0,
            "counters": counters,
            "tried_plans": [*tried, mark],
        }
        if not steps:
            return update | {"status": "done", "final_answer": result.answer}
        reason = exhausted_reason(view, counters)
        if reason is not None:
            return update | {"status": "exhausted", "error": reason}
        return update | {"status": "running"}

    def _schema() -> type[Plan]:
        """The plan schema naming the registry's tools, built once per registry version."""
        key = ("plan-schema", "", deps.tools.version)
        schema = deps.chains.get(key)
        if schema is None:
            schema = deps.chains[key] = plan_constrained([t.name for t in deps.tools.tools()])
        return schema

    return plan


__all__ = ["fingerprint", "goal_of", "make_plan_node"]
