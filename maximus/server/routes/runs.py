"""Runs: streamed (SSE), waited for, or in the background, on a thread or stateless; join,
cancel, and resumption from ``Last-Event-ID``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent

from maximus.errors import InvalidInputError, ThreadNotFoundError
from maximus.server._events import StreamLagged
from maximus.server._serde import dumps
from maximus.server.deps import CurrentUser, ServerState, State
from maximus.server.run_manager import RunRecord
from maximus.server.schemas import Run, RunCreate, RunsCancel

router = APIRouter(tags=["runs"])
SSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {}}, "description": "Server-sent events"}
}


def _headers(run: RunRecord, tail: str) -> dict[str, str]:
    # Stateless runs too: their records (and event logs) outlive the temporary thread.
    base = f"/threads/{run.thread_id}/runs/{run.run_id}"
    return {"Location": f"{base}{tail}", "Content-Location": base}


async def _events(
    state: ServerState,
    run: RunRecord,
    *,
    after: int = 0,
    cancel_on_disconnect: bool = False,
    modes: list[str] | None = None,
) -> AsyncIterator[ServerSentEvent]:
    finished = False
    try:
        async for event in state.runs.manager.follow(run, after):
            if modes and event.event.split("|")[0].split("/")[0] not in (
                *modes,
                "metadata",
                "error",
            ):
                continue
            yield ServerSentEvent(data=event.data.decode(), event=event.event, id=str(event.seq))
        finished = True
    except StreamLagged as exc:
        finished = True
        data = dumps({"error": "StreamLagged", "message": str(exc)}).decode()
        yield ServerSentEvent(data=data, event="error")
    finally:
        if not finished and cancel_on_disconnect:
            await state.runs.manager.request_cancel(run)


def _sse(state: ServerState, run: RunRecord, stream: AsyncIterator[ServerSentEvent]) -> Any:
    return EventSourceResponse(
        stream,
        headers=_headers(run, "/stream"),
        ping=int(state.settings.server.ping_seconds),
        send_timeout=30,
    )


async def _wait(
    state: ServerState, run: RunRecord, cancel_on_disconnect: bool, request: Request
) -> Any:
    manager = state.runs.manager
    if cancel_on_disconnect:
        watcher = asyncio.create_task(_cancel_when_gone(state, request, run))
        try:
            await manager.wait(run)
        finally:
            watcher.cancel()
    else:
        await manager.wait(run)
    if run.error is not None:
        return {"__error__": run.error}
    return run.result


async def _cancel_when_gone(state: ServerState, request: Request, run: RunRecord) -> None:
    while not run.finished:
        if await request.is_disconnected():
            await state.runs.manager.request_cancel(run)
            return
        await asyncio.sleep(0.5)


def _last_event_id(value: str | None) -> int:
    if not value:
        return 0
    try:
        # ``7`` or ``7-0``: the Redis Stream entry id of event 7 (shared runs).
        return max(0, int(value.split("-", 1)[0]))
    except ValueError:
        raise InvalidInputError(f"Last-Event-ID {value!r} is not an event id") from None


# --- runs on a thread ---------------------------------------------------------------------


@router.post("/threads/{thread_id}/runs/stream", responses=SSE, response_class=Response)
async def stream_run(thread_id: str, body: RunCreate, state: State, user: CurrentUser) -> Any:
    """Start a run and stream its events."""
    run = await state.runs.create(user.user_id, thread_id, body)
    return _sse(
        state, run, _events(state, run, cancel_on_disconnect=body.on_disconnect == "cancel")
    )


@router.post("/threads/{thread_id}/runs/wait", response_model=Any)
async def wait_run(
    thread_id: str, body: RunCreate, request: Request, state: State, user: CurrentUser
) -> Any:
    """Start a run and answer with its final state."""
    run = await state.runs.create(user.user_id, thread_id, body)
    result = await _wait(state, run, body.on_disconnect == "cancel", request)
    return JSONResponse(_jsonable(result), headers=_headers(run, "/join"))


@router.post("/threads/{thread_id}/runs", response_model=Run)
async def create_run(thread_id: str, body: RunCreate, state: State, user: CurrentUser) -> Any:
    """Start a background run."""
    run = await state.runs.create(user.user_id, thread_id, body, background=True)
    return JSONResponse(run.as_dict(), headers=_headers(run, ""))


@router.get("/threads/{thread_id}/runs", response_model=list[Run])
async def list_runs(
    thread_id: str,
    state: State,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=1000)] = 10,
    offset: Annotated[int, Query(ge=0)] = 0,
    status: str | None = None,
) -> Any:
    """The thread's runs this server knows of, newest first."""
    await state.threads.latest(thread_id, user.user_id)
    runs = [
        r.as_dict()
        for r in await state.runs.manager.list_thread(thread_id)
        if status is None or r.status == status
    ]
    return runs[offset : offset + limit]


@router.get("/threads/{thread_id}/runs/{run_id}", response_model=Run)
async def get_run(thread_id: str, run_id: str, state: State, user: CurrentUser) -> Any:
    """One run."""
    run = await state.runs.manager.find(run_id, owner=user.user_id, thread_id=thread_id)
    return run.as_dict()


@router.delete("/threads/{thread_id}/runs/{run_id}", status_code=204, response_class=Response)
async def delete_run(thread_id: str, run_id: str, state: State, user: CurrentUser) -> Response:
    """Forget a run (cancelling it if it is still going)."""
    run = await state.runs.manager.find(run_id, owner=user.user_id, thread_id=thread_id)
    await state.runs.manager.remove(run)
    return Response(status_code=204)


