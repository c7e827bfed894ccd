"""Session persistence: the checkpointer each thread is saved in.

With no Redis configured, sessions live in an embedded SQLite database in the data directory
(``langgraph-checkpoint-sqlite``), so ``--thread`` sessions survive restarts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from maximus.config import Settings, get_settings
from maximus.errors import ConfigError


def _sqlite_path(settings: Settings) -> str:
    if settings.redis_url:
        raise ConfigError(
            "MAXIMUS_REDIS_URL is set, but this version has no Redis checkpointer yet; "
            "unset it to use the embedded SQLite sessions"
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return str(settings.sessions_path)


@asynccontextmanager
async def open_checkpointer(
    settings: Settings | None = None,
) -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """The async checkpointer the settings call for, opened for the block."""
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    async with AsyncSqliteSaver.from_conn_string(_sqlite_path(settings or get_settings())) as saver:
        await saver.setup()
        yield saver


@contextmanager
def open_sync_checkpointer(
    settings: Settings | None = None,
) -> Iterator[BaseCheckpointSaver[Any]]:
    """The sync twin of :func:`open_checkpointer`, for ``graph.invoke``."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    with SqliteSaver.from_conn_string(_sqlite_path(settings or get_settings())) as saver:
        saver.setup()
        yield saver


__all__ = ["open_checkpointer", "open_sync_checkpointer"]
