"""``/threads``: create, search, count, get, update, copy, prune, delete, state (read and
human edits), history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from maximus.server.deps import CurrentUser, State
from maximus.server.schemas import (
    Thread,
    ThreadCount,
    ThreadCreate,
    ThreadHistory,
    ThreadPatch,
    ThreadPrune,
    ThreadPruned,
    ThreadSearch,
    ThreadState,
    ThreadStateCheckpoint,
    ThreadStateUpdate,
    ThreadUpdateStateResponse,
)

router = APIRouter(prefix="/threads", tags=["threads"])


@router.post("", response_model=Thread)
async def create_thread(body: ThreadCreate, state: State, user: CurrentUser) -> Any:
    """Create a thread owned by the caller."""
    tup = await state.threads.create(
        user.user_id,
        thread_id=body.thread_id,
        metadata=body.metadata,
        if_exists=body.if_exists,
        graph_id=body.graph_id,
    )
    return await state.threads.describe(tup)


@router.post("/search", response_model=list[Thread])
async def search_threads(body: ThreadSearch, state: State, user: CurrentUser) -> Any:
    """The caller's threads, newest first."""
    return await state.threads.search(
        user.user_id,
        metadata=body.metadata,
        status=body.status,
        limit=body.limit,
        offset=body.offset,
    )


@router.post("/count", response_model=int)
async def count_threads(body: ThreadCount, state: State, user: CurrentUser) -> int:
    """How many of the caller's threads match."""
    found = await state.threads.search(
        user.user_id, metadata=body.metadata, status=body.status, limit=10_000
    )
    return len(found)


@router.get("/{thread_id}", response_model=Thread)
async def get_thread(thread_id: str, state: State, user: CurrentUser) -> Any:
    """One of the caller's threads (another user's answers 404)."""
    return await state.threads.describe(await state.threads.latest(thread_id, user.user_id))


@router.patch("/{thread_id}", response_model=Thread)
async def update_thread(thread_id: str, body: ThreadPatch, state: State, user: CurrentUser) -> Any:
    """Merge metadata into one of the caller's threads."""
    tup = await state.threads.update_metadata(thread_id, user.user_id, body.metadata)
    return await state.threads.describe(tup)


@router.post("/{thread_id}/copy", response_model=Thread)
async def copy_thread(thread_id: str, state: State, user: CurrentUser) -> Any:
    """A new thread with this one's latest state and metadata."""
    return await state.threads.describe(await state.threads.copy(thread_id, user.user_id))


@router.post("/prune", response_model=ThreadPruned)
async def prune_threads(body: ThreadPrune, state: State, user: CurrentUser) -> Any:
    """Delete the caller's threads, or keep only their latest checkpoint."""
    count = await state.threads.prune(body.thread_ids, user.user_id, body.strategy)
    return {"pruned_count": count}


@router.delete("/{thread_id}", status_code=204, response_class=Response)
async def delete_thread(thread_id: str, state: State, user: CurrentUser) -> Response:
    """Delete a thread, its checkpoints and its runs."""
    await state.threads.delete(thread_id, user.user_id)
    return Response(status_code=204)


@router.get("/{thread_id}/state", response_model=ThreadState)
async def get_state(
    thread_id: str, state: State, user: CurrentUser, subgraphs: bool = False
) -> Any:
    """The thread's current state (values, next nodes, tasks, interrupts)."""
    return await state.threads.state(thread_id, user.user_id, subgraphs=subgraphs)


@router.post("/{thread_id}/state", response_model=ThreadUpdateStateResponse)
async def update_state(
    thread_id: str, body: ThreadStateUpdate, state: State, user: CurrentUser
) -> Any:
    """A human edit: write ``values`` as if ``as_node`` had; returns the new checkpoint."""
    checkpoint_id = body.checkpoint_id or (
        body.checkpoint.checkpoint_id if body.checkpoint else None
    )
    return await state.threads.update_state(
        thread_id, user.user_id, body.values, as_node=body.as_node, checkpoint_id=checkpoint_id
    )


@router.get("/{thread_id}/state/{checkpoint_id}", response_model=ThreadState)
async def get_state_at(
    thread_id: str, checkpoint_id: str, state: State, user: CurrentUser, subgraphs: bool = False
) -> Any:
    """The thread's state at one checkpoint."""
    return await state.threads.state(thread_id, user.user_id, checkpoint_id, subgraphs)


@router.post("/{thread_id}/state/checkpoint", response_model=ThreadState)
async def post_state_at(
    thread_id: str, body: ThreadStateCheckpoint, state: State, user: CurrentUser
) -> Any:
    """The thread's state at the checkpoint in the body."""
    return await state.threads.state(
        thread_id, user.user_id, body.checkpoint.checkpoint_id, body.subgraphs
    )


@router.post("/{thread_id}/history", response_model=list[ThreadState])
async def post_history(thread_id: str, body: ThreadHistory, state: State, user: CurrentUser) -> Any:
    """Past states, newest first."""
    before = body.before if isinstance(body.before, str) or body.before is None else None
    if before is None and body.before is not None and not isinstance(body.before, str):
        before = body.before.checkpoint_id
    return await state.threads.history(
        thread_id,
        user.user_id,
        limit=body.limit,
        before=before,
        metadata=body.metadata,
        checkpoint_id=body.checkpoint.checkpoint_id if body.checkpoint else None,
    )


@router.get("/{thread_id}/history", response_model=list[ThreadState])
async def get_history(
    thread_id: str, state: State, user: CurrentUser, limit: int = 10, before: str | None = None
) -> Any:
    """Past states, newest first."""
    return await state.threads.history(
        thread_id, user.user_id, limit=max(1, min(limit, 1000)), before=before
    )
