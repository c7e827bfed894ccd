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

from langchain_core.runnables import Runnable, RunnableConfig
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


class DualNode(Runnable[Any, dict[str, Any]]):
    """A graph node with both ``invoke`` and ``ainvoke``, written once as ``async def``.

    LangGraph already traces each task as a run named after the node (it adds nodes with
    ``trace=False``), so this wrapper adds no callback run of its own: it only calls through.

    Args:
        afunc: ``async def node(state, runtime)``, or ``(state, config)`` with ``wants_config``.
        wants_config: pass the ``RunnableConfig`` instead of the ``Runtime``.
    """

    def __init__(
        self, afunc: Callable[..., Awaitable[dict[str, Any]]], *, wants_config: bool = False
    ) -> None:
        self.afunc = afunc
        self.wants_config = wants_config
        self.name = getattr(afunc, "__name__", None)

    def _call(self, state: Any, config: RunnableConfig | None) -> Awaitable[dict[str, Any]]:
        second = config if self.wants_config else get_runtime()
        return self.afunc(state, second)

    def invoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Run the node from sync code (``graph.invoke``)."""
        return run_sync(self._call(input, config))  # type: ignore[arg-type]

    async def ainvoke(
        self, input: Any, config: RunnableConfig | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        """Run the node (``graph.ainvoke``)."""
        return await self._call(input, config)
