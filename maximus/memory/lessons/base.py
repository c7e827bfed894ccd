"""The lesson types: what reflection hands to a sink, and the sink protocol."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal, Protocol, runtime_checkable


class Priority(IntEnum):
    """How urgently a lesson must be written."""

    CRITICAL = 1
    HIGH = 2
    BATCH = 3


@dataclass(frozen=True, slots=True)
class Lesson:
    """A lesson learned while reflecting on a step."""

    text: str
    kind: Literal["procedural", "episodic"]
    """Procedural lessons say how to do things; episodic ones record what happened."""
    priority: Priority = Priority.BATCH
    thread_id: str | None = None
    run: int = 0
    step_id: int = 0
    success: bool = True
    created_at: float = field(default_factory=time.time)


LessonWriter = Callable[[list[Lesson]], Awaitable[None]]


@runtime_checkable
class LessonSink(Protocol):
    """Takes lessons from the reflect node."""

    async def submit(self, lesson: Lesson) -> None:
        """Accept a lesson; only ``CRITICAL`` ones may be written before this returns."""
        ...

    async def flush(self) -> None:
        """Write everything accepted so far."""
        ...


__all__ = ["Lesson", "LessonSink", "LessonWriter", "Priority"]
