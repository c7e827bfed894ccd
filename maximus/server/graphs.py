"""The graphs a server serves, compiled once at start-up against the server's checkpointer.

A graph is registered as a factory: a callable taking :class:`GraphDeps` and returning a
compiled LangGraph graph. ``maximus`` (the agent) is always there unless replaced; more come
from ``ServerSettings.graphs`` (``{"id": "module:factory"}``) or ``create_app(graphs=...)``.
Each graph is one assistant, whose id is a stable UUID derived from the graph id (as
``langgraph-api`` does), and which also answers to the graph id itself.
"""

from __future__ import annotations

import importlib
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from maximus.config import Settings
from maximus.errors import ConfigError, ThreadNotFoundError

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from maximus.memory.lessons import LessonSink
    from maximus.plugins.manager import PluginManager
    from maximus.server.lazy import LazyMemory

ASSISTANT_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")
"""``uuid5`` namespace for assistant ids (the one ``langgraph-api`` uses)."""
CREATED_AT = "2026-01-01T00:00:00+00:00"


@dataclass(frozen=True, slots=True)
class GraphDeps:
    """What a graph factory may use: the server's shared resources."""

    checkpointer: BaseCheckpointSaver[Any]
    settings: Settings
    lesson_sink: LessonSink | None = None
    plugins: PluginManager | None = None
    memory: LazyMemory | None = None
    """Long-term memory, opened on first use; ``None`` or unavailable means none."""


GraphFactory = Callable[[GraphDeps], Any]
"""Builds a compiled graph (``Pregel``) over the server's checkpointer."""


def agent_factory(deps: GraphDeps) -> Any:
    """The Maximus agent over the server's checkpointer, lesson sink, plugins and memory."""
    from maximus.graphs.agent import create_agent

    return create_agent(
        settings=deps.settings,
        checkpointer=deps.checkpointer,
        lesson_sink=deps.lesson_sink,
        plugins=deps.plugins,
        memory=deps.memory.get_or_none() if deps.memory is not None else None,
    )


def load_factory(spec: str) -> GraphFactory:
    """Import ``module:attribute``.

    Raises:
        ConfigError: the spec is malformed, or the module or attribute cannot be found.
    """
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ConfigError(f"graph factory {spec!r} must look like 'package.module:factory'")
    try:
        target = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ConfigError(f"cannot load graph factory {spec!r}: {exc}") from exc
    if not callable(target):
        raise ConfigError(f"graph factory {spec!r} is not callable")
    return target


def assistant_id_for(graph_id: str) -> str:
    return str(uuid.uuid5(ASSISTANT_NAMESPACE, graph_id))


class GraphRegistry:
    """Compiled graphs by graph id, and their assistants.

    Graphs are compiled on first use (or by :meth:`warm`, which the server runs right after
    start-up): compiling imports LangGraph and the models, and opens memory, none of which
    the readiness probe should wait for.
    """

    def __init__(
        self, factories: Mapping[str, GraphFactory], deps: GraphDeps | Callable[[], GraphDeps]
    ) -> None:
        self._factories = dict(factories)
        self._deps = deps
        self._compiled: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._by_assistant = {assistant_id_for(gid): gid for gid in self._factories}

    @property
    def _graphs(self) -> dict[str, Any]:
        if self._compiled is None:
            with self._lock:
                if self._compiled is None:
                    deps = self._deps() if callable(self._deps) else self._deps
                    self._compiled = {gid: f(deps) for gid, f in self._factories.items()}
        return self._compiled

    @property
    def warmed(self) -> bool:
        return self._compiled is not None

    def warm(self) -> None:
        """Compile every graph now (blocking: run it in a thread)."""
        self._graphs  # noqa: B018 - the property compiles

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        deps: GraphDeps | Callable[[], GraphDeps],
        extra: Mapping[str, GraphFactory] | None = None,
    ) -> GraphRegistry:
        factories: dict[str, GraphFactory] = {"maximus": agent_factory}
        factories.update({gid: load_factory(spec) for gid, spec in settings.server.graphs.items()})
        factories.update(extra or {})
        return cls(factories, deps)

    def resolve(self, assistant_id: str) -> tuple[str, Any]:
        """``(graph_id, graph)`` for an assistant id or a graph id.

        Raises:
            ThreadNotFoundError: no such assistant (answered as 404).
        """
        graph_id = self._by_assistant.get(assistant_id) or (
            assistant_id if assistant_id in self._factories else None
        )
        if graph_id is None:
            raise ThreadNotFoundError(f"no assistant {assistant_id!r}")
        return graph_id, self._graphs[graph_id]

    def assistants(self) -> list[dict[str, Any]]:
        """Every assistant, in the SDK's ``Assistant`` shape."""
        return [self.assistant(gid) for gid in sorted(self._factories)]

    def assistant(self, graph_id: str) -> dict[str, Any]:
        graph = self._graphs[graph_id]
        return {
            "assistant_id": assistant_id_for(graph_id),
            "graph_id": graph_id,
            "config": {},
            "context": {},
            "metadata": {"created_by": "system"},
            "name": graph_id,
            "description": getattr(graph, "description", None),
            "version": 1,
            "created_at": CREATED_AT,
            "updated_at": CREATED_AT,
        }

    def default(self) -> Any:
        """The agent, or the first graph when the agent was replaced."""
        return self._graphs.get("maximus") or next(iter(self._graphs.values()))

    def graph(self, graph_id: str) -> Any:
        return self._graphs[graph_id]


__all__ = [
    "GraphDeps",
    "GraphFactory",
    "GraphRegistry",
    "agent_factory",
    "assistant_id_for",
    "load_factory",
]
