"""The structured outputs the nodes ask models for (Pydantic: the model is an edge).

Candidates, predictions and scores each come back as one batch per call, so simulation costs
three model calls per step whatever the number of candidates.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class PlannedStep(BaseModel):
    """One step of a plan."""

    description: str = Field(description="What to do in this step.")
    expected: str = Field(description="The observable result that shows the step succeeded.")
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
]
