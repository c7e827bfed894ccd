"""A graph for the web UI tests: the agent with scripted models whose one step writes a file
with a low critic score, so that a run with ``on_risk="human"`` stops for approval."""

from __future__ import annotations

from typing import Any


def risky(deps: Any) -> Any:
    """Server graph factory: ``write_file`` scored 0.2 (approval, or a re-plan), then finish."""
    from maximus.graphs.agent import create_agent
    from maximus.testing import scripted
    from tests.support.scripts import candidates, plan, predictions, scores, verdict

    script = {
        "planner": [plan(("save the greeting", "file saved", "write_file"), tokens=40)],
        "policy": [
            candidates(
                ("write_file", {"path": "out.txt", "content": "hello"}),
                (None, {}),
            )
        ],
        "world_model": [predictions("out.txt holds the greeting", "nothing is saved")],
        "critic": [scores(0.2, 0.1, tokens=12)],
        "reflector": [verdict("finish", answer="saved")],
    }
    models = {role: scripted(replies, loop=True) for role, replies in script.items()}
    models["executor"] = scripted([], loop=False)
    return create_agent(
        models=models,  # type: ignore[arg-type]
        checkpointer=deps.checkpointer,
        settings=deps.settings,
        lesson_sink=deps.lesson_sink,
    )
