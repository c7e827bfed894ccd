"""The agent graph: plan → simulate → (approve) → execute → reflect → … → respond.

``build_graph`` wires the nodes; ``create_agent`` compiles it with a checkpointer and store.
The module-level ``graph`` (compiled without a checkpointer, as LangGraph's API server
expects) is what ``langgraph.json`` loads; building it does no I/O and needs no model.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.store.base import BaseStore
from langgraph.types import RetryPolicy

from maximus.config import Role, Settings, get_settings
from maximus.errors import ConfigError, ModelOutputError
from maximus.graphs._sync import DualNode
from maximus.graphs.context import AgentDeps, RunOptions
from maximus.graphs.state import AgentInput, AgentState
from maximus.memory.lessons import InProcessLessonSink, LessonSink
from maximus.models import ModelLike, ModelResolver
from maximus.nodes import (
    after_approve,
    after_plan,
    after_reflect,
    after_simulate,
    make_approve_node,
    make_execute_node,
    make_plan_node,
    make_reflect_node,
    make_respond_node,
    make_simulate_node,
)
from maximus.tools.builtin import builtin_tools
from maximus.tools.registry import ToolLike, ToolRegistry

if TYPE_CHECKING:
    from maximus.memory.longterm.store import MemoryStore
    from maximus.plugins.manager import PluginManager

AgentGraph = CompiledStateGraph[AgentState, RunOptions, AgentInput, AgentState]


def build_graph(deps: AgentDeps, *, retries: int = 3) -> StateGraph[Any, Any, Any, Any]:
    """The uncompiled agent graph over ``deps``.

    Args:
        deps: models, tools and the lesson sink the nodes use.
        retries: attempts for a node whose model output does not parse.
    """
    retry = RetryPolicy(max_attempts=retries, initial_interval=0.05, retry_on=ModelOutputError)
    builder = StateGraph(AgentState, context_schema=RunOptions, input_schema=AgentInput)
    builder.add_node("plan", DualNode(make_plan_node(deps)), retry_policy=retry)
    builder.add_node("simulate", DualNode(make_simulate_node(deps)), retry_policy=retry)
    builder.add_node("approve", DualNode(make_approve_node(deps)))
    builder.add_node("execute", DualNode(make_execute_node(deps), wants_config=True))
    builder.add_node("reflect", DualNode(make_reflect_node(deps)), retry_policy=retry)
    builder.add_node("respond", DualNode(make_respond_node(deps)))
    builder.add_edge(START, "plan")
    builder.add_conditional_edges("plan", after_plan)
    builder.add_conditional_edges("simulate", after_simulate)
    builder.add_conditional_edges("approve", after_approve)
    builder.add_edge("execute", "reflect")
    builder.add_conditional_edges("reflect", after_reflect)
    builder.add_edge("respond", END)
    return builder


def create_agent(
    model: ModelLike | None = None,
    *,
    tools: Iterable[ToolLike] | ToolRegistry | None = None,
    models: Mapping[Role, ModelLike] | None = None,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    store: BaseStore | None = None,
    settings: Settings | None = None,
    lesson_sink: LessonSink | None = None,
    include_builtin_tools: bool = True,
    plugins: PluginManager | None = None,
    memory: MemoryStore | None = None,
) -> AgentGraph:
    """A compiled Maximus agent.

    Args:
        model: the main chat model, an instance or a ``provider:model`` spec; defaults to the
            settings. Nothing is resolved until the first run.
        tools: extra tools (or a whole registry) for the executor.
        models: per-role models (planner, policy, world_model, critic, executor, reflector).
        checkpointer: where sessions are saved; see :func:`maximus.open_checkpointer`.
        store: a LangGraph store, passed through to nodes and tools.
        settings: the settings; defaults to :func:`maximus.get_settings` at first use.
        lesson_sink: where reflection's lessons go; in-process by default.
        include_builtin_tools: add the calculator, clock and workspace writer.
        plugins: a plugin manager whose plugins' tools join the executor's; it keeps the
            registry in step, so loading or unloading a plugin changes later steps and runs.
        memory: long-term MIRIX memory: its tools join the executor's, the planner gets the
            top records before planning (``MAXIMUS_MEMORY__ACTIVE_RETRIEVAL``), and, unless
            ``lesson_sink`` is given, reflection's lessons are stored in it.
    """
    if isinstance(tools, ToolRegistry):
        registry = tools
    else:
        registry = ToolRegistry()
        if include_builtin_tools:
            for builtin in builtin_tools(lambda: _workspace(settings)):
                registry.register(builtin)
        for extra in tools or ():
            registry.register(extra, replace=True)
    if plugins is not None:
        plugins.attach(registry)
    recall = None
    if memory is not None:
        from maximus.tools.memory import make_recall, memory_lesson_writer, memory_tools

        for memory_tool in memory_tools(memory):
            registry.register(memory_tool, replace=True)
        if memory.settings.active_retrieval:
            recall = make_recall(memory)
        if lesson_sink is None:
            lesson_sink = InProcessLessonSink(memory_lesson_writer(memory))
    deps = AgentDeps(
        models=ModelResolver(model, models, settings),
        tools=registry,
        lessons=lesson_sink or InProcessLessonSink(),
        settings_=settings,
        recall=recall,
    )
    limits = (settings or _settings_or_defaults()).agent
    compiled = build_graph(deps, retries=limits.model_retries).compile(
        checkpointer=checkpointer, store=store, name="maximus"
    )
    return compiled.with_config(recursion_limit=limits.recursion_limit)


def _workspace(settings: Settings | None) -> Path:
    return (settings or get_settings()).workspace_dir


def _settings_or_defaults() -> Settings:
    # Building a graph must not fail on bad settings; the first run reports them.
    try:
        return get_settings()
    except ConfigError:
        return Settings.model_construct()


_graph: AgentGraph | None = None


def __getattr__(name: str) -> Any:
    # ``graph`` is built on first access, not at import: ``import maximus`` stays cheap.
    global _graph
    if name == "graph":
        if _graph is None:
            _graph = create_agent()
        return _graph
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["AgentGraph", "build_graph", "create_agent"]
