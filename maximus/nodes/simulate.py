"""The simulate node (SimuRA): propose candidate actions, predict and score them, choose.

Modes (``AgentSettings.simulation``):

- ``full``: the policy proposes N candidates, the world model predicts the state after each,
  the critic scores each one's chance of success: three calls, each one batch.
- ``fused``: one call proposes the candidates with their predicted outcomes and scores; or,
  for candidates already proposed, one call predicts and scores them.
- ``off``: the executor picks one action directly, ReAct-style.

When (``AgentSettings.simulate_when``): ``always``; ``risky`` (the executor acts directly
unless the planned or chosen tool is side-effecting); ``auto`` (the policy proposes, and the
candidates are predicted and scored only when one is side-effecting, they disagree, or the
last step failed: SimuRA skips simulation when the policy's candidates agree). The
``Simulation`` record says which mode ran, and why it ran or was skipped.

A side-effecting choice scoring under the risk threshold is re-planned, or sent to a human
(the ``approve`` node) when ``on_risk="human"``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from typing import Any, TypeVar

from langchain_core.messages import AIMessage, SystemMessage
from langgraph.runtime import Runtime
from pydantic import BaseModel

from maximus.config import Role
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
    Usage,
    ask,
    counted,
    exhausted_reason,
    failed,
    is_last_attempt,
    usage_of,
)
from maximus.nodes._prompt import messages, prefix, run_observations
from maximus.nodes.schemas import (
    Assessments,
    Candidates,
    FusedCandidates,
    Predictions,
    ProposedAction,
    Scores,
    tool_constrained,
)
from maximus.tools.choices import choices_of, has_choices, refusal

_M = TypeVar("_M", bound=BaseModel)

POLICY = """You are the policy. Propose {n} distinct candidate actions for the current step. \
Each calls one of the tools above with its arguments, or uses tool=null to answer the step \
directly (the answer goes in the rationale)."""
FUSED = """You are the policy and the critic. Propose {n} distinct candidate actions for the \
current step: each calls one of the tools above with its arguments, or uses tool=null to \
answer the step directly (the answer goes in the rationale). For each, predict concretely what \
the world looks like right after it runs (`predicted`), and give the probability in [0, 1] \
that it achieves the current step without harm (`score`)."""
WORLD_MODEL = """You are the world model. For each candidate action above, predict concretely \
the state of the world and the observation right after it runs."""
CRITIC = """You are the critic. For each candidate above, given its predicted outcome, estimate \
the probability in [0, 1] that it achieves the current step without harm."""
ASSESS = """You are the world model and the critic. For each candidate action above, predict \
concretely what the world looks like right after it runs (`predicted`), and give the \
probability in [0, 1] that it achieves the current step without harm (`score`)."""
EXECUTOR = """You are the executor. Carry out the current step: call one tool, or answer the \
step directly if no tool is needed."""
EXECUTOR_STRUCTURED = """You are the executor. Carry out the current step: choose one of the \
tools above and its arguments, or use tool=null and put the step's answer in the rationale."""


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


def agree(candidates: list[Candidate]) -> bool:
    """Whether the candidates are one action (same tool, same arguments up to spacing)."""

    def key(c: Candidate) -> str:
        what = c["args"] if c["tool"] is not None else c["rationale"]
        return f"{c['tool']}:" + "".join(json.dumps(what, sort_keys=True, default=str).split())

    return len({key(c) for c in candidates}) <= 1


def reason_before(state: AgentState, step: PlanStep, when: str, side_effecting: bool) -> str | None:
    """Why the step must be simulated before any candidate is seen, or ``None``.

    Args:
        state: the run's state.
        step: the current step.
        when: ``simulate_when``.
        side_effecting: whether the step's planned tool is side-effecting.
    """
    if when == "always":
        return "simulate_when=always"
    if side_effecting:
        return f"the planned tool {step['tool']} is side-effecting"
    seen = run_observations(state)
    if when == "auto" and seen and not seen[-1]["ok"]:
        return "the last step failed"
    return None


def reason_after(candidates: list[Candidate], when: str) -> str | None:
    """Why these proposed candidates must be simulated before acting, or ``None``."""
    risky = [c["tool"] for c in candidates if c["side_effecting"]]
    if risky:
        return f"the action {risky[0]} is side-effecting"
    if when == "auto" and not agree(candidates):
        return "the candidates disagree"
    return None


