"""Routers: pure functions of the state that name the next node."""

from __future__ import annotations

from typing import Literal

from maximus.graphs.state import AgentState

_ENDED = ("done", "failed", "exhausted")


def after_plan(state: AgentState) -> Literal["simulate", "respond"]:
    """Act on a fresh plan, or answer when there is nothing to do or the run ended."""
    if state.get("status") in _ENDED or not state.get("plan"):
        return "respond"
    return "simulate"


def after_simulate(
    state: AgentState,
) -> Literal["execute", "approve", "reflect", "plan", "respond"]:
    """Run the chosen tool, ask a human, judge a direct answer, re-plan, or stop."""
    status = state.get("status")
    if status in _ENDED:
        return "respond"
    if status == "awaiting_approval":
        return "approve"
    if status == "replanning":
        return "plan"
    action = state.get("chosen_action")
    return "reflect" if action is None or action["tool"] is None else "execute"


def after_approve(state: AgentState) -> Literal["execute", "plan", "respond"]:
    """Run the approved action, or re-plan after a rejection."""
    status = state.get("status")
    if status in _ENDED:
        return "respond"
    return "plan" if status == "replanning" else "execute"


def after_reflect(state: AgentState) -> Literal["simulate", "plan", "respond"]:
    """Next step, re-plan, or answer."""
    status = state.get("status")
    if status == "replanning":
        return "plan"
    if status == "running":
        return "simulate"
    return "respond"


__all__ = ["after_approve", "after_plan", "after_reflect", "after_simulate"]
