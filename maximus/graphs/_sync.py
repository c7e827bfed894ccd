"""Sync twins for async nodes, so ``graph.invoke`` works as well as ``graph.ainvoke``.

The nodes are written once, async. For sync runs, their coroutines run on one long-lived
event loop in a daemon thread: a loop per call would strand async clients (HTTP pools bound
to a loop) that chat models cache. ``call_soon_threadsafe`` copies the caller's contextvars,
so ``interrupt()`` and ``get_config()`` see the running graph.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from langchain_core.runnables import RunnableConfig, RunnableLambda
from langgraph.runtime import get_runtime

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def _bridge_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="maximus-sync", daemon=True)
            thread.start()
            _loop = loop
        return _loop


def run_sync(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` to completion from sync code (also from inside a running loop's thread)."""
    return asyncio.run_coroutine_threadsafe(coro, _bridge_loop()).result()


def dual_node(
    afunc: Callable[..., Awaitable[dict[str, Any]]], *, wants_config: bool = False
) -> RunnableLambda[Any, dict[str, Any]]:
    """Wrap an async ``node(state, runtime)`` (or ``node(state, config)``) as a sync+async node."""

    def _args(state: Any, config: RunnableConfig) -> tuple[Any, Any]:
        return state, (config if wants_config else get_runtime())

    async def _async(state: Any, config: RunnableConfig) -> dict[str, Any]:
        return await afunc(*_args(state, config))

    def _sync(state: Any, config: RunnableConfig) -> dict[str, Any]:
        return run_sync(afunc(*_args(state, config)))  # type: ignore[arg-type]

    return RunnableLambda(_sync, afunc=_async, name=getattr(afunc, "__name__", None))