def make_simulate_node(deps: AgentDeps) -> Any:
    """Build the simulate node over ``deps``."""

    async def simulate(state: AgentState, runtime: Runtime[RunOptions]) -> dict[str, Any]:
        options = deps.options(runtime.context)
        reason = exhausted_reason(state, state["counters"])
        if reason is not None:
            return {"status": "exhausted", "error": reason}
        step = state["plan"][state.get("current_step", 0)]
        try:
            return await _step(state, step, prefix(deps.tools, state, step), options)
        except ModelOutputError as exc:
            if not is_last_attempt(runtime, options):
                raise
            return failed(state, exc, calls=1)

    async def _step(
        state: AgentState, step: PlanStep, head: SystemMessage, options: Options
    ) -> dict[str, Any]:
        mode, when = options.agent.simulation, options.agent.simulate_when
        signals = TaskSignals(
            role="policy",
            goal=state.get("goal", ""),
            plan_steps=len(state["plan"]),
            replans=state["counters"]["replans"],
        )
        if mode == "off":
            action, usage = await _direct(state, head, options)
            return _unsimulated(state, step, [action], 1, usage, mode, "simulation is off")
        planned = step["tool"] is not None and deps.tools.is_side_effecting(step["tool"])
        why = reason_before(state, step, when, planned)
        if why is not None:
            if mode == "fused":
                fused, usage = await _fused(head, options, signals, risky=planned)
                return _chosen(state, step, options, *fused, 1, usage, mode, why)
            candidates, usage = await _propose(head, options, signals)
            assessed, more = await _assess(head, candidates, mode, options, signals)
            return _chosen(state, step, options, candidates, *assessed, 3, usage + more, mode, why)
        if when == "risky":
            action, usage = await _direct(state, head, options)
            candidates = [action]
        else:
            candidates, usage = await _propose(head, options, signals)
        why = reason_after(candidates, when)
        if why is None:
            skipped = (
                "no side-effecting action"
                if when == "risky"
                else "the candidates agree and none is side-effecting"
            )
            return _unsimulated(state, step, candidates, 1, usage, mode, skipped)
        assessed, more = await _assess(head, candidates, mode, options, signals)
        calls = 1 + (1 if mode == "fused" else 2)
        return _chosen(state, step, options, candidates, *assessed, calls, usage + more, mode, why)

    def _allowed_text() -> str:
        """The values constrained arguments may take now, for the policy's and executor's
        last message (the grammar holds them to it; this tells the model why)."""
        lines = [
            f"Allowed now for {tool.name} {arg}: {json.dumps(values)}"
            for tool in deps.tools.tools()
            if has_choices(tool)
            for arg, values in choices_of(tool).items()
        ]
        return "\n".join(lines)

    def _usable(proposed: list[Any], n: int | None) -> list[Any]:
        """The proposals worth acting on: known tools and allowed values, at most ``n``.

        An impossible proposal is kept only when there is nothing else, so that the execute
        node refuses it and the model sees why.
        """
        known = [p for p in proposed if p.tool is None or p.tool in deps.tools]
        possible = [p for p in known if p.tool is None or _possible(p.tool, p.args)]
        usable = possible or known
        if not usable:
            names = [p.tool for p in proposed]
            raise ModelOutputError(f"the policy proposed no usable action (tools: {names})")
        return usable[:n]

    def _candidates(proposed: list[Any]) -> list[Candidate]:
        return [
            Candidate(
                id=i,
                tool=p.tool,
                args=p.args,
                rationale=p.rationale,
                side_effecting=p.tool is not None and deps.tools.is_side_effecting(p.tool),
            )
            for i, p in enumerate(proposed)
        ]

    def _possible(tool: str, args: dict[str, Any]) -> bool:
        return tool in deps.tools and refusal(deps.tools.get(tool), args) is None

    async def _propose(
        head: SystemMessage, options: Options, signals: TaskSignals
    ) -> tuple[list[Candidate], Usage]:
        n = options.agent.num_candidates
        schema: type[BaseModel] = Candidates
        if _constrain("policy"):
            schema = _constrained(n, fused=False)[1]
        prompt = messages(head, POLICY.format(n=n), _allowed_text())
        proposed, usage = await ask(deps, "policy", schema, prompt, options, signals)
        return _candidates(_usable(proposed.candidates, n)), usage  # type: ignore[attr-defined]

    async def _fused(
        head: SystemMessage, options: Options, signals: TaskSignals, *, risky: bool
    ) -> tuple[tuple[list[Candidate], list[Prediction], list[Score]], Usage]:
        n = options.agent.num_candidates
        schema: type[BaseModel] = FusedCandidates
        if _constrain("policy"):
            schema = _constrained(n, fused=True)[1]
        prompt = messages(head, FUSED.format(n=n), _allowed_text())
        signals = replace(signals, side_effecting=risky)
        proposed, usage = await ask(deps, "policy", schema, prompt, options, signals)
        usable = _usable(proposed.candidates, n)  # type: ignore[attr-defined]
        candidates = _candidates(usable)
        predictions: list[Prediction] = [
            {"candidate_id": i, "next_state": p.predicted} for i, p in enumerate(usable)
        ]
        scores = _scores(candidates, {i: (p.score, "") for i, p in enumerate(usable)})
        return (candidates, predictions, scores), usage

    async def _assess(
        head: SystemMessage,
        candidates: list[Candidate],
        mode: str,
        options: Options,
        signals: TaskSignals,
    ) -> tuple[tuple[list[Prediction], list[Score]], Usage]:
        """Predict and score given candidates: world model then critic, or one fused call."""
        risky = any(c["side_effecting"] for c in candidates)
        shown = [
            {"id": c["id"], "tool": c["tool"], "args": c["args"], "rationale": c["rationale"]}
            for c in candidates
        ]
        listing = f"Candidates: {json.dumps(shown)}"

        async def ask_as(role: Role, schema: type[_M], prompt: str, text: str) -> tuple[_M, Usage]:
            """One call in ``role`` about these candidates."""
            signals_as = replace(signals, role=role, side_effecting=risky)
            return await ask(deps, role, schema, messages(head, prompt, text), options, signals_as)

        if mode == "fused":
            assessed, usage = await ask_as("critic", Assessments, ASSESS, listing)
            ids = {c["id"] for c in candidates}
            given = {a.candidate_id: a for a in assessed.assessments if a.candidate_id in ids}
            predictions: list[Prediction] = [
                {"candidate_id": i, "next_state": a.predicted} for i, a in given.items()
            ]
            judged = {i: (a.score, a.reason) for i, a in given.items()}
            return (predictions, _scores(candidates, judged)), usage
        predicted, usage_w = await ask_as("world_model", Predictions, WORLD_MODEL, listing)
        predictions = [
            {"candidate_id": p.candidate_id, "next_state": p.next_state}
            for p in predicted.predictions
            if 0 <= p.candidate_id < len(candidates)
        ]
        by_id = {p["candidate_id"]: p["next_state"] for p in predictions}
        with_predictions = [{**c, "predicted": by_id.get(c["id"], "")} for c in candidates]
        listed = json.dumps(
            [{k: v for k, v in c.items() if k != "side_effecting"} for c in with_predictions]
        )
        scored, usage_c = await ask_as("critic", Scores, CRITIC, f"Candidates: {listed}")
        given_scores = {s.candidate_id: (s.score, s.reason) for s in scored.scores}
        return (predictions, _scores(candidates, given_scores)), usage_w + usage_c

    def _chosen(
        state: AgentState,
        step: PlanStep,
        options: Options,
        candidates: list[Candidate],
        predictions: list[Prediction],
        scores: list[Score],
        calls: int,
        usage: Usage,
        mode: Any,
        reason: str,
    ) -> dict[str, Any]:
        """Act on the best-scoring candidate, unless it is risky and scores too low."""
        best = max(scores, key=lambda s: (s["score"], -s["candidate_id"]))
        chosen = candidates[best["candidate_id"]]
        counters = counted(state, calls=calls, usage=usage)
        risky_choice = chosen["side_effecting"] and best["score"] < options.agent.risk_threshold
        outcome = "execute"
        if risky_choice:
            outcome = "approval" if options.agent.on_risk == "human" else "replan"
        record: Simulation = {
            "run": state.get("run", 0),
            "step_id": step["id"],
            "simulated": True,
            "mode": mode,
            "reason": reason,
            "skipped": None,
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
            predicted = next(
                (p["next_state"] for p in predictions if p["candidate_id"] == chosen["id"]),
                "n/a",
            )
            critique = (
                f"Simulation rejected the side-effecting action {chosen['tool']}"
                f"({json.dumps(chosen['args'])}): critic score {best['score']:.2f} is under the "
                f"risk threshold {options.agent.risk_threshold}. Critic: {best['reason']}. "
                f"Predicted: {predicted}"
            )
            return update | replan_update(state, counters, critique)
        return update | act(state, step, chosen)

    def _unsimulated(
        state: AgentState,
        step: PlanStep,
        candidates: list[Candidate],
        calls: int,
        usage: Usage,
        mode: Any,
        skipped: str,
    ) -> dict[str, Any]:
        """Act on the first candidate without predicting or scoring."""
        action = candidates[0]
        record: Simulation = {
            "run": state.get("run", 0),
            "step_id": step["id"],
            "simulated": False,
            "mode": mode,
            "reason": None,
            "skipped": skipped,
            "candidates": candidates,
            "predictions": [],
            "scores": [],
            "chosen_id": action["id"],
            "outcome": "execute",
        }
        return {
            "chosen_action": action,
            "simulations": [record],
            "counters": counted(state, calls=calls, usage=usage),
        } | act(state, step, action)

    def _constrain(role: Any) -> bool:
        """Whether to send the tool-constrained schemas: for models that build actions from
        structured output (the local one), and whenever a tool constrains its values."""
        return bool(getattr(deps.models.get(role), "structured_actions", False)) or (
            deps.tools.constrained()
        )

    def _constrained(n: int | None, *, fused: bool) -> tuple[type[ProposedAction], Any]:
        """Action schemas allowing only the registry's tools and the values allowed now,
        rebuilt when the registry or those values change."""
        choices = {tool.name: choices_of(tool) for tool in deps.tools.tools() if has_choices(tool)}
        signature = json.dumps(choices, sort_keys=True)
        key = ("tool-schemas", f"{n}:{fused}", deps.tools.version)
        cached = deps.chains.get(key)
        if cached is None or cached[0] != signature:
            schemas = tool_constrained(deps.tools.tools(), n, choices, fused=fused)
            cached = deps.chains[key] = (signature, schemas)
        return cached[1]

    async def _direct(
        state: AgentState, head: SystemMessage, options: Options
    ) -> tuple[Candidate, Usage]:
        """One action from the executor: structured where the model needs it, else a native
        tool call (ReAct-style)."""
        signals = TaskSignals(role="executor", goal=state.get("goal", ""))
        if _constrain("executor"):
            prompt = messages(head, EXECUTOR_STRUCTURED, _allowed_text())
            schema = _constrained(None, fused=False)[0]
            proposed, usage = await ask(deps, "executor", schema, prompt, options, signals)
            if proposed.tool is not None and proposed.tool not in deps.tools:
                raise ModelOutputError(f"the executor chose an unknown tool {proposed.tool!r}")
            return _candidates(_usable([proposed], 1))[0], usage
        mode = choose_mode(options.mode, signals)
        # Binding converts every tool's schema; do it once per mode and registry version.
        key = ("executor", mode, deps.tools.version)
        runnable = deps.chains.get(key)
        if runnable is None:
            model = with_thinking(deps.models.get("executor"), mode)
            runnable = deps.chains[key] = model.bind_tools(deps.tools.tools())
        reply = await runnable.ainvoke(messages(head, EXECUTOR))
        call = reply.tool_calls[0] if reply.tool_calls else None
        action: Candidate = {
            "id": 0,
            "tool": call["name"] if call else None,
            "args": call["args"] if call else {},
            "rationale": reply.text,
            "side_effecting": call is not None and deps.tools.is_side_effecting(call["name"]),
        }
        return action, usage_of(reply)

    return simulate


def _scores(candidates: list[Candidate], given: dict[int, tuple[float, str]]) -> list[Score]:
    return [
        {
            "candidate_id": c["id"],
            "score": given[c["id"]][0] if c["id"] in given else 0.0,
            "reason": given[c["id"]][1] if c["id"] in given else "not scored",
        }
        for c in candidates
    ]


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


__all__ = [
    "act",
    "agree",
    "make_simulate_node",
    "reason_after",
    "reason_before",
    "replan_update",
    "tool_call_message",
]
