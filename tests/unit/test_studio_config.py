"""``langgraph.json`` loads the agent the way LangGraph's API server does."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_langgraph_json_points_at_a_compiled_graph_with_schemas() -> None:
    config = json.loads((ROOT / "langgraph.json").read_text())
    path, _, attr = config["graphs"]["maximus"].partition(":")
    spec = importlib.util.spec_from_file_location("studio_agent", ROOT / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # by file path, as the server loads it
    graph = getattr(module, attr)

    assert {"plan", "simulate", "approve", "execute", "reflect", "respond"} <= set(
        graph.get_graph().nodes
    )
    assert {"goal", "messages"} <= set(graph.get_input_jsonschema()["properties"])
    state = graph.get_output_jsonschema()["properties"]
    assert {"plan", "simulations", "observations", "reflections", "status"} <= set(state)
    assert {"mode", "simulate", "num_candidates"} <= set(
        graph.get_context_jsonschema()["properties"]
    )
