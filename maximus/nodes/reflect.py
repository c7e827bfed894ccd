"""The reflect node: judge the step's outcome, decide ``continue | replan | finish``.

With ``judge="signals"`` (the default) the facts decide first: a tool that raised, or an
action that was refused or reported ``valid=False``, failed; an environment that reports
``won`` or ``done`` ended the task; a tool that ran succeeded. No model is called for that. The
reflector model is called only when the facts are silent (a step answered without a tool), and
to compose the final answer once the last step succeeded. The step's ``expected`` text is a
hint, never the gate. With ``judge="model"`` the reflector judges every step.

A final answer that leaves out a value a tool returned (a calculator's result, say) is
replaced by that value: the tools' results are the facts.

Only the verdict is on the critical path. Lessons go to the lesson sink by priority (failures
``HIGH``, the rest ``BATCH``), which writes them in the background.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from langgraph.runtime import Runtime

from maximus.errors import ModelOutputError
from maximus.graphs.context import AgentDeps, Options, RunOptions
from maximus.graphs.state import AgentState, Decision, Observation, PlanStep, Reflection
from maximus.memory.lessons import Lesson, Priority
from maximus.models.thinking import TaskSignals
from maximus.nodes._common import (
    Usage,
    ask,
    counted,
    exhausted_reason,
    failed,
    is_last_attempt,
)
from maximus.nodes._prompt import action_text, messages, prefix, run_observations
from maximus.nodes.schemas import Answer, Verdict
from maximus.nodes.simulate import replan_update
from maximus.tools.signals import is_environment, outcome_of

JUDGE = """You are the reflector. Judge whether the last action above achieved the current \
step; its expected result is only a hint. Decide: `continue` to the next step, `replan` if the \
plan no longer fits what was observed, or `finish` if the goal is achieved (then give the final \
answer). Tool results are facts: where they differ from a value the plan guessed, trust the \
tool, and build the final answer from the values the tools returned. Note any lesson worth \
remembering for similar tasks."""

COMPOSE = """You are the reflector. The plan's last step succeeded. Write the final answer to \
the goal from the tools' results above, using their values exactly as returned (do not \
recompute them). Note any lesson worth remembering for similar tasks."""

_VALUE = re.compile(r"\S{1,64}")


def make_reflect_node(deps: AgentDeps) -> Any:
    """Build the reflect node over ``deps``."""

    async def reflect(state: AgentState, runtime: Runtime[RunOptions]) -> dict[str, Any]:
        options = deps.options(runtime.context)
        observation = state["observations"][-1]
        outcome = None
        if options.agent.judge == "signals" and observation["tool"] is not None:
            outcome = outcome_of(observation["ok"], observation.get("signals") or {})
        try:
            if outcome is None:
                return await _by_model(state, runtime, options)
            return await _by_facts(state, runtime, options, outcome)
        except ModelOutputError as exc:
            if not is_last_attempt(runtime, options):
                raise
            return failed(state, exc, calls=1)

    async def _by_facts(
        state: AgentState, runtime: Runtime[RunOptions], options: Options, outcome: str
    ) -> dict[str, Any]:
        index = state.get("current_step", 0)
        step = state["plan"][index]
        observation = state["observations"][-1]
        signals = observation.get("signals") or {}
        last = index + 1 >= len(state["plan"])
        counters = counted(state)
        lessons: list[str] = []
        decision: Decision
        if outcome == "failure":
            kind = "was not possible" if observation.get("invalid") else "failed"
            critique = f"Step {step['id']}: {_action(observation)} {kind}: {_text(observation)}"
            decision, success = "replan", False
        elif outcome in ("won", "lost"):
            most = signals.get("max_score")
            critique = f"The task ended {'won' if outcome == 'won' else 'without a win'}" + (
                f" (score {signals['score']:g}" + (f" of {most:g})" if most is not None else ")")
                if "score" in signals
                else ""
            )
            decision, success = "finish", outcome == "won"
        elif not last:
            critique = f"Step {step['id']}: {_action(observation)} ran."
            decision, success = "continue", True
        elif is_environment(signals):
            critique = f"Every planned step ran, but the task is not done yet: {_text(observation)}"
            decision, success = "replan", True
        else:
            critique = f"Step {step['id']}: {_action(observation)} ran; the plan is complete."
            decision, success = "finish", True
        update = _record(state, step, decision, success, critique, lessons, "signals")
        answer: str | None = None
        if decision == "finish" and outcome == "success":
            answer, lessons, usage = await _compose(state, runtime, options, step)
            counters = counted(state, calls=1 if usage is not None else 0, usage=usage)
            update["reflections"][0]["lessons"] = lessons
        await _submit_lessons(deps, runtime, success, lessons, update["reflections"][0])
        update["counters"] = counters
        if outcome == "lost":
            return update | {"status": "failed", "error": critique}
        if outcome == "won":
            return update | {"status": "done", "final_answer": f"{critique}. {_text(observation)}"}
        if decision == "finish":
            return update | {"status": "done", "final_answer": answer}
        if decision == "replan":
            return update | replan_update(state, counters, critique)
        return update | _next(state, counters, index)

    async def _compose(
        state: AgentState, runtime: Runtime[RunOptions], options: Options, step: PlanStep
    ) -> tuple[str, list[str], Usage | None]:
        """The final answer from the tools' results (one reflector call)."""
        observation = state["observations"][-1]
        prompt = messages(
            prefix(deps.tools, state, step, drop_last=1),
            COMPOSE,
            f"Last action: {_action(observation)} -> {observation['content'][:2000]}",
        )
        try:
            answer, usage = await ask(
                deps, "reflector", Answer, prompt, options, _signals(state, "reflector")
            )
        except ModelOutputError:
            if not is_last_attempt(runtime, options):
                raise
            # The answer is a courtesy: the tool's own result stands in for it.
            return observation["content"].strip(), [], Usage()
        return exact(answer.final_answer, run_observations(state)), answer.lessons, usage

    async def _by_model(
        state: AgentState, runtime: Runtime[RunOptions], options: Options
    ) -> dict[str, Any]:
        index = state.get("current_step", 0)
        step = state["plan"][index]
        observation = state["observations"][-1]
        prompt = messages(
            prefix(deps.tools, state, step, drop_last=1),
            JUDGE,
            f"Last action: {_action(observation)} -> ok={observation['ok']}\n"
            f"Observation: {observation['content'][:2000]}",
        )
        verdict, usage = await ask(
            deps, "reflector", Verdict, prompt, options, _signals(state, "reflector")
        )
        counters = counted(state, calls=1, usage=usage)
        decision = settle(verdict, index, len(state["plan"]))
        update = _record(
            state, step, decision, verdict.success, verdict.critique, verdict.lessons, "model"
        )
        update["counters"] = counters
        await _submit_lessons(
            deps, runtime, verdict.success, verdict.lessons, update["reflections"][0]
        )
        if decision == "finish":
            # An empty answer falls back to the last tool's value (or, with none, to respond).
            answer = exact(verdict.final_answer or "", run_observations(state)) or None
            return update | {"status": "done", "final_answer": answer}
        if decision == "replan":
            return update | replan_update(state, counters, verdict.critique)
        return update | _next(state, counters, index)

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


