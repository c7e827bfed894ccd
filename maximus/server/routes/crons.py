"""``/runs/crons``: runs on a schedule, for a thread or stateless (owner-scoped)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from maximus.server.deps import CurrentUser, State
from maximus.server.schemas import Cron, CronCount, CronCreate, CronPatch, CronSearch

router = APIRouter(tags=["crons"])


@router.post("/threads/{thread_id}/runs/crons", response_model=Cron)
async def create_thread_cron(
    thread_id: str, body: CronCreate, state: State, user: CurrentUser
) -> Any:
    """A cron whose runs go to one of the caller's threads."""
    await state.threads.latest(thread_id, user.user_id)
    await state.assistants.resolve(body.assistant_id, user.user_id)
    return await state.crons.create(user.user_id, thread_id, body)


@router.post("/runs/crons", response_model=Cron)
async def create_cron(body: CronCreate, state: State, user: CurrentUser) -> Any:
    """A cron whose runs are stateless."""
    await state.assistants.resolve(body.assistant_id, user.user_id)
    return await state.crons.create(user.user_id, None, body)


@router.patch("/runs/crons/{cron_id}", response_model=Cron)
async def update_cron(cron_id: str, body: CronPatch, state: State, user: CurrentUser) -> Any:
    """Change a cron's schedule, end, enabled flag or run payload."""
    return await state.crons.update(cron_id, user.user_id, body)


@router.delete("/runs/crons/{cron_id}", status_code=204, response_class=Response)
async def delete_cron(cron_id: str, state: State, user: CurrentUser) -> Response:
    """Delete a cron (runs it already made stay)."""
    await state.crons.delete(cron_id, user.user_id)
    return Response(status_code=204)


@router.post("/runs/crons/search", response_model=list[Cron])
async def search_crons(body: CronSearch, state: State, user: CurrentUser) -> Any:
    """The caller's crons, newest first."""
    filters = body.model_dump(exclude={"limit", "offset"})
    found = await state.crons.search(user.user_id, filters)
    return found[body.offset : body.offset + body.limit]


@router.post("/runs/crons/count", response_model=int)
async def count_crons(body: CronCount, state: State, user: CurrentUser) -> int:
    """How many of the caller's crons match."""
    return len(await state.crons.search(user.user_id, body.model_dump()))
