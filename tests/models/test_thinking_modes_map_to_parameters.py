"""The adaptive rule and the mode → parameter mapping (the wire is tested with a server)."""

from __future__ import annotations

import pytest

from maximus.models.thinking import TaskSignals, choose_mode, thinking_params, with_thinking
from maximus.testing import scripted


@pytest.mark.parametrize("mode", ["fast", "normal", "deep"])
def test_fixed_modes_are_kept(mode: str) -> None:
    assert choose_mode(mode, TaskSignals(role="critic", replans=5)) == mode  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        (TaskSignals(role="policy", goal="add two numbers"), "fast"),
        (TaskSignals(role="planner", goal="add two numbers"), "normal"),
        (TaskSignals(role="policy", plan_steps=6, replans=1), "normal"),
        (TaskSignals(role="critic", side_effecting=True, replans=1), "deep"),
        (TaskSignals(role="executor", goal="word " * 41, plan_steps=5, replans=3), "deep"),
    ],
)
def test_adaptive_rule(signals: TaskSignals, expected: str) -> None:
    assert choose_mode("adaptive", signals) == expected


def test_non_gemini_models_get_no_thinking_parameters() -> None:
    model = scripted([])
    assert thinking_params(model, "deep") == {}
    assert with_thinking(model, "deep") is model
