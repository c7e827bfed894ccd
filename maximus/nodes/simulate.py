"""The simulate node (SimuRA): propose candidates, predict each outcome, score, choose.

Per step: the policy proposes N candidate actions in one structured call, the world model
predicts the state after each in one call, and the critic scores each one's chance of success
in one call; the best is chosen. A side-effecting choice scoring under the risk threshold is
re-planned, or sent to a human (the ``approve`` node) when ``on_risk="human"``.

With simulation off (ablation), the executor model picks a tool call directly, ReAct-style,
and the step is recorded with ``simulated=False``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langgraph.runtime import Runtime

from maximus.errors import ModelOutputError
from maximus.graphs.context import AgentDeps, Options, RunOptions
from maximus.graphs.state import (
    AgentState,
    Candidate,
    Observation,
    PlanStep,
    Prediction,
    Score,
    Simulation,
)
from maximus.models.thinking import TaskSignals, choose_mode, with_thinking
from maximus.nodes._common import (
    ask,
    counted,
    exhausted_reason,
    failed,
    is_last_attempt,
    tokens_of,
)
from maximus.nodes.schemas import (
    Candidates,
    Predictions,
    ProposedAction,
    Scores,
    tool_constrained,
)

POLICY = """You are the policy of an agent. Propose {n} distinct candidate actions for the \
current step. Each calls one tool with arguments, or uses tool=null to answer the step \
directly. Tools:
{tools}"""
WORLD_MODEL = """You are a world model. For each candidate action, predict concretely the \
state of the world and the observation right after it runs."""
CRITIC = """You are a critic. For each candidate, given its predicted outcome, estimate the \
probability in [0, 1] that it achieves the step's expected result without harm."""
EXECUTOR = """You are the executor of an agent. Carry out the current step: call one tool, or \
answer the step directly if no tool is needed."""
EXECUTOR_STRUCTURED = """You are the executor of an agent. Carry out the current step: choose \
one tool and its arguments, or use tool=null and put the step's answer in the rationale. Tools:
{tools}"""


def context_block(state: AgentState, step: PlanStep) -> str:
    """Goal, plan with statuses, the current step and this run's observations, as text."""
    run = state.get("run", 0)
    plan = "\n".join(
        f"{s['id']}. [{s['status']}] {s['description']}" for s in state.get("plan", [])
    )
    seen = "\n".join(
        f"- step {o['step_id']} {o['tool'] or 'answer'}: {o['content'][:500]}"
        for o in state.get("observations", [])
        if o["run"] == run
    )
    return (
        f"Goal: {state.get('goal', '')}\nPlan:\n{plan}\n"
        f"Current step {step['id']}: {step['description']}\nExpected: {step['expected']}\n"
        f"Observations so far:\n{seen or '(none)'}"
    )


def tool_call_message(action: Candidate) -> AIMessage:
    """The AI message that asks the tool node to run ``action``."""
    return AIMessage(
        content="",
        tool_calls=[{"name": action["tool"] or "", "args": action["args"], "id": _call_id()}],
    )


def _call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def _answered(state: AgentState, step: PlanStep, action: Candidate) -> Observation:
    return {
        "run": state.get("run", 0),
        "step_id": step["id"],
        "tool": None,
        "args": {},
        "content": action["rationale"],
        "ok": True,
    }


