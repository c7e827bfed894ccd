"""The approve node: ask a human about a risky action through ``interrupt()``.

The interrupt's payload describes the action, its predicted outcome and its score. Resume with
``Command(resume=...)`` and one of: ``True``/``"approve"``, ``False``/``"reject"``, or a dict
``{"approved": bool, "args": {...}, "note": "..."}`` (``args`` replaces the action's arguments).
This node is separate from ``simulate`` so that resuming re-runs no model call.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from maximus.errors import InvalidInputError
from maximus.graphs.context import AgentDeps, RunOptions
from maximus.graphs.state import AgentState, Approval, Candidate
from maximus.nodes.simulate import act, replan_update

_YES = frozenset({"approve", "approved", "yes", "y", "true"})
_NO = frozenset({"reject", "rejected", "no", "n", "false"})


def parse_decision(value: Any) -> tuple[bool, dict[str, Any] | None, str]:
    """``(approved, replacement args or None, note)`` from a resume value.

    Raises:
        InvalidInputError: the value is none of the accepted shapes.
    """
    if isinstance(value, bool):
        return value, None, ""
    if isinstance(value, str) and value.strip().lower() in _YES | _NO:
        return value.strip().lower() in _YES, None, ""
    if isinstance(value, dict) and isinstance(value.get("approved"), bool):
        args = value.get("args")
        if args is not None and not isinstance(args, dict):
            raise InvalidInputError("resume 'args' must be an object of tool arguments")
        return value["approved"], args, str(value.get("note", ""))
    raise InvalidInputError(
        "resume with true/false, 'approve'/'reject', or {'approved': bool, 'args'?, 'note'?}; "
        f"got {value!r}"
    )


def make_approve_node(deps: AgentDeps) -> Any:
    """Build the approve node."""

    async def approve(state: AgentState, runtime: Runtime[RunOptions]) -> dict[str, Any]:
        action = state["chosen_action"]
        assert action is not None  # the router sends only chosen actions here
        step = state["plan"][state.get("current_step", 0)]
        simulation = state["simulations"][-1]
        score = next((s for s in simulation["scores"] if s["candidate_id"] == action["id"]), None)
        prediction = next(
            (p["next_state"] for p in simulation["predictions"]
             if p["candidate_id"] == action["id"]),
            None,
        )  # fmt: skip
        answer = interrupt(
            {
                "type": "approval",
                "question": f"Run the side-effecting action {action['tool']}?",
                "step": step,
                "action": action,
                "score": score,
                "predicted": prediction,
                "threshold": deps.options(runtime.context).agent.risk_threshold,
            }
        )
        approved, args, note = parse_decision(answer)
        record: Approval = {
            "run": state.get("run", 0),
            "step_id": step["id"],
            "candidate_id": action["id"],
            "approved": approved,
            "note": note,
        }
        if approved:
            chosen: Candidate = {**action, "args": args if args is not None else action["args"]}
            return {"approvals": [record], "chosen_action": chosen} | act(state, step, chosen)
        critique = f"A human rejected {action['tool']}({action['args']})" + (
            f": {note}" if note else ""
        )
        return {"approvals": [record]} | replan_update(state, state["counters"], critique)

    return approve


__all__ = ["make_approve_node", "parse_decision"]
