"""Tool signals: what a tool reports about the world in structured form, beside its text.

A tool built with ``response_format="content_and_artifact"`` returns ``(content, artifact)``;
when the artifact is a dict holding any of the :class:`ToolSignals` keys, the agent reads them
as facts about the step (an environment's score, whether the episode is done or won, whether
the action was valid). They decide a step's outcome before any model is asked.

Example:
    >>> @tool(response_format="content_and_artifact")
    ... def act(command: str) -> tuple[str, ToolSignals]:
    ...     obs, score, done, info = env.step(command)
    ...     return obs, {"valid": True, "done": done, "won": info["won"], "score": score}
"""

from __future__ import annotations

from typing import Any, Literal, cast

from langchain_core.messages import ToolMessage
from typing_extensions import TypedDict


class ToolSignals(TypedDict, total=False):
    """Facts a tool may report about the step it ran."""

    valid: bool
    """Whether the action was possible (``False``: an invalid action, nothing happened)."""
    done: bool
    """Whether the task or episode is over."""
    won: bool
    """Whether the task was achieved."""
    score: float
    """The score so far."""
    max_score: float
    """The best possible score."""
    message: str
    """A short note from the tool, e.g. why the action was invalid."""


_TYPES: dict[str, tuple[type, ...]] = {
    "valid": (bool,),
    "done": (bool,),
    "won": (bool,),
    "score": (int, float),
    "max_score": (int, float),
    "message": (str,),
}


def signals_of(message: ToolMessage) -> ToolSignals:
    """The signals in a tool message's artifact (an empty dict when there are none).

    Keys of the wrong type are ignored rather than trusted. A message with ``status="error"``
    carries no signals of its own: the error itself is the fact (see :func:`outcome_of`).
    """
    artifact: Any = getattr(message, "artifact", None)
    if message.status == "error" or not isinstance(artifact, dict):
        return {}
    found: dict[str, Any] = {}
    for key, types in _TYPES.items():
        value: Any = artifact.get(key)
        if isinstance(value, types) and not (key in ("score", "max_score") and value is True):
            found[key] = float(cast(float, value)) if key in ("score", "max_score") else value
    return found  # type: ignore[return-value]


Outcome = Literal["success", "failure", "won", "lost"]


def outcome_of(ok: bool, signals: ToolSignals) -> Outcome | None:
    """What the facts say about a step, or ``None`` when they are silent.

    ``failure``: the tool raised or the action was invalid. ``won``/``lost``: the episode ended.
    ``success``: the tool ran (and, where it reports it, the action was valid).
    """
    if not ok or signals.get("valid") is False:
        return "failure"
    if signals.get("won"):
        return "won"
    if signals.get("done"):
        return "lost"
    return "success"


def is_environment(signals: ToolSignals) -> bool:
    """Whether these signals come from an environment that says when its task is done."""
    return "done" in signals or "won" in signals


__all__ = ["Outcome", "ToolSignals", "is_environment", "outcome_of", "signals_of"]
