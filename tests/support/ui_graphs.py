"""A graph for the web UI tests: the agent with scripted models whose one step writes a file
with a low critic score, so that a run with ``on_risk="human"`` stops for approval."""

from __future__ import annotations

from typing import Any


def risky(deps: Any) -> Any:
    """Server graph factory: ``write_file`` scored 0.2 (approval, or a re-plan), then finish."""
    from maximus.graphs.agent import create_agent
    from maximus.testing import scripted
    from tests.support.scripts import answer, plan, structured

    # The planned tool changes the world, so the default (fused, when risky) asks the policy
    # once for candidates with their predicted outcomes and scores.
    candidates = [
        {"tool": "write_file", "args": {"path": "out.txt", "content": "hello"},
         "rationale": "save it", "predicted": "out.txt holds the greeting", "score": 0.2},
        {"tool": None, "args": {}, "rationale": "do nothing",
         "predicted": "nothing is saved", "score": 0.1},
    ]  # fmt: skip
    script = {
        # A re-plan must differ from the plans already tried (an identical one is refused).
        "planner": [
            plan(("save the greeting", "file saved", "write_file"), tokens=40),
            plan(("save the greeting in another way", "file saved", "write_file"), tokens=40),
        ],
        "policy": [structured("FusedCandidates", 12, candidates=candidates)],
        "reflector": [answer("saved")],  # the write is judged from its status; this composes
    }
    models = {role: scripted(replies, loop=True) for role, replies in script.items()}
    models["executor"] = scripted([], loop=False)
    return create_agent(
        models=models,  # type: ignore[arg-type]
        checkpointer=deps.checkpointer,
        settings=deps.settings,
        lesson_sink=deps.lesson_sink,
    )
