"""``/assistants``: one assistant per served graph (the agent and any registered graph)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from maximus.server.deps import CurrentUser, State
from maximus.server.schemas import Assistant, AssistantCount, AssistantSearch

router = APIRouter(prefix="/assistants", tags=["assistants"])


def _matches(assistant: dict[str, Any], graph_id: str | None, name: str | None, meta: Any) -> bool:
    if graph_id and assistant["graph_id"] != graph_id:
        return False
    if name and name not in assistant["name"]:
        return False
    return not meta or all(assistant["metadata"].get(k) == v for k, v in meta.items())


@router.post("/search", response_model=list[Assistant])
async def search_assistants(body: AssistantSearch, state: State, user: CurrentUser) -> Any:
    """Assistants matching the graph id, name and metadata."""
    found = [
        a for a in state.graphs.assistants() if _matches(a, body.graph_id, body.name, body.metadata)
    ]
    return found[body.offset : body.offset + body.limit]


@router.post("/count", response_model=int)
async def count_assistants(body: AssistantCount, state: State, user: CurrentUser) -> int:
    """How many assistants match."""
    return sum(
        _matches(a, body.graph_id, body.name, body.metadata) for a in state.graphs.assistants()
    )


@router.get("/{assistant_id}", response_model=Assistant)
async def get_assistant(assistant_id: str, state: State, user: CurrentUser) -> Any:
    """One assistant, by assistant id or graph id."""
    graph_id, _ = state.graphs.resolve(assistant_id)
    return state.graphs.assistant(graph_id)


@router.get("/{assistant_id}/graph", response_model=dict[str, Any])
async def get_assistant_graph(
    assistant_id: str, state: State, user: CurrentUser, xray: bool = False
) -> Any:
    """The graph's nodes and edges (what ``RemoteGraph.get_graph`` draws)."""
    _, graph = state.graphs.resolve(assistant_id)
    return graph.get_graph(xray=xray).to_json()


@router.get("/{assistant_id}/schemas", response_model=dict[str, Any])
async def get_assistant_schemas(assistant_id: str, state: State, user: CurrentUser) -> Any:
    """The graph's input, output, state and context JSON schemas."""
    graph_id, graph = state.graphs.resolve(assistant_id)

    def schema(fn: str) -> Any:
        try:
            return getattr(graph, fn)()
        except Exception:  # a schema pydantic cannot express is reported as absent
            return None

    return {
        "graph_id": graph_id,
        "input_schema": schema("get_input_jsonschema"),
        "output_schema": schema("get_output_jsonschema"),
        "state_schema": None,
        "config_schema": None,
        "context_schema": schema("get_context_jsonschema"),
    }
