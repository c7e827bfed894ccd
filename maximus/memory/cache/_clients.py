"""How the cache builds its Redis clients: fail-fast options and one async client per loop.

The sync client (``redis.Redis``) and the async one (``redis.asyncio.Redis``) cannot share one
pool object in redis-py, so each flavour gets its own, built from the same URL and
:func:`client_options`. redis.asyncio connections bind to the event loop that made them, so
:class:`LoopBound` rebuilds the async client when another loop asks for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.retry import Retry

from maximus.memory._redis import AsyncRedis


def client_options(async_: bool, socket_timeout: float, connect_timeout: float) -> dict[str, Any]:
    """Fail-fast client options: one immediate retry covers a pooled socket gone stale."""
    return {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": connect_timeout,
        "retry": AsyncRetry(NoBackoff(), 1) if async_ else Retry(NoBackoff(), 1),
    }


class LoopBound:
    """An async client built per event loop, since redis.asyncio connections bind to one."""

    def __init__(self, build: Callable[[], AsyncRedis]) -> None:
        self._build = build
        self.client: AsyncRedis | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> AsyncRedis:
        loop = asyncio.get_running_loop()
        if self.client is None or self._loop is not loop:
            # a client of another (finished) loop cannot be closed from this one; drop it
            self.client, self._loop = self._build(), loop
        return self.client

    def take(self) -> AsyncRedis | None:
        """Detach the client if this loop may close it (a finished loop's client is dropped)."""
        client, self.client = self.client, None
        return client if self._loop in (None, asyncio.get_running_loop()) else None
