"""Maximus: stateful LLM agents on LangGraph that plan, simulate, execute and reflect."""

from maximus.config import AgentSettings, RoleModels, Settings, get_settings, load_settings
from maximus.errors import (
    ConfigError,
    ErrorCode,
    InvalidInputError,
    MaximusError,
    ModelOutputError,
    ThreadNotFoundError,
    ToolRegistryError,
)
from maximus.graphs import AgentInput, AgentState, RunOptions, build_graph, create_agent
from maximus.memory import (
    InProcessLessonSink,
    Lesson,
    LessonSink,
    Priority,
    open_checkpointer,
    open_sync_checkpointer,
)
from maximus.models import ModelResolver
from maximus.thinking import TaskSignals, choose_mode, thinking_params
from maximus.tools import ToolRegistry, side_effecting

__version__ = "0.1.0"

__all__ = [
    "AgentInput",
    "AgentSettings",
    "AgentState",
    "ConfigError",
    "ErrorCode",
    "InProcessLessonSink",
    "InvalidInputError",
    "Lesson",
    "LessonSink",
    "MaximusError",
    "ModelOutputError",
    "ModelResolver",
    "Priority",
    "RoleModels",
    "RunOptions",
    "Settings",
    "TaskSignals",
    "ThreadNotFoundError",
    "ToolRegistry",
    "ToolRegistryError",
    "__version__",
    "build_graph",
    "choose_mode",
    "create_agent",
    "get_settings",
    "load_settings",
    "open_checkpointer",
    "open_sync_checkpointer",
    "side_effecting",
    "thinking_params",
]
