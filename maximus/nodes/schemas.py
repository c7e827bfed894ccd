"""The structured outputs the nodes ask models for (Pydantic: the model is an edge).

Candidates, predictions and scores each come back as one batch per call, so ``full`` simulation
costs three model calls per step whatever the number of candidates, and ``fused`` one.

Schemas built for the moment (:func:`tool_constrained`, :func:`plan_constrained`) are
subclasses with the same titles: their JSON schemas allow only the registry's tools and the
values allowed now, while parsing stays as lenient as the base class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field, create_model


class PlannedStep(BaseModel):
    """One step of a plan."""

    model_config = ConfigDict(title="PlannedStep")

    description: str = Field(description="What to do in this step.")
    expected: str = Field(
        description="The observable result that shows the step succeeded. Describe it; do not "
        "work out values a tool will compute."
    )
    tool: str | None = Field(default=None, description="The tool to use, if any.")


class Plan(BaseModel):
    """A plan for the goal: ordered steps. No steps means the goal needs no action."""

    model_config = ConfigDict(title="Plan")

    steps: list[PlannedStep] = Field(description="Ordered steps; empty if none are needed.")
    answer: str | None = Field(
        default=None, description="The answer, only when the goal needs no steps."
    )


class ProposedAction(BaseModel):
    """A candidate next action."""

    model_config = ConfigDict(title="ProposedAction")

    tool: str | None = Field(description="Tool name, or null to answer the step without one.")
    args: dict[str, Any] = Field(default_factory=dict, description="Arguments for the tool.")
    rationale: str = Field(description="Why this action advances the step.")


class Candidates(BaseModel):
    """Distinct candidate actions for the current step."""

    model_config = ConfigDict(title="Candidates")

    candidates: list[ProposedAction]


class FusedAction(ProposedAction):
    """A candidate next action with its predicted outcome and its chance of success."""

    model_config = ConfigDict(title="FusedAction")

    predicted: str = Field(default="", description="What the world looks like after it runs.")
    score: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Probability in [0, 1] that it succeeds."
    )


class FusedCandidates(BaseModel):
    """Fused simulation: candidates, each with its predicted outcome and score, in one reply."""

    model_config = ConfigDict(title="FusedCandidates")

    candidates: list[FusedAction]


class Assessment(BaseModel):
    """One candidate's predicted outcome and chance of success."""

    candidate_id: int
    predicted: str = Field(description="What the world looks like after the action.")
    score: float = Field(ge=0.0, le=1.0, description="Probability of success in [0, 1].")
    reason: str = ""


class Assessments(BaseModel):
    """Fused world model and critic: one assessment per given candidate, in one reply."""

    assessments: list[Assessment]


class PredictedOutcome(BaseModel):
    """The predicted state of the world after one candidate runs."""

    candidate_id: int
    next_state: str = Field(description="What the world looks like after the action.")


class Predictions(BaseModel):
    """One prediction per candidate."""

    predictions: list[PredictedOutcome]


class CandidateScore(BaseModel):
    """The chance that a candidate leads to the step's expected result."""

    candidate_id: int
    score: float = Field(ge=0.0, le=1.0, description="Probability of success in [0, 1].")
    reason: str = ""


class Scores(BaseModel):
    """One score per candidate."""

    scores: list[CandidateScore]


class Verdict(BaseModel):
    """The reflector's judgement of a step's outcome."""

    success: bool = Field(description="Whether the outcome met the step's expected result.")
    decision: Literal["continue", "replan", "finish"]
    critique: str = Field(description="What went right or wrong, and what to change.")
    lessons: list[str] = Field(default_factory=list, description="Reusable lessons.")
    final_answer: str | None = Field(
        default=None, description="The answer to the goal, when deciding to finish."
    )


class Answer(BaseModel):
    """The final answer to the goal, composed from what the tools returned."""

    final_answer: str = Field(description="The answer to the goal, using the tools' values.")
    lessons: list[str] = Field(default_factory=list, description="Reusable lessons.")


Choices = Mapping[str, Mapping[str, Sequence[str]]]
"""Per tool name, per argument: the values allowed now."""

_FUSED = {
    "predicted": {"type": "string"},
    "score": {"type": "number", "minimum": 0, "maximum": 1},
}


