"""Sessions: the checkpointer each thread is saved in, and helpers over a user's threads.

With ``MAXIMUS_REDIS_URL`` set, sessions live in Redis (:mod:`maximus.memory.checkpoint`:
any Redis 6.2+, Valkey, Cluster or Sentinel, no modules). Otherwise they live in an embedded
SQLite database in the data directory (``langgraph-checkpoint-sqlite``), so ``--thread``
sessions survive restarts either way.

The thread helpers work on any LangGraph saver. A thread belongs to the ``user_id`` its runs
carried in ``configurable``; asking for another user's thread is the same as asking for one
that does not exist (:class:`~maximus.errors.ThreadNotFoundError`), so ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, NamedTuple

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple

from maximus.config import Settings, get_settings
from maximus.errors import ThreadNotFoundError
from maximus.memory.checkpoint import AsyncRedisSaver, RedisSaver


class ThreadSummary(NamedTuple):
    """What a thread's latest root checkpoint says about it."""

    thread_id: str
    user_id: str | None
    checkpoint_id: str
    updated_at: str
    """ISO time of the latest checkpoint."""
    step: int | None
    values: dict[str, Any]
    """The thread's state (channel values) at its latest checkpoint."""


def _saver_options(settings: Settings) -> dict[str, Any]:
    return {
        "prefix": settings.sessions.key_prefix,
        "ttl": settings.sessions.ttl_seconds,
        "refresh_on_read": settings.sessions.refresh_on_read,
    }


def _sqlite_path(settings: Settings) -> str:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return str(settings.sessions_path)


@asynccontextmanager
async def open_checkpointer(
    settings: Settings | None = None,
) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """The async checkpointer the settings call for (Redis or SQLite), set up, for the block.

    Raises:
        StoreUnavailableError: Redis is configured but cannot be reached.
    """
    settings = settings or get_settings()
    if settings.redis_url:
        async with AsyncRedisSaver.from_url(
            settings.redis_url, **_saver_options(settings)
        ) as saver:
            await saver.asetup()
            yield saver
        return
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with AsyncSqliteSaver.from_conn_string(_sqlite_path(settings)) as sqlite:
        await sqlite.setup()
        yield sqlite


@contextmanager
def open_sync_checkpointer(
    settings: Settings | None = None,
) -> Iterator[BaseCheckpointSaver[Any]]:
    """The sync twin of :func:`open_checkpointer`, for ``graph.invoke``."""
    settings = settings or get_settings()
    if settings.redis_url:
        with RedisSaver.from_url(settings.redis_url, **_saver_options(settings)) as saver:
            saver.setup()
            yield saver
        return
    from langgraph.checkpoint.sqlite import SqliteSaver

    with SqliteSaver.from_conn_string(_sqlite_path(settings)) as sqlite:
        sqlite.setup()
        yield sqlite


def _root(thread_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}


def _summary(tup: CheckpointTuple | None, thread_id: str, user_id: str | None) -> ThreadSummary:
    owner = tup.metadata.get("user_id") if tup else None
    if tup is None or (user_id is not None and owner != user_id):
        raise ThreadNotFoundError(f"no thread {thread_id!r}")
    return ThreadSummary(
        thread_id=thread_id,
        user_id=str(owner) if owner is not None else None,
        checkpoint_id=tup.checkpoint["id"],
        updated_at=tup.checkpoint["ts"],
        step=tup.metadata.get("step"),
        values=dict(tup.checkpoint.get("channel_values", {})),
    )


def _seen_enough(
    seen: dict[str, ThreadSummary], tup: CheckpointTuple, user_id: str | None, limit: int
) -> bool:
    """Add ``tup``'s thread to ``seen`` when it is a root checkpoint of a thread not seen yet
    (checkpoints come newest first); whether ``seen`` now holds ``limit`` threads."""
    thread_id = tup.config["configurable"]["thread_id"]
    if tup.config["configurable"].get("checkpoint_ns") or thread_id in seen:
        return False
    seen[thread_id] = _summary(tup, thread_id, user_id)
    return len(seen) >= limit


async def aget_thread(
    saver: BaseCheckpointSaver[Any], thread_id: str, *, user_id: str | None = None
) -> ThreadSummary:
    """A thread's summary; ``user_id`` restricts to that user's threads.

    Raises:
        ThreadNotFoundError: no such thread, or it belongs to another user.
    """
    return _summary(await saver.aget_tuple(_root(thread_id)), thread_id, user_id)


async def alist_threads(
    saver: BaseCheckpointSaver[Any], *, user_id: str | None = None, limit: int = 50
) -> list[ThreadSummary]:
    """The newest ``limit`` threads (only ``user_id``'s when given), newest first."""
    if isinstance(saver, AsyncRedisSaver):
        found = []
        for thread_id in await saver.athread_ids(user_id=user_id, limit=limit):
            try:
                found.append(await aget_thread(saver, thread_id, user_id=user_id))
            except ThreadNotFoundError:  # expired or deleted since the registry read
                continue
        return found
    seen: dict[str, ThreadSummary] = {}
    async for tup in saver.alist(None, filter={"user_id": user_id} if user_id else None):
        if _seen_enough(seen, tup, user_id, limit):
            break
    return sorted(seen.values(), key=lambda s: s.updated_at, reverse=True)


async def adelete_thread(
    saver: BaseCheckpointSaver[Any], thread_id: str, *, user_id: str | None = None
) -> None:
    """Delete a thread and everything checkpointed for it.

    Raises:
        ThreadNotFoundError: no such thread, or it belongs to another user.
    """
    await aget_thread(saver, thread_id, user_id=user_id)
    await saver.adelete_thread(thread_id)


def get_thread(
    saver: BaseCheckpointSaver[Any], thread_id: str, *, user_id: str | None = None
) -> ThreadSummary:
    """Sync twin of :func:`aget_thread`."""
    return _summary(saver.get_tuple(_root(thread_id)), thread_id, user_id)


def list_threads(
    saver: BaseCheckpointSaver[Any], *, user_id: str | None = None, limit: int = 50
) -> list[ThreadSummary]:
    """Sync twin of :func:`alist_threads`."""
    if isinstance(saver, RedisSaver):
        found = []
        for thread_id in saver.thread_ids(user_id=user_id, limit=limit):
            try:
                found.append(get_thread(saver, thread_id, user_id=user_id))
            except ThreadNotFoundError:
                continue
        return found
    seen: dict[str, ThreadSummary] = {}
    for tup in saver.list(None, filter={"user_id": user_id} if user_id else None):
        if _seen_enough(seen, tup, user_id, limit):
            break
    return sorted(seen.values(), key=lambda s: s.updated_at, reverse=True)


def delete_thread(
    saver: BaseCheckpointSaver[Any], thread_id: str, *, user_id: str | None = None
) -> None:
    """Sync twin of :func:`adelete_thread`."""
    get_thread(saver, thread_id, user_id=user_id)
    saver.delete_thread(thread_id)


__all__ = [
    "ThreadSummary",
    "adelete_thread",
    "aget_thread",
    "alist_threads",
    "delete_thread",
    "get_thread",
    "list_threads",
    "open_checkpointer",
    "open_sync_checkpointer",
]
