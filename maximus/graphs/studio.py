"""What ``langgraph.json`` hands to LangGraph's API server (``langgraph dev``, Studio).

``graph`` is the agent, compiled without a checkpointer (the server brings its own). Only
the API server imports this module, so it is built eagerly here; ``maximus.graphs.agent``
keeps its own ``graph`` lazy so that ``import maximus`` stays cheap.

``checkpointer`` is the ``checkpointer.path`` target. With ``MAXIMUS_REDIS_URL`` set, the
server keeps threads in Maximus's Redis checkpointer, so Studio, ``maximus serve`` and the
CLI share sessions. Without it, the server keeps its own default (the in-memory runtime's
saver, persisted under ``.langgraph_api/``), exactly as if no checkpointer were configured.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver

from maximus.config import get_settings
from maximus.graphs.agent import AgentGraph, create_agent

__all__ = ["checkpointer", "graph"]

graph: AgentGraph = create_agent()


@asynccontextmanager
async def checkpointer() -> AsyncIterator[BaseCheckpointSaver[Any]]:
    """The API server's checkpointer: Maximus's Redis saver, or the server's own default."""
    settings = get_settings()
    if settings.redis_url:
        from maximus.memory.checkpoint.sessions import open_checkpointer

        async with open_checkpointer(settings) as saver:
            yield saver
        return
    # The runtime's default saver, built the way the server builds it when nothing is set.
    from langgraph_runtime.checkpoint import Checkpointer

    saver = Checkpointer()
    try:
        yield saver
    finally:
        close = getattr(saver, "__aexit__", None)
        if close is not None:
            await close(None, None, None)