def exact(answer: str, observations: list[Observation]) -> str:
    """``answer``, or the last tool's value when the answer leaves that value out.

    A value is a tool result of one short token (``391``, ``2026-11-30``): if the answer does
    not contain it as a whole, the model recomputed or misread it, and the value stands.
    """
    results = [o for o in observations if o["tool"] is not None and o["ok"]]
    if not results:
        return answer
    value = results[-1]["content"].strip()
    if not _VALUE.fullmatch(value):
        return answer
    if re.search(rf"(?<![\w.]){re.escape(value)}(?!\w|\.\d)", answer):
        return answer
    return value


def _next(state: AgentState, counters: Any, index: int) -> dict[str, Any]:
    reason = exhausted_reason(state, counters)
    if reason is not None:
        return {"status": "exhausted", "error": reason}
    return {"status": "running", "current_step": index + 1}


def _record(
    state: AgentState,
    step: PlanStep,
    decision: Decision,
    success: bool,
    critique: str,
    lessons: list[str],
    judged_by: Literal["signals", "model"],
) -> dict[str, Any]:
    plan: list[PlanStep] = [dict(s) for s in state["plan"]]  # type: ignore[misc]
    plan[state.get("current_step", 0)]["status"] = "done" if success else "failed"
    record: Reflection = {
        "run": state.get("run", 0),
        "step_id": step["id"],
        "decision": decision,
        "success": success,
        "critique": critique,
        "lessons": list(lessons),
        "judged_by": judged_by,
    }
    return {"plan": plan, "reflections": [record]}


def _action(observation: Observation) -> str:
    return action_text(observation["tool"], observation["args"])


def _text(observation: Observation) -> str:
    content = " ".join(observation["content"].split())
    return content[:300] + ("…" if len(content) > 300 else "")


def _signals(state: AgentState, role: Any) -> TaskSignals:
    return TaskSignals(
        role=role,
        goal=state.get("goal", ""),
        plan_steps=len(state.get("plan", [])),
        replans=state.get("counters", {}).get("replans", 0),
    )


async def _submit_lessons(
    deps: AgentDeps,
    runtime: Runtime[RunOptions],
    success: bool,
    lessons: list[str],
    record: Reflection,
) -> None:
    info = runtime.execution_info
    thread_id = info.thread_id if info is not None else None
    priority = Priority.BATCH if success else Priority.HIGH
    episode = f"step {record['step_id']} {record['decision']}: {record['critique']}"
    items: list[tuple[str, Literal["procedural", "episodic"], Priority]] = [
        (text, "procedural", priority) for text in lessons
    ]
    items.append((episode, "episodic", Priority.BATCH if success else Priority.HIGH))
    for text, kind, level in items:
        await deps.lessons.submit(
            Lesson(
                text=text,
                kind=kind,
                priority=level,
                thread_id=thread_id,
                run=record["run"],
                step_id=record["step_id"],
                success=success,
            )
        )


__all__ = ["exact", "make_reflect_node", "settle"]
