"""``langgraph.json`` loads the agent the way LangGraph's API server does."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_langgraph_json_points_at_a_compiled_graph_with_schemas() -> None:
    config = json.loads((ROOT / "langgraph.json").read_text())
    module_name, _, attr = config["graphs"]["maximus"].partition(":")
    module = importlib.import_module(module_name)
    graph = module.__dict__[attr]  # a plain attribute, as the server reads it

    assert {"plan", "simulate", "approve", "execute", "reflect", "respond"} <= set(
        graph.get_graph().nodes
    )
    assert {"goal", "messages"} <= set(graph.get_input_jsonschema()["properties"])
    state = graph.get_output_jsonschema()["properties"]
    assert {"plan", "simulations", "observations", "reflections", "status"} <= set(state)
    assert {"mode", "simulate", "num_candidates"} <= set(
        graph.get_context_jsonschema()["properties"]
    )


def test_langgraph_json_checkpointer_is_an_importable_context_manager() -> None:
    config = json.loads((ROOT / "langgraph.json").read_text())
    module_name, _, attr = config["checkpointer"]["path"].rpartition(".")
    factory = getattr(importlib.import_module(module_name), attr)
    assert hasattr(factory(), "__aenter__")
