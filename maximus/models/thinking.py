"""Thinking modes: ``fast | normal | deep | adaptive``, mapped onto Gemini's thinking parameters.

``langchain-google-genai`` (4.x) exposes two families of thinking parameters, and both are
accepted per call (they are merged into ``generationConfig.thinkingConfig``):

* ``thinking_budget`` (tokens) for Gemini 2.5: ``0`` disables thinking, ``-1`` lets the model
  size it (dynamic), a positive number caps it. 2.5 Pro cannot disable thinking (minimum 128);
  Flash and Flash-Lite cap at 24,576 tokens, Pro at 32,768.
* ``thinking_level`` (``minimal | low | medium | high``) for Gemini 3+, which deprecates the
  budget. The levels a model supports are read from its profile
  (``model.profile["reasoning_effort_levels"]``); Gemini 3 Pro only has ``low`` and ``high``.

The mapping:

=========  ==========================  ============================================
mode       Gemini 2.5 budget           Gemini 3 level (from the model's levels)
=========  ==========================  ============================================
fast       0 (Pro: 128, its minimum)   the lowest level (``minimal`` or ``low``)
normal     -1, dynamic                 the middle level, rounding up (``medium``;
                                       ``high`` on a two-level model)
deep       24,576 (Pro: 32,768)        the highest level (``high``)
=========  ==========================  ============================================

``adaptive`` picks one of the three per call with :func:`choose_mode`. Other providers get no
thinking parameters: a mode is a no-op for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel

from maximus.config import Role, ThinkingMode

FixedMode = Literal["fast", "normal", "deep"]

_GEMINI_LLM_TYPE = "chat-google-generative-ai"
_LEVEL_ORDER = ("minimal", "low", "medium", "high")
_FLASH_MAX_BUDGET = 24_576
_PRO_MAX_BUDGET = 32_768
_PRO_MIN_BUDGET = 128
_JUDGEMENT_ROLES: frozenset[Role] = frozenset({"planner", "critic"})


@dataclass(frozen=True, slots=True)
class TaskSignals:
    """What the adaptive rule looks at for one model call."""

    role: Role
    goal: str = ""
    plan_steps: int = 0
    replans: int = 0
    side_effecting: bool = False


def choose_mode(mode: ThinkingMode, signals: TaskSignals | None = None) -> FixedMode:
    """Resolve ``adaptive`` to a fixed mode; fixed modes are returned as they are.

    The adaptive rule counts points of complexity for the call:

    * +1 when the goal is long (over 40 words);
    * +1 when the plan has more than 4 steps;
    * +1 per re-plan so far, at most +2 (the task already proved harder than planned);
    * +1 when the action at stake is side-effecting;
    * +1 when the role is a judgement role (planner, critic).

    0 points is ``fast``, 1-2 is ``normal``, 3 or more is ``deep``.
    """
    if mode != "adaptive":
        return mode
    if signals is None:
        return "normal"
    points = int(len(signals.goal.split()) > 40)
    points += int(signals.plan_steps > 4)
    points += min(signals.replans, 2)
    points += int(signals.side_effecting)
    points += int(signals.role in _JUDGEMENT_ROLES)
    if points == 0:
        return "fast"
    return "normal" if points <= 2 else "deep"


def is_gemini(model: BaseChatModel) -> bool:
    """Whether ``model`` is langchain-google-genai's chat model (without importing it)."""
    return getattr(model, "_llm_type", "") == _GEMINI_LLM_TYPE


def thinking_params(model: BaseChatModel, mode: FixedMode) -> dict[str, Any]:
    """The call-time keyword arguments that put ``model`` in ``mode``; empty if not Gemini."""
    if not is_gemini(model):
        return {}
    name = str(getattr(model, "model", "")).removeprefix("models/")
    profile = getattr(model, "profile", None) or {}
    levels = profile.get("reasoning_effort_levels")
    if levels or name.startswith("gemini-3"):
        ordered = [lv for lv in _LEVEL_ORDER if lv in (levels or ("low", "high"))]
        index = {"fast": 0, "normal": len(ordered) // 2, "deep": len(ordered) - 1}[mode]
        return {"thinking_level": ordered[index]}
    is_pro = "-pro" in name
    budget = {
        "fast": _PRO_MIN_BUDGET if is_pro else 0,
        "normal": -1,
        "deep": _PRO_MAX_BUDGET if is_pro else _FLASH_MAX_BUDGET,
    }[mode]
    return {"thinking_budget": budget}


def with_thinking(
    model: BaseChatModel, mode: ThinkingMode, signals: TaskSignals | None = None
) -> BaseChatModel:
    """``model`` set to the thinking parameters of ``mode`` (resolving ``adaptive``).

    A shallow copy with the fields set, not ``bind()``: ``with_structured_output`` on a
    binding drops its keyword arguments. The copy shares the original's client.
    """
    params = thinking_params(model, choose_mode(mode, signals))
    if not params:
        return model
    fields = {"reasoning_effort" if k == "thinking_level" else k: v for k, v in params.items()}
    return model.model_copy(update=fields)


__all__ = [
    "FixedMode",
    "TaskSignals",
    "choose_mode",
    "is_gemini",
    "thinking_params",
    "with_thinking",
]
