"""Maximus: stateful LLM agents on LangGraph that plan, simulate, execute and reflect."""

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

# Long-term MIRIX memory (issue 4): records and the store; engines load on first use.
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
from maximus.plugins import BasePlugin, PluginManager, PluginType, SubGraph, get_plugin_manager
from maximus.thinking import TaskSignals, choose_mode, thinking_params
from maximus.tools import ToolRegistry, side_effecting


# The HTTP server (issue 6): ``create_app`` loads FastAPI on first use, not at import.
def __getattr__(name: str) -> object:
    if name == "create_app":
        from maximus.server.app import create_app

        return create_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "MEMORY_TYPES",
    "MemoryRecord",
    "MemoryStore",
    "MemoryType",
    "SearchResult",
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
    "MaximusError",
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
    "create_app",
    "create_agent",
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
