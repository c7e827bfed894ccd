"""Scripted per-role fake models for the agent's scenarios."""

from __future__ import annotations

from typing import Any

from maximus.testing import ScriptedChatModel, scripted, structured, tool_call


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


def roles(**scripts: list[Any]) -> dict[str, ScriptedChatModel]:
    """Per-role scripted models; roles not given get an empty script (any call fails)."""
    names = ("planner", "policy", "world_model", "critic", "executor", "reflector")
    return {name: scripted(scripts.get(name, [])) for name in names}


__all__ = ["candidates", "plan", "predictions", "roles", "scores", "tool_call", "verdict"]
