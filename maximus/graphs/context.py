"""What a run depends on: per-run options (the graph's context schema) and build-time deps.

:class:`RunOptions` is LangGraph's ``context_schema``: callers pass it per run
(``graph.ainvoke(input, context=RunOptions(mode="deep"))``), Studio shows it as a form, and
every field left ``None`` falls back to the settings. :class:`AgentDeps` holds what is bound
when the graph is built (models, tools, the lesson sink) and never travels through state.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from pydantic import ValidationError

from maximus.config import (
    AgentSettings,
    Judge,
    Settings,
    SimulateWhen,
    SimulationMode,
    ThinkingMode,
    get_settings,
)
from maximus.errors import InvalidInputError
from maximus.memory.lessons import InProcessLessonSink, LessonSink
from maximus.models import ModelResolver
from maximus.tools.registry import ToolRegistry


@dataclass(frozen=True, slots=True)
class RunOptions:
    """Per-run overrides of :class:`~maximus.config.AgentSettings` and the thinking mode."""

    mode: ThinkingMode | None = None
    simulate: bool | None = None
    """The old switch: ``False`` means ``simulation="off"``."""
    simulation: SimulationMode | None = None
    simulate_when: SimulateWhen | None = None
    judge: Judge | None = None
    num_candidates: int | None = None
    risk_threshold: float | None = None
    on_risk: Literal["replan", "human"] | None = None
    max_steps: int | None = None
    max_replans: int | None = None
    max_tokens: int | None = None
    max_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Options:
    """The options in force for one node call: run overrides merged over the settings."""

    mode: ThinkingMode
    agent: AgentSettings


@dataclass(slots=True)
class AgentDeps:
    """Everything the nodes need that is fixed when the graph is built."""

    models: ModelResolver
    tools: ToolRegistry
    lessons: LessonSink = field(default_factory=InProcessLessonSink)
    settings_: Settings | None = None
    recall: Callable[[str], Awaitable[str | None]] | None = None
    """Active retrieval: long-term memory context for a goal, put before the plan prompt."""
    chains: dict[tuple[str, str, Any], Any] = field(default_factory=dict)
    """Model calls prepared so far: structured outputs by (role, thinking mode, schema), the
    executor's tool binding by (role, thinking mode, registry version)."""

    @property
    def settings(self) -> Settings:
        """The settings (read on first use, so building a graph does no I/O)."""
        if self.settings_ is None:
            self.settings_ = self.models.settings if self.models else get_settings()
        return self.settings_

    def options(self, run: RunOptions | dict[str, object] | None) -> Options:
        """Merge a run's overrides over the settings.

        Raises:
            InvalidInputError: an override is out of range or of the wrong type.
        """
        settings = self.settings
        if run is None:
            return Options(mode=settings.mode, agent=settings.agent)
        if isinstance(run, dict):
            try:
                run = RunOptions(**run)  # type: ignore[arg-type]
            except TypeError as exc:
                raise InvalidInputError(f"unknown run option: {exc}") from exc
        overrides = {
            f.name: getattr(run, f.name)
            for f in fields(run)
            if f.name != "mode" and getattr(run, f.name) is not None
        }
        try:
            agent = settings.agent.model_validate({**settings.agent.model_dump(), **overrides})
        except ValidationError as exc:
            raise InvalidInputError(f"invalid run options: {exc.errors()}") from exc
        mode = run.mode or settings.mode
        if mode not in ("fast", "normal", "deep", "adaptive"):
            raise InvalidInputError(f"unknown thinking mode {mode!r}")
        return Options(mode=mode, agent=agent)


__all__ = ["AgentDeps", "Options", "RunOptions"]
