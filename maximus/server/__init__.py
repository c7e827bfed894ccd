"""The HTTP server: a LangGraph-SDK-compatible API for Maximus (FastAPI + SSE).

``create_app(settings)`` builds the app; ``maximus serve`` runs it under uvicorn. Names are
imported lazily so that ``import maximus.server`` (and the CLI) stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from maximus.server.app import create_app
    from maximus.server.auth import hash_key
    from maximus.server.graphs import GraphDeps, GraphFactory

_EXPORTS = {
    "create_app": "maximus.server.app",
    "hash_key": "maximus.server.auth",
    "GraphDeps": "maximus.server.graphs",
    "GraphFactory": "maximus.server.graphs",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["GraphDeps", "GraphFactory", "create_app", "hash_key"]
