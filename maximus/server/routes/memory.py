"""``/memory``: the caller's long-term MIRIX memory: add, search, list, get and delete per type.

Every record belongs to the caller: the server sets ``user_id`` from the credentials, so
another user's records answer 404, exactly like missing ones. Vault entries always come back
redacted; a secret is revealed only to the agent, through its ``reveal_secret`` tool under
the sensitivity policy, never over this API.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from maximus.memory.longterm.records import MemoryType
from maximus.server.deps import CurrentUser, State

router = APIRouter(prefix="/memory", tags=["memory"])


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MemoryPage(_Out):
    records: list[dict[str, Any]]
    next_offset: str | None = None


class MemoryHit(_Out):
    record: dict[str, Any]
    score: float


class MemorySearch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=4000)
    types: list[MemoryType] | None = None
    k: int = Field(default=5, ge=1, le=100)
    tags: list[str] = Field(default_factory=list)
    since: datetime | None = None
    before: datetime | None = None


def _out(record: Any) -> dict[str, Any]:
    data: dict[str, Any] = record.model_dump(mode="json")
    return data


async def _store(state: State) -> Any:
    return await asyncio.to_thread(state.memory.get)


@router.post("/search", response_model=list[MemoryHit])
async def search_memory(body: MemorySearch, state: State, user: CurrentUser) -> Any:
    """The caller's records most relevant to ``query``, best first (hybrid, recency-weighted)."""
    store = await _store(state)
    # The body's fields are the search's own keywords (``query`` is positional).
    hits = await store.asearch(
        body.query, user_id=user.user_id, **body.model_dump(exclude={"query"})
    )
    return [{"record": _out(hit.record), "score": hit.score} for hit in hits]


@router.post("/{kind}", response_model=dict[str, Any], status_code=201)
async def add_memory(
    kind: MemoryType, body: dict[str, Any], state: State, user: CurrentUser
) -> Any:
    """Store one record of ``kind`` for the caller (an existing id of the caller's is replaced)."""
    store = await _store(state)
    record = {**body, "kind": kind, "user_id": user.user_id}
    if record.get("id") is not None:
        # An id already taken by someone else's record must not be overwritten: 404 as if absent.
        await _not_foreign(store, kind, str(record["id"]), user.user_id)
    [stored] = await store.aadd(record)
    return _out(stored)


@router.get("/{kind}", response_model=MemoryPage)
async def list_memory(
    kind: MemoryType,
    state: State,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    offset: Annotated[str | None, Query(max_length=200)] = None,
    tags: Annotated[list[str] | None, Query()] = None,
    since: datetime | None = None,
    before: datetime | None = None,
) -> Any:
    """A page of the caller's live records of ``kind``; pass ``next_offset`` for the next."""
    store = await _store(state)
    page = await store.alist(
        kind,
        user_id=user.user_id,
        limit=limit,
        offset=offset,
        tags=tags or [],
        since=since,
        before=before,
    )
    return {"records": [_out(r) for r in page.records], "next_offset": page.next_offset}


@router.get("/{kind}/{record_id}", response_model=dict[str, Any])
async def get_memory(kind: MemoryType, record_id: str, state: State, user: CurrentUser) -> Any:
    """One of the caller's records."""
    store = await _store(state)
    return _out(await store.aget(kind, record_id, user_id=user.user_id))


@router.delete("/{kind}/{record_id}", status_code=204, response_class=Response)
async def delete_memory(
    kind: MemoryType, record_id: str, state: State, user: CurrentUser
) -> Response:
    """Forget one of the caller's records."""
    store = await _store(state)
    await store.adelete(kind, record_id, user_id=user.user_id)
    return Response(status_code=204)


async def _not_foreign(store: Any, kind: MemoryType, record_id: str, user_id: str) -> None:
    from maximus.errors import MemoryNotFoundError

    payloads = await asyncio.to_thread(store.backend.get, kind, [record_id])
    if any(p.get("user_id") != user_id for p in payloads):
        raise MemoryNotFoundError(f"no {kind} memory {record_id!r}")


__all__ = ["router"]