@router.post("/threads/{thread_id}/runs/{run_id}/cancel", response_model=Any)
async def cancel_run(
    thread_id: str,
    run_id: str,
    state: State,
    user: CurrentUser,
    wait: bool = False,
    action: Literal["interrupt", "rollback"] = "interrupt",
) -> Any:
    """Cancel a run; it stops at its last checkpoint (resumable). ``wait`` waits for it."""
    run = await state.runs.manager.find(run_id, owner=user.user_id, thread_id=thread_id)
    await state.runs.manager.request_cancel(run, action=action)
    if wait:
        await state.runs.manager.wait(run)
        return JSONResponse(run.as_dict(), headers=_headers(run, "/join"))
    return Response(status_code=202, headers=_headers(run, "/join"))


@router.get("/threads/{thread_id}/runs/{run_id}/join", response_model=Any)
async def join_run(
    thread_id: str, run_id: str, request: Request, state: State, user: CurrentUser
) -> Any:
    """Wait for a run and answer with the thread's final state."""
    run = await state.runs.manager.find(run_id, owner=user.user_id, thread_id=thread_id)
    result = await _wait(state, run, False, request)
    return JSONResponse(_jsonable(result), headers=_headers(run, "/join"))


@router.get("/threads/{thread_id}/runs/{run_id}/stream", responses=SSE, response_class=Response)
async def join_stream(
    thread_id: str,
    run_id: str,
    state: State,
    user: CurrentUser,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    cancel_on_disconnect: bool = False,
    stream_mode: Annotated[list[str] | None, Query()] = None,
) -> Any:
    """Follow a run's events: from the start, or after ``Last-Event-ID`` to resume."""
    run = await state.runs.manager.find(run_id, owner=user.user_id, thread_id=thread_id)
    after = _last_event_id(last_event_id)
    # Event names carry the graph mode: ``messages-tuple`` streams as ``messages``.
    modes = [m.replace("messages-tuple", "messages") for m in stream_mode or [] if m]
    stream = _events(
        state, run, after=after, cancel_on_disconnect=cancel_on_disconnect, modes=modes or None
    )
    return _sse(state, run, stream)


@router.get("/threads/{thread_id}/stream", responses=SSE, response_class=Response)
async def join_thread_stream(
    thread_id: str,
    state: State,
    user: CurrentUser,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    stream_mode: Annotated[list[str] | None, Query()] = None,
) -> Any:
    """Follow the thread's newest run (the one going, or the last one)."""
    await state.threads.latest(thread_id, user.user_id)
    runs = await state.runs.manager.list_thread(thread_id)
    if not runs:
        raise ThreadNotFoundError(f"thread {thread_id!r} has no runs")
    going = [r for r in runs if not r.finished]
    run = await state.runs.manager.find(
        (going[-1] if going else runs[0]).run_id, owner=user.user_id, thread_id=thread_id
    )
    modes = [
        m.replace("messages-tuple", "messages") for m in stream_mode or [] if m and m != "run_modes"
    ]
    stream = _events(state, run, after=_last_event_id(last_event_id), modes=modes or None)
    return _sse(state, run, stream)


@router.post("/runs/cancel", status_code=204, response_class=Response)
async def cancel_many(
    body: RunsCancel,
    state: State,
    user: CurrentUser,
    action: Literal["interrupt", "rollback"] = "interrupt",
) -> Response:
    """Cancel runs: some of a thread's (``run_ids``), all of a thread's, or by status."""
    manager = state.runs.manager
    if body.thread_id:
        await state.threads.latest(body.thread_id, user.user_id)
        found = await manager.list_thread(body.thread_id)
        if body.run_ids:
            found = [r for r in found if r.run_id in set(body.run_ids)]
    elif body.run_ids:
        found = []
        for run_id in body.run_ids:
            found.append(await manager.find(run_id, owner=user.user_id))
    else:
        found = manager.owned(user.user_id)
    wanted = {"pending", "running"} if body.status in (None, "all") else {body.status}
    for run in found:
        if run.owner == user.user_id and run.status in wanted:
            await manager.request_cancel(run, action=action)
    return Response(status_code=204)


@router.post("/runs/batch", response_model=list[Run])
async def create_batch(body: list[RunCreate], state: State, user: CurrentUser) -> Any:
    """Several stateless background runs."""
    if len(body) > 100:
        raise InvalidInputError("at most 100 runs per batch")
    made = [await state.runs.create(user.user_id, None, b, background=True) for b in body]
    return [run.as_dict() for run in made]


# --- stateless runs -----------------------------------------------------------------------


@router.post("/runs/stream", responses=SSE, response_class=Response)
async def stream_stateless(body: RunCreate, state: State, user: CurrentUser) -> Any:
    """A run on a fresh thread, streamed; the thread is deleted after unless ``keep``."""
    run = await state.runs.create(user.user_id, None, body)
    return _sse(
        state, run, _events(state, run, cancel_on_disconnect=body.on_disconnect == "cancel")
    )


@router.post("/runs/wait", response_model=Any)
async def wait_stateless(body: RunCreate, request: Request, state: State, user: CurrentUser) -> Any:
    """A run on a fresh thread; answers with its final state."""
    run = await state.runs.create(user.user_id, None, body)
    result = await _wait(state, run, body.on_disconnect == "cancel", request)
    return JSONResponse(_jsonable(result), headers=_headers(run, ""))


@router.post("/runs", response_model=Run)
async def create_stateless(body: RunCreate, state: State, user: CurrentUser) -> Any:
    """A background run on a fresh thread."""
    run = await state.runs.create(user.user_id, None, body, background=True)
    return JSONResponse(run.as_dict(), headers=_headers(run, ""))


def _jsonable(value: Any) -> Any:
    from maximus.server._serde import to_jsonable

    return to_jsonable(value)
