"""Maximus: stateful LLM agents on LangGraph that plan, simulate, execute and reflect.

Every public name is importable from here, and loads on first use: ``import maximus`` (and
``maximus serve``'s start-up) does not pay for LangGraph, the memory engines or FastAPI until
they are needed.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from maximus._version import __version__

_EXPORTS: dict[str, str] = {
    "AgentSettings": "maximus.config",
    "RoleModels": "maximus.config",
    "ServerSettings": "maximus.config",
    "SessionSettings": "maximus.config",
    "Settings": "maximus.config",
    "get_settings": "maximus.config",
    "load_settings": "maximus.config",
    "ConfigError": "maximus.errors",
    "ConflictError": "maximus.errors",
    "CorruptRecordError": "maximus.errors",
    "ErrorCode": "maximus.errors",
    "InvalidInputError": "maximus.errors",
    "MaximusError": "maximus.errors",
    "ModelOutputError": "maximus.errors",
    "PluginError": "maximus.errors",
    "StoreUnavailableError": "maximus.errors",
    "ThreadNotFoundError": "maximus.errors",
    "ToolRegistryError": "maximus.errors",
    "AgentInput": "maximus.graphs",
    "AgentState": "maximus.graphs",
    "RunOptions": "maximus.graphs",
    "build_graph": "maximus.graphs",
    "create_agent": "maximus.graphs",
    "AsyncRedisSaver": "maximus.memory",
    "CacheManager": "maximus.memory",
    "InProcessLessonSink": "maximus.memory",
    "Lesson": "maximus.memory",
    "LessonSink": "maximus.memory",
    "MEMORY_TYPES": "maximus.memory",
    "MemoryRecord": "maximus.memory",
    "MemoryStore": "maximus.memory",
    "MemoryType": "maximus.memory",
    "Priority": "maximus.memory",
    "RedisLessonQueue": "maximus.memory",
    "RedisSaver": "maximus.memory",
    "SearchResult": "maximus.memory",
    "ThreadSummary": "maximus.memory",
    "adelete_thread": "maximus.memory",
    "aget_thread": "maximus.memory",
    "alist_threads": "maximus.memory",
    "delete_thread": "maximus.memory",
    "get_thread": "maximus.memory",
    "list_threads": "maximus.memory",
    "open_checkpointer": "maximus.memory",
    "open_lesson_sink": "maximus.memory",
    "open_sync_checkpointer": "maximus.memory",
    "ModelResolver": "maximus.models",
    "BasePlugin": "maximus.plugins",
    "PluginManager": "maximus.plugins",
    "PluginType": "maximus.plugins",
    "SubGraph": "maximus.plugins",
    "get_plugin_manager": "maximus.plugins",
    "create_app": "maximus.server.app",
    "TaskSignals": "maximus.models.thinking",
    "choose_mode": "maximus.models.thinking",
    "thinking_params": "maximus.models.thinking",
    "ToolRegistry": "maximus.tools",
    "side_effecting": "maximus.tools",
}

if TYPE_CHECKING:
    from maximus.config import (
        AgentSettings,
        RoleModels,
        ServerSettings,
        SessionSettings,
        Settings,
        get_settings,
        load_settings,
    )
    from maximus.errors import (
        ConfigError,
        ConflictError,
        CorruptRecordError,
        ErrorCode,
        InvalidInputError,
        MaximusError,
        ModelOutputError,
        PluginError,
        StoreUnavailableError,
        ThreadNotFoundError,
        ToolRegistryError,
    )
    from maximus.graphs import AgentInput, AgentState, RunOptions, build_graph, create_agent
    from maximus.memory import (
        MEMORY_TYPES,
        AsyncRedisSaver,
        CacheManager,
        InProcessLessonSink,
        Lesson,
        LessonSink,
        MemoryRecord,
        MemoryStore,
        MemoryType,
        Priority,
        RedisLessonQueue,
        RedisSaver,
        SearchResult,
        ThreadSummary,
        adelete_thread,
        aget_thread,
        alist_threads,
        delete_thread,
        get_thread,
        list_threads,
        open_checkpointer,
        open_lesson_sink,
        open_sync_checkpointer,
    )
    from maximus.models import ModelResolver
    from maximus.models.thinking import TaskSignals, choose_mode, thinking_params
    from maximus.plugins import BasePlugin, PluginManager, PluginType, SubGraph, get_plugin_manager
    from maximus.server.app import create_app
    from maximus.tools import ToolRegistry, side_effecting


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "AgentInput",
    "AgentSettings",
    "AgentState",
    "AsyncRedisSaver",
    "BasePlugin",
    "CacheManager",
    "ConfigError",
    "ConflictError",
    "CorruptRecordError",
    "ErrorCode",
    "InProcessLessonSink",
    "InvalidInputError",
    "Lesson",
    "LessonSink",
    "MEMORY_TYPES",
    "MaximusError",
    "MemoryRecord",
    "MemoryStore",
    "MemoryType",
    "ModelOutputError",
    "ModelResolver",
    "PluginError",
    "PluginManager",
    "PluginType",
    "Priority",
    "RedisLessonQueue",
    "RedisSaver",
    "RoleModels",
    "RunOptions",
    "SearchResult",
    "ServerSettings",
    "SessionSettings",
    "Settings",
    "StoreUnavailableError",
    "SubGraph",
    "TaskSignals",
    "ThreadNotFoundError",
    "ThreadSummary",
    "ToolRegistry",
    "ToolRegistryError",
    "__version__",
    "adelete_thread",
    "aget_thread",
    "alist_threads",
    "build_graph",
    "choose_mode",
    "create_agent",
    "create_app",
    "delete_thread",
    "get_plugin_manager",
    "get_settings",
    "get_thread",
    "list_threads",
    "load_settings",
    "open_checkpointer",
    "open_lesson_sink",
    "open_sync_checkpointer",
    "side_effecting",
    "thinking_params",
]
