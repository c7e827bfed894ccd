"""Lessons: what reflection learns, and the sinks that write it off the critical path.

``base`` holds the types, ``sink`` the in-process sink, ``queue`` the Redis reflection queue and
its lesson log, and ``factory`` opens the one the settings call for. The Redis queue loads on
first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from maximus.memory.lessons.base import Lesson, LessonSink, LessonWriter, Priority
from maximus.memory.lessons.factory import open_lesson_sink
from maximus.memory.lessons.sink import InProcessLessonSink

_LAZY = {
    "QueueDepth": "maximus.memory.lessons._jobs",
    "QueueStats": "maximus.memory.lessons._jobs",
    "RedisLessonQueue": "maximus.memory.lessons.queue",
    "lesson_id": "maximus.memory.lessons._jobs",
    "redis_lesson_log": "maximus.memory.lessons.queue",
    "run_worker": "maximus.memory.lessons.queue",
}

if TYPE_CHECKING:
    from maximus.memory.lessons._jobs import QueueDepth, QueueStats, lesson_id
    from maximus.memory.lessons.queue import RedisLessonQueue, redis_lesson_log, run_worker


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "InProcessLessonSink",
    "Lesson",
    "LessonSink",
    "LessonWriter",
    "Priority",
    "QueueDepth",
    "QueueStats",
    "RedisLessonQueue",
    "lesson_id",
    "open_lesson_sink",
    "redis_lesson_log",
    "run_worker",
]
