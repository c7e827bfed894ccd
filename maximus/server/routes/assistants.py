"""``/assistants``: one per served graph (shared, read-only), plus each user's own (create,
update, delete, versions, set latest), stored with the sessions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from maximus.server.deps import CurrentUser, State
from maximus.server.schemas import (
    Assistant,
    AssistantCount,
    AssistantCreate,
    AssistantLatest,
    AssistantPatch,
    AssistantSearch,
    AssistantVersion,
    AssistantVersionSearch,
)

router = APIRouter(prefix="/assistants", tags=["assistants"])


def _matches(assistant: dict[str, Any], graph_id: str | None, name: str | None, meta: Any) -> bool:
    if graph_id and assistant["graph_id"] != graph_id:
        return False
    if name and name not in assistant["name"]:
        return False
    return not meta or all(assistant["metadata"].get(k) == v for k, v in meta.items())


async def _all(state: Any, owner: str) -> list[dict[str, Any]]:
    return [*state.graphs.assistants(), *await state.assistants.owned(owner)]


@router.post("", response_model=Assistant)
async def create_assistant(body: AssistantCreate, state: State, user: CurrentUser) -> Any:
    """An assistant of the caller's: a served graph with its own config, context, metadata."""
    return await state.assistants.create(user.user_id, body)


@router.post("/search", response_model=list[Assistant])
async def search_assistants(body: AssistantSearch, state: State, user: CurrentUser) -> Any:
    """Assistants matching the graph id, name and metadata."""
    found = [
        a
        for a in await _all(state, user.user_id)
        if _matches(a, body.graph_id, body.name, body.metadata)
    ]
    return found[body.offset : body.offset + body.limit]


@router.post("/count", response_model=int)
async def count_assistants(body: AssistantCount, state: State, user: CurrentUser) -> int:
    """How many assistants match."""
    return sum(
        _matches(a, body.graph_id, body.name, body.metadata)
        for a in await _all(state, user.user_id)
    )


@router.get("/{assistant_id}", response_model=Assistant)
async def get_assistant(assistant_id: str, state: State, user: CurrentUser) -> Any:
    """One assistant, by assistant id or graph id."""
    return await state.assistants.resolve(assistant_id, user.user_id)


@router.patch("/{assistant_id}", response_model=Assistant)
async def update_assistant(
    assistant_id: str, body: AssistantPatch, state: State, user: CurrentUser
) -> Any:
    """A new version of one of the caller's assistants (it becomes the latest)."""
    return await state.assistants.update(assistant_id, user.user_id, body)


@router.delete("/{assistant_id}", status_code=204, response_class=Response)
async def delete_assistant(assistant_id: str, state: State, user: CurrentUser) -> Response:
    """Delete one of the caller's assistants."""
    await state.assistants.delete(assistant_id, user.user_id)
    return Response(status_code=204)


@router.post("/{assistant_id}/versions", response_model=list[AssistantVersion])
async def assistant_versions(
    assistant_id: str, body: AssistantVersionSearch, state: State, user: CurrentUser
) -> Any:
    """The assistant's versions, newest first."""
    return await state.assistants.versions(
        assistant_id, user.user_id, body.metadata, body.limit, body.offset
    )


@router.post("/{assistant_id}/latest", response_model=Assistant)
async def set_latest_version(
    assistant_id: str, body: AssistantLatest, state: State, user: CurrentUser
) -> Any:
    """Make an earlier (or later) version the one runs use."""
    return await state.assistants.set_latest(assistant_id, user.user_id, body.version)


async def _graph(state: Any, assistant_id: str, owner: str) -> tuple[str, Any]:
    graph_id = (await state.assistants.resolve(assistant_id, owner))["graph_id"]
    resolved: tuple[str, Any] = state.graphs.resolve(graph_id)
    return resolved


@router.get("/{assistant_id}/graph", response_model=dict[str, Any])
async def get_assistant_graph(
    assistant_id: str, state: State, user: CurrentUser, xray: bool = False
) -> Any:
    """The graph's nodes and edges (what ``RemoteGraph.get_graph`` draws)."""
    _, graph = await _graph(state, assistant_id, user.user_id)
    return graph.get_graph(xray=xray).to_json()


@router.get("/{assistant_id}/schemas", response_model=dict[str, Any])
async def get_assistant_schemas(assistant_id: str, state: State, user: CurrentUser) -> Any:
    """The graph's input, output, state and context JSON schemas."""
    graph_id, graph = await _graph(state, assistant_id, user.user_id)

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