def make_simulate_node(deps: AgentDeps) -> Any:
    """Build the simulate node over ``deps``."""

    async def simulate(state: AgentState, runtime: Runtime[RunOptions]) -> dict[str, Any]:
        options = deps.options(runtime.context)
        reason = exhausted_reason(state, state["counters"])
        if reason is not None:
            return {"status": "exhausted", "error": reason}
        step = state["plan"][state.get("current_step", 0)]
        try:
            if options.agent.simulate:
                return await _simulated(state, step, options)
            return await _direct(state, step, options)
        except ModelOutputError as exc:
            if not is_last_attempt(runtime, options):
                raise
            return failed(state, exc, calls=1)

    async def _simulated(state: AgentState, step: PlanStep, options: Options) -> dict[str, Any]:
        n = options.agent.num_candidates
        context = context_block(state, step)
        signals = TaskSignals(
            role="policy",
            goal=state.get("goal", ""),
            plan_steps=len(state["plan"]),
            replans=state["counters"]["replans"],
        )
        schema = Candidates
        if getattr(deps.models.get("policy"), "structured_actions", False):
            schema = _constrained(n)[1]
        proposed, tokens = await ask(
            deps,
            "policy",
            schema,
            [SystemMessage(POLICY.format(n=n, tools=deps.tools.catalog())), HumanMessage(context)],
            options,
            signals,
        )
        usable = [c for c in proposed.candidates if c.tool is None or c.tool in deps.tools]
        candidates = [
            Candidate(
                id=i,
                tool=c.tool,
                args=c.args,
                rationale=c.rationale,
                side_effecting=c.tool is not None and deps.tools.is_side_effecting(c.tool),
            )
            for i, c in enumerate(usable[:n])
        ]
        if not candidates:
            names = [c.tool for c in proposed.candidates]
            raise ModelOutputError(f"the policy proposed no usable action (tools: {names})")
        shown: list[dict[str, Any]] = [
            {"id": c["id"], "tool": c["tool"], "args": c["args"], "rationale": c["rationale"]}
            for c in candidates
        ]
        listing = json.dumps(shown)
        risky = any(c["side_effecting"] for c in candidates)
        predicted, tokens_w = await ask(
            deps,
            "world_model",
            Predictions,
            [SystemMessage(WORLD_MODEL), HumanMessage(f"{context}\nCandidates: {listing}")],
            options,
            replace(signals, role="world_model", side_effecting=risky),
        )
        predictions: list[Prediction] = [
            {"candidate_id": p.candidate_id, "next_state": p.next_state}
            for p in predicted.predictions
            if 0 <= p.candidate_id < len(candidates)
        ]
        by_id = {p["candidate_id"]: p["next_state"] for p in predictions}
        judged = json.dumps([{**c, "predicted": by_id.get(c["id"], "")} for c in shown])
        scored, tokens_c = await ask(
            deps,
            "critic",
            Scores,
            [SystemMessage(CRITIC), HumanMessage(f"{context}\nCandidates: {judged}")],
            options,
            replace(signals, role="critic", side_effecting=risky),
        )
        given = {s.candidate_id: s for s in scored.scores}
        scores: list[Score] = [
            {
                "candidate_id": c["id"],
                "score": given[c["id"]].score if c["id"] in given else 0.0,
                "reason": given[c["id"]].reason if c["id"] in given else "not scored",
            }
            for c in candidates
        ]
        best = max(scores, key=lambda s: (s["score"], -s["candidate_id"]))
        chosen = candidates[best["candidate_id"]]
        counters = counted(state, calls=3, tokens=tokens + tokens_w + tokens_c)
        risky_choice = chosen["side_effecting"] and best["score"] < options.agent.risk_threshold
        outcome = "execute"
        if risky_choice:
            outcome = "approval" if options.agent.on_risk == "human" else "replan"
        record: Simulation = {
            "run": state.get("run", 0),
            "step_id": step["id"],
            "simulated": True,
            "candidates": candidates,
            "predictions": predictions,
            "scores": scores,
            "chosen_id": chosen["id"],
            "outcome": outcome,  # type: ignore[typeddict-item]
        }
        update: dict[str, Any] = {
            "chosen_action": chosen,
            "simulations": [record],
            "counters": counters,
        }
        if outcome == "approval":
            return update | {"status": "awaiting_approval"}
        if outcome == "replan":
            critique = (
                f"Simulation rejected the side-effecting action {chosen['tool']}"
                f"({json.dumps(chosen['args'])}): critic score {best['score']:.2f} is under the "
                f"risk threshold {options.agent.risk_threshold}. Critic: {best['reason']}. "
                f"Predicted: {by_id.get(chosen['id'], 'n/a')}"
            )
            return update | replan_update(state, counters, critique)
        return update | act(state, step, chosen)

    async def _direct(state: AgentState, step: PlanStep, options: Options) -> dict[str, Any]:
        if getattr(deps.models.get("executor"), "structured_actions", False):
            action, tokens = await _structured_action(state, step, options)
        else:
            action, tokens = await _tool_call_action(state, step, options)
        counters = counted(state, calls=1, tokens=tokens)
        record: Simulation = {
            "run": state.get("run", 0),
            "step_id": step["id"],
            "simulated": False,
            "candidates": [action],
            "predictions": [],
            "scores": [],
            "chosen_id": 0,
            "outcome": "execute",
        }
        return {
            "chosen_action": action,
            "simulations": [record],
            "counters": counters,
        } | act(state, step, action)

    def _constrained(n: int | None) -> tuple[type[ProposedAction], type[Candidates]]:
        """Action schemas allowing only the registry's tools, built once per registry version."""
        key = ("tool-schemas", str(n), deps.tools.version)
        schemas = deps.chains.get(key)
        if schemas is None:
            schemas = deps.chains[key] = tool_constrained(deps.tools.tools(), n)
        return schemas

    async def _tool_call_action(
        state: AgentState, step: PlanStep, options: Options
    ) -> tuple[Candidate, int]:
        """The executor's native tool call (ReAct-style)."""
        mode = choose_mode(options.mode, TaskSignals(role="executor", goal=state.get("goal", "")))
        # Binding converts every tool's schema; do it once per mode and registry version.
        key = ("executor", mode, deps.tools.version)
        runnable = deps.chains.get(key)
        if runnable is None:
            model = with_thinking(deps.models.get("executor"), mode)
            runnable = deps.chains[key] = model.bind_tools(deps.tools.tools())
        reply = await runnable.ainvoke(
            [SystemMessage(EXECUTOR), HumanMessage(context_block(state, step))]
        )
        if reply.tool_calls:
            call = reply.tool_calls[0]
            return {
                "id": 0,
                "tool": call["name"],
                "args": call["args"],
                "rationale": reply.text,
                "side_effecting": deps.tools.is_side_effecting(call["name"]),
            }, tokens_of(reply)
        return {
            "id": 0,
            "tool": None,
            "args": {},
            "rationale": reply.text,
            "side_effecting": False,
        }, tokens_of(reply)

    async def _structured_action(
        state: AgentState, step: PlanStep, options: Options
    ) -> tuple[Candidate, int]:
        """One structured action, turned into the tool call (for models without reliable
        native tool calling, such as the local one: see ``ChatLlamaCpp.structured_actions``)."""
        proposed, tokens = await ask(
            deps,
            "executor",
            _constrained(None)[0],
            [
                SystemMessage(EXECUTOR_STRUCTURED.format(tools=deps.tools.catalog())),
                HumanMessage(context_block(state, step)),
            ],
            options,
            TaskSignals(role="executor", goal=state.get("goal", "")),
        )
        if proposed.tool is not None and proposed.tool not in deps.tools:
            raise ModelOutputError(f"the executor chose an unknown tool {proposed.tool!r}")
        return {
            "id": 0,
            "tool": proposed.tool,
            "args": proposed.args,
            "rationale": proposed.rationale,
            "side_effecting": proposed.tool is not None
            and deps.tools.is_side_effecting(proposed.tool),
        }, tokens

    return simulate


def act(state: AgentState, step: PlanStep, action: Candidate) -> dict[str, Any]:
    """The update that carries out ``action``: a tool call, or a direct answer."""
    if action["tool"] is None:
        return {"status": "running", "observations": [_answered(state, step, action)]}
    return {"status": "running", "messages": [tool_call_message(action)]}


def replan_update(state: AgentState, counters: Any, critique: str) -> dict[str, Any]:
    """Ask for a re-plan with ``critique``, or fail once the re-plan budget is spent."""
    counters = {**counters, "replans": counters["replans"] + 1}
    budgets = state.get("budgets")
    if budgets is not None and counters["replans"] > budgets["max_replans"]:
        return {
            "status": "failed",
            "counters": counters,
            "critique": critique,
            "error": f"re-plan budget spent (max_replans={budgets['max_replans']}): {critique}",
        }
    return {"status": "replanning", "counters": counters, "critique": critique}


__all__ = ["act", "context_block", "make_simulate_node", "replan_update", "tool_call_message"]