def _action_variants(
    tools: Sequence[BaseTool], choices: Choices, fused: bool
) -> list[dict[str, Any]]:
    """One JSON schema per tool (its name as a constant, its own arguments, the values allowed
    now as enums), plus no tool."""
    extra = _FUSED if fused else {}
    variants: list[dict[str, Any]] = []
    for tool in tools:
        schema = tool.tool_call_schema
        params = schema if isinstance(schema, dict) else schema.model_json_schema()  # type: ignore[union-attr]
        args: dict[str, Any] = {"type": "object"}
        allowed = choices.get(tool.name, {})
        if "$defs" not in params:  # nested argument types stay free-form
            properties = {k: dict(v) for k, v in params.get("properties", {}).items()}
            for arg, values in allowed.items():
                properties[arg] = {"type": "string", "enum": list(values)}
            args["properties"] = properties
            args["required"] = sorted({*params.get("required", []), *allowed})
        elif allowed:
            args["properties"] = {
                arg: {"type": "string", "enum": list(values)} for arg, values in allowed.items()
            }
            args["required"] = sorted(allowed)
        variants.append(
            {
                "type": "object",
                "properties": {
                    "tool": {"const": tool.name},
                    "args": args,
                    "rationale": {"type": "string"},
                    **extra,
                },
                "required": ["tool", "args", "rationale", *extra],
            }
        )
    variants.append(
        {
            "type": "object",
            "properties": {"tool": {"type": "null"}, "rationale": {"type": "string"}, **extra},
            "required": ["tool", "rationale", *extra],
        }
    )
    return variants


def tool_constrained(
    tools: Sequence[BaseTool],
    max_candidates: int | None = None,
    choices: Choices | None = None,
    *,
    fused: bool = False,
) -> tuple[type[ProposedAction], type[BaseModel]]:
    """An action schema and a candidates schema (:class:`Candidates`, or
    :class:`FusedCandidates` when ``fused``) whose JSON schemas allow only the given tools,
    each with its own arguments and the values ``choices`` allows now (parsing is unchanged:
    they are subclasses).

    Under JSON-schema-constrained decoding (the local model) a small model then cannot name a
    missing tool, leave out a required argument, or write an action that is not possible now.
    """
    variants = _action_variants(tools, choices or {}, fused)
    base_action: type[ProposedAction] = FusedAction if fused else ProposedAction
    base_list: type[BaseModel] = FusedCandidates if fused else Candidates

    def only_these_tools(schema: dict[str, Any]) -> None:
        title = schema.get("title")
        schema.clear()
        schema.update({"title": title, "anyOf": variants})

    action = type(
        "ToolAction",
        (base_action,),
        {
            "__module__": __name__,
            "__doc__": base_action.__doc__,
            "model_config": ConfigDict(json_schema_extra=only_these_tools),
        },
    )
    candidates = create_model(
        "ToolCandidates",
        __base__=base_list,
        __module__=__name__,
        candidates=(list[action], Field(min_length=1, max_length=max_candidates)),  # type: ignore[valid-type]
    )
    return action, candidates


def plan_constrained(tool_names: Sequence[str]) -> type[Plan]:
    """A :class:`Plan` whose JSON schema allows only these tool names (or null) in ``tool``.

    Parsing stays lenient (a step naming an unknown tool still parses; the tool is a hint).
    """
    names = list(tool_names)

    def only_these_tools(schema: dict[str, Any]) -> None:
        tool: dict[str, Any] = {"type": "null"}
        if names:
            tool = {"anyOf": [{"type": "string", "enum": names}, {"type": "null"}]}
        schema["properties"]["tool"] = {**tool, "description": "The tool to use, if any."}

    step = type(
        "ToolPlannedStep",
        (PlannedStep,),
        {
            "__module__": __name__,
            "__doc__": PlannedStep.__doc__,
            "model_config": ConfigDict(title="PlannedStep", json_schema_extra=only_these_tools),
        },
    )
    return create_model(
        "ToolPlan",
        __base__=Plan,
        __module__=__name__,
        steps=(list[step], Field(description="Ordered steps; empty if none are needed.")),  # type: ignore[valid-type]
    )


__all__ = [
    "Answer",
    "Assessment",
    "Assessments",
    "CandidateScore",
    "Candidates",
    "Choices",
    "FusedAction",
    "FusedCandidates",
    "Plan",
    "PlannedStep",
    "PredictedOutcome",
    "Predictions",
    "ProposedAction",
    "Scores",
    "Verdict",
    "plan_constrained",
    "tool_constrained",
]
