"""The reflect node: judge the step's outcome, decide ``continue | replan | finish``.

Only the verdict is on the critical path. Lessons go to the lesson sink by priority
(failures ``HIGH``, the rest ``BATCH``), which writes them in the background.
"""

from __future__ import annotations

from typing import Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from maximus.errors import ModelOutputError
from maximus.graphs.context import AgentDeps, RunOptions
from maximus.graphs.state import AgentState, Decision, PlanStep, Reflection
from maximus.memory.lessons import Lesson, Priority
from maximus.models.thinking import TaskSignals
from maximus.nodes._common import ask, counted, exhausted_reason, failed, is_last_attempt
from maximus.nodes.schemas import Verdict
from maximus.nodes.simulate import context_block, replan_update

SYSTEM = """You are the reflector of an agent. Judge whether the last action's observation \
meets the current step's expected result. Decide: `continue` to the next step, `replan` if the \
plan no longer works, or `finish` if the goal is achieved (then give the final answer). Tool \
results are facts: where they differ from a value the plan guessed, trust the tool, and build \
the final answer from the values the tools returned. Note any lesson worth remembering for \
similar tasks."""


def make_reflect_node(deps: AgentDeps) -> Any:
    """Build the reflect node over ``deps``."""

    async def reflect(state: AgentState, runtime: Runtime[RunOptions]) -> dict[str, Any]:
        options = deps.options(runtime.context)
        index = state.get("current_step", 0)
        step = state["plan"][index]
        observation = state["observations"][-1]
        prompt = [
            SystemMessage(SYSTEM),
            HumanMessage(
                f"{context_block(state, step)}\nLast action: {observation['tool'] or 'answer'}"
                f"({observation['args']}) -> ok={observation['ok']}\n"
                f"Observation: {observation['content'][:2000]}"
            ),
        ]
        signals = TaskSignals(
            role="reflector",
            goal=state.get("goal", ""),
            plan_steps=len(state["plan"]),
            replans=state["counters"]["replans"],
        )
        try:
            verdict, tokens = await ask(deps, "reflector", Verdict, prompt, options, signals)
        except ModelOutputError as exc:
            if not is_last_attempt(runtime, options):
                raise
            return failed(state, exc, calls=1)
        counters = counted(state, calls=1, tokens=tokens)
        run = state.get("run", 0)
        decision = settle(verdict, index, len(state["plan"]))
        plan: list[PlanStep] = [dict(s) for s in state["plan"]]  # type: ignore[misc]
        plan[index]["status"] = "done" if verdict.success else "failed"
        record: Reflection = {
            "run": run,
            "step_id": step["id"],
            "decision": decision,
            "success": verdict.success,
            "critique": verdict.critique,
            "lessons": verdict.lessons,
        }
        await _submit_lessons(deps, runtime, verdict, record)
        update: dict[str, Any] = {"plan": plan, "reflections": [record], "counters": counters}
        if decision == "finish":
            return update | {"status": "done", "final_answer": verdict.final_answer}
        if decision == "replan":
            return update | replan_update(state, counters, verdict.critique)
        reason = exhausted_reason(state, counters)
        if reason is not None:
            return update | {"status": "exhausted", "error": reason}
        return update | {"status": "running", "current_step": index + 1}

    return reflect


def settle(verdict: Verdict, index: int, steps: int) -> Decision:
    """The decision the graph follows, given the reflector's verdict.

    ``continue`` after a failed step re-plans (the plan assumed it would work); ``continue``
    after the last step finishes.
    """
    if verdict.decision != "continue":
        return verdict.decision
    if not verdict.success:
        return "replan"
    return "finish" if index + 1 >= steps else "continue"


async def _submit_lessons(
    deps: AgentDeps, runtime: Runtime[RunOptions], verdict: Verdict, record: Reflection
) -> None:
    info = runtime.execution_info
    thread_id = info.thread_id if info is not None else None
    priority = Priority.BATCH if verdict.success else Priority.HIGH
    episode = f"step {record['step_id']} {record['decision']}: {verdict.critique}"
    lessons: list[tuple[str, Literal["procedural", "episodic"], Priority]] = [
        (text, "procedural", priority) for text in verdict.lessons
    ]
    lessons.append((episode, "episodic", Priority.BATCH))
    for text, kind, level in lessons:
        await deps.lessons.submit(
            Lesson(
                text=text,
                kind=kind,
                priority=level,
                thread_id=thread_id,
                run=record["run"],
                step_id=record["step_id"],
                success=verdict.success,
            )
        )


__all__ = ["make_reflect_node", "settle"]
