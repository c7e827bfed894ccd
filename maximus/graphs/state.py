"""The agent's state: what the graph checkpoints, and what Studio shows.

A ``typing_extensions.TypedDict`` (not ``typing``'s) because LangGraph's API server reads the
schema from it on Python 3.11. Lists that grow during a run use ``operator.add``; the planner
resets them with ``Overwrite`` when a new run starts on an existing thread.
"""

from __future__ import annotations

import operator
from typing import Annotated, Any, Literal, NotRequired

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages
from langgraph.managed import RemainingSteps
from typing_extensions import TypedDict

from maximus.config import SimulationMode
from maximus.tools.signals import ToolSignals

StepStatus = Literal["pending", "done", "failed"]
RunStatus = Literal[
    "planning", "running", "replanning", "awaiting_approval", "done", "failed", "exhausted"
]
Decision = Literal["continue", "replan", "finish"]
SimulationOutcome = Literal["execute", "replan", "approval"]

TERMINAL_STATUSES: frozenset[str] = frozenset({"done", "failed", "exhausted"})


class PlanStep(TypedDict):
    """One step of the plan."""

    id: int
    """1-based position in the plan."""
    description: str
    """What to do."""
    expected: str
    """What success looks like: a hint for the policy and the reflector, never the gate."""
    tool: str | None
    """The tool the planner expects to use, if any."""
    status: StepStatus


class Candidate(TypedDict):
    """A candidate next action proposed by the policy."""

    id: int
    tool: str | None
    """The tool to call; ``None`` means the step is answered without a tool."""
    args: dict[str, Any]
    rationale: str
    side_effecting: bool
    """Whether the tool changes the world (declared by the tool)."""


class Prediction(TypedDict):
    """The world model's prediction of the state after a candidate runs."""

    candidate_id: int
    next_state: str


class Score(TypedDict):
    """The critic's estimate that a candidate leads to success."""

    candidate_id: int
    score: float
    """Probability of success, in [0, 1]."""
    reason: str


class Simulation(TypedDict):
    """Everything one simulate step considered, kept so that it shows in Studio."""

    run: int
    step_id: int
    simulated: bool
    """Whether candidates were predicted and scored before acting."""
    mode: SimulationMode
    """The simulation mode in force (``full``, ``fused`` or ``off``)."""
    reason: str | None
    """Why the step was simulated (``None`` when it was not)."""
    skipped: str | None
    """Why simulation was skipped (``None`` when it ran)."""
    candidates: list[Candidate]
    predictions: list[Prediction]
    scores: list[Score]
    chosen_id: int | None
    outcome: SimulationOutcome


class Approval(TypedDict):
    """A human's answer to an approval request for a risky action."""

    run: int
    step_id: int
    candidate_id: int
    approved: bool
    note: str


class Observation(TypedDict):
    """What happened when an action ran."""

    run: int
    step_id: int
    tool: str | None
    args: dict[str, Any]
    content: str
    ok: bool
    """The tool ran without error and the action was allowed."""
    signals: NotRequired[ToolSignals]
    """What the tool reported in structured form (score, done, won, valid), if anything."""
    invalid: NotRequired[bool]
    """The action was impossible: refused by a constraint, an unknown tool, or ``valid=False``."""


class Reflection(TypedDict):
    """The reflector's verdict on a step."""

    run: int
    step_id: int
    decision: Decision
    success: bool
    critique: str
    lessons: list[str]
    judged_by: NotRequired[Literal["signals", "model"]]
    """Whether the facts (tool status and signals) or the reflector model decided."""


class Counters(TypedDict):
    """Per-run counters; the budgets are checked against them."""

    steps: int
    """Executed steps (actions that ran)."""
    model_calls: int
    tokens: int
    """Input plus output tokens, as the providers reported them."""
    prompt_tokens: int
    """Input tokens."""
    cached_prompt_tokens: int
    """Input tokens the server served from its cache (where it says so)."""
    replans: int
    tool_errors: int
    invalid_actions: int
    """Actions refused as impossible (not allowed now, unknown tool, or ``valid=False``)."""


class Budgets(TypedDict):
    """The limits in force for the current run, fixed when it starts."""

    max_steps: int
    max_replans: int
    max_tokens: int | None
    max_seconds: float | None
    started_at: float
    """Unix time the run started."""


class AgentInput(TypedDict, total=False):
    """What a caller passes in: a goal, or messages whose last human message is the goal."""

    goal: str
    messages: Annotated[list[AnyMessage], add_messages]


class AgentState(TypedDict):
    """The full state of one thread."""

    messages: Annotated[list[AnyMessage], add_messages]
    """The conversation, including the tool calls the agent made and their results."""
    goal: NotRequired[str]
    """What the current run is trying to achieve."""
    run: NotRequired[int]
    """How many runs this thread has started (1-based); labels the records below."""
    plan: NotRequired[list[PlanStep]]
    current_step: NotRequired[int]
    """Index into ``plan`` of the step being worked on."""
    chosen_action: NotRequired[Candidate | None]
    """The action the current step carries out (after any human edit)."""
    simulations: NotRequired[Annotated[list[Simulation], operator.add]]
    """Every simulation of the run, in order, with its candidates, predictions and scores
    (simulation on and off are both recorded); the last one is the current step's."""
    approvals: NotRequired[Annotated[list[Approval], operator.add]]
    observations: NotRequired[Annotated[list[Observation], operator.add]]
    reflections: NotRequired[Annotated[list[Reflection], operator.add]]
    critique: NotRequired[str | None]
    """The last reflection's critique, which the planner uses to re-plan."""
    tried_plans: NotRequired[list[str]]
    """Fingerprints of this run's plans; the planner may not propose one of them again."""
    counters: NotRequired[Counters]
    budgets: NotRequired[Budgets]
    status: NotRequired[RunStatus]
    final_answer: NotRequired[str | None]
    error: NotRequired[str | None]
    """Why a run failed or was exhausted."""
    remaining_steps: NotRequired[RemainingSteps]
    """Managed by LangGraph: super-steps left before the recursion limit."""


def new_counters() -> Counters:
    """Counters at zero."""
    return {
        "steps": 0,
        "model_calls": 0,
        "tokens": 0,
        "prompt_tokens": 0,
        "cached_prompt_tokens": 0,
        "replans": 0,
        "tool_errors": 0,
        "invalid_actions": 0,
    }


__all__ = [
    "TERMINAL_STATUSES",
    "AgentInput",
    "Approval",
    "AgentState",
    "Budgets",
    "Candidate",
    "Counters",
    "Decision",
    "Observation",
    "PlanStep",
    "Prediction",
    "Reflection",
    "RunStatus",
    "Score",
    "Simulation",
    "SimulationOutcome",
    "StepStatus",
    "new_counters",
]
