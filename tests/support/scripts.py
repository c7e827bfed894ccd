"""Scripted per-role fake models for the agent's scenarios."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable
from pydantic import Field

from maximus.testing import ScriptedChatModel, structured, tool_call


class RecordingModel(ScriptedChatModel):
    """A scripted model that keeps every prompt it was sent and every schema bound to it."""

    prompts: list[list[BaseMessage]] = Field(default_factory=list)
    bound: list[Any] = Field(default_factory=list)

    def bind_tools(  # type: ignore[override]
        self, tools: Sequence[Any], **kwargs: Any
    ) -> Runnable[LanguageModelInput, BaseMessage]:
        self.bound.extend(tools)
        return self

    def _generate(self, messages: list[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.prompts.append(list(messages))
        return super()._generate(messages, *args, **kwargs)


def plan(*steps: tuple[str, str, str | None], tokens: int = 0) -> Any:
    """A ``Plan`` reply from ``(description, expected, tool)`` triples."""
    return structured(
        "Plan", tokens, steps=[{"description": d, "expected": e, "tool": t} for d, e, t in steps]
    )


def candidates(*actions: tuple[str | None, dict[str, Any]], tokens: int = 0) -> Any:
    """A ``Candidates`` reply from ``(tool, args)`` pairs."""
    return structured(
        "Candidates",
        tokens,
        candidates=[{"tool": t, "args": a, "rationale": f"try {t}"} for t, a in actions],
    )


def predictions(*states: str, tokens: int = 0) -> Any:
    """A ``Predictions`` reply, one state per candidate id in order."""
    return structured(
        "Predictions",
        tokens,
        predictions=[{"candidate_id": i, "next_state": s} for i, s in enumerate(states)],
    )


def scores(*values: float, tokens: int = 0) -> Any:
    """A ``Scores`` reply, one score per candidate id in order."""
    return structured(
        "Scores",
        tokens,
        scores=[{"candidate_id": i, "score": v, "reason": f"p={v}"} for i, v in enumerate(values)],
    )


def fused(*actions: tuple[str | None, dict[str, Any], float], tokens: int = 0) -> Any:
    """A ``FusedCandidates`` reply from ``(tool, args, score)`` triples."""
    return structured(
        "FusedCandidates",
        tokens,
        candidates=[
            {"tool": t, "args": a, "rationale": f"try {t}", "predicted": f"after {t}", "score": v}
            for t, a, v in actions
        ],
    )


def assessments(*values: float, tokens: int = 0) -> Any:
    """An ``Assessments`` reply, one score per candidate id in order."""
    return structured(
        "Assessments",
        tokens,
        assessments=[
            {"candidate_id": i, "predicted": f"outcome {i}", "score": v, "reason": f"p={v}"}
            for i, v in enumerate(values)
        ],
    )


def answer(text: str, *lessons: str, tokens: int = 0) -> Any:
    """An ``Answer`` reply (the final answer composed after the last step)."""
    return structured("Answer", tokens, final_answer=text, lessons=list(lessons))


def verdict(decision: str, success: bool = True, answer: str | None = None, tokens: int = 0) -> Any:
    """A ``Verdict`` reply."""
    return structured(
        "Verdict",
        tokens,
        success=success,
        decision=decision,
        critique=f"{decision}: {'ok' if success else 'the step failed'}",
        lessons=[f"lesson after {decision}"],
        final_answer=answer,
    )


def roles(**scripts: list[Any]) -> dict[str, RecordingModel]:
    """Per-role scripted models; roles not given get an empty script (any call fails)."""
    names = ("planner", "policy", "world_model", "critic", "executor", "reflector")
    return {name: RecordingModel(messages=iter(scripts.get(name, []))) for name in names}


def calls(models: dict[str, RecordingModel]) -> dict[str, int]:
    """How many times each role's model was called (roles never called left out)."""
    return {role: model.calls for role, model in models.items() if model.calls}


__all__ = [
    "RecordingModel",
    "answer",
    "assessments",
    "calls",
    "candidates",
    "fused",
    "plan",
    "predictions",
    "roles",
    "scores",
    "tool_call",
    "verdict",
]
