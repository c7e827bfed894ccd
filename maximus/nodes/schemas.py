"""The structured outputs the nodes ask models for (Pydantic: the model is an edge).

Candidates, predictions and scores each come back as one batch per call, so simulation costs
three model calls per step whatever the number of candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from langchain_core.tools import BaseTool
from pydantic import BaseModel, ConfigDict, Field, create_model


class PlannedStep(BaseModel):
    """One step of a plan."""

    description: str = Field(description="What to do in this step.")
    expected: str = Field(
        description="The observable result that shows the step succeeded. Describe it; do not "
        "work out values a tool will compute."
    )
    tool: str | None = Field(default=None, description="The tool to use, if any.")


class Plan(BaseModel):
    """A plan for the goal: ordered steps. No steps means the goal needs no action."""

    steps: list[PlannedStep] = Field(description="Ordered steps; empty if none are needed.")
    answer: str | None = Field(
        default=None, description="The answer, only when the goal needs no steps."
    )


class ProposedAction(BaseModel):
    """A candidate next action."""

    tool: str | None = Field(description="Tool name, or null to answer the step without one.")
    args: dict[str, Any] = Field(default_factory=dict, description="Arguments for the tool.")
    rationale: str = Field(description="Why this action advances the step.")


class Candidates(BaseModel):
    """Distinct candidate actions for the current step."""

    candidates: list[ProposedAction]


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


def _action_variants(tools: Sequence[BaseTool]) -> list[dict[str, Any]]:
    """One JSON schema per tool (its name as a constant, its own arguments), plus no tool."""
    variants: list[dict[str, Any]] = []
    for tool in tools:
        schema = tool.tool_call_schema
        params = schema if isinstance(schema, dict) else schema.model_json_schema()  # type: ignore[union-attr]
        args: dict[str, Any] = {"type": "object"}
        if "$defs" not in params:  # nested argument types stay free-form
            args["properties"] = params.get("properties", {})
            args["required"] = list(params.get("required", []))
        variants.append(
            {
                "type": "object",
                "properties": {
                    "tool": {"const": tool.name},
                    "args": args,
                    "rationale": {"type": "string"},
                },
                "required": ["tool", "args", "rationale"],
            }
        )
    variants.append(
        {
            "type": "object",
            "properties": {"tool": {"type": "null"}, "rationale": {"type": "string"}},
            "required": ["tool", "rationale"],
        }
    )
    return variants


def tool_constrained(
    tools: Sequence[BaseTool], max_candidates: int | None = None
) -> tuple[type[ProposedAction], type[Candidates]]:
    """:class:`ProposedAction` and :class:`Candidates` whose JSON schemas allow only the given
    tools, each with its own arguments (parsing is unchanged: they are subclasses).

    Under JSON-schema-constrained decoding (the local model) a small model then cannot name a
    missing tool or leave out a required argument.
    """
    variants = _action_variants(tools)

    def only_these_tools(schema: dict[str, Any]) -> None:
        title = schema.get("title")
        schema.clear()
        schema.update({"title": title, "anyOf": variants})

    action = type(
        "ToolAction",
        (ProposedAction,),
        {
            "__module__": __name__,
            "__doc__": ProposedAction.__doc__,
            "model_config": ConfigDict(json_schema_extra=only_these_tools),
        },
    )
    candidates = create_model(
        "ToolCandidates",
        __base__=Candidates,
        __module__=__name__,
        candidates=(list[action], Field(min_length=1, max_length=max_candidates)),  # type: ignore[valid-type]
    )
    return action, candidates


__all__ = [
    "CandidateScore",
    "Candidates",
    "Plan",
    "PlannedStep",
    "PredictedOutcome",
    "Predictions",
    "ProposedAction",
    "Scores",
    "Verdict",
    "tool_constrained",
]
