"""The plan node: turn the goal into ordered steps, or re-plan from the last critique."""

from __future__ import annotations

import time
from typing import Any

from langchain_core.messages import AnyMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from langgraph.types import Overwrite

from maximus.errors import InvalidInputError, ModelOutputError
from maximus.graphs.context import AgentDeps, Options, RunOptions
from maximus.graphs.state import AgentState, Budgets, PlanStep, new_counters
from maximus.models.thinking import TaskSignals
from maximus.nodes._common import ask, counted, exhausted_reason, failed, is_last_attempt
from maximus.nodes.schemas import Plan

SYSTEM = """You are the planner of an agent. Break the goal into the fewest concrete steps \
that achieve it. Each step says what to do, the observable result that shows it worked, and \
the tool to use if one is needed. Use only these tools:
{tools}
If the goal needs no action, return no steps and put the answer in `answer`."""

REPLAN = """The previous plan did not work.
Previous plan and outcomes:
{history}
Critique: {critique}
Make a new plan that avoids the problem."""


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


def _history(state: AgentState) -> str:
    run = state.get("run", 0)
    lines = [
        f"{step['id']}. [{step['status']}] {step['description']}" for step in state.get("plan", [])
    ]
    lines += [
        f"   observed after step {obs['step_id']}: {obs['content'][:300]}"
        for obs in state.get("observations", [])
        if obs["run"] == run
    ]
    return "\n".join(lines) or "(none)"


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
        view: AgentState = {**state, **update}  # type: ignore[typeddict-item]
        goal = view["goal"]
        prompt = [
            SystemMessage(SYSTEM.format(tools=deps.tools.catalog())),
            HumanMessage(f"Goal: {goal}"),
        ]
        if deps.recall is not None and not replanning:
            remembered = await deps.recall(goal)
            if remembered:
                prompt.insert(1, SystemMessage(remembered))
        if replanning:
            prompt.append(
                HumanMessage(REPLAN.format(history=_history(view), critique=view.get("critique")))
            )
        signals = TaskSignals(
            role="planner",
            goal=goal,
            plan_steps=len(view.get("plan", [])),
            replans=view.get("counters", new_counters())["replans"],
        )
        try:
            result, tokens = await ask(deps, "planner", Plan, prompt, options, signals)
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
        counters = counted(view, calls=1, tokens=tokens)
        update |= {"plan": steps, "current_step": 0, "counters": counters}
        if not steps:
            return update | {"status": "done", "final_answer": result.answer}
        reason = exhausted_reason(view, counters)
        if reason is not None:
            return update | {"status": "exhausted", "error": reason}
        return update | {"status": "running"}

    return plan


__all__ = ["goal_of", "make_plan_node"]
